"""The films API through its handler: compile (order, clips, idempotency, queue), a film's
status with its presigned URL, a storyboard's films, and another user's answering 404."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from tests.e2e.conftest import http
from tests.integration.film_support import FilmPipeline, film_row, store_clip
from tests.integration.test_film_craft import uploaded_music
from tests.integration.test_references import USER as REFERENCES_USER
from tests.support import invoke, load_event, load_function, with_changes
from tools import samples
from tools.queues import InMemoryQueueSender
from videogen.api.resolver import api_handler
from videogen.data.db import session_scope
from videogen.data.models import CompiledVideo, Storyboard
from videogen.messaging.messages import FilmStepMessage

films_module = load_function("films")
USER = samples.SAMPLE_USER
SCENES = [
    {"id": "scene-1", "prompt": "a"},
    {"id": "scene-2", "prompt": "b"},
    {"id": "scene-3", "prompt": "c"},
]


@pytest.fixture
def board(aws, make_storyboard):
    return make_storyboard(USER, scenes=SCENES)


@pytest.fixture
def clips(board, make_job):
    """A completed Sora clip for every scene of ``board``, by scene."""
    return {scene["id"]: store_clip(make_job, board.id, scene["id"], user_id=USER) for scene in SCENES}


def _handler(sender: InMemoryQueueSender[FilmStepMessage]):
    return api_handler(films_module.build_app(sender=sender))


def _compile(board, body=None, *, sub: str = USER, key: str | None = None):
    event = load_event("films.compile.202")
    event = with_changes(event, sub=sub, path_parameters={"id": str(board.id)})
    event["headers"].pop("idempotency-key", None)
    if key is not None:
        event["headers"]["idempotency-key"] = key
    if body is None:
        event.pop("body", None)
        event["headers"].pop("content-type", None)
        return event
    return with_changes(event, body=body)


def _get(film_id, sub: str = USER):
    return with_changes(load_event("films.get.200"), sub=sub, path_parameters={"id": str(film_id)})


def _list(board_id, sub: str = USER):
    return with_changes(load_event("films.list.200"), sub=sub, path_parameters={"id": str(board_id)})


def _films() -> list[CompiledVideo]:
    with session_scope() as s:
        return list(s.execute(select(CompiledVideo).order_by(CompiledVideo.created_at)).scalars())


def test_compile_records_each_scenes_newest_clip_and_queues_only_ids(board, clips, make_job):
    # Given scene-1 regenerated: its newer clip is the one to use
    newer = store_clip(make_job, board.id, "scene-1", user_id=USER)
    sender = InMemoryQueueSender[FilmStepMessage]()

    result = invoke(_handler(sender), _compile(board))

    assert result.status == 202, result.body
    film_id = result.body["compiledVideoId"]
    assert result.body == {
        "compiledVideoId": film_id,
        "status": "pending",
        "scenesOrder": ["scene-1", "scene-2", "scene-3"],
    }
    assert [json.loads(b) for b in sender.bodies()] == [{"filmId": film_id, "step": "plan"}]
    [film] = _films()
    assert [(c["sceneId"], c["jobId"], c["key"]) for c in film.clips] == [
        ("scene-1", str(newer.id), newer.video_url),
        ("scene-2", str(clips["scene-2"].id), clips["scene-2"].video_url),
        ("scene-3", str(clips["scene-3"].id), clips["scene-3"].video_url),
    ]

    # And a clip made later does not change the film being made
    store_clip(make_job, board.id, "scene-2", user_id=USER)
    assert film_row(film_id).clips == film.clips


def test_compile_takes_the_order_asked(board, clips):
    result = invoke(
        _handler(InMemoryQueueSender[FilmStepMessage]()),
        _compile(board, {"scenesOrder": ["scene-3", "scene-1"]}),
    )

    assert result.status == 202
    assert result.body["scenesOrder"] == ["scene-3", "scene-1"]
    assert _films()[0].scenes_order == ["scene-3", "scene-1"]


@pytest.mark.parametrize(
    ("order", "details"),
    [
        ([], [{"field": "body.scenesOrder", "message": "empty", "type": "empty"}]),
        (
            ["scene-1", "scene-2", "scene-1"],
            [
                {
                    "field": "body.scenesOrder.2",
                    "message": "'scene-1' appears more than once",
                    "type": "scene_repeated",
                }
            ],
        ),
        (
            ["scene-1", "scene-9", "nope"],
            [
                {
                    "field": f"body.scenesOrder.{n}",
                    "message": f"{scene!r} is not a scene of this storyboard",
                    "type": "scene_not_found",
                }
                for n, scene in ((1, "scene-9"), (2, "nope"))
            ],
        ),
    ],
)
def test_a_bad_order_is_400_naming_the_scenes_and_queues_nothing(board, clips, order, details):
    sender = InMemoryQueueSender[FilmStepMessage]()

    result = invoke(_handler(sender), _compile(board, {"scenesOrder": order}))

    assert result.status == 400
    assert result.body["details"] == details
    assert result.body["error"]
    assert (_films(), sender.bodies()) == ([], [])


def test_scenes_without_a_completed_clip_are_409_naming_them(board, make_job):
    store_clip(make_job, board.id, "scene-2", user_id=USER)
    make_job(USER, board.id, scene_id="scene-1", status="processing")  # in flight, not done
    make_job(USER, board.id, scene_id="scene-3", status="failed")
    sender = InMemoryQueueSender[FilmStepMessage]()

    result = invoke(_handler(sender), _compile(board))

    assert result.status == 409
    assert result.body["details"] == {"scenesWithoutClip": ["scene-1", "scene-3"]}
    assert (_films(), sender.bodies()) == ([], [])


def test_another_users_storyboard_and_clips_are_404(board, clips):
    result = invoke(_handler(InMemoryQueueSender[FilmStepMessage]()), _compile(board, sub="intruder"))

    assert result.status == 404
    assert _films() == []


def test_a_queue_failure_withdraws_the_film_and_answers_503(board, clips):
    result = invoke(_handler(InMemoryQueueSender[FilmStepMessage](fail=True)), _compile(board, key="k"))

    assert result.status == 503
    assert _films() == []


def test_the_same_idempotency_key_returns_the_same_film_even_concurrently(board, clips):
    sender = InMemoryQueueSender[FilmStepMessage]()
    handler = _handler(sender)
    results = []

    def call() -> None:
        results.append(invoke(handler, _compile(board, key="film-1")))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert {r.status for r in results} == {202}
    assert len({r.body["compiledVideoId"] for r in results}) == 1
    assert (len(_films()), len(sender.bodies())) == (1, 1)


def test_an_idempotency_key_reused_for_another_order_or_storyboard_is_409_and_makes_nothing(
    board, clips, make_storyboard
):
    # Given a film compiled with a key
    sender = InMemoryQueueSender[FilmStepMessage]()
    handler = _handler(sender)
    first = invoke(handler, _compile(board, {"scenesOrder": ["scene-1"]}, key="film-2"))
    other = make_storyboard(USER, scenes=[{"id": "scene-1", "prompt": "Elsewhere"}])

    # When the key comes back with another order, or for another storyboard; and as first sent
    reordered = invoke(handler, _compile(board, {"scenesOrder": ["scene-2"]}, key="film-2"))
    elsewhere = invoke(handler, _compile(other, {"scenesOrder": ["scene-1"]}, key="film-2"))
    retried = invoke(handler, _compile(board, {"scenesOrder": ["scene-1"]}, key="film-2"))

    # Then the first two are refused naming the first film, the retry answers it again, and
    # only one film was made and queued
    film_id = first.body["compiledVideoId"]
    for refused in (reordered, elsewhere):
        assert refused.status == 409, refused.body
        assert refused.body["details"] == {"compiledVideoId": film_id}
    assert (retried.status, retried.body["compiledVideoId"]) == (202, film_id)
    assert (len(_films()), len(sender.bodies())) == (1, 1)


def test_compile_stays_within_three_statements(board, clips, count_statements):
    handler = _handler(InMemoryQueueSender[FilmStepMessage]())
    event = _compile(board, key=str(uuid.uuid4()))

    with count_statements() as c:
        result = invoke(handler, event)

    assert result.status == 202
    assert c.count <= 3


def test_a_film_shows_its_progress_and_once_completed_a_url_that_serves_it(board, clips):
    sender = InMemoryQueueSender[FilmStepMessage]()
    handler = _handler(sender)
    film_id = invoke(handler, _compile(board, {"scenesOrder": ["scene-2"]})).body["compiledVideoId"]

    pending = invoke(handler, _get(film_id))
    assert pending.status == 200
    assert {k: pending.body[k] for k in ("status", "progress", "finalVideoUrl", "scenesOrder")} == {
        "status": "pending",
        "progress": 0,
        "finalVideoUrl": None,
        "scenesOrder": ["scene-2"],
    }

    pipeline = FilmPipeline(sender=sender)
    pipeline.drain()
    done = invoke(handler, _get(film_id)).body

    assert (done["status"], done["progress"], done["error"]) == ("completed", 100, None)
    assert done["durationSeconds"] == pytest.approx(2.0)
    video = http("GET", done["finalVideoUrl"])
    assert video.status == 200
    assert len(video.raw) == done["fileSizeBytes"]
    assert video.raw[4:8] == b"ftyp"
    completed_at = datetime.fromisoformat(done["completedAt"])
    assert timedelta(0) <= datetime.now(UTC) - completed_at < timedelta(minutes=5)


def test_a_storyboards_films_are_listed_newest_first(board, clips):
    handler = _handler(InMemoryQueueSender[FilmStepMessage]())
    first = invoke(handler, _compile(board)).body["compiledVideoId"]
    second = invoke(handler, _compile(board, {"scenesOrder": ["scene-1"]})).body["compiledVideoId"]

    listed = invoke(handler, _list(board.id))

    assert listed.status == 200
    assert [f["id"] for f in listed.body["compiledVideos"]] == [second, first]
    assert {f["storyboardId"] for f in listed.body["compiledVideos"]} == {str(board.id)}


def test_another_users_films_are_404_like_missing_ones(board, clips, make_storyboard):
    handler = _handler(InMemoryQueueSender[FilmStepMessage]())
    film_id = invoke(handler, _compile(board)).body["compiledVideoId"]
    empty = make_storyboard(USER, scenes=SCENES)

    assert invoke(handler, _get(film_id, sub="intruder")).status == 404
    assert invoke(handler, _get(uuid.uuid4())).status == 404
    assert invoke(handler, _list(board.id, sub="intruder")).status == 404
    assert invoke(handler, _list(uuid.uuid4())).status == 404
    assert invoke(handler, _list(empty.id)).body == {"compiledVideos": []}
    assert invoke(handler, _get(film_id)).status == 200


@pytest.mark.parametrize("body", [[None, None], [], ["scene-1"], "scene-1", 3, True])
def test_a_body_that_is_not_an_object_is_400_and_queues_nothing(board, clips, body):
    sender = InMemoryQueueSender[FilmStepMessage]()

    result = invoke(_handler(sender), _compile(board, body))

    assert result.status == 400, result.body
    assert result.body["error"]
    assert (_films(), sender.bodies()) == ([], [])


@pytest.mark.parametrize(
    ("transition", "field"),
    [
        ({"type": "crossfade", "durationMs": 199}, "body.transition.durationMs"),
        ({"type": "crossfade", "durationMs": 2001}, "body.transition.durationMs"),
        ({"type": "crossfade", "durationMs": "long"}, "body.transition.durationMs"),
        ({"type": "wipe", "durationMs": 500}, "body.transition.type"),
        ({"type": "crossfade", "speed": 2}, "body.transition.speed"),
    ],
)
def test_a_bad_transition_is_400_naming_the_field_and_queues_nothing(board, clips, transition, field):
    sender = InMemoryQueueSender[FilmStepMessage]()

    result = invoke(_handler(sender), _compile(board, {"transition": transition}))

    assert result.status == 400, result.body
    assert field in [d["field"] for d in result.body["details"]]
    assert (_films(), sender.bodies()) == ([], [])


def test_a_crossfade_longer_than_half_the_shortest_clip_is_400_naming_it(board, make_job):
    for n, seconds in ((1, 8), (2, 2), (3, 8)):
        store_clip(make_job, board.id, f"scene-{n}", user_id=USER, duration_seconds=seconds)
    sender = InMemoryQueueSender[FilmStepMessage]()

    body = {"transition": {"type": "crossfade", "durationMs": 1500}}
    result = invoke(_handler(sender), _compile(board, body))

    assert result.status == 400, result.body
    [detail] = result.body["details"]
    assert detail["field"] == "body.transition.durationMs"
    assert "scene-2" in detail["message"]
    assert (_films(), sender.bodies()) == ([], [])
    # A crossfade of half the shortest clip is fine
    body = {"transition": {"type": "crossfade", "durationMs": 1000}}
    assert invoke(_handler(sender), _compile(board, body)).status == 202


def test_a_stored_caption_that_breaks_the_rules_is_400_naming_the_scene(board, clips):
    # A storyboard saved before captions had rules may hold one that cannot go into a film
    with session_scope() as s:
        s.execute(
            update(Storyboard)
            .where(Storyboard.id == board.id)
            .values(scenes=[SCENES[0] | {"caption": "line\none"}, *SCENES[1:]])
        )
    sender = InMemoryQueueSender[FilmStepMessage]()

    result = invoke(_handler(sender), _compile(board))

    assert result.status == 400, result.body
    assert [d["field"] for d in result.body["details"]] == ["storyboard.scenes.0.caption"]
    assert (_films(), sender.bodies()) == ([], [])


def test_a_compiled_film_answers_its_transition_and_captions_url(board, make_job):
    with session_scope() as s:
        captioned = [SCENES[0] | {"caption": "Hello"}, *SCENES[1:]]
        s.execute(update(Storyboard).where(Storyboard.id == board.id).values(scenes=captioned))
    for scene in SCENES:
        store_clip(make_job, board.id, scene["id"], user_id=USER)
    pipeline = FilmPipeline()
    body = {"transition": {"type": "crossfade", "durationMs": 400}}
    accepted = invoke(_handler(pipeline.sender), _compile(board, body))
    pipeline.drain()

    film_id = accepted.body["compiledVideoId"]
    event = with_changes(load_event("films.get.200"), sub=USER, path_parameters={"id": film_id})
    result = invoke(_handler(pipeline.sender), event)

    assert result.status == 200, result.body
    assert result.body["transition"] == {"type": "crossfade", "durationMs": 400}
    assert result.body["durationSeconds"] == pytest.approx(6.0 - 0.8, abs=0.05)
    vtt = http("GET", result.body["captionsUrl"])
    assert vtt.status == 200
    assert vtt.raw.decode().startswith("WEBVTT\n\n1\n00:00:00.000 --> 00:00:02.000\nHello")


@pytest.mark.parametrize(
    ("music", "field"),
    [
        ({"referenceId": str(uuid.uuid4())}, "body.music.referenceId"),
        ({"referenceId": "not-a-uuid"}, "body.music.referenceId"),
        ({"referenceId": str(uuid.uuid4()), "volumeDb": 7}, "body.music.volumeDb"),
        ({"referenceId": str(uuid.uuid4()), "duck": "yes please"}, "body.music.duck"),
        ({"volumeDb": -6}, "body.music.referenceId"),
    ],
)
def test_music_that_cannot_go_under_the_film_is_400_naming_the_field(board, clips, music, field):
    sender = InMemoryQueueSender[FilmStepMessage]()

    result = invoke(_handler(sender), _compile(board, {"music": music}))

    assert result.status == 400, result.body
    assert field in [d["field"] for d in result.body["details"]]
    assert (_films(), sender.bodies()) == ([], [])


def test_another_users_music_is_400_as_if_it_did_not_exist(board, clips, make_storyboard, tmp_path):
    theirs = make_storyboard(REFERENCES_USER)
    music_id = uploaded_music(theirs.id, tmp_path)
    sender = InMemoryQueueSender[FilmStepMessage]()

    result = invoke(_handler(sender), _compile(board, {"music": {"referenceId": music_id}}))

    assert result.status == 400, result.body
    assert [d["field"] for d in result.body["details"]] == ["body.music.referenceId"]
    assert (_films(), sender.bodies()) == ([], [])
