"""Reference images: all SQL for ``reference_images``.

Every read and write is scoped to the owner (``user_id``) and the storyboard: another user's
reference is never found. ``declare`` takes the storyboard's row lock, so two declarations at
once cannot both pass the per-storyboard count or the user's storage cap. Frames the app derived
from clips (``source_job_id``: ``data.repositories.continuations``) are not the user's uploads:
they count against neither limit and are not listed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Uuid, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from videogen.data.models import IMAGE_KINDS, ReferenceImage, Storyboard
from videogen.data.statements import Runner, Statement, runner_for
from videogen.errors import Conflict, NotFound

_UPLOADED = ReferenceImage.source_job_id.is_(None)
"""The user's own references (not frames derived from clips)."""


def _require_storyboard(
    session: Session, user_id: str, storyboard_id: uuid.UUID, *, lock: bool = False
) -> None:
    """``NotFound`` unless the storyboard is the user's (its row locked with ``lock``)."""
    owned = select(Storyboard.id).where(Storyboard.id == storyboard_id, Storyboard.user_id == user_id)
    if session.execute(owned.with_for_update() if lock else owned).scalar_one_or_none() is None:
        raise NotFound("Storyboard not found", {"id": str(storyboard_id)})


def declare(
    session: Session,
    user_id: str,
    storyboard_id: uuid.UUID,
    *,
    kind: str,
    label: str,
    content_type: str,
    declared_bytes: int,
    per_storyboard: int,
    user_cap_bytes: int,
) -> ReferenceImage:
    """A new ``pending`` reference of the user's storyboard. ``NotFound`` when the storyboard is
    not theirs; ``Conflict`` when it already holds ``per_storyboard`` references or the user's
    references (stored, or declared while pending) would pass ``user_cap_bytes``."""
    _require_storyboard(session, user_id, storyboard_id, lock=True)
    held = session.execute(
        select(func.count()).where(ReferenceImage.storyboard_id == storyboard_id, _UPLOADED)
    ).scalar_one()
    if held >= per_storyboard:
        raise Conflict(
            f"A storyboard holds at most {per_storyboard} references: delete one first",
            {"limit": per_storyboard, "current": held},
        )
    used = session.execute(
        select(
            func.coalesce(
                func.sum(func.coalesce(ReferenceImage.stored_bytes, ReferenceImage.declared_bytes)), 0
            )
        ).where(ReferenceImage.user_id == user_id, _UPLOADED)
    ).scalar_one()
    if used + declared_bytes > user_cap_bytes:
        raise Conflict(
            f"Your references would take more than {user_cap_bytes // 1_000_000} MB: delete some first",
            {"limitBytes": user_cap_bytes, "usedBytes": int(used)},
        )
    reference = ReferenceImage(
        id=uuid.uuid4(),
        user_id=user_id,
        storyboard_id=storyboard_id,
        kind=kind,
        label=label,
        content_type=content_type,
        declared_bytes=declared_bytes,
    )
    session.add(reference)
    session.flush()
    return reference


def lock(
    session: Session, user_id: str, storyboard_id: uuid.UUID, reference_id: uuid.UUID
) -> ReferenceImage | None:
    """``get`` under the row's lock (one complete at a time)."""
    return session.execute(
        select(ReferenceImage)
        .where(
            ReferenceImage.id == reference_id,
            ReferenceImage.storyboard_id == storyboard_id,
            ReferenceImage.user_id == user_id,
        )
        .with_for_update()
    ).scalar_one_or_none()


def list_for_storyboard(session: Session, user_id: str, storyboard_id: uuid.UUID) -> list[ReferenceImage]:
    """The storyboard's references, oldest first; ``NotFound`` when it is not the user's."""
    _require_storyboard(session, user_id, storyboard_id)
    rows = session.execute(
        select(ReferenceImage)
        .where(ReferenceImage.storyboard_id == storyboard_id, ReferenceImage.user_id == user_id, _UPLOADED)
        .order_by(ReferenceImage.created_at, ReferenceImage.id)
    )
    return list(rows.scalars())


def _ready_images() -> object:
    ids = bindparam("ids", type_=ARRAY(Uuid))
    return select(ReferenceImage.id, ReferenceImage.sha256, ReferenceImage.content_type).where(
        ReferenceImage.id == func.any(ids),
        ReferenceImage.storyboard_id == bindparam("storyboard_id"),
        ReferenceImage.user_id == bindparam("owner_id"),
        ReferenceImage.status == "ready",
        ReferenceImage.kind.in_(IMAGE_KINDS),  # music never goes to a video model
    )


_READY_IMAGES = Statement(_ready_images)  # type: ignore[arg-type]


def ready_images(
    session: Session | Runner, user_id: str, storyboard_id: uuid.UUID, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, str]]:
    """``{id: (sha256, content type)}`` of the user's ready reference images (not music) of the
    storyboard among ``ids`` (one compiled statement: the generate routes' path)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    params = {"ids": wanted, "storyboard_id": storyboard_id, "owner_id": user_id}
    return {row[0]: (row[1], row[2]) for row in runner_for(session).rows(_READY_IMAGES, params)}


def ready_music(
    session: Session, user_id: str, storyboard_id: uuid.UUID, reference_id: uuid.UUID
) -> ReferenceImage | None:
    """The user's ready music reference of the storyboard with this id, or None."""
    return session.execute(
        select(ReferenceImage).where(
            ReferenceImage.id == reference_id,
            ReferenceImage.storyboard_id == storyboard_id,
            ReferenceImage.user_id == user_id,
            ReferenceImage.kind == "music",
            ReferenceImage.status == "ready",
        )
    ).scalar_one_or_none()


def mark_ready(
    session: Session,
    reference_id: uuid.UUID,
    *,
    content_type: str,
    stored_bytes: int,
    sha256: str,
    now: datetime,
    width: int | None = None,
    height: int | None = None,
    duration_seconds: float | None = None,
) -> None:
    """Record the checked file: ``ready`` with its stored type, size and content hash, and an
    image's dimensions or music's length."""
    session.execute(
        update(ReferenceImage)
        .where(ReferenceImage.id == reference_id)
        .values(
            status="ready",
            content_type=content_type,
            width=width,
            height=height,
            duration_seconds=duration_seconds,
            stored_bytes=stored_bytes,
            sha256=sha256,
            completed_at=now,
        )
        .execution_options(synchronize_session=False)
    )


def remove(session: Session, reference_id: uuid.UUID) -> bool:
    """Delete the row; False when it was already gone."""
    gone = session.execute(
        delete(ReferenceImage)
        .where(ReferenceImage.id == reference_id)
        .returning(ReferenceImage.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return gone is not None


def stale_pending(session: Session, *, created_before: datetime, limit: int) -> list[ReferenceImage]:
    """Pending references declared before ``created_before`` (an upload never completed),
    oldest first, at most ``limit``; rows another sweeper holds are skipped."""
    rows = session.execute(
        select(ReferenceImage)
        .where(ReferenceImage.status == "pending", ReferenceImage.created_at < created_before)
        .order_by(ReferenceImage.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows.scalars())
