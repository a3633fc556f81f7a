"""Deploy-time database work: wait for the database, upgrade to head, provision the app role.

The migrate function (a CloudFormation custom resource) imports this module lazily and only
speaks CloudFormation itself; it is packaged beside ``alembic.ini`` (functions/migrate/Makefile
copies this directory), so the Alembic environment is always the one next to this file.
Everything runs in one transaction whose statements the server cancels before ``seconds`` run
out, so no lock is left queued behind a function that has stopped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import psycopg
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from psycopg import sql
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from videogen.data.db import get_engine
from videogen.runtime import aws

logger = logging.getLogger("migrate")

MIGRATIONS_DIR = Path(__file__).resolve().parent
DML = "SELECT, INSERT, UPDATE, DELETE"
LOCK_TIMEOUT = "30s"
MAX_RETRY_DELAY_SECONDS = 15.0

Clock = Callable[[], float]
Sleep = Callable[[float], None]
SecretReader = Callable[[str], Mapping[str, Any]]


def wait_for_database(
    engine: Engine, until: float, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep
) -> None:
    """Retry connecting, with doubling delays, until ``until`` on ``clock``: a new RDS Proxy
    target takes a while to register. Raises the last ``OperationalError`` when the next
    attempt would start past ``until``."""
    delay = 1.0
    while True:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return
        except OperationalError as exc:
            if clock() + delay >= until:
                raise
            # The class of the driver's error only: SQLAlchemy's text holds the DSN's parts.
            logger.warning("database not reachable yet", extra={"error": type(exc.orig).__name__})
            sleep(delay)
            delay = min(delay * 2, MAX_RETRY_DELAY_SECONDS)


def ensure_app_role(conn: Connection, role: str, password: str) -> None:
    """Create or update the application role (login, the secret's password) with DML grants only.

    The password goes to the server as a SCRAM verifier computed here, never in clear text.
    Tables created later by the schema owner get the same grants through default privileges.
    """
    owner = conn.execute(text("SELECT current_user")).scalar_one()
    if role == owner:
        raise ValueError("the application role must differ from the schema owner")
    raw = cast("psycopg.Connection[Any]", conn.connection.dbapi_connection)
    verifier = raw.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    database = conn.execute(text("SELECT current_database()")).scalar_one()
    ident = sql.Identifier(role)
    statements = [
        sql.SQL("{} ROLE {} WITH LOGIN PASSWORD {}").format(
            sql.SQL("ALTER" if exists else "CREATE"), ident, sql.Literal(verifier)
        ),
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), ident),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident),
        sql.SQL(f"GRANT {DML} ON ALL TABLES IN SCHEMA public TO {{}}").format(ident),
        sql.SQL(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {DML} ON TABLES TO {{}}").format(ident),
        # Only migrations move the schema version.
        sql.SQL("REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {}").format(ident),
    ]
    with raw.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
    logger.info("application role ready", extra={"role": role, "role_created": exists is None})


def _alembic_config() -> Config:
    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return config


def upgrade(
    *,
    seconds: float,
    app_secret_arn: str | None = None,
    read_secret: SecretReader = aws.read_json_secret,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
) -> str:
    """Upgrade to head (and, given the app role's secret, provision that role) in one
    transaction within ``seconds``; the resulting revision (``"base"`` for none)."""
    deadline = clock() + seconds
    app_secret = read_secret(app_secret_arn) if app_secret_arn else None
    engine = get_engine()
    # Half the time for the database to appear, the rest for the work itself.
    wait_for_database(engine, until=clock() + (deadline - clock()) / 2, clock=clock, sleep=sleep)
    config = _alembic_config()
    with engine.begin() as conn:
        # The server ends the transaction itself before our deadline: no lock is left queued.
        remaining_ms = max(int((deadline - clock()) * 1000) - 2000, 1000)
        conn.execute(text(f"SET LOCAL statement_timeout = {remaining_ms}"))
        conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        if app_secret is not None:
            ensure_app_role(conn, str(app_secret["username"]), str(app_secret["password"]))
        heads = MigrationContext.configure(conn).get_current_heads()
    return "+".join(sorted(heads)) or "base"
