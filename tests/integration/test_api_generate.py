"""POST /api/video/generate through the handler: catalog, ownership, keys, caps, idempotency, queue."""

from __future__ import annotations

import json
import threading
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.integration.generation_support import store_key
from tests.support import invoke, load_event, load_function, with_changes
from tools.queues import InMemoryQueueSender
from videogen.api.resolver import api_handler
from videogen.data.db import session_scope
from videogen.data.models import VideoJob

generate_module = load_function("generate")
SAMPLE_USER = "user-123"


@pytest.fixture
def board(aws, make_storyboard):
    """A storyboard of the sample user, and a stored Sora key."""
    board = make_storyboard(
        SAMPLE_USER,
        preset_key="noir",
        character={"name": "Ada", "description": "a curious engineer"},
        scenes=[{"id": "scene-1", "prompt": "Ada opens the lab door at dawn"}, {"id": "bare"}],
    )
    store_key(SAMPLE_USER, "openai")
    return board


def _handler(sender):
    return api_handler(generate_module.build_app(sender=sender))


def _request(board, sub: str = SAMPLE_USER, key: str | None = None, **body_changes):
    event = load_event("generate.openai.202")
    body = json.loads(event["body"]) | {"storyboardId": str(board.id)} | body_changes
    event = with_changes(event, sub=sub, body=body)
    if key is None:
        event["headers"].pop("idempotency-key", None)
    else:
        event["headers"]["idempotency-key"] = key
    return event


def _jobs() -> list[VideoJob]:
    with session_scope() as s:
        return list(s.execute(select(VideoJob).order_by(VideoJob.created_at)).scalars())


def test_generate_queues_a_job_and_the_message_holds_only_ids(board):
    sender = InMemoryQueueSender()

    result = invoke(_handler(sender), _request(board))

    assert result.status == 202
    assert result.body["success"] is True
    assert result.body["status"] == "queued"
    assert result.body["estimatedCost"] == pytest.approx(0.4)  # sora-2, 4 s at $0.10/s
    job_id = result.body["jobId"]
    assert [json.loads(b) for b in sender.bodies()] == [{"jobId": job_id, "step": "submit"}]
    [job] = _jobs()
    assert (str(job.id), job.status, job.model, job.duration_seconds, job.size) == (
        job_id,
        "pending",
        "sora-2",
        4,
        "1280x720",
    )


def test_generate_sends_to_the_real_queue_by_default(board, aws):
    result = invoke(generate_module.lambda_handler, _request(board))

    assert result.status == 202
    assert [json.loads(b) for b in aws.queued_bodies()] == [{"jobId": result.body["jobId"], "step": "submit"}]


def test_prompt_is_composed_from_scene_character_and_preset(board):
    result = invoke(_handler(InMemoryQueueSender()), _request(board))

    assert result.body["prompt"] == (
        "Ada opens the lab door at dawn. Character: name: Ada; description: a curious engineer. "
        "Style: film noir, black and white, hard shadows."
    )


def test_an_explicit_prompt_is_used_verbatim(board):
    result = invoke(_handler(InMemoryQueueSender()), _request(board, prompt="A paper plane over Lisbon"))

    assert result.body["prompt"] == "A paper plane over Lisbon"


def test_a_scene_without_prompt_needs_one_in_the_request(board):
    result = invoke(_handler(InMemoryQueueSender()), _request(board, sceneId="bare"))

    assert result.status == 400
    assert "prompt" in result.body["error"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"durationSeconds": 5}, "durationSeconds"),
        ({"size": "640x480"}, "size"),
        ({"model": "sora-9"}, "model"),
        ({"provider": "runway"}, "provider"),
        ({"provider": "veo", "model": "veo-3.0-generate-001"}, "model"),
        (
            {
                "provider": "veo",
                "model": "veo-3.1-generate-preview",
                "size": "3840x2160",
                "durationSeconds": 4,
            },
            "durationSeconds",
        ),
        ({"provider": "veo", "model": "veo-3.1-lite-generate-preview", "size": "2160x3840"}, "size"),
        ({"provider": "veo", "model": "veo-3.1-generate-001"}, "model"),  # a Vertex id, a Gemini key
        (
            {"provider": "fal", "model": "hailuo-02-pro", "size": "1920x1080", "durationSeconds": 10},
            "durationSeconds",
        ),
    ],
)
def test_catalog_violations_are_400_and_queue_nothing(board, changes, field):
    sender = InMemoryQueueSender()
    store_key(SAMPLE_USER, "veo", api="gemini")
    store_key(SAMPLE_USER, "fal", "fal-test-id:fal-test-secret-0123")

    result = invoke(_handler(sender), _request(board, **changes))

    assert result.status == 400
    assert field in json.dumps(result.body["details"])
    assert sender.bodies() == []
    assert _jobs() == []


def test_a_google_key_gets_the_default_model_of_its_api(board):
    store_key(SAMPLE_USER, "veo", api="gemini")
    sender = InMemoryQueueSender()

    result = invoke(_handler(sender), _request(board, provider="veo"))

    assert result.status == 202, result.body
    assert [(j.model, j.duration_seconds, j.size) for j in _jobs()] == [
        ("veo-3.1-fast-generate-preview", 8, "1280x720")
    ]


