"""No film stays pending or processing forever: the sweeper re-sends lost steps and fails overdue
films, the dead-letter consumer fails a film whose step gave up, and the last clip to be
counted moves the film on exactly once, however many finish together."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.integration.film_support import (
    SCENES,
    USER,
    FilmPipeline,
    film_body,
    film_row,
    scenes,
    store_clips,
)
from tests.integration.test_film_pipeline import request_film
from tests.support import FakeLambdaContext, load_event, load_function, sqs_event
from videogen.data import db
from videogen.data.db import session_scope
from videogen.data.repositories import compiled_videos
from videogen.films.steps import FilmSteps
from videogen.generation.worker import GenerationWorker
from videogen.runtime.config import get_settings


@pytest.fixture
def board(aws, make_storyboard):
    return make_storyboard(USER, scenes=SCENES)


@pytest.fixture
def mixed(board, make_job):
    """Clips of the three scenes: Sora, Veo, Sora (the Veo one needs normalizing)."""
    store_clips(make_job, board.id, "openai", "veo", "openai")
    return board


def _sweep(pipeline: FilmPipeline) -> dict[str, int]:
    handler = load_function("sweeper").build_handler(
        GenerationWorker(clock=pipeline.clock), films=FilmSteps(sender=pipeline.sender, clock=pipeline.clock)
    )
    return handler(load_event("sweeper.scheduled"), FakeLambdaContext())  # type: ignore[no-any-return]


def _dead_letters(*bodies: str, receive_count: int = 4) -> dict[str, Any]:
    handler = load_function("dead_letters").build_handler()
    event = sqs_event(bodies, receive_count=receive_count, template="dead_letters.film-sqs")
    return handler(event, FakeLambdaContext())  # type: ignore[no-any-return]


def _lease() -> int:
    return get_settings().film_step_lease_seconds


PAST_THE_LEASE = 120
"""Seconds past a film's lease to move the test clock: the clock starts at the real time it was made,
while the film's row takes the real time of its last step, which a loaded machine can put seconds
later (by 1 s, the film could still look fresh to the sweeper)."""


# --- sweeper ----------------------------------------------------------------------------------


def test_a_lost_plan_message_is_sent_again_and_the_film_completes(mixed):
    pipeline = FilmPipeline()
    film_id = request_film(pipeline, mixed.id)
    pipeline.take()  # the plan message is lost

    assert _sweep(pipeline)["films_resent"] == 0  # not yet stale
    pipeline.clock.advance(_lease() + PAST_THE_LEASE)
    report = _sweep(pipeline)

    assert (report["films_resent"], pipeline.steps()) == (1, [("plan", None)])
    pipeline.drain()
    assert film_row(film_id).status == "completed"


def _board_of(make_storyboard: Any, make_job: Any, providers: list[str]) -> Any:
    """A storyboard with one scene per provider given, each with that provider's clip."""
    board = make_storyboard(USER, scenes=scenes(len(providers)))
    store_clips(make_job, board.id, *providers)
    return board


def test_only_the_clips_not_yet_normalized_are_sent_again(aws, make_storyboard, make_job):
    # Given a film of three Veo clips and two Sora ones (the Sora ones need normalizing): one
    # is done, the other's message was lost
    board = _board_of(make_storyboard, make_job, ["veo", "openai", "veo", "openai", "veo"])
    pipeline = FilmPipeline()
    film_id = request_film(pipeline, board.id)
    pipeline.deliver(*(m.body for m in pipeline.take()))
    first, _lost = pipeline.take()
    assert (first.message.clip, _lost.message.clip) == (1, 3)
    assert pipeline.deliver(first.body) == []

    # When the sweeper finds the film stale
    pipeline.clock.advance(_lease() + PAST_THE_LEASE)
    _sweep(pipeline)

    # Then only the clip not yet normalized is sent again, and the film completes
    assert pipeline.steps() == [("normalize", 3)]
    pipeline.drain()
    assert film_row(film_id).status == "completed"


def test_a_lost_assemble_message_is_sent_again(mixed):
    pipeline = FilmPipeline()
    film_id = request_film(pipeline, mixed.id)
    pipeline.deliver(*(m.body for m in pipeline.take()))  # plan
    pipeline.deliver(*(m.body for m in pipeline.take()))  # normalize; assemble queued
    assert [m.message.step for m in pipeline.take()] == ["assemble"]  # and lost

    pipeline.clock.advance(_lease() + PAST_THE_LEASE)
    _sweep(pipeline)

    assert pipeline.steps() == [("assemble", None)]
    pipeline.drain()
    assert film_row(film_id).status == "completed"


