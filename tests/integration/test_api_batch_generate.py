"""POST /api/storyboards/{id}/generate through the handler: every scene in one call, resuming,
staleness, whole-batch caps (also under concurrency), idempotency and queue failures."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests.integration.generation_support import store_key
from tests.support import invoke, load_event, load_function, with_changes
from tools.queues import InMemoryQueueSender
from videogen.api.resolver import api_handler
from videogen.data.db import session_scope
from videogen.data.models import GenerationBatch, VideoJob

generate_module = load_function("generate")
storyboards_handler = load_function("storyboards").lambda_handler
USER = "user-123"
SCENES = [{"id": f"scene-{n}", "prompt": f"Ada does thing number {n}"} for n in range(1, 6)]


@pytest.fixture
def board(aws, make_storyboard):
    """The user's 5-scene storyboard and a stored Sora key."""
    store_key(USER, "openai")
    return make_storyboard(USER, scenes=SCENES)


def _handler(sender):
    return api_handler(generate_module.build_app(sender=sender))


def _request(board, sub: str = USER, key: str | None = None, **body):
    event = with_changes(
        load_event("generate.storyboard.202"),
        sub=sub,
        path_parameters={"id": str(board.id)},
        body={"provider": "openai"} | body,
    )
    event["headers"].pop("idempotency-key", None)
    if key is not None:
        event["headers"]["idempotency-key"] = key
    return event


def _jobs() -> list[VideoJob]:
    with session_scope() as s:
        return list(s.execute(select(VideoJob).order_by(VideoJob.created_at, VideoJob.scene_id)).scalars())


def _complete_all() -> None:
    with session_scope() as s:
        s.execute(update(VideoJob).values(status="completed", cost=VideoJob.estimated_cost))


def _patch_scene(board, scene_id: str, prompt: str) -> None:
    scenes = [s | {"prompt": prompt} if s["id"] == scene_id else s for s in SCENES]
    event = with_changes(
        load_event("storyboards.patch.200"), path_parameters={"id": str(board.id)}, body={"scenes": scenes}
    )
    event["headers"].pop("if-match", None)
    assert invoke(storyboards_handler, event).status == 200


def _detail(board) -> Any:
    event = with_changes(load_event("storyboards.get.200"), path_parameters={"id": str(board.id)})
    result = invoke(storyboards_handler, event)
    assert result.status == 200
    return result.body["storyboard"]


def test_a_five_scene_storyboard_is_queued_in_one_call(board):
    sender = InMemoryQueueSender()

    result = invoke(_handler(sender), _request(board))

    assert result.status == 202
    assert [j["sceneId"] for j in result.body["jobs"]] == [s["id"] for s in SCENES]
    assert {j["status"] for j in result.body["jobs"]} == {"pending"}
    assert result.body["skipped"] == []
    assert result.body["estimatedCost"] == pytest.approx(2.0)  # 5 x sora-2 4 s at $0.10/s
    sent = [json.loads(b) for b in sender.bodies()]
    assert sent == [{"jobId": j["jobId"], "step": "submit"} for j in result.body["jobs"]]
    jobs = _jobs()
    assert len(jobs) == 5
    assert {j.status for j in jobs} == {"pending"}
    assert all(j.fingerprint and len(j.fingerprint) == 64 for j in jobs)


def test_calling_again_skips_scenes_in_flight_then_up_to_date(board):
    handler = _handler(InMemoryQueueSender())
    first = invoke(handler, _request(board)).body

    again = invoke(handler, _request(board))
    _complete_all()
    after_done = invoke(handler, _request(board))

    assert again.status == 202
    assert again.body["jobs"] == []
    assert [(s["reason"], s["jobId"]) for s in again.body["skipped"]] == [
        ("in-flight", j["jobId"]) for j in first["jobs"]
    ]
    assert after_done.body["jobs"] == []
    assert {s["reason"] for s in after_done.body["skipped"]} == {"up-to-date"}
    assert len(_jobs()) == 5


