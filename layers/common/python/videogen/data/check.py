"""``python -m videogen.data.check``: can we reach the database, and how many storyboards exist?

Exits 0 when connected, 1 with a clear message (never the credentials) when not.
"""

from __future__ import annotations

import sys

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from videogen.data.db import DatabaseUnavailable, check_database_connection, session_scope
from videogen.data.models import Storyboard


def main() -> int:
    """Print the connection state and the storyboard count; return the exit status."""
    status = check_database_connection()
    if not status["connected"]:
        print(f"database unreachable: {status['error']}", file=sys.stderr)
        return 1
    try:
        with session_scope() as s:
            count = s.execute(select(func.count()).select_from(Storyboard)).scalar_one()
    except (SQLAlchemyError, DatabaseUnavailable) as exc:
        print(
            f"connected, but cannot read storyboards ({type(exc).__name__}): run the migrations",
            file=sys.stderr,
        )
        return 1
    print(f"database connected; {count} storyboard(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
