"""Storage cleanups: all SQL for ``storage_cleanups``, the outbox of objects still to delete.

Rows are inserted by ``storyboards.delete`` (in the delete's own statement), or by ``record``
for files stored after their job was deleted; the cleanup consumer reads one by id and removes
it once its objects are gone; the sweeper claims rows left behind.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from videogen.data.models import StorageCleanup


def record(
    session: Session, user_id: str, storyboard_id: uuid.UUID, *, prefix: str, keys: list[str]
) -> uuid.UUID:
    """Record a cleanup of ``prefix`` and ``keys`` outside a storyboard delete (objects stored
    for a job deleted meanwhile); the sweeper sends it once it is stale."""
    cleanup_id = uuid.uuid4()
    session.execute(
        insert(StorageCleanup).values(
            id=cleanup_id, user_id=user_id, storyboard_id=storyboard_id, prefix=prefix, keys=keys
        )
    )
    return cleanup_id


def get(session: Session, cleanup_id: uuid.UUID) -> StorageCleanup | None:
    """The cleanup by id (ids come from our own queue), or ``None`` once it is done."""
    return session.get(StorageCleanup, cleanup_id)


def remove(session: Session, cleanup_id: uuid.UUID) -> bool:
    """Forget a finished cleanup; False when it was already gone (a duplicate delivery)."""
    removed = session.execute(
        delete(StorageCleanup)
        .where(StorageCleanup.id == cleanup_id)
        .returning(StorageCleanup.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return removed is not None


def claim_stale(session: Session, *, updated_before: datetime, now: datetime, limit: int) -> list[uuid.UUID]:
    """Cleanups untouched since ``updated_before`` (their message was lost or gave up), oldest
    first, at most ``limit``: each is marked re-sent (``updated_at`` = ``now``, ``resends`` + 1)
    in the same statement, and rows another sweeper holds are skipped."""
    stale = (
        select(StorageCleanup.id)
        .where(StorageCleanup.updated_at < updated_before)
        .order_by(StorageCleanup.updated_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed = session.execute(
        update(StorageCleanup)
        .where(StorageCleanup.id.in_(stale))
        .values(updated_at=now, resends=StorageCleanup.resends + 1)
        .returning(StorageCleanup.id)
        .execution_options(synchronize_session=False)
    ).scalars()
    return list(claimed)
