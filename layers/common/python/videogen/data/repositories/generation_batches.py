"""The SQL of generating a whole storyboard: one INSERT ... SELECT FROM unnest(...) that skips
the scenes with a job in flight or an up-to-date clip and inserts the rest only if all of them
fit the caller's caps; and the stored answer of a batch sent with an ``Idempotency-Key``.

The insert runs while the caller's quota row is locked (``generation_requests.lock_quota``), so
the skip checks and the caps see every job a concurrent request made: two batches for one user
take turns, and the second skips the scenes the first queued. Its statement count does not
grow with the batch: the candidates travel as arrays.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    Select,
    String,
    Text,
    Uuid,
    bindparam,
    cast,
    column,
    delete,
    func,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, aliased
from sqlalchemy.types import TypeEngine

from videogen.data.models import ACTIVE_JOB_STATUSES, GenerationBatch, VideoJob
from videogen.data.repositories.generation_requests import (
    JOB_COLUMNS,
    Caps,
    earlier_batch,
    usage_cte,
    within_caps,
)

_PER_SCENE = ("id", "scene_id", "prompt", "fingerprint", "metadata")
"""The columns that differ between a batch's jobs; the others are one value for all."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A scene the batch would generate: its new job's id, prompt and fingerprint."""

    job_id: uuid.UUID
    scene_id: str
    prompt: str
    fingerprint: str
    metadata: str = "{}"
    """The job's metadata as JSON text (its images, when it has any)."""


@dataclass(frozen=True, slots=True)
class Judged:
    """What became of one candidate: created, or skipped for the job named."""

    scene_id: str
    job_id: uuid.UUID
    in_flight_job_id: uuid.UUID | None
    up_to_date_job_id: uuid.UUID | None
    created: bool


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """The candidates judged (in order), the caller's usage before the insert, and the answer of
    a concurrent request with the same key that won the lock (then nothing was inserted)."""

    scenes: list[Judged]
    in_flight: int
    spent: Decimal
    earlier: dict[str, Any] | None
    """An earlier batch with the same key: ``{"answer", "request"}`` (see ``earlier_batch``)."""

    @property
    def fresh(self) -> list[Judged]:
        """Candidates neither in flight nor up to date: what the caps were checked for."""
        return [j for j in self.scenes if j.in_flight_job_id is None and j.up_to_date_job_id is None]


def _newest_scene_job(scene_id: Any, *conditions: Any) -> Any:
    job = aliased(VideoJob)
    return (
        select(job.id)
        .where(
            job.user_id == bindparam("owner_id"),
            job.storyboard_id == bindparam("new_storyboard_id"),
            job.scene_id == scene_id,
            *(condition(job) for condition in conditions),
        )
        .order_by(job.created_at.desc(), job.id.desc())
        .limit(1)
        .scalar_subquery()
    )


