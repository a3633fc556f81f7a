"""Whole-storyboard generation, cancel, the jobs list, usage and the catalog through the running
local stack: the gateway, the functions in their own processes, the worker fed from the queue,
and the fake Sora server (whose records say what it was asked)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import RunningStack, http

pytestmark = pytest.mark.e2e

DEADLINE_SECONDS = 90.0
SCENES = [{"id": f"scene-{n}", "prompt": f"Ada tries idea number {n}"} for n in range(1, 6)]


def _user(stack: RunningStack) -> str:
    user = f"carol-{uuid.uuid4().hex[:8]}"
    key = {"apiKey": "sk-local-0000000000000000abcd"}
    assert stack.call("PUT", "/api/keys/openai", key, user=user).status == 200
    return user


def _storyboard(stack: RunningStack, user: str, scenes: list[dict[str, str]]) -> str:
    body = {"name": "Batch", "presetKey": "cinematic", "character": {"name": "Ada"}, "scenes": scenes}
    answer = stack.call("POST", "/api/storyboards", body, user=user)
    assert answer.status == 201, answer.raw
    board_id: str = answer.json["storyboard"]["id"]
    return board_id


def _clips(stack: RunningStack, user: str, board_id: str) -> list[dict[str, Any]]:
    answer = stack.call("GET", f"/api/storyboards/{board_id}", user=user)
    assert answer.status == 200, answer.raw
    clips: list[dict[str, Any]] = answer.json["storyboard"]["sceneClips"]
    return clips


def _until(what: str, check: Any, stack: RunningStack) -> Any:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: still not so\n{stack.output()}"
        time.sleep(0.5)


def test_a_storyboard_generated_in_one_call_resumes_and_follows_its_text(stack: RunningStack):
    user = _user(stack)
    board_id = _storyboard(stack, user, SCENES)
    path = f"/api/storyboards/{board_id}/generate"

    first = stack.call("POST", path, {"provider": "openai"}, user=user)
    assert first.status == 202, first.raw
    assert [j["sceneId"] for j in first.json["jobs"]] == [s["id"] for s in SCENES]
    done = _until(
        "every clip completed",
        lambda: all(c["status"] == "completed" for c in _clips(stack, user, board_id)),
        stack,
    )
    assert done
    clips = _clips(stack, user, board_id)
    assert http("GET", clips[0]["videoUrl"]).raw[4:8] == b"ftyp"

    again = stack.call("POST", path, {"provider": "openai"}, user=user)
    assert again.json["jobs"] == []
    assert {s["reason"] for s in again.json["skipped"]} == {"up-to-date"}

    scenes = [s | {"prompt": "Ada changes her mind"} if s["id"] == "scene-3" else s for s in SCENES]
    assert stack.call("PATCH", f"/api/storyboards/{board_id}", {"scenes": scenes}, user=user).status == 200
    assert [c["stale"] for c in _clips(stack, user, board_id)] == [False, False, True, False, False]
    redo = stack.call("POST", path, {"provider": "openai"}, user=user)
    assert [j["sceneId"] for j in redo.json["jobs"]] == ["scene-3"]

    listed = stack.call("GET", f"/api/video/jobs?storyboardId={board_id}&limit=4", user=user).json
    rest = stack.call(
        "GET", f"/api/video/jobs?storyboardId={board_id}&limit=4&cursor={listed['nextCursor']}", user=user
    ).json
    assert len(listed["jobs"]) + len(rest["jobs"]) == 6
    assert listed["jobs"][0]["id"] == redo.json["jobs"][0]["jobId"]  # newest first
    assert rest["nextCursor"] is None


def test_a_processing_job_is_cancelled_at_the_fake_provider(stack: RunningStack):
    user = _user(stack)
    marker = uuid.uuid4().hex
    board_id = _storyboard(stack, user, [{"id": "slow", "prompt": f"Ada waits forever [never] {marker}"}])
    answer = stack.call(
        "POST",
        "/api/video/generate",
        {"storyboardId": board_id, "sceneId": "slow", "provider": "openai"},
        user=user,
    )
    job_id = answer.json["jobId"]
    _until(
        "the job reached the provider",
        lambda: stack.call("GET", f"/api/video/status/{job_id}", user=user).json["status"] == "processing",
        stack,
    )

    assert stack.call("POST", f"/api/video/jobs/{job_id}/cancel", user="mallory").status == 404
    cancelled = stack.call("POST", f"/api/video/jobs/{job_id}/cancel", user=user)

    assert cancelled.status == 200, cancelled.raw
    assert cancelled.json["status"] == "cancelled"
    [provider_job] = [c["jobId"] for c in stack.fake_records("openai")["creates"] if marker in c["prompt"]]
    assert _until(
        "the fake saw the cancel", lambda: provider_job in stack.fake_records("openai")["cancels"], stack
    )
    assert stack.call("GET", f"/api/video/status/{job_id}", user=user).json["status"] == "cancelled"
    again = stack.call("POST", f"/api/video/jobs/{job_id}/cancel", user=user)
    assert again.json["status"] == "cancelled"

    usage = stack.call("GET", "/api/usage?days=1", user=user).json
    assert usage["today"]["spent"] == pytest.approx(0.4)  # cancelled at the provider: still counted
    assert usage["daily"][0]["cancelledJobs"] == 1


def test_the_catalog_and_another_users_view(stack: RunningStack):
    user = _user(stack)
    board_id = _storyboard(stack, user, SCENES[:1])

    catalog = stack.call("GET", "/api/models", user=user)
    assert catalog.status == 200
    assert catalog.headers["cache-control"].startswith("public")
    assert "veo-3.1-generate-001" in {m["id"] for m in catalog.json["models"]}

    assert (
        stack.call(
            "POST", f"/api/storyboards/{board_id}/generate", {"provider": "openai"}, user="mallory"
        ).status
        == 404
    )
    assert stack.call("GET", f"/api/video/jobs?storyboardId={board_id}", user="mallory").json["jobs"] == []
    assert stack.call("GET", "/api/usage?days=120", user=user).status == 400
