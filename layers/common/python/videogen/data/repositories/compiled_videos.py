"""Compiled videos (films): all SQL for ``compiled_videos``.

User-facing statements are scoped by owner. The film pipeline acts on film ids taken from
its queue, through conditional UPDATEs that make every step idempotent: a claim takes a
plan or assemble step only when nobody holds it (or the holder's claim went stale), a step's
result is written only while the film is still at that step, and a normalized clip is
counted once, by the one statement that also moves the film on when it was the last.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Uuid, case, func, literal, or_, select, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from videogen.data.models import ACTIVE_FILM_STATUSES, CompiledVideo, Storyboard
from videogen.errors import NotFound

MAX_LISTED = 100


def _not_found(compiled_id: uuid.UUID) -> NotFound:
    return NotFound("Compiled video not found", {"id": str(compiled_id)})


def _returning(stmt: Any) -> Any:
    return stmt.returning(CompiledVideo).execution_options(synchronize_session=False, populate_existing=True)


# --- the caller's films --------------------------------------------------------------------------


def create(
    session: Session,
    user_id: str,
    *,
    storyboard_id: uuid.UUID,
    scenes_order: list[str],
    clips: list[dict[str, Any]] | None = None,
    idempotency_key: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> CompiledVideo | None:
    """Insert a pending film of the caller's storyboard (one statement).

    The INSERT selects from the caller's storyboard, so another user's storyboard id inserts
    nothing. ``None`` when nothing went in: the storyboard is not the caller's, or the caller
    already used ``idempotency_key`` (a concurrent retry inserted first).
    """
    owned = select(
        literal(uuid.uuid4(), Uuid()),
        Storyboard.user_id,
        Storyboard.id,
        literal(scenes_order, JSONB),
        literal(clips or [], JSONB),
        literal(idempotency_key),
        literal(metadata or {}, JSONB),
    ).where(Storyboard.id == storyboard_id, Storyboard.user_id == user_id)
    columns = ["id", "user_id", "storyboard_id", "scenes_order", "clips", "idempotency_key", "metadata"]
    stmt = (
        pg_insert(CompiledVideo)
        .from_select(columns, owned)
        .on_conflict_do_nothing(index_elements=["user_id", "idempotency_key"])
        .returning(CompiledVideo)
    )
    row: CompiledVideo | None = session.execute(stmt).scalar_one_or_none()
    return row


def find_by_key(session: Session, user_id: str, idempotency_key: str) -> CompiledVideo | None:
    """The caller's film made by a request with ``idempotency_key``, if any."""
    return session.execute(
        select(CompiledVideo).where(
            CompiledVideo.user_id == user_id, CompiledVideo.idempotency_key == idempotency_key
        )
    ).scalar_one_or_none()


def get(session: Session, user_id: str, compiled_id: uuid.UUID) -> CompiledVideo:
    """The caller's compiled video; ``NotFound`` when missing or someone else's."""
    row = session.execute(
        select(CompiledVideo).where(CompiledVideo.id == compiled_id, CompiledVideo.user_id == user_id)
    ).scalar_one_or_none()
    if row is None:
        raise _not_found(compiled_id)
    return row


def list_for_storyboard(session: Session, user_id: str, storyboard_id: uuid.UUID) -> list[CompiledVideo]:
    """The films of the caller's storyboard, newest first (at most ``MAX_LISTED``); ``NotFound``
    when the storyboard is missing or someone else's (a second statement, only when empty)."""
    rows = list(
        session.execute(
            select(CompiledVideo)
            .where(CompiledVideo.storyboard_id == storyboard_id, CompiledVideo.user_id == user_id)
            .order_by(CompiledVideo.created_at.desc(), CompiledVideo.id.desc())
            .limit(MAX_LISTED)
        ).scalars()
    )
    if not rows:
        owned = select(Storyboard.id).where(Storyboard.id == storyboard_id, Storyboard.user_id == user_id)
        if session.execute(owned).scalar_one_or_none() is None:
            raise NotFound("Storyboard not found", {"id": str(storyboard_id)})
    return rows


