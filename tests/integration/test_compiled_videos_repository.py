"""Compiled videos repository: scoped by owner, idempotent by key, claims and counts that hold
under duplicates, and rows that go with their storyboard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from videogen.data.db import session_scope
from videogen.data.models import CompiledVideo
from videogen.data.repositories import compiled_videos, storyboards
from videogen.errors import NotFound


def _film(board, user: str = "user-a", **kwargs):
    with session_scope() as s:
        film = compiled_videos.create(s, user, storyboard_id=board.id, scenes_order=["s2", "s1"], **kwargs)
    assert film is not None
    return film


def test_create_is_pending_at_the_plan_step_with_the_scene_order(make_storyboard):
    film = _film(make_storyboard("user-a"))

    assert (film.status, film.step, film.attempts) == ("pending", "plan", 0)
    assert film.scenes_order == ["s2", "s1"]


def test_create_for_another_users_storyboard_inserts_nothing(make_storyboard):
    board = make_storyboard("owner")

    with session_scope() as s:
        assert compiled_videos.create(s, "intruder", storyboard_id=board.id, scenes_order=["s1"]) is None
        with pytest.raises(NotFound):
            compiled_videos.list_for_storyboard(s, "intruder", board.id)


def test_an_idempotency_key_makes_one_film_per_user(make_storyboard):
    board = make_storyboard("user-a")
    first = _film(board, idempotency_key="k")

    with session_scope() as s:
        assert (
            compiled_videos.create(s, "user-a", storyboard_id=board.id, scenes_order=[], idempotency_key="k")
            is None
        )
        found = compiled_videos.find_by_key(s, "user-a", "k")
    assert found is not None
    assert found.id == first.id
    assert _film(make_storyboard("user-b"), "user-b", idempotency_key="k").id != first.id


def test_get_is_scoped_by_owner(make_storyboard):
    film = _film(make_storyboard("user-a"))

    with session_scope() as s:
        assert compiled_videos.get(s, "user-a", film.id).id == film.id
        with pytest.raises(NotFound):
            compiled_videos.get(s, "intruder", film.id)


def test_a_claim_is_taken_once_until_it_goes_stale(make_storyboard):
    film = _film(make_storyboard("user-a"))
    long_ago = datetime.now(UTC) - timedelta(hours=1)

    with session_scope() as s:
        claimed = compiled_videos.claim(s, film.id, "plan", stale_before=long_ago)
        again = compiled_videos.claim(s, film.id, "plan", stale_before=long_ago)
        wrong_step = compiled_videos.claim(s, film.id, "assemble", stale_before=datetime.now(UTC))
    assert claimed is not None
    assert (claimed.status, claimed.attempts) == ("processing", 1)
    assert (again, wrong_step) == (None, None)
    with session_scope() as s:
        taken_over = compiled_videos.claim(
            s, film.id, "plan", stale_before=datetime.now(UTC) + timedelta(seconds=1)
        )
    assert taken_over is not None
    assert taken_over.attempts == 2


def test_a_clip_counts_once_and_only_if_it_needs_normalizing(make_storyboard):
    film = _film(make_storyboard("user-a"))
    with session_scope() as s:
        compiled_videos.claim(s, film.id, "plan", stale_before=datetime.now(UTC))
        compiled_videos.finish_step(s, film.id, "plan", {"step": "normalize", "normalize_clips": [0, 2]})

    def count(clip: int) -> tuple[str, list[int]] | None:
        with session_scope() as s:
            row = compiled_videos.mark_normalized(s, film.id, clip)
            return None if row is None else (row.step, sorted(row.normalized_clips))

    assert count(2) == ("normalize", [2])
    assert count(2) is None  # a duplicate
    assert count(1) is None  # needs no normalizing
    assert count(0) == ("assemble", [0, 2])  # the last moves the film on


def test_the_database_refuses_a_count_outside_the_clips_to_normalize(make_storyboard):
    film = _film(make_storyboard("user-a"))

    with pytest.raises(IntegrityError), session_scope() as s:
        s.execute(update(CompiledVideo).where(CompiledVideo.id == film.id).values(normalized_clips=[3]))


def test_failing_touches_active_films_only(make_storyboard):
    board = make_storyboard("user-a")
    active, finished = _film(board), _film(board)
    with session_scope() as s:
        compiled_videos.claim(s, finished.id, "plan", stale_before=datetime.now(UTC))
        compiled_videos.finish_step(s, finished.id, "plan", {"step": "assemble"})
        compiled_videos.finish_step(s, finished.id, "assemble", {"status": "completed"})

    with session_scope() as s:
        failed = compiled_videos.fail(s, active.id, "broken")
        untouched = compiled_videos.fail(s, finished.id, "broken")
    assert failed is not None
    assert (failed.status, failed.error_message) == ("failed", "broken")
    assert untouched is None


def test_films_are_listed_newest_first_and_go_with_their_storyboard(make_storyboard):
    board = make_storyboard("user-a")
    older, newer = _film(board), _film(board)

    with session_scope() as s:
        assert [f.id for f in compiled_videos.list_for_storyboard(s, "user-a", board.id)] == [
            newer.id,
            older.id,
        ]
        storyboards.delete(s, "user-a", board.id)
    with session_scope() as s:
        assert compiled_videos.get_by_id(s, older.id) is None
        assert compiled_videos.list_active(s) == []
