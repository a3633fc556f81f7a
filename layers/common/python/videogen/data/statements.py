"""Hot statements: SQLAlchemy Core, compiled once per process, run on the pooled psycopg connection.

The hot routes run one or two statements a request, and on a warm container the ORM session
around them (unit of work, identity map, result loading) and SQLAlchemy's per-execution context
cost several times the round trip to the database. A :class:`Statement` is built with SQLAlchemy
Core from the same models and compiled once, on first use (or before a SnapStart snapshot); a
:class:`Runner` sends it straight to the connection :mod:`videogen.data.db`'s pool lends (so the
pool's pre-ping, IAM tokens and limits apply), with SQLAlchemy's ``before_cursor_execute``
listeners still told of every statement. Database errors come out as SQLAlchemy's (``DBAPIError``
subclasses, a lost connection invalidated), so error handling is the same as on the ORM path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import Any

import psycopg
from sqlalchemy import Engine, exc
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

from videogen.data.db import get_engine
from videogen.data.deadlines import watchdog
from videogen.runtime import snapstart
from videogen.runtime.config import get_settings

_DIALECT = PGDialect_psycopg()  # type: ignore[no-untyped-call]
_built: list[Statement] = []
_lock = threading.Lock()


class Statement:
    """A Core statement with bound parameters, compiled once: its SQL and its parameters'
    bind processors (JSONB values wrapped for psycopg)."""

    def __init__(self, build: Callable[[], ClauseElement]) -> None:
        self._build = build
        with _lock:
            _built.append(self)

    @cached_property
    def _compiled(self) -> tuple[str, Any, dict[str, Callable[[Any], Any]], dict[str, Any]]:
        compiled: Any = self._build().compile(dialect=_DIALECT)
        processors = {}
        for bind, name in compiled.bind_names.items():
            processor = bind.type.dialect_impl(_DIALECT).bind_processor(_DIALECT)
            if processor is not None:
                processors[name] = processor
        sql, constants = compiled.string, {}
        if compiled.post_compile_params:
            # IN lists of constants (job statuses): expanded once, their items sent as parameters.
            expanded = compiled._process_parameters_for_postcompile(compiled.construct_params(_check=False))
            sql = expanded.statement
            known = set(compiled.bind_names.values())
            constants = {k: v for k, v in expanded.parameters.items() if k not in known}
        return sql, compiled, processors, constants

    @property
    def sql(self) -> str:
        return self._compiled[0]

    def parameters(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` by bind name, processed as SQLAlchemy would before sending them."""
        _, compiled, processors, constants = self._compiled
        params: dict[str, Any] = compiled.construct_params(values, _check=False)
        for name, processor in processors.items():
            value = params.get(name)
            if value is not None:
                params[name] = processor(value)
        if constants:
            params.update(constants)
        return params


def compile_all() -> int:
    """Compile every statement defined so far (before a SnapStart snapshot); how many."""
    with _lock:
        statements = list(_built)
    for statement in statements:
        _ = statement.sql
    return len(statements)


snapstart.on_prime(compile_all)


class Runner:
    """Runs :class:`Statement` s on one psycopg connection, rows as tuples in select order."""

    def __init__(self, dbapi: psycopg.Connection[Any], engine: Engine, sa_connection: Any = None) -> None:
        self._dbapi = dbapi
        self._engine = engine
        self._sa_connection = sa_connection

    @classmethod
    def of(cls, session: Session) -> Runner:
        """The session's own connection and transaction (for callers holding an ORM session)."""
        connection = session.connection()
        return cls(connection.connection.dbapi_connection, connection.engine, connection)  # type: ignore[arg-type]

    def rows(self, statement: Statement, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        sql, params = statement.sql, statement.parameters(values)
        if self._engine.dispatch.before_cursor_execute:
            for listener in self._engine.dispatch.before_cursor_execute:
                listener(self._sa_connection, None, sql, params, None, False)
        try:
            with watchdog.deadline(self._dbapi, get_settings().dependency_deadline_seconds):
                cursor = self._dbapi.execute(sql, params)
                # pgresult.nfields, not description: description builds a Column object per column.
                result = cursor.pgresult
                return cursor.fetchall() if result is not None and result.nfields else []
        except psycopg.Error as error:
            raise exc.DBAPIError.instance(sql, params, error, psycopg.Error) from error

    def row(self, statement: Statement, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row (``None``: none)."""
        found = self.rows(statement, values)
        return found[0] if found else None


def runner_for(session_or_runner: Session | Runner) -> Runner:
    """``session_or_runner`` as a :class:`Runner` (repository functions take either)."""
    return session_or_runner if isinstance(session_or_runner, Runner) else Runner.of(session_or_runner)


@contextmanager
def connection(*, transaction: bool = False) -> Iterator[Runner]:
    """A pooled connection for the block: each statement its own transaction (autocommit), or,
    with ``transaction=True``, one transaction committed when the block succeeds."""
    engine = get_engine()
    try:
        pooled = engine.raw_connection()
    except psycopg.Error as error:
        raise exc.DBAPIError.instance(None, None, error, psycopg.Error) from error
    dbapi: psycopg.Connection[Any] = pooled.driver_connection  # type: ignore[assignment]
    try:
        dbapi.autocommit = not transaction
        yield Runner(dbapi, engine)
        if transaction:
            with watchdog.deadline(dbapi, get_settings().dependency_deadline_seconds):
                dbapi.commit()
    except BaseException as error:
        _settle(pooled, dbapi, engine, error)
        raise
    finally:
        if not dbapi.closed:
            dbapi.autocommit = False  # as the pool's other users expect it
        pooled.close()


def _settle(pooled: Any, dbapi: psycopg.Connection[Any], engine: Engine, error: BaseException) -> None:
    """After a failure: roll back, and drop the connection from the pool if it is lost."""
    original = getattr(error, "orig", error)
    dialect: Any = engine.dialect
    lost = isinstance(original, psycopg.Error) and dialect.is_disconnect(original, dbapi, None)
    if dbapi.closed or dbapi.broken or lost:
        pooled.invalidate(original if isinstance(original, Exception) else None)
        return
    try:
        dbapi.rollback()
    except psycopg.Error:
        pooled.invalidate()


def values_of(names: Iterable[str], row: Sequence[Any]) -> dict[str, Any]:
    """A row as ``{name: value}`` for ``names`` in select order."""
    return dict(zip(names, row, strict=True))