def withdraw_pending(session: Session, user_id: str, compiled_id: uuid.UUID) -> bool:
    """Delete the caller's film only while it is still ``pending`` (its message never left)."""
    deleted = session.execute(
        sql_delete(CompiledVideo)
        .where(
            CompiledVideo.id == compiled_id,
            CompiledVideo.user_id == user_id,
            CompiledVideo.status == "pending",
        )
        .returning(CompiledVideo.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return deleted is not None


# --- the pipeline's side (ids from the queue) ------------------------------------------------------


def get_by_id(session: Session, compiled_id: uuid.UUID) -> CompiledVideo | None:
    """A film by id alone, for the pipeline (ids come from our own queue)."""
    return session.get(CompiledVideo, compiled_id, populate_existing=True)


def claim(
    session: Session, compiled_id: uuid.UUID, step: str, *, stale_before: datetime
) -> CompiledVideo | None:
    """Take ``step`` (plan or assemble) of an active film: ``processing``, claimed now, attempts
    + 1; only if the film is at that step and nobody holds it, or the holder's claim is older
    than ``stale_before`` (it died). ``None``: a duplicate, or the film moved on."""
    film = CompiledVideo
    return session.execute(
        _returning(
            update(film)
            .where(
                film.id == compiled_id,
                film.step == step,
                film.status.in_(ACTIVE_FILM_STATUSES),
                or_(film.claimed_at.is_(None), film.claimed_at < stale_before),
            )
            .values(
                status="processing",
                claimed_at=func.clock_timestamp(),
                attempts=film.attempts + 1,
                updated_at=func.clock_timestamp(),
            )
        )
    ).scalar_one_or_none()


def finish_step(
    session: Session, compiled_id: uuid.UUID, step: str, changes: dict[str, Any]
) -> CompiledVideo | None:
    """Write a step's result (the next step, or the completed film) and release its claim, only
    while the film is still ``processing`` at ``step``."""
    film = CompiledVideo
    return session.execute(
        _returning(
            update(film)
            .where(film.id == compiled_id, film.status == "processing", film.step == step)
            .values(**changes, claimed_at=None, updated_at=func.clock_timestamp())
        )
    ).scalar_one_or_none()


def mark_normalized(session: Session, compiled_id: uuid.UUID, clip: int) -> CompiledVideo | None:
    """Count clip ``clip`` as normalized, once; the count that completes the set moves the film
    to ``assemble`` in the same statement, so exactly one caller sees that move.

    ``None`` when the clip was counted already (a duplicate) or the film is not normalizing.
    """
    film = CompiledVideo
    last = func.cardinality(film.normalized_clips) + 1 >= func.cardinality(film.normalize_clips)
    return session.execute(
        _returning(
            update(film)
            .where(
                film.id == compiled_id,
                film.status == "processing",
                film.step == "normalize",
                film.normalize_clips.any_() == clip,
                ~(film.normalized_clips.any_() == clip),
            )
            .values(
                normalized_clips=func.array_append(film.normalized_clips, clip),
                step=case((last, "assemble"), else_=film.step),
                updated_at=func.clock_timestamp(),
            )
        )
    ).scalar_one_or_none()


def fail(session: Session, compiled_id: uuid.UUID, message: str) -> CompiledVideo | None:
    """Fail the film with ``message`` if it is still pending or processing."""
    film = CompiledVideo
    return session.execute(
        _returning(
            update(film)
            .where(film.id == compiled_id, film.status.in_(ACTIVE_FILM_STATUSES))
            .values(
                status="failed", error_message=message, claimed_at=None, updated_at=func.clock_timestamp()
            )
        )
    ).scalar_one_or_none()


def list_active(
    session: Session,
    *,
    updated_before: datetime | None = None,
    created_before: datetime | None = None,
    limit: int = 100,
) -> list[CompiledVideo]:
    """Pending and processing films, least recently updated first (the sweeper)."""
    stmt = select(CompiledVideo).where(CompiledVideo.status.in_(ACTIVE_FILM_STATUSES))
    if updated_before is not None:
        stmt = stmt.where(CompiledVideo.updated_at < updated_before)
    if created_before is not None:
        stmt = stmt.where(CompiledVideo.created_at < created_before)
    order = (CompiledVideo.updated_at, CompiledVideo.id)
    return list(session.execute(stmt.order_by(*order).limit(limit)).scalars())
