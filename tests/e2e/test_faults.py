"""Faults through the running stack: PostgreSQL stopped under traffic, the AWS stand-in stopped,
a worker killed mid-poll, every message delivered three times. Clients get 503 ``{error}``
(never a hang, never a 500), no job is left pending unseen, and everything recovers by itself.

The session's stack runs with the fault knobs (conftest ``FAULT_KNOBS``)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.e2e.conftest import Answer, RunningStack
from tests.e2e.test_local_stack import KEYS, generate, new_storyboard, wait_until_done

pytestmark = pytest.mark.e2e

RECOVERY_SECONDS = 60.0
OUTAGE_SECONDS = 10
FREEZE_SECONDS = 12
API_TIMEOUT_SECONDS = 15  # template.yaml's Globals Timeout


@dataclass
class Traffic:
    """Clients calling the API in a loop from threads until stopped, keeping every answer."""

    stack: RunningStack
    board_id: str
    job_id: str
    answers: list[tuple[str, Answer]] = field(default_factory=list)
    slowest: float = 0.0
    """The longest any answer took, in seconds."""
    stopped: threading.Event = field(default_factory=threading.Event)

    def calls(self) -> list[tuple[str, Callable[[], Answer]]]:
        call = self.stack.call
        return [
            ("list", lambda: call("GET", "/api/storyboards?limit=5")),
            ("get", lambda: call("GET", f"/api/storyboards/{self.board_id}")),
            ("status", lambda: call("GET", f"/api/video/status/{self.job_id}")),
            (
                "create",
                lambda: call("POST", "/api/storyboards", {"name": "t", "presetKey": "noir", "scenes": []}),
            ),
            ("patch", lambda: call("PATCH", f"/api/storyboards/{self.board_id}", {"name": "Under traffic"})),
            ("keys", lambda: call("GET", "/api/keys")),
            ("health", lambda: call("GET", "/api/health", user=None)),
        ]

    def run(self) -> None:
        while not self.stopped.is_set():
            for name, send in self.calls():
                started = time.monotonic()
                self.answers.append((name, send()))
                self.slowest = max(self.slowest, time.monotonic() - started)

    def start(self, threads: int = 2) -> list[threading.Thread]:
        started = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]
        for thread in started:
            thread.start()
        return started

    def through(self, fault: str, seconds: float) -> set[tuple[str, int]]:
        """Keep calling while ``fault`` (a control command lasting ``seconds``) hits the database
        and until it serves again; the (route, status) pairs answered."""
        threads = self.start()
        self.stack.control(fault)
        wait_for(lambda: any(a.status == 503 for _, a in self.answers), "a 503", self.stack)
        wait_for(lambda: serving(self.stack), "recovery", self.stack, seconds + RECOVERY_SECONDS)
        self.stopped.set()
        for thread in threads:
            thread.join(timeout=60)
        return {(name, a.status) for name, a in self.answers}


def wait_for(
    condition: Callable[[], bool], what: str, stack: RunningStack, seconds: float = RECOVERY_SECONDS
) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} not within {seconds:.0f} s:\n{stack.output()}"
        time.sleep(0.3)


def serving(stack: RunningStack) -> bool:
    """Whether a route that reads the database answers again."""
    return stack.call("GET", "/api/storyboards?limit=1").status == 200


def test_postgres_stopped_under_traffic_answers_503_then_everything_recovers(stack):
    # Given a job in flight and clients calling every kind of route
    board = new_storyboard(stack, "Outage")
    job_id = generate(stack, board["id"], "openai")
    traffic = Traffic(stack, board["id"], job_id)

    # When PostgreSQL stops for ten seconds under that traffic
    statuses = traffic.through(f"postgres down {OUTAGE_SECONDS}", OUTAGE_SECONDS)

    # Then every answer was a success or a 503 with an error (the function answered in time:
    # a hang would be the gateway's 503 without one, a crash a 500)
    assert {status for _, status in statuses} <= {200, 201, 503}, statuses
    for name, answer in traffic.answers:
        if answer.status == 503:
            expected = {"status", "database"} if name == "health" else {"error"}
            assert set(answer.json) == expected, (name, answer.json)
    assert ("list", 503) in statuses
    # and without a restart every route answers again, and the job in flight completes
    assert stack.call("GET", f"/api/storyboards/{board['id']}").status == 200
    assert wait_until_done(stack, job_id)["status"] == "completed"
    again = generate(stack, board["id"], "openai", scene="scene-2")
    assert wait_until_done(stack, again)["status"] == "completed"


def test_postgres_frozen_under_traffic_answers_503_in_time_then_everything_recovers(stack):
    # Given a job in flight and clients calling every kind of route
    board = new_storyboard(stack, "Frozen")
    job_id = generate(stack, board["id"], "openai")
    traffic = Traffic(stack, board["id"], job_id)

    # When PostgreSQL's processes stop for 12 s with every connection left open (a frozen host)
    statuses = traffic.through(f"postgres freeze {FREEZE_SECONDS}", FREEZE_SECONDS)

    # Then every answer was a success or a 503 with an error and a Retry-After, each within the
    # function's Timeout (15 s): no hang until the gateway gives up, no 500
    assert traffic.slowest < API_TIMEOUT_SECONDS, traffic.slowest
    assert {status for _, status in statuses} <= {200, 201, 503}, statuses
    for name, answer in traffic.answers:
        if answer.status == 503 and name != "health":
            assert set(answer.json) == {"error"}, (name, answer.json)
            assert int(answer.headers["retry-after"]) > 0
    # (which routes meet the freeze depends on where each client is in its loop: some do)
    assert {name for name, status in statuses if status == 503} & {"list", "get", "status", "create", "patch"}
    # and after the thaw, without a restart, the data is intact and work goes on
    stored = stack.call("GET", f"/api/storyboards/{board['id']}")
    assert stored.status == 200
    assert stored.json["storyboard"]["scenes"] == board["scenes"]
    assert wait_until_done(stack, job_id)["status"] == "completed"


def test_aws_frozen_during_generation_then_every_job_finishes_created_once(stack):
    # Given two scenes generating, each with a prompt of its own
    board = new_storyboard(stack, "AWS frozen")
    assert stack.call("PUT", "/api/keys/openai", {"apiKey": KEYS["openai"]}).status == 200
    take = uuid.uuid4().hex[:8]
    prompts = {scene: f"Ada in a frozen cloud, {scene}, take {take}" for scene in ("scene-1", "scene-2")}
    jobs = []
    for scene, prompt in prompts.items():
        request = {"storyboardId": board["id"], "sceneId": scene, "provider": "openai", "prompt": prompt}
        answer = stack.call("POST", "/api/video/generate", request)
        assert answer.status == 202, answer.raw
        jobs.append(answer.json["jobId"])

    # When the AWS stand-in (SQS, S3, KMS) freezes with its connections open, mid-generation
    stack.control(f"aws freeze {FREEZE_SECONDS}")
    time.sleep(FREEZE_SECONDS)

    # Then after the thaw both jobs complete, each created once at the provider
    for job_id in jobs:
        assert wait_until_done(stack, job_id)["status"] == "completed"
    creates: list[dict[str, Any]] = stack.fake_records("openai")["creates"]
    for prompt in prompts.values():
        assert [c["status"] for c in creates if c["prompt"] == prompt] == [200], creates


def test_aws_stand_in_stopped_generate_answers_503_and_leaves_no_job_behind(stack):
    # Given a storyboard with a stored key
    board = new_storyboard(stack, "AWS outage")
    assert stack.call("PUT", "/api/keys/openai", {"apiKey": KEYS["openai"]}).status == 200
    request = {"storyboardId": board["id"], "sceneId": "scene-1", "provider": "openai"}

    # When moto stops and a scene is generated
    stack.control("aws down 6")
    refused = stack.call("POST", "/api/video/generate", request)

    # Then the answer is 503 with an error, and no job was left for nobody to run
    assert refused.status == 503, refused.raw
    assert set(refused.json) == {"error"}
    assert stack.call("GET", f"/api/storyboards/{board['id']}").json["storyboard"]["videoJobs"] == []

    # When moto is back, the stack serves generation again
    def accepted() -> bool:
        return bool(stack.call("POST", "/api/video/generate", request).status == 202)

    wait_for(accepted, "generate accepted again", stack)
    (job,) = stack.call("GET", f"/api/storyboards/{board['id']}").json["storyboard"]["videoJobs"]
    assert wait_until_done(stack, job["id"])["status"] == "completed"


def test_a_worker_killed_mid_poll_still_completes_the_job(stack):
    # Given a job whose provider answers each poll slowly
    board = new_storyboard(stack, "Crash")
    assert stack.call("PUT", "/api/keys/openai", {"apiKey": KEYS["openai"]}).status == 200
    answer = stack.call(
        "POST",
        "/api/video/generate",
        {
            "storyboardId": board["id"],
            "sceneId": "scene-1",
            "provider": "openai",
            "prompt": "[slow-poll] crash",
        },
    )
    job_id = answer.json["jobId"]

    # When the worker process is killed while it waits for the provider's answer to a poll
    wait_for(lambda: stack.fake_records("openai")["slowPollsInFlight"] > 0, "a slow poll", stack)
    stack.control("kill generation_worker")

    # Then the message comes back after its visibility timeout, and the job completes
    assert wait_until_done(stack, job_id)["status"] == "completed"
    assert "generation_worker exited with code -9" in stack.output()


def test_every_message_delivered_three_times_creates_one_provider_job(stack):
    # Given a stack delivering every queue message three times (the session's knobs)
    board = new_storyboard(stack, "Duplicates")
    assert stack.call("PUT", "/api/keys/openai", {"apiKey": KEYS["openai"]}).status == 200
    prompt = f"Ada opens the lab door, take {uuid.uuid4().hex[:8]}"

    # When a scene is generated and finishes
    answer = stack.call(
        "POST",
        "/api/video/generate",
        {"storyboardId": board["id"], "sceneId": "scene-1", "provider": "openai", "prompt": prompt},
    )
    assert wait_until_done(stack, answer.json["jobId"])["status"] == "completed"

    # Then the provider was asked to create exactly one video
    creates: list[dict[str, Any]] = stack.fake_records("openai")["creates"]
    assert [c["status"] for c in creates if c["prompt"] == prompt] == [200]