def test_a_retired_model_names_its_replacement(board):
    result = invoke(
        _handler(InMemoryQueueSender()), _request(board, provider="veo", model="veo-3.0-generate-001")
    )

    assert "veo-3.1-generate-001" in result.body["error"]


def test_missing_scene_is_400(board):
    result = invoke(_handler(InMemoryQueueSender()), _request(board, sceneId="nope"))

    assert result.status == 400
    assert result.body["details"] == [
        {
            "field": "body.sceneId",
            "message": "no scene of the storyboard has this id",
            "type": "scene_not_found",
        }
    ]


def test_no_active_key_is_409_saying_how_to_add_one(board):
    result = invoke(_handler(InMemoryQueueSender()), _request(board, provider="veo"))

    assert result.status == 409
    assert "PUT /api/keys/veo" in result.body["error"]


def test_another_users_storyboard_is_404_and_creates_nothing(board):
    store_key("intruder", "openai")

    result = invoke(_handler(InMemoryQueueSender()), _request(board, sub="intruder"))

    assert result.status == 404
    assert _jobs() == []


def test_idempotent_retry_returns_the_first_job_and_sends_nothing_new(board):
    sender = InMemoryQueueSender()
    handler = _handler(sender)

    first = invoke(handler, _request(board, key="retry-1"))
    second = invoke(handler, _request(board, key="retry-1"))

    assert second.status == 202
    assert second.body == first.body
    assert len(_jobs()) == 1
    assert len(sender.bodies()) == 1


def test_a_retry_spelled_differently_is_still_the_same_request(board):
    handler = _handler(InMemoryQueueSender())
    first = invoke(handler, _request(board, key="retry-2", prompt="A paper plane"))

    second = invoke(handler, _request(board, key="retry-2", prompt="  A paper plane ", model=None))

    assert second.status == 202
    assert second.body["jobId"] == first.body["jobId"]


@pytest.mark.parametrize(
    "change", [{"sceneId": "bare", "prompt": "Another"}, {"durationSeconds": 8}, {"prompt": "Something else"}]
)
def test_an_idempotency_key_reused_for_a_different_request_is_409_and_changes_nothing(board, change):
    sender = InMemoryQueueSender()
    handler = _handler(sender)
    first = invoke(handler, _request(board, key="retry-3", prompt="A paper plane"))

    reused = invoke(handler, _request(board, key="retry-3", **({"prompt": "A paper plane"} | change)))

    assert reused.status == 409
    assert reused.body["error"].startswith("Idempotency-Key was already used with a different request")
    assert reused.body["details"] == {"jobId": first.body["jobId"]}
    assert [j.id for j in _jobs()] == [uuid.UUID(first.body["jobId"])]
    assert len(sender.bodies()) == 1


def test_concurrent_requests_with_the_same_key_make_one_job(board):
    sender = InMemoryQueueSender()
    handler = _handler(sender)
    results = []

    def call() -> None:
        results.append(invoke(handler, _request(board, key="race")))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)

    assert {r.status for r in results} == {202}
    assert len({r.body["jobId"] for r in results}) == 1
    assert len(_jobs()) == 1
    assert len(sender.bodies()) == 1


def test_failed_queue_send_leaves_no_pending_job_and_answers_503(board):
    result = invoke(_handler(InMemoryQueueSender(fail=True)), _request(board, key="k"))

    assert result.status == 503
    assert _jobs() == []


def test_jobs_in_flight_cap_is_429_naming_the_cap(board, configure):
    configure(max_jobs_in_flight_per_user=2)
    handler = _handler(InMemoryQueueSender())

    statuses = [invoke(handler, _request(board)).status for _ in range(3)]
    third = invoke(handler, _request(board))

    assert statuses == [202, 202, 429]
    assert third.body["details"]["cap"] == "jobsInFlight"
    assert "2" in third.body["error"]
    assert len(_jobs()) == 2


def test_daily_spend_cap_is_429(board, configure):
    configure(max_daily_spend_per_user_usd="1.00")
    handler = _handler(InMemoryQueueSender())

    ok = invoke(handler, _request(board, durationSeconds=8))  # $0.80
    over = invoke(handler, _request(board, durationSeconds=4))  # + $0.40 > $1.00

    assert ok.status == 202
    assert over.status == 429
    assert over.body["details"]["cap"] == "dailySpendUsd"


def test_concurrent_requests_cannot_slip_past_the_in_flight_cap(board, configure):
    configure(max_jobs_in_flight_per_user=3)
    handler = _handler(InMemoryQueueSender())
    results = []

    def call() -> None:
        results.append(invoke(handler, _request(board)).status)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert sorted(results) == [202] * 3 + [429] * 5
    with session_scope() as s:
        assert s.execute(select(func.count()).select_from(VideoJob)).scalar_one() == 3


def test_generate_stays_within_three_statements(board, count_statements):
    handler = _handler(InMemoryQueueSender())
    event = _request(board, key=str(uuid.uuid4()))

    with count_statements() as c:
        result = invoke(handler, event)

    assert result.status == 202
    assert c.count <= 3
    [job] = _jobs()
    assert job.estimated_cost == Decimal("0.4000")