def test_an_edited_scene_is_stale_and_only_it_regenerates(board):
    handler = _handler(InMemoryQueueSender())
    invoke(handler, _request(board))
    _complete_all()
    assert not any(c["stale"] for c in _detail(board)["sceneClips"])

    _patch_scene(board, "scene-3", "Ada rewrites scene three")
    stale = {c["sceneId"]: c["stale"] for c in _detail(board)["sceneClips"]}
    result = invoke(handler, _request(board))

    assert stale == {"scene-1": False, "scene-2": False, "scene-3": True, "scene-4": False, "scene-5": False}
    assert [j["sceneId"] for j in result.body["jobs"]] == ["scene-3"]
    newest = _jobs()[-1]
    assert newest.prompt.startswith("Ada rewrites scene three.")


def test_a_different_model_or_regenerate_redoes_up_to_date_scenes(board):
    handler = _handler(InMemoryQueueSender())
    invoke(handler, _request(board, sceneIds=["scene-1", "scene-2"]))
    _complete_all()

    other_model = invoke(handler, _request(board, sceneIds=["scene-1"], model="sora-2-pro"))
    redo = invoke(handler, _request(board, sceneIds=["scene-2"], regenerate=True))

    assert [j["sceneId"] for j in other_model.body["jobs"]] == ["scene-1"]
    assert [j["sceneId"] for j in redo.body["jobs"]] == ["scene-2"]


def test_scene_ids_pick_scenes_in_storyboard_order_and_unknown_ones_are_400(board):
    handler = _handler(InMemoryQueueSender())

    picked = invoke(handler, _request(board, sceneIds=["scene-4", "scene-2"]))
    unknown = invoke(handler, _request(board, sceneIds=["scene-2", "nope"]))
    repeated = invoke(handler, _request(board, sceneIds=["scene-2", "scene-2"]))

    assert [j["sceneId"] for j in picked.body["jobs"]] == ["scene-2", "scene-4"]
    assert unknown.status == 400
    assert unknown.body["details"] == [
        {
            "field": "body.sceneIds.1",
            "message": "no scene of the storyboard has this id",
            "type": "scene_not_found",
        }
    ]
    assert repeated.status == 400
    assert len(_jobs()) == 2


def test_a_scene_without_text_is_skipped_as_no_prompt(aws, make_storyboard):
    store_key(USER, "openai")
    board = make_storyboard(USER, scenes=[{"id": "a", "prompt": "Ada waves"}, {"id": "blank"}])

    result = invoke(_handler(InMemoryQueueSender()), _request(board))

    assert [j["sceneId"] for j in result.body["jobs"]] == ["a"]
    assert result.body["skipped"] == [{"sceneId": "blank", "reason": "no-prompt", "jobId": None}]


def test_a_batch_over_the_in_flight_cap_is_refused_whole(board, configure):
    configure(max_jobs_in_flight_per_user=4)
    sender = InMemoryQueueSender()

    result = invoke(_handler(sender), _request(board))

    assert result.status == 429
    assert result.body["details"] == {
        "cap": "jobsInFlight",
        "limit": 4,
        "current": 0,
        "scenes": 5,
        "scenesThatFit": 4,
    }
    assert _jobs() == []
    assert sender.bodies() == []


def test_a_batch_over_the_daily_spend_cap_is_refused_whole(board, configure):
    configure(max_daily_spend_per_user_usd="1.30")

    result = invoke(_handler(InMemoryQueueSender()), _request(board))

    assert result.status == 429
    assert result.body["details"]["cap"] == "dailySpendUsd"
    assert result.body["details"]["scenesThatFit"] == 3  # 3 x $0.40 <= $1.30
    assert _jobs() == []


