"""The SQL of requesting a clip: the request's context, the caller's quota lock, and the job
insert that holds only within the caller's caps. Three statements, each built once per shape.

The caps are checked and the row inserted in one statement that runs while the caller's
``user_quotas`` row is locked (statement 2), so concurrent requests cannot slip past a cap
together: the second waits for the first to commit, then sees its job.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from videogen.models import ACTIVE_JOB_STATUSES, Storyboard, UserApiKey, UserQuota, VideoJob

JOB_COLUMNS = (
    "id",
    "user_id",
    "storyboard_id",
    "scene_id",
    "provider",
    "model",
    "prompt",
    "duration_seconds",
    "size",
    "estimated_cost",
    "idempotency_key",
    "metadata",
)
"""The columns a new job is inserted with (the rest take their defaults)."""


def _earlier_job() -> Select[Any]:
    return select(VideoJob.id).where(
        VideoJob.user_id == bindparam("owner_id"), VideoJob.idempotency_key == bindparam("idempotency_key")
    )


@cache
def _select_context(with_key: bool) -> Select[Any]:
    has_key = exists().where(
        UserApiKey.user_id == bindparam("owner_id"),
        UserApiKey.provider == bindparam("provider"),
        UserApiKey.is_active,
    )
    earlier = _earlier_job().scalar_subquery() if with_key else literal(None)
    return select(
        Storyboard.scenes,
        Storyboard.character,
        Storyboard.preset_key,
        has_key.label("has_key"),
        earlier.label("earlier_job_id"),
    ).where(Storyboard.id == bindparam("storyboard_id"), Storyboard.user_id == bindparam("owner_id"))


def load_context(
    session: Session, user_id: str, storyboard_id: uuid.UUID, provider: str, idempotency_key: str | None
) -> Any:
    """Statement 1: the storyboard's scenes, character and preset, whether the caller has an
    active key for ``provider``, and the job an earlier request with this key made (if any).
    ``None`` when the storyboard is missing or someone else's."""
    params = {
        "owner_id": user_id,
        "storyboard_id": storyboard_id,
        "provider": provider,
        "idempotency_key": idempotency_key,
    }
    return session.execute(_select_context(idempotency_key is not None), params).one_or_none()


@cache
def _lock_quota() -> Any:
    stmt = pg_insert(UserQuota).values(user_id=bindparam("owner_id"))
    return stmt.on_conflict_do_update(index_elements=[UserQuota.user_id], set_={"updated_at": func.now()})


def lock_quota(session: Session, user_id: str) -> None:
    """Statement 2: take the caller's quota row lock until this transaction ends."""
    session.execute(_lock_quota(), {"owner_id": user_id})


@cache
def _insert_within_caps(with_key: bool) -> Select[Any]:
    spend = func.coalesce(VideoJob.cost, VideoJob.estimated_cost)
    usage = (
        select(
            func.count().filter(VideoJob.status.in_(ACTIVE_JOB_STATUSES)).label("in_flight"),
            func.coalesce(
                func.sum(spend).filter(
                    and_(VideoJob.created_at >= bindparam("day_start"), VideoJob.status != "failed")
                ),
                0,
            ).label("spent"),
        )
        .where(VideoJob.user_id == bindparam("owner_id"))
        .cte("usage")
    )
    conditions = [
        usage.c.in_flight < bindparam("max_in_flight"),
        usage.c.spent + bindparam("new_estimated_cost", type_=VideoJob.estimated_cost.type)
        <= bindparam("max_daily_spend", type_=VideoJob.estimated_cost.type),
    ]
    if with_key:
        conditions.append(~_earlier_job().exists())
    table = VideoJob.__table__
    values = select(*(bindparam(f"new_{c}", type_=table.c[c].type) for c in JOB_COLUMNS)).select_from(usage)
    inserted = (
        pg_insert(VideoJob)
        .from_select(list(JOB_COLUMNS), values.where(*conditions))
        .returning(VideoJob.id)
        .cte("inserted")
    )
    earlier = _earlier_job().scalar_subquery() if with_key else literal(None)
    return select(
        usage.c.in_flight,
        usage.c.spent,
        earlier.label("earlier_job_id"),
        select(inserted.c.id).scalar_subquery().label("new_job_id"),
    )


def insert_within_caps(
    session: Session,
    job: dict[str, Any],
    *,
    day_start: datetime,
    max_in_flight: int,
    max_daily_spend: Decimal,
) -> Any:
    """Statement 3: the caller's usage, the idempotency re-check and the conditional INSERT.

    ``job`` holds every column of ``JOB_COLUMNS``. Returns ``(in_flight, spent,
    earlier_job_id, new_job_id)``: ``new_job_id`` is set only when the job went in.
    """
    params = {f"new_{c}": job[c] for c in JOB_COLUMNS} | {
        "owner_id": job["user_id"],
        "idempotency_key": job["idempotency_key"],
        "day_start": day_start,
        "max_in_flight": max_in_flight,
        "max_daily_spend": max_daily_spend,
    }
    return session.execute(_insert_within_caps(job["idempotency_key"] is not None), params).one()