def test_an_overdue_film_fails_and_a_finished_one_is_left_alone(mixed):
    pipeline = FilmPipeline()
    done = request_film(pipeline, mixed.id, ["scene-1"])
    pipeline.drain()
    stuck = request_film(pipeline, mixed.id)
    pipeline.take()

    pipeline.clock.advance(get_settings().film_max_wait_seconds + 1)
    report = _sweep(pipeline)

    assert (report["films_expired"], report["films_resent"]) == (1, 0)
    film = film_row(stuck)
    assert (film.status, film.error_message) == ("failed", "the film did not finish within 120 minutes")
    assert film_row(done).status == "completed"
    assert pipeline.steps() == []


# --- dead letters -----------------------------------------------------------------------------


def test_a_dead_letter_fails_its_film_with_the_reason_once(mixed):
    pipeline = FilmPipeline()
    film_id = request_film(pipeline, mixed.id)
    body = film_body(film_id, "normalize", 1)

    assert _dead_letters(body) == {"batchItemFailures": []}
    assert _dead_letters(body) == {"batchItemFailures": []}

    film = film_row(film_id)
    assert (film.status, film.error_message) == (
        "failed",
        "the film's normalize step gave up after 3 attempts",
    )


def test_a_dead_letter_of_a_finished_or_deleted_film_changes_nothing(mixed):
    pipeline = FilmPipeline()
    film_id = request_film(pipeline, mixed.id, ["scene-1"])
    pipeline.drain()

    assert _dead_letters(film_body(film_id, "assemble"), film_body(uuid.uuid4(), "plan")) == {
        "batchItemFailures": []
    }
    assert film_row(film_id).status == "completed"


# --- the last clip counted ----------------------------------------------------------------------


def _normalizing_film(board_id: uuid.UUID, clips: int) -> uuid.UUID:
    with session_scope() as s:
        film = compiled_videos.create(s, USER, storyboard_id=board_id, scenes_order=["scene-1"] * clips)
        assert film is not None
        assert compiled_videos.claim(s, film.id, "plan", stale_before=film.created_at) is not None
        changes = {"step": "normalize", "normalize_clips": list(range(clips))}
        assert compiled_videos.finish_step(s, film.id, "plan", changes) is not None
    return film.id


def test_clips_counted_at_once_from_many_connections_move_the_film_on_exactly_once(board):
    # Given a film waiting for 8 clips, and 16 workers (each clip counted twice) on their own
    # connections, released together
    film_id = _normalizing_film(board.id, 8)
    engines = [db.build_engine(get_settings()) for _ in range(16)]
    start = threading.Barrier(16)
    results: list[Any] = []

    def count(index: int) -> None:
        with Session(engines[index]) as s:
            start.wait(10)
            row = compiled_videos.mark_normalized(s, film_id, index % 8)
            results.append(None if row is None else row.step)  # as the UPDATE returned it
            s.commit()

    threads = [threading.Thread(target=count, args=(i,)) for i in range(16)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        for engine in engines:
            engine.dispose()

    # Then each clip counted once, and exactly one count saw the film move to assemble
    assert results.count(None) == 8
    assert results.count("assemble") == 1
    film = film_row(film_id)
    assert (sorted(film.normalized_clips), film.step) == (list(range(8)), "assemble")


def test_normalize_steps_delivered_together_send_one_assemble(aws, make_storyboard, make_job):
    # Given a film of four Veo clips and five Sora ones: the four Veo clips need normalizing
    board = _board_of(make_storyboard, make_job, ["veo"] * 4 + ["openai"] * 5)
    pipeline = FilmPipeline()
    film_id = request_film(pipeline, board.id)
    pipeline.deliver(*(m.body for m in pipeline.take()))
    normalize = [m.body for m in pipeline.take()]
    assert len(normalize) == 4

    # When every normalize message is delivered twice, from threads at once
    failures: list[str] = []

    def deliver(body: str) -> None:
        failures.extend(pipeline.deliver(body))

    threads = [threading.Thread(target=deliver, args=(body,)) for body in normalize * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)

    # Then one assemble was queued, and the film completes
    assert failures == []
    assert pipeline.steps() == [("assemble", None)]
    pipeline.drain()
    film = film_row(film_id)
    assert (film.status, sorted(film.normalized_clips)) == ("completed", [0, 1, 2, 3])
