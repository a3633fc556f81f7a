"""The README walkthrough against the running local stack, for Sora and Veo; isolation between
users; bad inputs; and, last, Ctrl-C: every process stops, and a restart finds the data."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import CORS_ORIGINS, Answer, RunningStack, alive, http, stack_port_of, start_stack

pytestmark = pytest.mark.e2e

JOB_TIMEOUT_SECONDS = 60.0
KEYS = {
    "openai": "sk-local-0000000000000000abcd",
    "veo": "AIza-local-0000000000000000wxyz",
    "fal": "fal-local-id:fal-local-0000000000000000wxyz",
}


def new_storyboard(stack: RunningStack, name: str, user: str = "alice") -> dict[str, Any]:
    answer = stack.call(
        "POST",
        "/api/storyboards",
        {
            "name": name,
            "presetKey": "cinematic",
            "character": {"name": "Ada", "description": "a curious engineer"},
            "scenes": [
                {"id": "scene-1", "prompt": "Ada opens the lab door at dawn"},
                {"id": "scene-2", "prompt": "Ada watches the prototype take off"},
            ],
        },
        user=user,
    )
    assert answer.status == 201, answer.raw
    storyboard: dict[str, Any] = answer.json["storyboard"]
    return storyboard


def generate(stack: RunningStack, storyboard_id: str, provider: str, scene: str = "scene-1") -> str:
    assert stack.call("PUT", f"/api/keys/{provider}", {"apiKey": KEYS[provider]}).status == 200
    answer = stack.call(
        "POST", "/api/video/generate", {"storyboardId": storyboard_id, "sceneId": scene, "provider": provider}
    )
    assert answer.status == 202, answer.raw
    assert answer.json["status"] == "queued"
    job_id: str = answer.json["jobId"]
    return job_id


def wait_until_done(stack: RunningStack, job_id: str, user: str = "alice") -> dict[str, Any]:
    deadline = time.monotonic() + JOB_TIMEOUT_SECONDS
    while True:
        answer = stack.call("GET", f"/api/video/status/{job_id}", user=user)
        assert answer.status == 200, answer.raw
        status: dict[str, Any] = answer.json
        if status["status"] in ("completed", "failed"):
            return status
        assert time.monotonic() < deadline, f"job still {status['status']}:\n{stack.output()}"
        time.sleep(0.5)


def download(url: str) -> Answer:
    return http("GET", url)


def test_health_needs_no_identity_and_readiness_checks_the_database(stack):
    answer = stack.call("GET", "/api/health", user=None)

    assert answer.status == 200
    assert answer.json == {"status": "healthy"}
    assert stack.call("GET", "/api/health/ready", user=None).status == 401
    ready = stack.call("GET", "/api/health/ready")
    assert (ready.status, ready.json) == (200, {"status": "healthy", "database": "connected"})


@pytest.mark.parametrize("provider", ["openai", "veo"])
def test_walkthrough(stack, provider):
    # Given a storyboard and the user's provider key
    token = uuid.uuid4().hex[:8]
    board = new_storyboard(stack, f"Pilot {provider} {token}")

    # When a scene is generated and its status polled until done
    job_id = generate(stack, board["id"], provider)
    status = wait_until_done(stack, job_id)

    # Then the job completed with a presigned URL serving an MP4
    assert status["status"] == "completed", status
    assert status["progress"] == 100
    assert status["cost"] > 0
    video = download(status["videoUrl"])
    assert video.status == 200
    assert video.raw[4:8] == b"ftyp"
    detail = stack.call("GET", f"/api/storyboards/{board['id']}").json["storyboard"]
    assert [(j["id"], j["status"]) for j in detail["videoJobs"]] == [(job_id, "completed")]

    # and list and search find it
    listed = stack.call("GET", "/api/storyboards?limit=50").json
    assert board["id"] in [s["id"] for s in listed["storyboards"]]
    found = stack.call("GET", f"/api/storyboards?q={token.upper()}").json["storyboards"]
    assert [s["id"] for s in found] == [board["id"]]

    # and PATCH guarded by If-Match takes the current version, refuses a stale one
    renamed = stack.call(
        "PATCH", f"/api/storyboards/{board['id']}", {"name": "Renamed"}, headers={"If-Match": "1"}
    )
    assert renamed.status == 200, renamed.raw
    assert renamed.json["storyboard"]["version"] == 2
    stale = stack.call(
        "PATCH", f"/api/storyboards/{board['id']}", {"name": "Lost"}, headers={"If-Match": "1"}
    )
    assert stale.status == 412

    # and DELETE removes it with its jobs
    assert stack.call("DELETE", f"/api/storyboards/{board['id']}").status == 200
    assert stack.call("GET", f"/api/storyboards/{board['id']}").status == 404
    assert stack.call("GET", f"/api/video/status/{job_id}").status == 404


def test_another_users_resources_answer_404(stack):
    board = new_storyboard(stack, "Alice's own")
    job_id = generate(stack, board["id"], "openai")
    path = f"/api/storyboards/{board['id']}"

    assert stack.call("GET", path, user="bob").status == 404
    assert stack.call("PATCH", path, {"name": "Mine now"}, user="bob").status == 404
    assert stack.call("DELETE", path, user="bob").status == 404
    assert stack.call("GET", f"/api/video/status/{job_id}", user="bob").status == 404
    generated = stack.call(
        "POST",
        "/api/video/generate",
        {"storyboardId": board["id"], "sceneId": "scene-1", "provider": "openai"},
        user="bob",
    )
    assert generated.status == 404
    assert board["id"] not in [
        s["id"] for s in stack.call("GET", "/api/storyboards", user="bob").json["storyboards"]
    ]
    assert stack.call("GET", path).status == 200


def test_bad_inputs(stack):
    invalid = stack.call(
        "POST", "/api/storyboards", {"name": "", "presetKey": "x", "scenes": [{"id": "a"}, {"id": "a"}]}
    )
    assert invalid.status == 400
    assert invalid.json["details"]

    malformed = stack.call("POST", "/api/storyboards", b'{"name": "Pilot",')
    assert malformed.status == 400

    not_json = stack.call("POST", "/api/storyboards", b"name=Pilot", headers={"Content-Type": "text/plain"})
    assert not_json.status == 415

    anonymous = stack.call("GET", "/api/storyboards", user=None)
    assert anonymous.status == 401
    assert anonymous.json == {"message": "Unauthorized"}

    assert stack.call("GET", "/api/video/status/not-a-uuid").status == 400
    assert stack.call("PUT", "/api/keys/openai", {"apiKey": "short"}).status == 400
    assert stack.call("GET", "/api/storyboards?limit=1000").status == 400

    unknown = stack.call("GET", "/api/no-such-route")
    assert unknown.status == 404
    assert unknown.json == {"message": "Not Found"}

    undeclared_method = stack.call("TRACE", "/api/storyboards")
    assert undeclared_method.status == 404
    assert undeclared_method.json == {"message": "Not Found"}


@pytest.mark.parametrize("origin", CORS_ORIGINS)
def test_cors_allows_the_origins_the_cors_origins_knob_names(stack, origin):
    preflight = stack.call(
        "OPTIONS",
        "/api/storyboards",
        user=None,
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status == 204
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "x-dev-user" in preflight.headers["access-control-allow-headers"]

    answer = stack.call("GET", "/api/health", headers={"Origin": origin})
    assert answer.headers["access-control-allow-origin"] == origin


def test_cors_refuses_an_origin_the_knob_does_not_name(stack):
    answer = stack.call("GET", "/api/health", headers={"Origin": "http://localhost:8080"})

    assert "access-control-allow-origin" not in answer.headers


def test_deleting_a_storyboard_makes_its_clip_urls_stop_working(stack):
    # Given a finished clip and the presigned URLs a client got for it
    board = new_storyboard(stack, "Short-lived")
    status = wait_until_done(stack, generate(stack, board["id"], "openai"))
    urls = [status["videoUrl"], status["thumbnailUrl"]]
    assert [download(url).status for url in urls] == [200, 200]

    # When the storyboard is deleted
    assert stack.call("DELETE", f"/api/storyboards/{board['id']}").status == 200

    # Then those URLs answer 403 or 404 soon after (the queued cleanup ran)
    deadline = time.monotonic() + JOB_TIMEOUT_SECONDS
    while any(download(url).status == 200 for url in urls):
        assert time.monotonic() < deadline, f"still downloadable:\n{stack.output()}"
        time.sleep(0.5)
    assert {download(url).status for url in urls} <= {403, 404}


# --- last: stopping and starting again --------------------------------------------------------------


def test_ctrl_c_stops_every_process_and_a_restart_finds_the_data(stack, stack_home):
    # Given data in every store: a storyboard (PostgreSQL), a stored key (KMS), a video (S3)
    board = new_storyboard(stack, "Survivor")
    job_id = generate(stack, board["id"], "openai")
    assert wait_until_done(stack, job_id)["status"] == "completed"
    processes = stack.descendants()
    postmaster = stack.postmaster_pid()
    assert len(processes) >= 5
    assert postmaster is not None

    # When Ctrl-C
    code, seconds = stack.interrupt()

    # Then every process it started is gone within a few seconds, PostgreSQL included
    assert code == 0, stack.output()
    assert seconds < 10, stack.output()
    assert not [pid for pid in processes if alive(pid)]
    assert not alive(postmaster)
    assert "postgres stopped" in stack.output()

    # When started again on the same data (it then serves the rest of the session in its place;
    # the session's end stops it with Ctrl-C and checks that it exits cleanly too)
    again = start_stack(stack_home, stack_port_of(stack))
    stack.process, stack.lines = again.process, again.lines

    # Then the storyboard, the video and the stored key are all still there
    assert stack.call("GET", f"/api/storyboards/{board['id']}").status == 200
    status = stack.call("GET", f"/api/video/status/{job_id}").json
    assert download(status["videoUrl"]).raw[4:8] == b"ftyp"
    answer = stack.call(
        "POST",
        "/api/video/generate",
        {"storyboardId": board["id"], "sceneId": "scene-2", "provider": "openai"},
    )
    assert answer.status == 202
    assert wait_until_done(stack, answer.json["jobId"])["status"] == "completed"
