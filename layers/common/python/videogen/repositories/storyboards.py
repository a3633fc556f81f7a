"""Storyboards: all SQL for the ``storyboards`` table, every statement scoped by owner.

Hot-path statements are built once per process (``@cache``) with bound parameters: building
a SQLAlchemy statement and its cache key costs more than the round trip to a nearby
PostgreSQL, and a warm Lambda container answers many requests with the same few shapes.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, select, tuple_
from sqlalchemy import delete as sql_delete
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningDelete, ReturningInsert, ReturningUpdate

from videogen.errors import InvalidInput, NotFound, StaleVersion, field_errors
from videogen.models import Storyboard, VideoJob

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
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


# Bound names differ from column names: UPDATE reserves those for its SET clause.
_OWNED = (Storyboard.id == bindparam("storyboard_id"), Storyboard.user_id == bindparam("owner_id"))


@cache
def _insert() -> ReturningInsert[Storyboard]:
    return insert(Storyboard).returning(Storyboard)


@cache
def _select_one() -> Select[Storyboard]:
    return select(Storyboard).where(*_OWNED)


@cache
def _select_jobs() -> Select[VideoJob]:
    return (
        select(VideoJob)
        .where(
            VideoJob.storyboard_id == bindparam("storyboard_id"), VideoJob.user_id == bindparam("owner_id")
        )
        .order_by(VideoJob.created_at, VideoJob.id)
    )


@cache
def _update(fields: frozenset[str], check_version: bool) -> ReturningUpdate[Storyboard]:
    conditions = [*_OWNED]
    if check_version:
        conditions.append(Storyboard.version == bindparam("expected_version"))
    return (
        sql_update(Storyboard)
        .where(*conditions)
        # clock_timestamp(): two updates in one transaction still order correctly.
        .values(
            {
                **{f: bindparam(f"new_{f}", type_=Storyboard.__table__.c[f].type) for f in sorted(fields)},
                "version": Storyboard.version + 1,
                "updated_at": func.clock_timestamp(),
            }
        )
        .returning(Storyboard)
        .execution_options(synchronize_session=False, populate_existing=True)
    )


@cache
def _delete() -> ReturningDelete[uuid.UUID]:
    return (
        sql_delete(Storyboard)
        .where(*_OWNED)
        .returning(Storyboard.id)
        .execution_options(synchronize_session=False)
    )


@cache
def _select_page(with_cursor: bool, with_name: bool) -> Select[Storyboard]:
    stmt = select(Storyboard).where(Storyboard.user_id == bindparam("owner_id"))
    if with_name:
        stmt = stmt.where(Storyboard.name.ilike(bindparam("name_pattern"), escape="\\"))
    if with_cursor:
        after = tuple_(bindparam("after_updated_at", type_=Storyboard.updated_at.type), bindparam("after_id"))
        stmt = stmt.where(tuple_(Storyboard.updated_at, Storyboard.id) < after)
    return stmt.order_by(Storyboard.updated_at.desc(), Storyboard.id.desc()).limit(bindparam("page_limit"))


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
    values = {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "name": name,
        "preset_key": preset_key,
        "character": character,
        "scenes": scenes,
    }
    return session.execute(_insert(), values).scalar_one()


def get(session: Session, user_id: str, storyboard_id: uuid.UUID) -> Storyboard:
    """The caller's storyboard; ``NotFound`` when missing or someone else's."""
    row = session.execute(
        _select_one(), {"storyboard_id": storyboard_id, "owner_id": user_id}
    ).scalar_one_or_none()
    if row is None:
        raise _not_found(storyboard_id)
    return row


def get_with_jobs(session: Session, user_id: str, storyboard_id: uuid.UUID) -> StoryboardWithJobs:
    """The storyboard and its video jobs (oldest first) in two statements."""
    storyboard = get(session, user_id, storyboard_id)
    jobs = session.execute(_select_jobs(), {"storyboard_id": storyboard_id, "owner_id": user_id}).scalars()
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
    params: dict[str, Any] = {f"new_{f}": v for f, v in changes.items()}
    params |= {"storyboard_id": storyboard_id, "owner_id": user_id, "expected_version": expected_version}
    stmt = _update(frozenset(changes), expected_version is not None)
    row = session.execute(stmt, params).scalar_one_or_none()
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
        _delete(), {"storyboard_id": storyboard_id, "owner_id": user_id}
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
        details = field_errors("query.cursor", "not a cursor returned by this API", "cursor_invalid")
        raise InvalidInput("Invalid cursor", details) from exc


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
    params: dict[str, Any] = {"owner_id": user_id, "page_limit": limit + 1}
    if name_contains:
        params["name_pattern"] = f"%{escape_like(name_contains)}%"
    if cursor:
        params["after_updated_at"], params["after_id"] = decode_cursor(cursor)
    stmt = _select_page(bool(cursor), bool(name_contains))
    rows = list(session.execute(stmt, params).scalars())
    if len(rows) <= limit:
        return Page(rows, None)
    last = rows[limit - 1]
    return Page(rows[:limit], encode_cursor(last.updated_at, last.id))
