"""The SQL of requesting a clip: the request's context, the caller's quota lock, and the job
insert that holds only within the caller's caps. Three statements, each built once per shape.

The caps are checked and the row inserted in one statement that runs while the caller's
``user_quotas`` row is locked (statement 2), so concurrent requests cannot slip past a cap
together: the second waits for the first to commit, then sees its job. The whole-storyboard
insert (``generation_batches``) and the usage report (``usage``) use the same definitions of
"in flight" and "spent today": :func:`usage_cte` and :func:`within_caps`.

Spent today: the sum, over the caller's jobs created since the UTC day began and not failed,
of the actual cost where there is one, else the estimate. A job cancelled before it reached
its provider has cost 0; one cancelled later keeps its estimate (the provider may still bill).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any, NamedTuple

from sqlalchemy import CTE, ColumnElement, Select, and_, bindparam, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from videogen.data.models import (
    ACTIVE_JOB_STATUSES,
    GenerationBatch,
    Storyboard,
    UserApiKey,
    UserQuota,
    VideoJob,
)
from videogen.data.statements import Runner, Statement, runner_for
from videogen.errors import NotFound

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
    "fingerprint",
    "metadata",
)
"""The columns a new job is inserted with (the rest take their defaults)."""


class Context(NamedTuple):
    """Statement 1's row: what a request needs to know before it inserts anything."""

    scenes: list[Any]
    character: dict[str, Any]
    preset_key: str
    key_api: str | None
    """The caller's active key for the provider: ``None`` when there is none, else its Google API
    ("gemini", "vertex"), or "" for a provider with one API."""
    earlier: Any

    @property
    def has_key(self) -> bool:
        """Whether the caller has an active key for the provider."""
        return self.key_api is not None


class Outcome(NamedTuple):
    """Statement 3's row (see :func:`insert_within_caps`)."""

    in_flight: int
    spent: Decimal
    earlier_job_id: uuid.UUID | None
    new_job_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class Caps:
    """What an insert is checked against: the caller's caps, and where today (UTC) began."""

    day_start: datetime
    max_in_flight: int
    max_daily_spend: Decimal

    def params(self) -> dict[str, Any]:
        """The bound values of :func:`usage_cte` and :func:`within_caps`."""
        return {
            "day_start": self.day_start,
            "max_in_flight": self.max_in_flight,
            "max_daily_spend": self.max_daily_spend,
        }


def _earlier_job() -> Select[Any]:
    return select(VideoJob.id).where(
        VideoJob.user_id == bindparam("owner_id"), VideoJob.idempotency_key == bindparam("idempotency_key")
    )


def earlier_batch() -> Select[Any]:
    """The caller's whole-storyboard generate with this ``idempotency_key``, as one JSON value:
    ``{"answer": ..., "request": <its request's fingerprint>}``."""
    earlier = func.jsonb_build_object(
        "answer", GenerationBatch.answer, "request", GenerationBatch.request_fingerprint
    )
    return select(earlier).where(
        GenerationBatch.user_id == bindparam("owner_id"),
        GenerationBatch.idempotency_key == bindparam("idempotency_key"),
    )


def _select_context(with_key: bool, batch: bool) -> Select[Any]:
    key_api = (
        select(func.coalesce(UserApiKey.api, ""))
        .where(
            UserApiKey.user_id == bindparam("owner_id"),
            UserApiKey.provider == bindparam("provider"),
            UserApiKey.is_active,
        )
        .scalar_subquery()
    )
    lookup = earlier_batch() if batch else _earlier_job()
    earlier = lookup.scalar_subquery() if with_key else literal(None)
    return select(
        Storyboard.scenes,
        Storyboard.character,
        Storyboard.preset_key,
        key_api.label("key_api"),
        earlier.label("earlier"),
    ).where(Storyboard.id == bindparam("storyboard_id"), Storyboard.user_id == bindparam("owner_id"))


_CONTEXTS = {
    (with_key, batch): Statement(partial(_select_context, with_key, batch))
    for with_key in (False, True)
    for batch in (False, True)
}


