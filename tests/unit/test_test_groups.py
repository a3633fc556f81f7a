"""`make test` runs the e2e tests as groups (tests/e2e/conftest.py), each on one pytest-xdist worker
with its own local stack. Grouping fails silently when pytest and pytest-xdist disagree (the tests
are spread over every worker, each starting a stack and redoing module fixtures): these tests fail
instead, naming the cause."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import E2E_GROUPS

E2E = Path(__file__).resolve().parents[1] / "e2e"

CONFTEST = """
import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.xdist_group(item.path.stem.split("_")[1]))
"""
TESTS = """
import os
from pathlib import Path

import pytest

@pytest.mark.parametrize("n", range(4))
def test_records_its_worker(n):
    ran = Path(__file__).with_suffix(f".{n}.worker")
    ran.write_text(os.environ["PYTEST_XDIST_WORKER"])
"""


def test_tests_marked_with_one_group_run_on_one_worker(tmp_path: Path):
    # Given two files per group, each group marked at collection as tests/e2e/conftest.py does
    (tmp_path / "conftest.py").write_text(CONFTEST)
    for name in ("test_red_a.py", "test_red_b.py", "test_blue_a.py", "test_blue_b.py"):
        (tmp_path / name).write_text(TESTS)

    # When pytest-xdist runs them as make test does
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "xdist.plugin", "-n", "2", "--dist", "loadgroup", "-q"],
        cwd=tmp_path,
        env=dict(os.environ) | {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # Then each group ran whole on one worker
    assert run.returncode == 0, run.stdout + run.stderr
    workers: dict[str, set[str]] = {}
    for ran in tmp_path.glob("*.worker"):
        workers.setdefault(ran.name.split("_")[1], set()).add(ran.read_text())
    assert sum(1 for _ in tmp_path.glob("*.worker")) == 16
    assert all(len(names) == 1 for names in workers.values()), (
        f"--dist loadgroup spread a group over several workers: {workers}. A pytest release may have "
        "changed how node ids are built (pytest-dev/pytest-xdist#1386): see requirements/dev.in."
    )


def test_every_file_a_group_names_is_an_e2e_test_file():
    named = {name for files in E2E_GROUPS.values() for name in files}
    present = {path.name for path in E2E.rglob("test_*.py")}
    assert named - present == set()
