"""One engine per process (Lambda container), reused across invocations.

Connection sources, in order: ``DATABASE_URL`` (local stack, tests); ``DB_HOST`` with an
RDS IAM auth token fetched per *new connection* (RDS Proxy); ``DB_SECRET_ARN`` with the
credentials read from Secrets Manager. The pool is shaped for RDS Proxy: one connection,
pre-ping, recycle under the proxy's idle timeout, and nothing that pins the proxy
connection (no server-side prepared statements, no SET, no temp tables, no sequences).

Every wait on the server has a deadline derived from the function's Timeout
(``Settings.dependency_deadline_seconds``): connecting (libpq's ``connect_timeout``), borrowing
from the pool (``pool_timeout``), and each statement, commit, rollback and idle pre-ping, kept on
the client by :mod:`videogen.data.deadlines` (a frozen server never answers a server-side timeout).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pydantic_core
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from videogen.data import deadlines
from videogen.data.deadlines import watchdog
from videogen.errors import ServiceUnavailable
from videogen.runtime import aws
from videogen.runtime.config import Settings, get_settings

_lock = threading.Lock()
_engine: Engine | None = None
_session_factory: sessionmaker[Session] | None = None
_autocommit_session_factory: sessionmaker[Session] | None = None
_CHECKED_IN_AT = "videogen_checked_in_at"


class DatabaseUnavailable(ServiceUnavailable):
    """The database could not be reached; handlers answer 503."""


def _connect_args(settings: Settings) -> dict[str, Any]:
    # prepare_threshold=None: psycopg's automatic prepared statements pin RDS Proxy
    # connections (and make it send DEALLOCATE ALL on rollback).
    return {"prepare_threshold": None, "connect_timeout": settings.db_connect_deadline_seconds}


def _url_from_secret(settings: Settings) -> URL:
    secret = aws.read_json_secret(str(settings.db_secret_arn))
    return URL.create(
        "postgresql+psycopg",
        username=secret["username"],
        password=secret["password"],
        host=secret.get("host", settings.db_host),
        port=int(secret.get("port", settings.db_port)),
        database=secret.get("dbname", settings.db_name),
        query={"sslmode": settings.db_sslmode},
    )


TokenSource = Callable[[Settings], str]
"""``settings -> IAM auth token`` for a new connection to ``settings.db_host``."""


def rds_auth_token(settings: Settings) -> str:
    """A fresh RDS IAM auth token (15 minutes), signed locally with the function's credentials."""
    return aws.client("rds").generate_db_auth_token(
        DBHostname=str(settings.db_host),
        Port=settings.db_port,
        DBUsername=settings.db_user,
        Region=settings.aws_region,
    )


_token_source: TokenSource = rds_auth_token


def use_token_source(source: TokenSource | None) -> None:
    """Where engines built from now on get their IAM tokens (``None``: RDS, the default).
    Tests and tools pass a fake; the engine in use keeps the source it was built with."""
    global _token_source  # noqa: PLW0603 (one per process)
    _token_source = source or rds_auth_token


