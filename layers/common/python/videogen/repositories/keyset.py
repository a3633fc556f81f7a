"""Keyset pagination cursors: the last row's (timestamp, id), opaque to clients.

Every list that pages newest first (storyboards by ``updated_at``, jobs by ``created_at``) hands
out the same cursor shape, so rows with equal timestamps are neither repeated nor skipped.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime

from videogen.errors import InvalidInput


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
        raise InvalidInput("Invalid cursor", {"cursor": "not a cursor returned by this API"}) from exc
