"""Video jobs repository against the real PostgreSQL."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from videogen.data.db import get_engine, session_scope
from videogen.data.repositories import video_jobs
from videogen.errors import InvalidInput, NotFound


def test_get_status_for_user_hides_other_users_jobs(make_job):
    job = make_job("owner")

    with session_scope() as s:
        assert video_jobs.get_status_for_user(s, "owner", job.id).id == job.id
        with pytest.raises(NotFound):
            video_jobs.get_status_for_user(s, "intruder", job.id)
        assert not video_jobs.withdraw_pending(s, "intruder", job.id)
    with session_scope() as s:
        assert video_jobs.get_status_for_user(s, "owner", job.id).status == "pending"


def test_update_refuses_unknown_fields(make_job):
    job = make_job("user-a")

    with session_scope() as s, pytest.raises(InvalidInput):
        video_jobs.update_in_status(s, job.id, "pending", {"user_id": "someone-else"})


def test_list_by_status_is_oldest_first(make_storyboard, make_job):
    board = make_storyboard("user-a")
    first = make_job("user-a", board.id)
    second = make_job("user-a", board.id)
    make_job("user-b")

    with session_scope() as s:
        video_jobs.transition(s, second.id, from_statuses=("pending",), to_status="failed")
        pending = video_jobs.list_by_status(s, ["pending"])

    assert first.id in [j.id for j in pending]
    assert second.id not in [j.id for j in pending]
    assert [j.created_at for j in pending] == sorted(j.created_at for j in pending)


def test_claim_for_submit_succeeds_once(make_job):
    job = make_job("user-a")

    with session_scope() as s:
        claimed = video_jobs.claim_for_submit(s, job.id)
    with session_scope() as s:
        duplicate = video_jobs.claim_for_submit(s, job.id)

    assert claimed is not None
    assert (claimed.status, claimed.attempts) == ("submitting", 1)
    assert duplicate is None


def test_transition_from_wrong_status_changes_nothing(make_job):
    job = make_job("user-a")

    with session_scope() as s:
        moved = video_jobs.transition(s, job.id, from_statuses=("processing",), to_status="completed")
    with session_scope() as s:
        current = video_jobs.get_by_id(s, job.id)

    assert moved is None
    assert current is not None
    assert current.status == "pending"


def test_update_in_status_only_while_status_holds(make_job):
    job = make_job("user-a")
    with session_scope() as s:
        video_jobs.transition(s, job.id, from_statuses=("pending",), to_status="processing")
        assert video_jobs.update_in_status(s, job.id, "processing", {"progress": 30}) is not None
        video_jobs.transition(s, job.id, from_statuses=("processing",), to_status="failed")
        assert video_jobs.update_in_status(s, job.id, "processing", {"progress": 60}) is None


def test_idempotency_key_is_unique_per_user(make_storyboard, make_job):
    board_a = make_storyboard("user-a")
    board_b = make_storyboard("user-b")
    make_job("user-a", board_a.id, idempotency_key="k1")
    make_job("user-b", board_b.id, idempotency_key="k1")  # another user may reuse a key

    with pytest.raises(IntegrityError):
        make_job("user-a", board_a.id, idempotency_key="k1")


@pytest.mark.parametrize(
    ("column", "value"),
    [("status", "'exploded'"), ("provider", "'runway'"), ("progress", "101")],
)
def test_database_rejects_bad_status_provider_and_progress(make_job, column, value):
    job = make_job("user-a")

    with pytest.raises(IntegrityError), session_scope() as s:
        s.execute(text(f"UPDATE video_jobs SET {column} = {value} WHERE id = :id"), {"id": job.id})


def test_job_for_missing_storyboard_is_rejected_by_foreign_key(make_job):
    with pytest.raises(IntegrityError):
        make_job("user-a", uuid.uuid4())


def test_lock_by_id_makes_a_second_locker_wait_for_the_first(make_job):
    job = make_job("user-a")
    engine = create_engine(get_engine().url, pool_size=2)
    order: list[str] = []
    try:
        with Session(engine) as first:
            assert video_jobs.lock_by_id(first, job.id) is not None

            def second_locker() -> None:
                with Session(engine) as second:
                    video_jobs.lock_by_id(second, job.id)
                    order.append("second")

            thread = threading.Thread(target=second_locker)
            thread.start()
            thread.join(0.5)  # blocked on the row lock meanwhile
            order.append("first")
            first.commit()
        thread.join(10)
    finally:
        engine.dispose()

    assert order == ["first", "second"]


def test_status_view_is_the_owners_only(make_job):
    job = make_job("owner")

    with session_scope(autocommit=True) as s:
        view = video_jobs.get_status_for_user(s, "owner", job.id)
        with pytest.raises(NotFound):
            video_jobs.get_status_for_user(s, "intruder", job.id)

    assert (view.id, view.status, view.progress, view.video_url) == (job.id, "pending", 0, None)
