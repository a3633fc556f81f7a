"""Storyboards: all SQL for the ``storyboards`` table, every statement scoped by owner."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, insert, select, tuple_
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from videogen.errors import InvalidInput, NotFound, StaleVersion
from videogen.models import Storyboard, VideoJob

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
SEARCH_LIMIT = 20
UPDATABLE_FIELDS = frozenset({"name", "preset_key", "character", "scenes"})


@dataclass(frozen=True, slots=True)
class StoryboardWithJobs:
    storyboard: Storyboard
    video_jobs: list[VideoJob]


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Storyboard]
    next_cursor: str | None


def _not_found(storyboard_id: uuid.UUID) -> NotFound:
    return NotFound("Storyboard not found", {"id": str(storyboard_id)})


def create(
    session: Session,
    user_id: str,
    *,
    name: str,
    preset_key: str,
    character: dict[str, Any],
    scenes: list[Any],
) -> Storyboard:
    """Insert a storyboard (version 1) in one statement and return it."""
    stmt = (
        insert(Storyboard)
        .values(
            id=uuid.uuid4(),
            user_id=user_id,
            name=name,
            preset_key=preset_key,
            character=character,
            scenes=scenes,
        )
        .returning(Storyboard)
    )
    return session.execute(stmt).scalar_one()


def get(session: Session, user_id: str, storyboard_id: uuid.UUID) -> Storyboard:
    """The caller's storyboard; ``NotFound`` when missing or someone else's."""
    row = session.execute(
        select(Storyboard).where(Storyboard.id == storyboard_id, Storyboard.user_id == user_id)
    ).scalar_one_or_none()
    if row is None:
        raise _not_found(storyboard_id)
    return row


def get_with_jobs(session: Session, user_id: str, storyboard_id: uuid.UUID) -> StoryboardWithJobs:
    """The storyboard and its video jobs (oldest first) in two statements."""
    storyboard = get(session, user_id, storyboard_id)
    jobs = session.execute(
        select(VideoJob)
        .where(VideoJob.storyboard_id == storyboard_id, VideoJob.user_id == user_id)
        .order_by(VideoJob.created_at, VideoJob.id)
    ).scalars()
    return StoryboardWithJobs(storyboard, list(jobs))


def update(
    session: Session,
    user_id: str,
    storyboard_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    expected_version: int | None = None,
) -> Storyboard:
    """Apply a partial update, bump ``version`` and ``updated_at``, in one UPDATE ... RETURNING.

    With ``expected_version`` the row changes only if it is still at that version; otherwise
    ``StaleVersion`` is raised and nothing is overwritten.
    """
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise InvalidInput("Unknown storyboard fields", {"fields": sorted(unknown)})
    if not changes:
        raise InvalidInput("Nothing to update")
    conditions = [Storyboard.id == storyboard_id, Storyboard.user_id == user_id]
    if expected_version is not None:
        conditions.append(Storyboard.version == expected_version)
    stmt = (
        sql_update(Storyboard)
        .where(*conditions)
        # clock_timestamp(): two updates in one transaction still order correctly.
        .values(**changes, version=Storyboard.version + 1, updated_at=func.clock_timestamp())
        .returning(Storyboard)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    row = session.execute(stmt).scalar_one_or_none()
    if row is not None:
        return row
    # Failure path only: tell a stale version apart from a missing row.
    current = session.execute(
        select(Storyboard.version).where(Storyboard.id == storyboard_id, Storyboard.user_id == user_id)
    ).scalar_one_or_none()
    if current is None:
        raise _not_found(storyboard_id)
    raise StaleVersion(
        f"Storyboard was changed by someone else (version {current}, not {expected_version})",
        current_version=current,
    )


def delete(session: Session, user_id: str, storyboard_id: uuid.UUID) -> None:
    """Delete the storyboard; its video jobs and compiled videos go with it (ON DELETE CASCADE)."""
    deleted = session.execute(
        sql_delete(Storyboard)
        .where(Storyboard.id == storyboard_id, Storyboard.user_id == user_id)
        .returning(Storyboard.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if deleted is None:
        raise _not_found(storyboard_id)


def encode_cursor(updated_at: datetime, storyboard_id: uuid.UUID) -> str:
    """Opaque keyset cursor: the last row's (updated_at, id)."""
    raw = json.dumps({"u": updated_at.isoformat(), "i": str(storyboard_id)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """Inverse of ``encode_cursor``; ``InvalidInput`` for anything a client made up."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        updated_at = datetime.fromisoformat(data["u"])
        if updated_at.tzinfo is None:
            raise ValueError("naive timestamp")
        return updated_at, uuid.UUID(data["i"])
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput("Invalid cursor", {"cursor": "not a cursor returned by this API"}) from exc


def escape_like(text: str) -> str:
    """Escape LIKE metacharacters so ``%``, ``_`` and ``\\`` match literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_for_user(
    session: Session,
    user_id: str,
    *,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
    name_contains: str | None = None,
) -> Page:
    """The caller's storyboards, newest-updated first, one page per statement.

    The cursor is keyset-based on (updated_at, id), so rows with equal timestamps are neither
    repeated nor skipped across pages. ``name_contains`` filters by case-insensitive substring.
    """
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    stmt = select(Storyboard).where(Storyboard.user_id == user_id)
    if name_contains:
        stmt = stmt.where(Storyboard.name.ilike(f"%{escape_like(name_contains)}%", escape="\\"))
    if cursor:
        after_updated, after_id = decode_cursor(cursor)
        stmt = stmt.where(tuple_(Storyboard.updated_at, Storyboard.id) < tuple_(after_updated, after_id))
    stmt = stmt.order_by(Storyboard.updated_at.desc(), Storyboard.id.desc()).limit(limit + 1)
    rows = list(session.execute(stmt).scalars())
    if len(rows) <= limit:
        return Page(rows, None)
    last = rows[limit - 1]
    return Page(rows[:limit], encode_cursor(last.updated_at, last.id))


def search(session: Session, user_id: str, query: str, *, limit: int = SEARCH_LIMIT) -> list[Storyboard]:
    """Case-insensitive substring search on name among the caller's storyboards."""
    return list_for_user(session, user_id, limit=limit, name_contains=query).items
