"""Storyboards: all SQL for the ``storyboards`` table, every statement scoped by owner.

Every statement here is a hot route's: built once per process with bound parameters and run
through :mod:`videogen.data.statements` (no ORM unit of work), its rows validated straight into the
response model :class:`~videogen.api.schemas.storyboards.StoryboardOut` (and jobs into ``video_jobs.JobRow``).
A function takes an ORM session or a :class:`~videogen.data.statements.Runner` first.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from itertools import combinations
from typing import Any, cast

from pydantic import TypeAdapter
from sqlalchemy import Select, Table, Text, Uuid, bindparam, func, insert, literal, select, union_all
from sqlalchemy import delete as sql_delete
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert, ReturningUpdate

from videogen.api.schemas.storyboards import StoryboardOut
from videogen.data.models import CompiledVideo, StorageCleanup, Storyboard, VideoJob
from videogen.data.repositories import keyset, video_jobs
from videogen.data.repositories.video_jobs import JobRow
from videogen.data.statements import Runner, Statement, runner_for, values_of
from videogen.errors import InvalidInput, NotFound, StaleVersion
from videogen.storage import bucket

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
UPDATABLE_FIELDS = frozenset({"name", "preset_key", "character", "scenes"})


@dataclass(frozen=True, slots=True)
class StoryboardWithJobs:
    storyboard: StoryboardOut
    video_jobs: list[JobRow]


@dataclass(frozen=True, slots=True)
class Page:
    items: list[StoryboardOut]
    next_cursor: str | None


_NAMES = tuple(StoryboardOut.model_fields)
_COLUMNS = tuple(getattr(Storyboard, name) for name in _NAMES)
_BOARDS = TypeAdapter(list[StoryboardOut])


def _board(row: Sequence[Any]) -> StoryboardOut:
    return StoryboardOut.model_validate(values_of(_NAMES, row))


def _boards(rows: Sequence[Sequence[Any]]) -> list[StoryboardOut]:
    """A page's rows validated in one call."""
    return _BOARDS.validate_python([values_of(_NAMES, row) for row in rows])


def _not_found(storyboard_id: uuid.UUID) -> NotFound:
    return NotFound("Storyboard not found", {"id": str(storyboard_id)})


# Bound names differ from column names: UPDATE reserves those for its SET clause.
_OWNED = (Storyboard.id == bindparam("storyboard_id"), Storyboard.user_id == bindparam("owner_id"))


_INSERT = Statement(
    lambda: (
        insert(Storyboard)
        .values(
            {name: bindparam(name) for name in ("id", "user_id", "name", "preset_key", "character", "scenes")}
        )
        .returning(*_COLUMNS)
    )
)
_SELECT_ONE = Statement(lambda: select(*_COLUMNS).where(*_OWNED))
_SELECT_JOBS = Statement(
    lambda: (
        select(*video_jobs.JOB_ROW_COLUMNS)
        .where(
            VideoJob.storyboard_id == bindparam("storyboard_id"), VideoJob.user_id == bindparam("owner_id")
        )
        .order_by(VideoJob.created_at, VideoJob.id)
    )
)
_SELECT_VERSION = Statement(lambda: select(Storyboard.version).where(*_OWNED))


def _update_statement(fields: frozenset[str], check_version: bool) -> ReturningUpdate[Any]:
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
        .returning(*_COLUMNS)
    )


_UPDATES = {
    (fields, check): Statement(partial(_update_statement, fields, check))
    for n in range(1, len(UPDATABLE_FIELDS) + 1)
    for fields in map(frozenset, combinations(sorted(UPDATABLE_FIELDS), n))
    for check in (False, True)
}
"""Every patch shape (which fields, with or without If-Match): 30 statements, built once."""


def _delete_with_cleanup() -> ReturningInsert[uuid.UUID]:
    """One statement: delete the storyboard and, only if it was deleted, record its cleanup.

    Every part of a WITH statement sees the snapshot taken before it, so the job and film
    rows the cascade removes are still there to name their keys.
    """
    deleted = sql_delete(Storyboard).where(*_OWNED).returning(Storyboard.id, Storyboard.user_id)
    deleted_cte = deleted.cte("deleted")
    jobs = (VideoJob.storyboard_id == bindparam("storyboard_id"), VideoJob.user_id == bindparam("owner_id"))
    films = (
        CompiledVideo.storyboard_id == bindparam("storyboard_id"),
        CompiledVideo.user_id == bindparam("owner_id"),
    )
    named = union_all(
        select(VideoJob.video_url.label("key")).where(*jobs),
        select(VideoJob.thumbnail_url).where(*jobs),
        select(CompiledVideo.final_video_url).where(*films),
    ).subquery("named")
    # Our keys only: a legacy absolute URL is nothing of ours to delete.
    keys = (
        select(func.coalesce(func.jsonb_agg(named.c.key.distinct()), literal([], JSONB)))
        .where(named.c.key.like(bindparam("key_pattern")))
        .scalar_subquery()
    )
    row = select(
        bindparam("cleanup_id", type_=Uuid),
        deleted_cte.c.user_id,
        deleted_cte.c.id,
        bindparam("prefix", type_=Text),
        keys,
    )
    table = cast(Table, StorageCleanup.__table__)
    columns = [table.c[name] for name in ("id", "user_id", "storyboard_id", "prefix", "keys")]
    # Core, not the ORM's bulk insert: INSERT ... SELECT from the CTE.
    return insert(table).from_select(columns, row).returning(table.c.id)


