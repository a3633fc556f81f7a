"""Storyboards repository against the real PostgreSQL."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text, update
from sqlalchemy.orm import Session

from videogen.data.db import get_engine, session_scope
from videogen.data.models import Storyboard
from videogen.data.repositories import storyboards, video_jobs
from videogen.errors import InvalidInput, NotFound, StaleVersion


def test_create_returns_version_one_with_timestamps(make_storyboard):
    board = make_storyboard("user-a", name="Pilot", scenes=[{"id": "s1"}, {"id": "s2"}])

    assert board.version == 1
    assert board.user_id == "user-a"
    assert board.created_at.tzinfo is not None
    assert [s["id"] for s in board.scenes] == ["s1", "s2"]


def test_get_with_jobs_returns_jobs_oldest_first(make_storyboard, make_job):
    board = make_storyboard("user-a")
    first = make_job("user-a", board.id, scene_id="s1")
    second = make_job("user-a", board.id, scene_id="s2")

    with session_scope() as s:
        detail = storyboards.get_with_jobs(s, "user-a", board.id)

    assert detail.storyboard.id == board.id
    assert [j.id for j in detail.video_jobs] == [first.id, second.id]


def test_another_users_storyboard_is_not_found_and_unchanged(make_storyboard):
    board = make_storyboard("owner", name="Mine")

    with session_scope() as s, pytest.raises(NotFound):
        storyboards.get(s, "intruder", board.id)
    with session_scope() as s, pytest.raises(NotFound):
        storyboards.update(s, "intruder", board.id, {"name": "Stolen"})
    with session_scope() as s, pytest.raises(NotFound):
        storyboards.delete(s, "intruder", board.id)
    with session_scope() as s:
        assert storyboards.list_for_user(s, "intruder").items == []
        assert storyboards.list_for_user(s, "intruder", name_contains="Mine").items == []
        still = storyboards.get(s, "owner", board.id)
    assert (still.name, still.version) == ("Mine", 1)


def test_partial_update_bumps_version_and_updated_at(make_storyboard):
    board = make_storyboard("user-a", name="Before", preset_key="noir")

    with session_scope() as s:
        updated = storyboards.update(s, "user-a", board.id, {"name": "After"})

    assert updated.name == "After"
    assert updated.preset_key == "noir"
    assert updated.version == 2
    assert updated.updated_at > board.updated_at


def test_update_with_current_version_applies(make_storyboard):
    board = make_storyboard("user-a")

    with session_scope() as s:
        updated = storyboards.update(s, "user-a", board.id, {"scenes": []}, expected_version=1)

    assert updated.version == 2
    assert updated.scenes == []


def test_patch_with_stale_version_is_rejected_and_nothing_overwritten(make_storyboard):
    board = make_storyboard("user-a", name="Original")
    with session_scope() as s:
        storyboards.update(s, "user-a", board.id, {"name": "First writer"}, expected_version=1)

    with session_scope() as s, pytest.raises(StaleVersion) as caught:
        storyboards.update(s, "user-a", board.id, {"name": "Second writer"}, expected_version=1)

    assert caught.value.current_version == 2
    with session_scope() as s:
        assert storyboards.get(s, "user-a", board.id).name == "First writer"


def _wait_until_blocked_on_lock(timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with get_engine().connect() as conn:
            waiting = conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            ).scalar_one()
        if waiting:
            return
        time.sleep(0.02)
    raise AssertionError("second writer never blocked on the row lock")


def test_concurrent_writers_with_same_version_only_the_first_survives(make_storyboard):
    board = make_storyboard("user-a", name="Original")
    engine = create_engine(get_engine().url, pool_size=2)
    outcome: dict[str, object] = {}

    def second_writer() -> None:
        with Session(engine) as s:
            try:
                storyboards.update(s, "user-a", board.id, {"name": "second"}, expected_version=1)
                s.commit()
                outcome["second"] = "applied"
            except StaleVersion as exc:
                outcome["second"] = exc

    try:
        with Session(engine) as first:
            # Given the first writer holds the row (updated, not yet committed)
            storyboards.update(first, "user-a", board.id, {"name": "first"}, expected_version=1)
            # When the second writer, with the same version, blocks behind it
            thread = threading.Thread(target=second_writer)
            thread.start()
            _wait_until_blocked_on_lock()
            first.commit()
        thread.join(10)
    finally:
        engine.dispose()

    # Then the second gets StaleVersion and the first write survives
    assert isinstance(outcome["second"], StaleVersion)
    with session_scope() as s:
        final = storyboards.get(s, "user-a", board.id)
    assert (final.name, final.version) == ("first", 2)


def test_empty_or_unknown_update_is_rejected(make_storyboard):
    board = make_storyboard("user-a")

    with session_scope() as s, pytest.raises(InvalidInput):
        storyboards.update(s, "user-a", board.id, {})
    with session_scope() as s, pytest.raises(InvalidInput):
        storyboards.update(s, "user-a", board.id, {"user_id": "someone-else"})


def test_delete_cascades_to_video_jobs(make_storyboard, make_job):
    board = make_storyboard("user-a")
    job = make_job("user-a", board.id)

    with session_scope() as s:
        storyboards.delete(s, "user-a", board.id)

    with session_scope() as s:
        assert video_jobs.get_by_id(s, job.id) is None
        with pytest.raises(NotFound):
            storyboards.get(s, "user-a", board.id)


def test_list_is_newest_updated_first_with_limit(make_storyboard):
    old = make_storyboard("user-a", name="old")
    new = make_storyboard("user-a", name="new")
    with session_scope() as s:
        storyboards.update(s, "user-a", old.id, {"name": "old, touched"})

    with session_scope() as s:
        page = storyboards.list_for_user(s, "user-a", limit=1)
        assert [b.name for b in page.items] == ["old, touched"]
        assert page.next_cursor is not None
        rest = storyboards.list_for_user(s, "user-a", limit=1, cursor=page.next_cursor)
    assert [b.id for b in rest.items] == [new.id]
    assert rest.next_cursor is None


def test_cursor_pages_return_every_row_once_when_timestamps_tie(make_storyboard):
    boards = [make_storyboard("user-a", name=f"board {i}") for i in range(23)]
    make_storyboard("user-b", name="someone else's")
    tied = datetime(2026, 1, 1, tzinfo=UTC)
    with session_scope() as s:
        s.execute(update(Storyboard).where(Storyboard.user_id == "user-a").values(updated_at=tied))

    seen: list[uuid.UUID] = []
    cursor = None
    with session_scope() as s:
        while True:
            page = storyboards.list_for_user(s, "user-a", limit=5, cursor=cursor)
            seen.extend(b.id for b in page.items)
            cursor = page.next_cursor
            if cursor is None:
                break

    assert len(seen) == 23
    assert set(seen) == {b.id for b in boards}


def test_list_limit_is_capped_at_100(make_storyboard):
    with session_scope() as s:
        s.execute(
            text(
                "INSERT INTO storyboards (id, user_id, name, preset_key) "
                "SELECT gen_random_uuid(), 'user-a', 'b' || g, 'p' FROM generate_series(1, 120) g"
            )
        )
    with session_scope() as s:
        assert len(storyboards.list_for_user(s, "user-a", limit=500).items) == 100
        assert len(storyboards.list_for_user(s, "user-a").items) == 50


@pytest.mark.parametrize("cursor", ["garbage", "eyJ1IjoxfQ", "e30", "bm90IGpzb24"])
def test_made_up_cursor_is_invalid_input(cursor):
    with session_scope() as s, pytest.raises(InvalidInput):
        storyboards.list_for_user(s, "user-a", cursor=cursor)


def test_search_is_case_insensitive_substring_scoped_and_paged(make_storyboard):
    for i in range(25):
        make_storyboard("user-a", name=f"Space Opera part {i}")
    make_storyboard("user-a", name="Western")
    make_storyboard("user-b", name="space opera (not yours)")

    with session_scope() as s:
        first = storyboards.list_for_user(s, "user-a", limit=20, name_contains="OPERA")
        rest = storyboards.list_for_user(
            s, "user-a", limit=20, cursor=first.next_cursor, name_contains="OPERA"
        )

    found = first.items + rest.items
    assert (len(first.items), len(rest.items), rest.next_cursor) == (20, 5, None)
    assert all("Opera" in b.name and b.user_id == "user-a" for b in found)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("100%", {"100% fun"}),
        ("a_b", {"a_b"}),
        ("back\\slash", {"back\\slash"}),
        ("%", {"100% fun"}),
        ("_", {"a_b"}),
    ],
)
def test_search_matches_like_metacharacters_literally(make_storyboard, query, expected):
    for name in ("100% fun", "1000 fun", "a_b", "axb", "back\\slash", "backslash"):
        make_storyboard("user-a", name=name)

    with session_scope() as s:
        found = {b.name for b in storyboards.list_for_user(s, "user-a", name_contains=query).items}

    assert found == expected
