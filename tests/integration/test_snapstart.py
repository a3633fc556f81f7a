"""SnapStart: a process restored from a snapshot opens its own connection with a fresh IAM token.

The hooks run as Lambda's runtime runs them, through ``snapshot_restore_py``'s registry (before
the snapshot in reverse order of registration, after a restore in order), in this process: a
request before, the snapshot, the restore, a request after.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from snapshot_restore_py import get_after_restore, get_before_snapshot

from tests.support import invoke, load_event, load_function
from tools.harness import reset_process_state
from videogen.data import db
from videogen.runtime import snapstart
from videogen.runtime.config import Settings

health = load_function("health")


def snapshot_and_restore() -> None:
    """What Lambda does around a snapshot: the before-snapshot hooks, then (in a new execution
    environment) the after-restore hooks."""
    for hook, args, kwargs in reversed(get_before_snapshot()):
        hook(*args, **kwargs)
    for hook, args, kwargs in get_after_restore():
        hook(*args, **kwargs)


def pool_backends(postgres: Any) -> set[int]:
    """Backend pids of the test database other than this probe's own connection."""
    with psycopg.connect(postgres.url("videogen_test").replace("+psycopg", ""), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = 'videogen_test' AND pid <> pg_backend_pid()"
        ).fetchall()
    return {row[0] for row in rows}


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def ready() -> Any:
    result = invoke(health.lambda_handler, load_event("health.ready.200"))
    assert result.body == {"status": "healthy", "database": "connected"}
    return result


def test_every_api_function_registers_the_hooks_with_the_runtime() -> None:
    assert snapstart.install()
    assert snapstart.before_snapshot in [hook for hook, _, _ in get_before_snapshot()]
    assert snapstart.after_restore in [hook for hook, _, _ in get_after_restore()]


def test_a_restored_process_opens_a_new_database_connection(clean_db: Any) -> None:
    # Given a warm process whose pool holds one connection
    ready()
    before = pool_backends(clean_db)
    assert len(before) == 1

    # When the snapshot is taken, that connection is closed: no copy inherits it
    snapshot_and_restore()
    wait_for(lambda: not pool_backends(clean_db) & before)

    # Then the first request after the restore opens a connection of its own
    ready()
    after = pool_backends(clean_db)
    assert len(after) == 1
    assert after.isdisjoint(before)


@pytest.fixture
def iam_settings(clean_db: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The process on DB_HOST with IAM tokens from a fake source (the local server trusts any
    password, and has no TLS); yields the tokens handed out."""
    issued: list[str] = []

    def fake_token(settings: Settings) -> str:
        issued.append(f"token-{len(issued) + 1}-for-{settings.db_user}@{settings.db_host}")
        return issued[-1]

    monkeypatch.delenv("DATABASE_URL")
    for name, value in {
        "DB_HOST": "127.0.0.1",
        "DB_PORT": str(clean_db.port),
        "DB_NAME": "videogen_test",
        "DB_USER": "postgres",
        "DB_SSLMODE": "disable",
    }.items():
        monkeypatch.setenv(name, value)
    db.use_token_source(fake_token)
    reset_process_state()
    try:
        yield issued
    finally:
        db.use_token_source(None)
        monkeypatch.undo()
        reset_process_state()


def test_a_restored_process_fetches_a_new_iam_token_for_its_new_connection(iam_settings: list[str]) -> None:
    # Given a process that connected once with an IAM token
    ready()
    ready()  # the pooled connection is reused: no second token
    assert iam_settings == ["token-1-for-postgres@127.0.0.1"]

    # When it is snapshotted and restored, the next connection gets a token of its own
    snapshot_and_restore()
    ready()

    assert iam_settings == ["token-1-for-postgres@127.0.0.1", "token-2-for-postgres@127.0.0.1"]


def test_a_restore_reseeds_random_so_copies_of_one_snapshot_differ() -> None:
    # Given the generator state a snapshot froze
    random.seed(1234)
    frozen = random.getstate()
    expected = random.random()
    random.setstate(frozen)

    # When a copy restores, its next number is not the one every copy would draw
    snapstart.after_restore()

    assert random.random() != expected