_DELETE = Statement(_delete_with_cleanup)


def _page_statement(with_cursor: bool, with_name: bool) -> Select[Any]:
    stmt = select(*_COLUMNS).where(Storyboard.user_id == bindparam("owner_id"))
    if with_name:
        stmt = stmt.where(Storyboard.name.ilike(bindparam("name_pattern"), escape="\\"))
    return keyset.newest_first(stmt, Storyboard.updated_at, Storyboard.id, with_cursor)


_PAGES = {
    (cursor, name): Statement(partial(_page_statement, cursor, name))
    for cursor in (False, True)
    for name in (False, True)
}


def create(
    session: Session | Runner,
    user_id: str,
    *,
    name: str,
    preset_key: str,
    character: dict[str, Any],
    scenes: list[Any],
) -> StoryboardOut:
    """Insert a storyboard (version 1) in one statement and return it."""
    values = {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "name": name,
        "preset_key": preset_key,
        "character": character,
        "scenes": scenes,
    }
    return _board(runner_for(session).rows(_INSERT, values)[0])


def get(session: Session | Runner, user_id: str, storyboard_id: uuid.UUID) -> StoryboardOut:
    """The caller's storyboard; ``NotFound`` when missing or someone else's."""
    row = runner_for(session).row(_SELECT_ONE, {"storyboard_id": storyboard_id, "owner_id": user_id})
    if row is None:
        raise _not_found(storyboard_id)
    return _board(row)


def get_with_jobs(session: Session | Runner, user_id: str, storyboard_id: uuid.UUID) -> StoryboardWithJobs:
    """The storyboard and its video jobs (oldest first) in two statements."""
    runner = runner_for(session)
    storyboard = get(runner, user_id, storyboard_id)
    rows = runner.rows(_SELECT_JOBS, {"storyboard_id": storyboard_id, "owner_id": user_id})
    return StoryboardWithJobs(storyboard, [JobRow(*row) for row in rows])


def update(
    session: Session | Runner,
    user_id: str,
    storyboard_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    expected_version: int | None = None,
) -> StoryboardOut:
    """Apply a partial update, bump ``version`` and ``updated_at``, in one UPDATE ... RETURNING.

    With ``expected_version`` the row changes only if it is still at that version; otherwise
    ``StaleVersion`` is raised and nothing is overwritten.
    """
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise InvalidInput("Unknown storyboard fields", {"fields": sorted(unknown)})
    if not changes:
        raise InvalidInput("Nothing to update")
    runner = runner_for(session)
    params: dict[str, Any] = {f"new_{f}": v for f, v in changes.items()}
    params |= {"storyboard_id": storyboard_id, "owner_id": user_id, "expected_version": expected_version}
    row = runner.row(_UPDATES[frozenset(changes), expected_version is not None], params)
    if row is not None:
        return _board(row)
    # Failure path only: tell a stale version apart from a missing row.
    current = runner.row(_SELECT_VERSION, {"storyboard_id": storyboard_id, "owner_id": user_id})
    if current is None:
        raise _not_found(storyboard_id)
    raise StaleVersion(
        f"Storyboard was changed by someone else (version {current[0]}, not {expected_version})",
        current_version=current[0],
    )


def delete(session: Session | Runner, user_id: str, storyboard_id: uuid.UUID) -> uuid.UUID:
    """Delete the storyboard (its video jobs and compiled videos go with it, ON DELETE CASCADE)
    and, in the same statement, record its storage cleanup: the storyboard's prefix and every
    key under the owner's prefix that its jobs and films named. Returns the cleanup's id;
    ``NotFound`` when the storyboard is missing or someone else's (then nothing is recorded)."""
    params = {
        "storyboard_id": storyboard_id,
        "owner_id": user_id,
        "cleanup_id": uuid.uuid4(),
        "prefix": bucket.storyboard_prefix(user_id, storyboard_id),
        "key_pattern": f"{escape_like(bucket.user_prefix(user_id))}%",
    }
    row = runner_for(session).row(_DELETE, params)
    if row is None:
        raise _not_found(storyboard_id)
    cleanup_id: uuid.UUID = row[0]
    return cleanup_id


def escape_like(text: str) -> str:
    """Escape LIKE metacharacters so ``%``, ``_`` and ``\\`` match literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_for_user(
    session: Session | Runner,
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
    params = keyset.page_params(limit, cursor) | {"owner_id": user_id}
    if name_contains:
        params["name_pattern"] = f"%{escape_like(name_contains)}%"
    rows = runner_for(session).rows(_PAGES[bool(cursor), bool(name_contains)], params)
    boards = _boards(rows)
    return Page(*keyset.cut(boards, limit, lambda board: (board.updated_at, board.id)))
