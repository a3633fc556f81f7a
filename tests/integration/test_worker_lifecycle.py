"""A clip from request to playable file, with every real piece: the generate handler queues the
job on SQS (moto), the worker's own Lambda entry point consumes SQS batches and queues its
polls there, the fake providers serve over HTTP, the video lands in S3 (moto), and the status
handler hands out a presigned URL that returns the MP4.

Poll delays are set to 0 (and the fake Sora sends no poll hint), so every queued step is
receivable at once and no test waits; the backoff itself is covered in test_worker.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.integration.generation_support import (
    Fakes,
    settings_for,
    store_key,
)
from tests.support import FakeLambdaContext, invoke, load_event, load_function, sqs_event, with_changes

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")

USER = "user-123"
generate = load_function("generate")
status = load_function("status_and_models")
worker = load_function("generation_worker")


@pytest.fixture
def env(aws: Any, fakes: Fakes, configure: Any) -> Fakes:
    configure(**settings_for(fakes, poll_initial_delay_seconds=0, poll_max_delay_seconds=0))
    store_key(USER, "openai")
    store_key(USER, "veo")
    return fakes


@pytest.fixture
def board(make_storyboard: Any) -> Any:
    return make_storyboard(
        USER,
        scenes=[
            {"id": "scene-1", "prompt": "Ada opens the lab door at dawn"},
            {"id": "scene-2", "prompt": "Ada watches the prototype take off"},
        ],
    )


def _generate(board: Any, **body: Any) -> str:
    event = load_event("generate.openai.202")
    event = with_changes(
        event, sub=USER, body=json.loads(event["body"]) | {"storyboardId": str(board.id)} | body
    )
    event["headers"].pop("idempotency-key", None)
    result = invoke(generate.lambda_handler, event)
    assert result.status == 202, result.body
    return str(result.body["jobId"])


def _status(job_id: str) -> dict[str, Any]:
    event = with_changes(load_event("status_and_models.get.200"), sub=USER, path_parameters={"jobId": job_id})
    result = invoke(status.lambda_handler, event)
    assert result.status == 200, result.body
    return result.body  # type: ignore[no-any-return]


def _run_worker(aws: Any, *, times: int = 1, reverse: bool = False, rounds: int = 30) -> int:
    """Feed the generation queue to the worker's Lambda entry point until it is empty."""
    batches = 0
    for _ in range(rounds):
        bodies = [body for body in aws.queued_bodies() for _ in range(times)]
        if not bodies:
            return batches
        if reverse:
            bodies.reverse()
        for start in range(0, len(bodies), 5):  # the template's BatchSize
            result = worker.lambda_handler(sqs_event(bodies[start : start + 5]), FakeLambdaContext())
            assert result == {"batchItemFailures": []}
            batches += 1
    raise AssertionError("the generation queue did not drain")


# sora-2: 4 s at $0.10 with a PNG thumbnail; veo fast: 8 s at $0.15, no thumbnail.
@pytest.mark.parametrize(("provider", "expected"), [("openai", (0.4, "image/png")), ("veo", (1.2, None))])
def test_a_generated_clip_ends_in_s3_and_status_serves_it(board, env, aws, provider, expected):
    cost, thumbnail = expected
    # Given a clip requested through the API
    job_id = _generate(board, provider=provider)
    assert _status(job_id)["status"] == "pending"

    # When the worker consumes the queue (submit, polls, copy to S3)
    _run_worker(aws)

    # Then status reports it done, with its cost and a presigned URL serving the MP4
    done = _status(job_id)
    assert (done["status"], done["progress"], done["error"]) == ("completed", 100, None)
    assert done["cost"] == pytest.approx(cost)
    assert done["completedAt"] is not None
    video = requests.get(done["videoUrl"], timeout=10)
    assert video.status_code == 200
    assert video.content[4:8] == b"ftyp"
    assert video.headers["Content-Type"] == "video/mp4"
    if thumbnail is None:
        assert done["thumbnailUrl"] is None
    else:
        image = requests.get(done["thumbnailUrl"], timeout=10)
        assert image.headers["Content-Type"] == thumbnail
        assert image.content.startswith(b"\x89PNG")
    assert env[provider].create_count() == 1


def test_every_message_three_times_out_of_order_still_one_create_per_job(board, env, aws):
    # Given clips for both providers queued at once
    jobs = {
        "openai": _generate(board, provider="openai"),
        "veo": _generate(board, provider="veo", sceneId="scene-2"),
    }

    # When SQS hands every message out three times, newest first
    _run_worker(aws, times=3, reverse=True)

    # Then each provider was asked exactly once, and both clips are done
    assert env.sora.create_count() == env.veo.create_count() == 1
    assert {provider: _status(job_id)["status"] for provider, job_id in jobs.items()} == {
        "openai": "completed",
        "veo": "completed",
    }


def test_a_failed_clip_reports_the_providers_reason(board, env, aws):
    job_id = _generate(board, provider="openai", prompt="Ada in a forbidden place [filtered]")

    _run_worker(aws)

    failed = _status(job_id)
    assert failed["status"] == "failed"
    assert "moderation_blocked" in failed["error"]
    assert failed["videoUrl"] is None
