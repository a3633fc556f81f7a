"""Deleted means deleted: a deleted storyboard's objects leave S3, at least once.

The storyboard delete records a cleanup (an outbox row: the storyboard's prefix and every key
its jobs and films named, older layouts included) in the delete's own statement, then queues
``{"cleanupId"}``; a send that fails leaves the row for the sweeper, which re-sends cleanups
untouched for ``cleanup_stale_after_seconds``. The consumer deletes every object under the
prefix and every listed key, then the row, so a redelivered message finds nothing to do. Only
objects under the owner's own prefix are ever deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal

from videogen.data import statements
from videogen.data.db import session_scope
from videogen.data.repositories import storage_cleanups, storyboards
from videogen.messaging.messages import CleanupMessage, QueueSender, QueueUnavailable
from videogen.runtime.config import Settings
from videogen.runtime.observability import emit_metric, logger
from videogen.storage import bucket

Outcome = Literal["cleaned", "unknown-cleanup"]


class ForeignPrefix(ValueError):
    """A cleanup names a prefix outside its owner's: refused, nothing deleted."""


def delete_storyboard(user_id: str, storyboard_id: uuid.UUID, sender: QueueSender[CleanupMessage]) -> None:
    """Delete the caller's storyboard with its rows, record its cleanup, and queue it.

    One statement (the delete and the cleanup row together), then one send; ``NotFound`` when
    the storyboard is missing or someone else's. A send that fails is logged, not raised: the
    storyboard is gone either way, and the sweeper sends the cleanup later.
    """
    with statements.connection() as db:  # one statement
        cleanup_id = storyboards.delete(db, user_id, storyboard_id)
    _send(sender, cleanup_id)


def clean(cleanup_id: uuid.UUID) -> Outcome:
    """Delete a cleanup's objects (its prefix, then its keys), then the cleanup itself.

    Raises ``StorageUnavailable`` (S3) or a database error when it could not finish: the row
    stays and the message is redelivered. ``ForeignPrefix`` for a prefix outside the owner's.
    """
    with session_scope(autocommit=True) as s:
        row = storage_cleanups.get(s, cleanup_id)
        if row is None:
            return "unknown-cleanup"  # done already: a duplicate or redelivered message
        user_id, prefix, keys = row.user_id, row.prefix, [k for k in row.keys if isinstance(k, str)]
    owned = bucket.user_prefix(user_id)
    if not prefix.startswith(owned) or prefix == owned:
        raise ForeignPrefix(f"cleanup {cleanup_id} names a prefix outside its storyboard's owner")
    objects = bucket.delete_prefix(prefix)
    objects += bucket.delete_keys(k for k in keys if k.startswith(owned) and not k.startswith(prefix))
    with session_scope(autocommit=True) as s:
        storage_cleanups.remove(s, cleanup_id)
    emit_metric("StorageObjectsDeleted", {}, objects)
    logger.info("storage cleaned", extra={"cleanup_id": str(cleanup_id), "objects": objects})
    return "cleaned"


def discard_orphans(user_id: str, storyboard_id: uuid.UUID, keys: Iterable[str | None]) -> None:
    """Delete objects just stored for a job that is gone (its storyboard was deleted while
    they went up, so its cleanup may have missed them).

    If S3 refuses, a cleanup is recorded for them instead: the sweeper sends it later.
    """
    stored = [k for k in keys if k]
    try:
        bucket.delete_keys(stored)
    except bucket.StorageUnavailable:
        with session_scope(autocommit=True) as s:  # one statement
            storage_cleanups.record(
                s,
                user_id,
                storyboard_id,
                prefix=bucket.storyboard_prefix(user_id, storyboard_id),
                keys=stored,
            )
        logger.warning("could not delete orphaned files; a cleanup is recorded", extra={"keys": len(stored)})


def resend_stale(sender: QueueSender[CleanupMessage], now: datetime, settings: Settings) -> int:
    """Queue again the cleanups untouched for ``cleanup_stale_after_seconds`` (the sweeper's
    step); returns how many were claimed. A send that fails leaves them for the next sweep."""
    updated_before = now - timedelta(seconds=settings.cleanup_stale_after_seconds)
    with session_scope(autocommit=True) as s:  # one statement
        claimed = storage_cleanups.claim_stale(
            s, updated_before=updated_before, now=now, limit=settings.sweep_batch_size
        )
    for cleanup_id in claimed:
        _send(sender, cleanup_id)
    return len(claimed)


def _send(sender: QueueSender[CleanupMessage], cleanup_id: uuid.UUID) -> None:
    try:
        sender.send(CleanupMessage(cleanup_id=cleanup_id))
    except QueueUnavailable:
        logger.error(
            "could not queue a storage cleanup; the sweeper will", extra={"cleanup_id": str(cleanup_id)}
        )
