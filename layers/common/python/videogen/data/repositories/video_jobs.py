"""Video jobs: all SQL for ``video_jobs``.

Jobs are inserted by ``generation_requests`` (within the caller's caps); user-facing reads and
the withdrawal of an unqueued job are scoped by owner. The worker, sweeper and DLQ consumer act
on job ids taken from the queue (only ids travel there), through the ``*_by_id`` and transition
functions, whose conditional UPDATEs make every step idempotent.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, case, func, select, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.orm import Session

from videogen.data.models import ACTIVE_JOB_STATUSES, VideoJob
from videogen.data.repositories import keyset
from videogen.data.statements import Runner, Statement, runner_for
from videogen.errors import InvalidInput, NotFound

UPDATABLE_FIELDS = frozenset(
    {
        "status",
        "provider_job_id",
        "video_url",
        "thumbnail_url",
        "progress",
        "cost",
        "error_message",
        "attempts",
        "completed_at",
        "metadata_",
    }
)


@dataclass(frozen=True, slots=True)
class StatusView:
    """What the status route shows of a job: the columns it reads, nothing else."""

    id: uuid.UUID
    status: str
    progress: int
    provider: str
    model: str
    metadata_: dict[str, Any]
    video_url: str | None
    thumbnail_url: str | None
    cost: Decimal | None
    error_message: str | None
    created_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class JobRow:
    """A job as a hot read returns it (every column but the idempotency key), for ``clips``."""

    id: uuid.UUID
    user_id: str
    storyboard_id: uuid.UUID
    scene_id: str
    provider: str
    model: str
    status: str
    prompt: str
    provider_job_id: str | None
    video_url: str | None
    thumbnail_url: str | None
    progress: int
    duration_seconds: int | None
    size: str | None
    estimated_cost: Decimal | None
    cost: Decimal | None
    error_message: str | None
    attempts: int
    fingerprint: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    metadata_: dict[str, Any]


JOB_ROW_COLUMNS = tuple(getattr(VideoJob, f.name) for f in fields(JobRow))
_STATUS_COLUMNS = tuple(getattr(VideoJob, f.name) for f in fields(StatusView))
_OWNED = (VideoJob.id == bindparam("job_id"), VideoJob.user_id == bindparam("owner_id"))
_SELECT_STATUS = Statement(lambda: select(*_STATUS_COLUMNS).where(*_OWNED))


def status_view(job: VideoJob) -> StatusView:
    """The status route's view of a job row already read."""
    return StatusView(*(getattr(job, f.name) for f in fields(StatusView)))


def get_status_for_user(session: Session | Runner, user_id: str, job_id: uuid.UUID) -> StatusView:
    """The caller's job as the status route shows it (one narrow SELECT: the most polled read)."""
    row = runner_for(session).row(_SELECT_STATUS, {"job_id": job_id, "owner_id": user_id})
    if row is None:
        raise _not_found(job_id)
    return StatusView(*row)


def _not_found(job_id: uuid.UUID) -> NotFound:
    return NotFound("Video job not found", {"jobId": str(job_id)})


def _check_fields(changes: dict[str, Any]) -> None:
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise InvalidInput("Unknown video job fields", {"fields": sorted(unknown)})


DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
_SHOWN_AS = {"processing": ("submitting", "processing")}
"""Public statuses that stand for more than one stored status."""


@dataclass(frozen=True, slots=True)
class JobPage:
    items: list[VideoJob]
    next_cursor: str | None


@cache
def _select_page(with_status: bool, with_storyboard: bool, with_cursor: bool) -> Select[VideoJob]:
    stmt = select(VideoJob).where(VideoJob.user_id == bindparam("owner_id"))
    if with_status:
        stmt = stmt.where(VideoJob.status.in_(bindparam("statuses", expanding=True)))
    if with_storyboard:
        stmt = stmt.where(VideoJob.storyboard_id == bindparam("storyboard_id"))
    return keyset.newest_first(stmt, VideoJob.created_at, VideoJob.id, with_cursor)


