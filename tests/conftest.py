"""Fixtures that own the real things: a PostgreSQL per test session, a clean schema per test,
moto for AWS (a loopback moto server, so presigned URLs are fetchable), fake providers.

Unit tests (tests/unit) never open sockets; see tests/unit/conftest.py.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from devstack.postgres import EmbeddedPostgres, free_port

REPO_ROOT = Path(__file__).resolve().parents[1]
TABLES = ("video_jobs", "compiled_videos", "user_api_keys", "user_quotas", "storyboards")

# No test may ever reach a real AWS account: fake credentials for the whole session.
_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "videogen-tests",
    "POWERTOOLS_METRICS_NAMESPACE": "VideogenTests",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
    "API_KEY_HMAC_SECRET": "test-hmac-secret-not-for-production",
}
for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "DATABASE_URL", "DB_HOST", "DB_SECRET_ARN"):
    os.environ.pop(_name, None)
os.environ.update(_TEST_ENV)


def reset_process_state() -> None:
    """Forget cached settings, engine and AWS clients so the next use reads the environment."""
    from videogen import config, db  # noqa: PLC0415

    config.get_settings.cache_clear()
    db.reset_engine()
    for name in ("videogen.keys", "videogen.queue", "videogen.storage"):
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "reset_clients"):
            module.reset_clients()


@pytest.fixture(scope="session")
def postgres() -> Iterator[EmbeddedPostgres]:
    """A throwaway PostgreSQL 15 for the session, migrated to head with Alembic."""
    from alembic import command  # noqa: PLC0415
    from alembic.config import Config  # noqa: PLC0415

    root = Path(tempfile.mkdtemp(prefix="videogen-pg-"))
    root.chmod(0o755)  # the postgres user must reach its data directory inside
    pg = EmbeddedPostgres(root / "data", free_port(), log_file=root / "postgres.log")
    pg.start()
    try:
        pg.create_database("videogen_test")
        os.environ["DATABASE_URL"] = pg.url("videogen_test")
        reset_process_state()
        command.upgrade(Config(str(REPO_ROOT / "migrations" / "alembic.ini")), "head")
        yield pg
    finally:
        from videogen import db  # noqa: PLC0415

        db.reset_engine()
        pg.stop("immediate")


@pytest.fixture
def clean_db(postgres: EmbeddedPostgres) -> EmbeddedPostgres:
    """Every test starts from empty tables (schema kept)."""
    from videogen.db import get_engine  # noqa: PLC0415

    with get_engine().begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
    return postgres


class StatementCounter:
    """Counts SQL statements sent through an engine (round trips to the database)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    @contextmanager
    def watch(self, engine: Engine) -> Iterator[StatementCounter]:
        self.statements.clear()
        event.listen(engine, "before_cursor_execute", self._record)
        try:
            yield self
        finally:
            event.remove(engine, "before_cursor_execute", self._record)


@pytest.fixture
def count_statements(clean_db: EmbeddedPostgres) -> Callable[[], Any]:
    """``with count_statements() as c: ...; assert c.count == 1``, on the process engine."""
    from videogen.db import get_engine  # noqa: PLC0415

    def start() -> Any:
        engine = get_engine()
        with engine.connect() as conn:  # warm the pool: connecting is not a statement we count
            conn.execute(text("SELECT 1"))
        return StatementCounter().watch(engine)

    return start