def test_concurrent_batches_of_one_user_never_pass_the_caps(aws, make_storyboard, configure):
    configure(max_jobs_in_flight_per_user=6)
    store_key(USER, "openai")
    boards = [make_storyboard(USER, name=f"Board {n}", scenes=SCENES[:3]) for n in range(4)]
    statuses: list[int] = []

    def call(board) -> None:
        # One resolver per thread, as one Lambda container serves one request at a time.
        statuses.append(invoke(_handler(InMemoryQueueSender()), _request(board)).status)

    threads = [threading.Thread(target=call, args=(b,)) for b in boards]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert sorted(statuses) == [202, 202, 429, 429]
    assert len(_jobs()) == 6


def test_concurrent_batches_of_one_storyboard_queue_each_scene_once(board):
    sender = InMemoryQueueSender()
    answers: list[Any] = []

    def call() -> None:
        answers.append(invoke(_handler(sender), _request(board)).body)

    threads = [threading.Thread(target=call) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert sorted(len(a["jobs"]) for a in answers) == [0, 0, 5]
    assert len(_jobs()) == 5
    assert len(sender.bodies()) == 5


def test_idempotent_retry_returns_the_first_answer(board):
    sender = InMemoryQueueSender()
    handler = _handler(sender)

    first = invoke(handler, _request(board, key="batch-1"))
    second = invoke(handler, _request(board, key="batch-1"))

    assert second.status == 202
    assert second.body == first.body
    assert len(first.body["jobs"]) == 5
    assert len(sender.bodies()) == 5


def test_an_idempotency_key_reused_for_a_different_request_is_409_and_makes_nothing(board, make_storyboard):
    # Given a batch made with a key
    sender = InMemoryQueueSender()
    handler = _handler(sender)
    first = invoke(handler, _request(board, key="batch-2", sceneIds=["scene-1"]))
    other_board = make_storyboard(USER, scenes=[{"id": "scene-1", "prompt": "Elsewhere"}])

    # When the key comes back with other scenes, or for another storyboard
    other_scenes = invoke(handler, _request(board, key="batch-2", sceneIds=["scene-2"]))
    other_storyboard = invoke(handler, _request(other_board, key="batch-2", sceneIds=["scene-1"]))

    # Then both are refused, naming the first batch's jobs, and nothing more is stored or queued
    for refused in (other_scenes, other_storyboard):
        assert refused.status == 409, refused.body
        assert refused.body["details"] == {"jobIds": [first.body["jobs"][0]["jobId"]]}
    assert len(_jobs()) == 1
    assert len(sender.bodies()) == 1


def test_a_queue_failure_midway_withdraws_the_unsent_jobs_and_says_which(board):
    sender = InMemoryQueueSender(accept=3)
    handler = _handler(sender)

    result = invoke(handler, _request(board, key="half"))
    retry = invoke(handler, _request(board, key="half"))

    assert result.status == 202
    assert [j["sceneId"] for j in result.body["jobs"]] == ["scene-1", "scene-2", "scene-3"]
    assert result.body["skipped"] == [
        {"sceneId": "scene-4", "reason": "queue-unavailable", "jobId": None},
        {"sceneId": "scene-5", "reason": "queue-unavailable", "jobId": None},
    ]
    assert result.body["estimatedCost"] == pytest.approx(1.2)
    assert sorted(j.scene_id for j in _jobs()) == ["scene-1", "scene-2", "scene-3"]
    assert retry.body == result.body


def test_a_queue_failure_for_every_job_is_503_and_leaves_nothing(board):
    result = invoke(_handler(InMemoryQueueSender(fail=True)), _request(board, key="down"))

    assert result.status == 503
    assert _jobs() == []
    with session_scope() as s:
        assert s.execute(select(func.count()).select_from(GenerationBatch)).scalar_one() == 0


def test_another_users_storyboard_is_404_and_creates_nothing(board):
    store_key("intruder", "openai")

    result = invoke(_handler(InMemoryQueueSender()), _request(board, sub="intruder"))

    assert result.status == 404
    assert _jobs() == []


def test_no_active_key_is_409(board):
    result = invoke(_handler(InMemoryQueueSender()), _request(board, provider="veo"))

    assert result.status == 409
    assert "PUT /api/keys/veo" in result.body["error"]