@cache
def _insert_batch(regenerate: bool, with_key: bool) -> Select[Any]:
    table = VideoJob.__table__
    types: dict[str, TypeEngine[Any]] = {
        "id": Uuid(),
        "scene_id": String(),
        "prompt": Text(),
        "fingerprint": String(),
        "metadata": Text(),  # JSON text per scene, cast to jsonb on insert
    }
    arrays = [bindparam(f"c_{c}", type_=ARRAY(types[c])) for c in _PER_SCENE]
    cand = (
        func.unnest(*arrays)
        .table_valued(*(column(c, types[c]) for c in _PER_SCENE), with_ordinality="ord")
        .render_derived(name="cand")
    )
    in_flight = _newest_scene_job(cand.c.scene_id, lambda j: j.status.in_(ACTIVE_JOB_STATUSES))
    up_to_date = (
        literal(None, Uuid())
        if regenerate
        else _newest_scene_job(
            cand.c.scene_id, lambda j: j.status == "completed", lambda j: j.fingerprint == cand.c.fingerprint
        )
    )
    judged = select(*cand.c, in_flight.label("in_flight_job"), up_to_date.label("up_to_date_job")).cte(
        "judged"
    )
    fresh = (
        select(judged).where(judged.c.in_flight_job.is_(None), judged.c.up_to_date_job.is_(None)).cte("fresh")
    )
    usage = usage_cte()
    conditions = within_caps(usage, select(func.count()).select_from(fresh).scalar_subquery())
    if with_key:
        conditions.append(~earlier_batch().exists())
    values = [
        (cast(fresh.c[c], JSONB) if c == "metadata" else fresh.c[c])
        if c in _PER_SCENE
        else bindparam(f"new_{c}", type_=table.c[c].type)
        for c in JOB_COLUMNS
    ]
    inserted = (
        pg_insert(VideoJob)
        .from_select(
            list(JOB_COLUMNS), select(*values).select_from(fresh.join(usage, true())).where(*conditions)
        )
        .returning(VideoJob.id)
        .cte("inserted")
    )
    earlier = earlier_batch().scalar_subquery() if with_key else literal(None)
    return (
        select(
            judged.c.scene_id,
            judged.c.id,
            judged.c.in_flight_job,
            judged.c.up_to_date_job,
            judged.c.id.in_(select(inserted.c.id)).label("created"),
            usage.c.in_flight,
            usage.c.spent,
            earlier.label("earlier"),
        )
        .select_from(judged.join(usage, true()))
        .order_by(judged.c.ord)
    )


def insert_within_caps(
    session: Session,
    candidates: list[Candidate],
    shared: dict[str, Any],
    caps: Caps,
    *,
    regenerate: bool,
    idempotency_key: str | None,
) -> BatchOutcome:
    """Statement 3 of a batch: judge every candidate and insert the fresh ones, all or none.

    ``shared`` holds the columns of ``JOB_COLUMNS`` that all the jobs share (user, storyboard,
    provider, model, duration, size, estimate, no idempotency key); the others are per
    candidate. A candidate is skipped when its scene has a job in flight or, unless
    ``regenerate``, a completed job with its fingerprint; the rest go in only if all of them fit
    both caps.
    """
    params = {f"new_{c}": v for c, v in shared.items()} | caps.params()
    params |= {f"c_{c}": [getattr(x, "job_id" if c == "id" else c) for x in candidates] for c in _PER_SCENE}
    params |= {"owner_id": shared["user_id"], "idempotency_key": idempotency_key}
    stmt = _insert_batch(regenerate, idempotency_key is not None)
    rows = session.execute(stmt, params).all()
    judged = [Judged(r.scene_id, r.id, r.in_flight_job, r.up_to_date_job, r.created) for r in rows]
    first = rows[0]
    return BatchOutcome(judged, first.in_flight, Decimal(first.spent), first.earlier)


def store_answer(
    session: Session,
    user_id: str,
    storyboard_id: uuid.UUID,
    idempotency_key: str,
    answer: dict[str, Any],
    *,
    request_fingerprint: str,
) -> None:
    """Statement 4 (with an ``Idempotency-Key`` only): keep the batch's answer for its retries,
    with the fingerprint of the request they must repeat."""
    values = {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "storyboard_id": storyboard_id,
        "idempotency_key": idempotency_key,
        "answer": answer,
        "request_fingerprint": request_fingerprint,
    }
    # The quota lock already orders requests with one key; the conflict clause is a backstop.
    session.execute(pg_insert(GenerationBatch).values(values).on_conflict_do_nothing())


def replace_answer(
    session: Session, user_id: str, idempotency_key: str, answer: dict[str, Any] | None
) -> None:
    """After a queue failure: the answer as it now stands, or (``None``) forget the batch so a
    retry with the same key starts afresh."""
    owned = (GenerationBatch.user_id == user_id, GenerationBatch.idempotency_key == idempotency_key)
    if answer is None:
        session.execute(delete(GenerationBatch).where(*owned))
    else:
        session.execute(update(GenerationBatch).where(*owned).values(answer=answer))