def list_for_user(
    session: Session,
    user_id: str,
    *,
    status: str | None = None,
    storyboard_id: uuid.UUID | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> JobPage:
    """The caller's jobs, newest first, one keyset page per statement (``status`` as clients
    name it: ``processing`` includes ``submitting``)."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    params = keyset.page_params(limit, cursor) | {"owner_id": user_id, "storyboard_id": storyboard_id}
    if status is not None:
        params["statuses"] = list(_SHOWN_AS.get(status, (status,)))
    stmt = _select_page(status is not None, storyboard_id is not None, bool(cursor))
    rows = list(session.execute(stmt, params).scalars())
    return JobPage(*keyset.cut(rows, limit, lambda job: (job.created_at, job.id)))


def get_by_id(session: Session, job_id: uuid.UUID) -> VideoJob | None:
    """A job by id alone, for the worker side (ids come from our own queue)."""
    return session.get(VideoJob, job_id)


def list_by_status(
    session: Session,
    statuses: Iterable[str],
    *,
    updated_before: datetime | None = None,
    limit: int = 100,
) -> list[VideoJob]:
    """Jobs in any of ``statuses``, oldest first (worker side: sweeper, operations)."""
    stmt = select(VideoJob).where(VideoJob.status.in_(list(statuses)))
    if updated_before is not None:
        stmt = stmt.where(VideoJob.updated_at < updated_before)
    return list(session.execute(stmt.order_by(VideoJob.created_at, VideoJob.id).limit(limit)).scalars())


def transition(
    session: Session,
    job_id: uuid.UUID,
    *,
    from_statuses: Iterable[str],
    to_status: str,
    changes: dict[str, Any] | None = None,
    increment_attempts: bool = False,
) -> VideoJob | None:
    """Move a job between statuses only if it is still in one of ``from_statuses``.

    ``UPDATE ... WHERE id = :id AND status IN (...) RETURNING``: of two workers racing on the
    same message, exactly one gets the row; the other gets ``None`` and must do nothing.
    """
    values: dict[str, Any] = dict(changes or {})
    _check_fields(values)
    values["status"] = to_status
    values["updated_at"] = func.clock_timestamp()
    if increment_attempts:
        values["attempts"] = VideoJob.attempts + 1
    return session.execute(
        update(VideoJob)
        .where(VideoJob.id == job_id, VideoJob.status.in_(list(from_statuses)))
        .values(**values)
        .returning(VideoJob)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).scalar_one_or_none()


def update_in_status(
    session: Session, job_id: uuid.UUID, status: str, changes: dict[str, Any]
) -> VideoJob | None:
    """Change fields (progress, provider ids) only while the job is still in ``status``."""
    _check_fields(changes)
    return session.execute(
        update(VideoJob)
        .where(VideoJob.id == job_id, VideoJob.status == status)
        .values(**changes, updated_at=func.clock_timestamp())
        .returning(VideoJob)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).scalar_one_or_none()


def claim_for_submit(session: Session, job_id: uuid.UUID) -> VideoJob | None:
    """pending -> submitting, attempts + 1. ``None`` when another delivery already claimed it,
    or the job still waits for its first frame (``awaiting_frame``: continuing a shot)."""
    return session.execute(
        update(VideoJob)
        .where(
            VideoJob.id == job_id,
            VideoJob.status == "pending",
            ~VideoJob.metadata_.has_key("awaiting_frame"),
        )
        .values(status="submitting", updated_at=func.clock_timestamp(), attempts=VideoJob.attempts + 1)
        .returning(VideoJob)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).scalar_one_or_none()


def withdraw_pending(session: Session, user_id: str, job_id: uuid.UUID) -> bool:
    """Delete the caller's job only while it is still ``pending`` (its message never left)."""
    deleted = session.execute(
        sql_delete(VideoJob)
        .where(VideoJob.id == job_id, VideoJob.user_id == user_id, VideoJob.status == "pending")
        .returning(VideoJob.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return deleted is not None


@cache
def _cancel() -> Any:
    # The right-hand sides read the row as it was: the status it is cancelled from decides.
    was = VideoJob.status
    return (
        update(VideoJob)
        .where(
            VideoJob.id == bindparam("job_id"),
            VideoJob.user_id == bindparam("owner_id"),
            VideoJob.status.in_(ACTIVE_JOB_STATUSES),
        )
        .values(
            status="cancelled",
            # Never sent to a provider: nothing to pay (it no longer counts against the day's cap).
            cost=case((was == "pending", 0), else_=VideoJob.cost),
            metadata_=VideoJob.metadata_.op("||")(
                func.jsonb_build_object("cancelled_from", was, "cancelled_at", func.clock_timestamp())
            ),
            updated_at=func.clock_timestamp(),
        )
        .returning(VideoJob)
        .execution_options(synchronize_session=False, populate_existing=True)
    )


def cancel_for_user(session: Session, user_id: str, job_id: uuid.UUID) -> VideoJob | None:
    """pending | submitting | processing -> cancelled, in one conditional UPDATE.

    The job's ``metadata.cancelled_from`` keeps the status it left; a pending job gets cost 0.
    ``None`` when the caller has no such job in flight (see :func:`get_status_for_user`).
    """
    return session.execute(_cancel(), {"job_id": job_id, "owner_id": user_id}).scalar_one_or_none()


def list_unsettled_cancels(session: Session, *, updated_before: datetime, limit: int) -> list[VideoJob]:
    """Cancelled jobs that reached their provider and whose provider cancel has no outcome yet
    (its message was lost, or its worker died), oldest first (the sweeper)."""
    state = VideoJob.metadata_["provider_cancel"]["state"].astext
    stmt = (
        select(VideoJob)
        .where(
            VideoJob.status == "cancelled",
            VideoJob.provider_job_id.is_not(None),
            VideoJob.updated_at < updated_before,
            state.is_(None) | state.in_(("requested", "retrying")),
        )
        .order_by(VideoJob.updated_at, VideoJob.id)
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def withdraw_pending_many(session: Session, user_id: str, job_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Delete those of the caller's jobs that are still ``pending`` (their messages never left)."""
    deleted = session.execute(
        sql_delete(VideoJob)
        .where(VideoJob.id.in_(job_ids), VideoJob.user_id == user_id, VideoJob.status == "pending")
        .returning(VideoJob.id)
        .execution_options(synchronize_session=False)
    ).scalars()
    return list(deleted)


def lock_by_id(session: Session, job_id: uuid.UUID) -> VideoJob | None:
    """The job, row-locked until the transaction ends (``SELECT ... FOR UPDATE``).

    Duplicate deliveries of one poll message take turns on this lock, so the second sees
    what the first wrote. A row lock lasts one transaction and does not pin RDS Proxy.
    """
    return session.get(VideoJob, job_id, with_for_update=True, populate_existing=True)


def find_by_provider_job(
    session: Session, user_id: str, provider: str, provider_job_id: str
) -> uuid.UUID | None:
    """The id of ``user_id``'s job that ``provider`` knows as ``provider_job_id`` (a registered
    webhook names the provider's id, never ours); ``None`` when they have none."""
    return session.execute(
        select(VideoJob.id)
        .where(
            VideoJob.user_id == user_id,
            VideoJob.provider == provider,
            VideoJob.provider_job_id == provider_job_id,
        )
        .order_by(VideoJob.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()