def load_context(
    session: Session | Runner,
    user_id: str,
    storyboard_id: uuid.UUID,
    provider: str,
    idempotency_key: str | None,
    *,
    batch: bool = False,
) -> Context:
    """Statement 1: the storyboard's scenes, character and preset, whether the caller has an
    active key for ``provider``, and what an earlier request with this key made (``earlier``:
    the job's id, or with ``batch`` the batch's answer and request fingerprint). ``NotFound``
    when the storyboard is missing or someone else's."""
    params = {
        "owner_id": user_id,
        "storyboard_id": storyboard_id,
        "provider": provider,
        "idempotency_key": idempotency_key,
    }
    row = runner_for(session).row(_CONTEXTS[idempotency_key is not None, batch], params)
    if row is None:
        raise NotFound("Storyboard not found", {"id": str(storyboard_id)})
    return Context(*row)


def _lock_quota() -> Any:
    stmt = pg_insert(UserQuota).values(user_id=bindparam("owner_id"))
    return stmt.on_conflict_do_update(index_elements=[UserQuota.user_id], set_={"updated_at": func.now()})


_LOCK_QUOTA = Statement(_lock_quota)


def lock_quota(session: Session | Runner, user_id: str) -> None:
    """Statement 2: take the caller's quota row lock until this transaction ends."""
    runner_for(session).rows(_LOCK_QUOTA, {"owner_id": user_id})


_EARLIER_JOB = Statement(
    lambda: select(VideoJob.prompt, VideoJob.estimated_cost, VideoJob.metadata_).where(
        VideoJob.id == bindparam("job_id"), VideoJob.user_id == bindparam("owner_id")
    )
)


def earlier_job(
    session: Session | Runner, user_id: str, job_id: uuid.UUID
) -> tuple[str, Decimal | None, dict[str, Any]]:
    """The prompt, estimate and metadata of the caller's job that an earlier request made."""
    row = runner_for(session).row(_EARLIER_JOB, {"job_id": job_id, "owner_id": user_id})
    if row is None:
        raise NotFound("Video job not found", {"jobId": str(job_id)})
    return row[0], row[1], row[2]


SPEND = func.coalesce(VideoJob.cost, VideoJob.estimated_cost)
"""What a job counts towards the daily spend: its actual cost, else its estimate."""
COUNTS_AS_SPENT = VideoJob.status != "failed"
"""Failed jobs cost nothing; every other job counts (see the module doc on cancelled ones)."""


def usage_cte() -> CTE:
    """``usage(in_flight, spent)`` of the caller (``owner_id``) since ``day_start``: the numbers
    every cap check and the usage report use."""
    return (
        select(
            func.count().filter(VideoJob.status.in_(ACTIVE_JOB_STATUSES)).label("in_flight"),
            func.coalesce(
                func.sum(SPEND).filter(and_(VideoJob.created_at >= bindparam("day_start"), COUNTS_AS_SPENT)),
                0,
            ).label("spent"),
        )
        .where(VideoJob.user_id == bindparam("owner_id"))
        .cte("usage")
    )


def within_caps(usage: CTE, new_jobs: ColumnElement[Any]) -> list[ColumnElement[bool]]:
    """The conditions under which ``new_jobs`` more jobs, each ``new_estimated_cost``, fit."""
    money = VideoJob.estimated_cost.type
    return [
        usage.c.in_flight + new_jobs <= bindparam("max_in_flight"),
        usage.c.spent + new_jobs * bindparam("new_estimated_cost", type_=money)
        <= bindparam("max_daily_spend", type_=money),
    ]


def _insert_within_caps(with_key: bool) -> Select[Any]:
    usage = usage_cte()
    conditions = within_caps(usage, literal(1))
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


_INSERTS = {with_key: Statement(partial(_insert_within_caps, with_key)) for with_key in (False, True)}


def insert_within_caps(session: Session | Runner, job: dict[str, Any], caps: Caps) -> Outcome:
    """Statement 3: the caller's usage, the idempotency re-check and the conditional INSERT.

    ``job`` holds every column of ``JOB_COLUMNS``. Returns ``(in_flight, spent,
    earlier_job_id, new_job_id)``: ``new_job_id`` is set only when the job went in.
    """
    params = {f"new_{c}": job[c] for c in JOB_COLUMNS} | caps.params()
    params |= {"owner_id": job["user_id"], "idempotency_key": job["idempotency_key"]}
    row = runner_for(session).row(_INSERTS[job["idempotency_key"] is not None], params)
    if row is None:
        raise AssertionError("the usage row is always there")
    return Outcome(*row)
