"""The locks: every pin generated from the .in files by `make lock`, and a stale one caught offline."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tools import lock

LOCK_FILES = ("layers/common/requirements.*", "functions/*/requirements.*", "requirements/*.*")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the .in files, the locks and the files generated from them."""
    for pattern in LOCK_FILES:
        for path in lock.ROOT.glob(pattern):
            copy = tmp_path / path.relative_to(lock.ROOT)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, copy)
    return tmp_path


def test_committed_locks_and_generated_requirements_are_current() -> None:
    # Given the repository as committed; when its locks are checked; then none is stale
    assert lock.problems() == []


def test_every_lock_pins_every_package_with_its_hashes() -> None:
    for path in (lock.ROOT / "requirements").glob("*.txt"):
        pins = lock.read_lock(path)
        assert pins, path
        unhashed = [pin.name for pin in pins.values() if not any("--hash=sha256:" in x for x in pin.lines)]
        assert unhashed == [], path


def test_a_function_carries_only_what_the_layer_lacks_at_the_layers_versions() -> None:
    # Given the one shipping lock and the files generated from it
    pins = lock.read_lock(lock.ROOT / lock.SHIPPING_LOCK)
    layer = lock.read_lock(lock.ROOT / "layers/common/requirements.txt")
    worker = lock.read_lock(lock.ROOT / "functions/generation_worker/requirements.txt")
    # Then the worker holds its SDKs and what they need beyond the layer, nothing the layer has
    assert {"openai", "google-genai"} <= set(worker)
    assert set(worker).isdisjoint(layer)
    # And every version in either is the lock's
    for pin in (*layer.values(), *worker.values()):
        assert pin.version == pins[pin.name].version
    # And the layer holds what pydantic and cryptography need, as the worker's SDKs use them too
    assert {"pydantic", "pydantic-core", "cryptography", "cffi"} <= set(layer)


def test_a_requirement_bumped_in_an_in_file_without_make_lock_is_stale(checkout: Path) -> None:
    source = checkout / "layers/common/requirements.in"
    source.write_text(re.sub(r"cryptography==[\d.]+", "cryptography==51.0.1", source.read_text()))
    assert "requirements/lambda.txt pins cryptography==50.0.2, not cryptography==51.0.1" in lock.problems(
        checkout
    )


def test_a_new_requirement_missing_from_the_lock_is_stale(checkout: Path) -> None:
    source = checkout / "requirements/dev.in"
    source.write_text(source.read_text() + "left-pad==1.0\n")
    assert "requirements/dev.txt lacks left-pad==1.0" in lock.problems(checkout)


def test_a_requirement_removed_leaves_its_pins_stale(checkout: Path) -> None:
    # av, which the film compiler and the references function (music checks) alone need
    (checkout / "functions/film_compiler/requirements.in").write_text("")
    references = checkout / "functions/references/requirements.in"
    references.write_text(re.sub(r"(?m)^av==.*$", "", references.read_text()))
    assert "requirements/lambda.txt still pins av, which nothing requires" in lock.problems(checkout)


def test_a_hand_edited_function_requirements_file_is_stale(checkout: Path) -> None:
    generated = checkout / "functions/generation_worker/requirements.txt"
    generated.write_text(generated.read_text().replace("openai==", "openai>="))
    assert "functions/generation_worker/requirements.txt differs from what requirements/lambda.txt gives" in (
        lock.problems(checkout)
    )
