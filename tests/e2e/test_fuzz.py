"""Schemathesis against the running local stack: every request it generates from docs/openapi.json
is answered without a server error and within the document (status, content type, schema).

The configuration and the reasons for its two disabled checks are in schemathesis.toml; this
test seeds a storyboard, a key per provider and a job as the fuzzing user and hands their ids to
schemathesis as dictionaries, so routes with ids get real hits, not only 404s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO_ROOT, RunningStack

pytestmark = pytest.mark.e2e

FUZZ_USER = "fuzz"
CONFIG = Path(__file__).with_name("schemathesis.toml")
DOCUMENT = REPO_ROOT / "docs" / "openapi.json"
RUN_TIMEOUT_SECONDS = 600
KEYS = {
    "openai": "sk-fuzz-0000000000000000abcd",
    "veo": "AIza-fuzz-0000000000000000wxyz",
    "fal": "fal-fuzz-id:fal-fuzz-0000000000000000wxyz",
}


SEEDED_STORYBOARDS = 3
BINDINGS = {
    "getStoryboard": {"path.id": "storyboard-ids"},
    "updateStoryboard": {"path.id": "storyboard-ids"},
    "generateVideo": {"body.storyboardId": "storyboard-ids", "body.sceneId": "scene-ids"},
    "getVideoStatus": {"path.jobId": "job-ids"},
    "generateStoryboard": {"path.id": "storyboard-ids"},
    "compileStoryboard": {"path.id": "storyboard-ids"},
    "listCompiledVideos": {"path.id": "storyboard-ids"},
    "cancelVideoJob": {"path.jobId": "job-ids"},
}
"""Which operations are offered the seeded ids (not the deletes, which would leave none)."""


def seed(stack: RunningStack) -> dict[str, list[str]]:
    """Storyboards with two scenes and a job each, and a key per provider: the fuzzing user's."""
    for provider, key in KEYS.items():
        assert stack.call("PUT", f"/api/keys/{provider}", {"apiKey": key}, user=FUZZ_USER).status == 200
    ids: dict[str, list[str]] = {"storyboard-ids": [], "scene-ids": ["scene-1", "scene-2"], "job-ids": []}
    for n in range(SEEDED_STORYBOARDS):
        board = stack.call(
            "POST",
            "/api/storyboards",
            {
                "name": f"Fuzzed {n}",
                "presetKey": "noir",
                "character": {"name": "Ada"},
                "scenes": [
                    {"id": "scene-1", "prompt": "Ada at dawn"},
                    {"id": "scene-2", "prompt": "Ada at dusk"},
                ],
            },
            user=FUZZ_USER,
        )
        assert board.status == 201, board.raw
        board_id = board.json["storyboard"]["id"]
        job = stack.call(
            "POST",
            "/api/video/generate",
            {"storyboardId": board_id, "sceneId": "scene-1", "provider": "openai"},
            user=FUZZ_USER,
        )
        assert job.status == 202, job.raw
        ids["storyboard-ids"].append(board_id)
        ids["job-ids"].append(job.json["jobId"])
    return ids


def config_with(ids: dict[str, list[str]]) -> str:
    """schemathesis.toml, plus the seeded ids offered (half the time) to the operations in BINDINGS."""
    lines = [CONFIG.read_text()]
    for name, values in ids.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}"]
    for operation_id, bindings in BINDINGS.items():
        offered = ", ".join(
            f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}' for key, name in bindings.items()
        )
        lines += [
            "[[operations]]",
            f'include-operation-id = "{operation_id}"',
            f"parameters = {{ {offered} }}",
        ]
    return "\n".join(lines) + "\n"


def test_every_generated_request_is_answered_within_the_document(stack, tmp_path):
    # Given the fuzzing user's data
    config = tmp_path / "schemathesis.toml"
    config.write_text(config_with(seed(stack)))

    # When schemathesis runs every phase and check against the stack
    started = time.monotonic()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(config),
            "run",
            str(DOCUMENT),
            "--url",
            stack.base_url,
        ],
        cwd=tmp_path,
        env=dict(os.environ) | {"FUZZ_USER": FUZZ_USER, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    seconds = time.monotonic() - started

    # Then it found nothing: no server error, no answer outside the document
    summary = run.stdout[run.stdout.rfind("SUMMARY") :]
    print(f"schemathesis: {seconds:.0f} s\n{summary}")  # the run's size, with -s or on failure
    assert run.returncode == 0, run.stdout[-30_000:] + run.stderr[-5_000:]
