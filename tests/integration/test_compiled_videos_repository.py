"""Compiled videos repository: scoped by owner, cascades with the storyboard."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.exc import IntegrityError

from videogen.db import session_scope
from videogen.errors import NotFound
from videogen.repositories import compiled_videos, storyboards


def test_create_is_pending_with_scene_order(make_storyboard):
    board = make_storyboard("user-a")

    with session_scope() as s:
        film = compiled_videos.create(s, "user-a", storyboard_id=board.id, scenes_order=["s2", "s1"])

    assert film.status == "pending"
    assert film.scenes_order == ["s2", "s1"]


def test_create_for_another_users_storyboard_is_not_found(make_storyboard):
    board = make_storyboard("owner")

    with session_scope() as s, pytest.raises(NotFound):
        compiled_videos.create(s, "intruder", storyboard_id=board.id, scenes_order=["s1"])


def test_update_and_get_are_scoped_by_owner(make_storyboard):
    board = make_storyboard("user-a")
    with session_scope() as s:
        film = compiled_videos.create(s, "user-a", storyboard_id=board.id, scenes_order=["s1"])

    with session_scope() as s:
        done = compiled_videos.update_for_user(
            s,
            "user-a",
            film.id,
            {"status": "completed", "file_size_bytes": 5_000_000_000, "duration_seconds": 12},
        )
        assert done.file_size_bytes == 5_000_000_000
        with pytest.raises(NotFound):
            compiled_videos.get(s, "intruder", film.id)
        with pytest.raises(NotFound):
            compiled_videos.update_for_user(s, "intruder", film.id, {"status": "failed"})
    with session_scope() as s:
        assert compiled_videos.get(s, "user-a", film.id).status == "completed"


def test_bad_status_is_rejected_by_the_database(make_storyboard):
    board = make_storyboard("user-a")
    with session_scope() as s:
        film = compiled_videos.create(s, "user-a", storyboard_id=board.id, scenes_order=[])

    with pytest.raises(IntegrityError), session_scope() as s:
        compiled_videos.update_for_user(s, "user-a", film.id, {"status": "half-done"})


def test_deleting_the_storyboard_deletes_its_compiled_videos(make_storyboard):
    board = make_storyboard("user-a")
    with session_scope() as s:
        film = compiled_videos.create(s, "user-a", storyboard_id=board.id, scenes_order=["s1"])
        storyboards.delete(s, "user-a", board.id)

    with session_scope() as s, pytest.raises(NotFound):
        compiled_videos.get(s, "user-a", film.id)
    assert isinstance(film.id, uuid.UUID)
