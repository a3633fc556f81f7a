"""A database that cannot lend a connection answers 503 ``{error}``, never a 500 or a hang.

Deployed, RDS Proxy answers a client it cannot serve within ``ConnectionBorrowTimeout`` with an
error, and PostgreSQL refuses connections past its limits; inside one process the pool of one
can be busy. Each is reproduced here against the real PostgreSQL, with short timeouts.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from devstack.postgres import EmbeddedPostgres
from tests.support import invoke, load_event, load_function
from videogen.data.db import get_engine

storyboards_handler = load_function("storyboards").lambda_handler


def _list_storyboards() -> tuple[int, object]:
    result = invoke(storyboards_handler, load_event("storyboards.list.200"))
    return result.status, result.body


def test_a_pool_that_cannot_lend_answers_503(configure: Callable[..., None]) -> None:
    # Given the process's pool of one, already lent, and a one-second wait for it
    configure(db_connect_timeout_seconds=1)
    with get_engine().connect() as held:
        held.execute(text("SELECT 1"))
        # When a request needs a connection
        status, body = _list_storyboards()
    # Then it gets a clean 503 with the error shape, not a 500
    assert status == 503
    assert body == {"error": "Service temporarily unavailable, try again"}
    # And once the connection is back, the next request is served
    assert _list_storyboards()[0] == 200


@pytest.fixture
def saturated_role(postgres: EmbeddedPostgres) -> Iterator[str]:
    """A login role whose connection limit (1) is already reached; yields its database URL."""
    role = f"saturated_{uuid.uuid4().hex[:8]}"
    admin_url = make_url(postgres.url("videogen_test"))
    with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 1'))
    url = admin_url.set(username=role)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(dsn):
            yield url.render_as_string(hide_password=False)
    finally:
        with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"), {"r": role}
            )
            conn.execute(text(f'DROP ROLE "{role}"'))


def test_too_many_clients_answers_503(saturated_role: str, configure: Callable[..., None]) -> None:
    # Given a database that refuses one more connection for our role ("too many connections")
    configure(database_url=saturated_role, db_connect_timeout_seconds=1)
    # When a request needs one
    status, body = _list_storyboards()
    # Then it is a 503 with the error shape
    assert status == 503
    assert body == {"error": "Service temporarily unavailable, try again"}