def _attach_iam_token(engine: Engine, settings: Settings, source: TokenSource) -> None:
    """Fetch a fresh IAM auth token for every new connection, never one per process."""

    @event.listens_for(engine, "do_connect")
    def _provide_token(dialect: Any, conn_rec: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        cparams["password"] = source(settings)


def build_engine(settings: Settings) -> Engine:
    """Create an engine for the first configured connection source."""
    iam = False
    if settings.database_url is not None:
        url = make_url(settings.database_url.get_secret_value())
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
    elif settings.db_host:
        url = URL.create(
            "postgresql+psycopg",
            username=settings.db_user,
            host=settings.db_host,
            port=settings.db_port,
            database=settings.db_name,
            query={"sslmode": settings.db_sslmode},
        )
        iam = True
    elif settings.db_secret_arn:
        url = _url_from_secret(settings)
    else:
        raise DatabaseUnavailable("no database configured: set DATABASE_URL, DB_HOST or DB_SECRET_ARN")

    engine = create_engine(
        url,
        pool_size=1,
        max_overflow=0,
        pool_recycle=settings.db_pool_recycle_seconds,
        pool_timeout=settings.db_connect_deadline_seconds,
        connect_args=_connect_args(settings),
        # JSONB columns (scenes, character, metadata) parsed in Rust: several times json.loads' speed.
        json_deserializer=pydantic_core.from_json,
    )
    _attach_pre_ping(engine, settings.db_ping_after_idle_seconds, settings.dependency_deadline_seconds)
    deadlines.attach(engine, settings.dependency_deadline_seconds)
    if iam:
        _attach_iam_token(engine, settings, _token_source)
    return engine


def _attach_pre_ping(engine: Engine, idle_seconds: float, deadline_seconds: float) -> None:
    """Pre-ping a pooled connection before use when it sat idle (a frozen Lambda container,
    a proxy that dropped it), not between back-to-back invocations of a warm one.

    SQLAlchemy's own ``pool_pre_ping`` pings on every checkout, and through psycopg in a
    transaction, which costs a BEGIN plus a SELECT 1: two round trips per request. This ping
    is one round trip, in autocommit, and only after ``idle_seconds`` of idleness. A dead
    connection raises ``DisconnectionError`` and the pool reconnects, as with pre-ping.
    """

    @event.listens_for(engine, "checkin")
    def _stamp(dbapi_conn: Any, record: Any) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, proxy: Any) -> None:
        checked_in_at = record.info.get(_CHECKED_IN_AT)
        if checked_in_at is None or time.monotonic() - checked_in_at < idle_seconds:
            return  # fresh from connect, or used moments ago
        autocommit = dbapi_conn.autocommit
        try:
            with watchdog.deadline(dbapi_conn, deadline_seconds):
                dbapi_conn.autocommit = True
                dbapi_conn.execute("SELECT 1")
                dbapi_conn.autocommit = autocommit
        except Exception as exc:
            raise DisconnectionError("pre-ping failed") from exc


def get_engine() -> Engine:
    """The process-wide engine, created on first use (not at import: cold starts stay cheap)."""
    global _engine, _session_factory, _autocommit_session_factory  # noqa: PLW0603 (one per container)
    if _engine is None:
        with _lock:
            if _engine is None:
                engine = build_engine(get_settings())
                _session_factory = sessionmaker(engine, expire_on_commit=False)
                # Autocommit skips BEGIN/COMMIT: two round trips fewer. Autocommit is a psycopg
                # client flag, not session state, so it does not pin an RDS Proxy connection.
                _autocommit_session_factory = sessionmaker(
                    engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
                )
                _engine = engine
    return _engine


def reset_engine() -> None:
    """Dispose the engine so the next use builds a new one, reading its secret afresh (tests,
    settings changes)."""
    global _engine, _session_factory, _autocommit_session_factory  # noqa: PLW0603
    aws.reset_secrets()
    with _lock:
        if _engine is not None:
            _engine.dispose()
        _engine = None
        _session_factory = None
        _autocommit_session_factory = None


@contextmanager
def session_scope(*, autocommit: bool = False) -> Iterator[Session]:
    """A unit of work: commits when the block succeeds, rolls back when it raises.

    ``autocommit=True`` makes each statement its own transaction (no BEGIN/COMMIT round
    trips): for reads, and for units of work that are a single statement, which is atomic
    on its own. Anything that needs two statements to agree takes a real transaction.
    """
    get_engine()
    factory = _autocommit_session_factory if autocommit else _session_factory
    if factory is None:
        raise DatabaseUnavailable("database engine was reset during use")
    session = factory()
    try:
        yield session
        if autocommit:
            session.flush()  # each statement committed as it ran; only pending ORM adds remain
        else:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def check_database_connection() -> dict[str, Any]:
    """``{"connected": bool, "error": str | None}``; never raises, never leaks credentials."""
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"connected": True, "error": None}
    except (SQLAlchemyError, DatabaseUnavailable, OSError) as exc:
        return {"connected": False, "error": _describe(exc)}
    except Exception as exc:
        return {"connected": False, "error": type(exc).__name__}


def _describe(exc: BaseException) -> str:
    """A short, credential-free reason: the exception class, never the DSN or SQL."""
    if isinstance(exc, DatabaseUnavailable):
        return str(exc)
    orig = getattr(exc, "orig", None)
    return type(orig).__name__ if orig is not None else type(exc).__name__
