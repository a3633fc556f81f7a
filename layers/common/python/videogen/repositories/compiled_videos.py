"""Compiled videos (stitched films): all SQL for ``compiled_videos``, scoped by owner."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Uuid, insert, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from videogen.errors import InvalidInput, NotFound
from videogen.models import CompiledVideo, Storyboard

UPDATABLE_FIELDS = frozenset(
    {
        "status",
        "final_video_url",
        "duration_seconds",
        "file_size_bytes",
        "error_message",
        "completed_at",
        "metadata_",
    }
)


def _not_found(compiled_id: uuid.UUID) -> NotFound:
    return NotFound("Compiled video not found", {"id": str(compiled_id)})


def create(
    session: Session,
    user_id: str,
    *,
    storyboard_id: uuid.UUID,
    scenes_order: list[str],
    metadata: dict[str, Any] | None = None,
) -> CompiledVideo:
    """Insert a pending compilation of the caller's storyboard (one statement).

    The INSERT selects from the caller's storyboard, so another user's storyboard id inserts
    nothing and answers ``NotFound``.
    """
    owned = select(
        literal(uuid.uuid4(), Uuid()),
        Storyboard.user_id,
        Storyboard.id,
        literal(scenes_order, JSONB),
        literal(metadata or {}, JSONB),
    ).where(Storyboard.id == storyboard_id, Storyboard.user_id == user_id)
    row = session.execute(
        insert(CompiledVideo)
        .from_select(["id", "user_id", "storyboard_id", "scenes_order", "metadata"], owned)
        .returning(CompiledVideo)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("Storyboard not found", {"id": str(storyboard_id)})
    return row


def get(session: Session, user_id: str, compiled_id: uuid.UUID) -> CompiledVideo:
    """The caller's compiled video; ``NotFound`` when missing or someone else's."""
    row = session.execute(
        select(CompiledVideo).where(CompiledVideo.id == compiled_id, CompiledVideo.user_id == user_id)
    ).scalar_one_or_none()
    if row is None:
        raise _not_found(compiled_id)
    return row


def update_for_user(
    session: Session, user_id: str, compiled_id: uuid.UUID, changes: dict[str, Any]
) -> CompiledVideo:
    """Partial update of the caller's compiled video."""
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise InvalidInput("Unknown compiled video fields", {"fields": sorted(unknown)})
    row = session.execute(
        update(CompiledVideo)
        .where(CompiledVideo.id == compiled_id, CompiledVideo.user_id == user_id)
        .values(**changes)
        .returning(CompiledVideo)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).scalar_one_or_none()
    if row is None:
        raise _not_found(compiled_id)
    return row
