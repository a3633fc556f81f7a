"""Keyset pagination, newest first: the page's SQL and its cursor, the last row's (timestamp, id),
opaque to clients.

Every list that pages newest first (storyboards by ``updated_at``, jobs by ``created_at``) pages
the same way, so rows with equal timestamps are neither repeated nor skipped.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from videogen.errors import InvalidInput, field_errors


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    """Opaque keyset cursor: the last row's (timestamp, id)."""
    raw = json.dumps({"u": at.isoformat(), "i": str(row_id)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """Inverse of ``encode_cursor``; ``InvalidInput`` for anything a client made up."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        at = datetime.fromisoformat(data["u"])
        if at.tzinfo is None:
            raise ValueError("naive timestamp")
        return at, uuid.UUID(data["i"])
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        details = field_errors("query.cursor", "not a cursor returned by this API", "cursor_invalid")
        raise InvalidInput("Invalid cursor", details) from exc


def newest_first(
    stmt: Select[Any],
    at: InstrumentedAttribute[datetime],
    row_id: InstrumentedAttribute[uuid.UUID],
    after: bool,
) -> Select[Any]:
    """``stmt`` ordered by (``at``, ``row_id``) descending, limited to ``page_limit``; with
    ``after``, only the rows past the cursor's (``after_at``, ``after_id``)."""
    if after:
        stmt = stmt.where(
            tuple_(at, row_id) < tuple_(bindparam("after_at", type_=at.type), bindparam("after_id"))
        )
    return stmt.order_by(at.desc(), row_id.desc()).limit(bindparam("page_limit"))


def page_params(limit: int, cursor: str | None) -> dict[str, Any]:
    """The bound values of :func:`newest_first`: one row more than the page, to know if more follow."""
    params: dict[str, Any] = {"page_limit": limit + 1}
    if cursor:
        params["after_at"], params["after_id"] = decode_cursor(cursor)
    return params


def cut[Row](
    rows: list[Row], limit: int, key: Callable[[Row], tuple[datetime, uuid.UUID]]
) -> tuple[list[Row], str | None]:
    """The page and the cursor of the next one (``None``: this was the last)."""
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], encode_cursor(*key(rows[limit - 1]))
