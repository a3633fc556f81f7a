"""A PostgreSQL that stops answering without closing its connections (a frozen host, a partition, a
failover in progress: here its processes stopped with SIGSTOP) is given up within the deadline the
function's Timeout allows, the broken connection is dropped, and once the server answers again the
next request succeeds without a restart."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from devstack.postgres import EmbeddedPostgres
from tests.support import invoke, load_event, load_function
from videogen.data import statements
from videogen.data.db import DatabaseUnavailable, session_scope
from videogen.data.deadlines import watchdog
from videogen.data.repositories import storyboards
from videogen.runtime.config import get_settings

FUNCTION_TIMEOUT = 4  # seconds: a dependency deadline of 1.2 s, a connect timeout of 2 s


@contextmanager
def frozen(pg: EmbeddedPostgres) -> Iterator[None]:
    pids = pg.server_pids()
    assert len(pids) > 1  # the postmaster and the backends holding our connections
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


@pytest.fixture
def short_timeout(configure: Callable[..., None], postgres: EmbeddedPostgres) -> EmbeddedPostgres:
    configure(function_timeout_seconds=FUNCTION_TIMEOUT)
    return postgres


def in_time[T](call: Callable[[], T]) -> T:
    """``call``'s result (or what it raised), which must come before the function's Timeout: on a
    thread, so that a call that hangs fails the test instead of hanging it (the server thaws when
    the test leaves ``frozen``, and the call then ends)."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as error:
            outcome.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(FUNCTION_TIMEOUT)
    assert outcome, f"still waiting after the function's Timeout ({FUNCTION_TIMEOUT} s)"
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]  # type: ignore[no-any-return]


def gives_up_in_time(call: Callable[[], Any]) -> None:
    """Run ``call`` against the frozen server: it must raise a database error, in time."""
    with pytest.raises((OperationalError, DatabaseUnavailable)):
        in_time(call)


def select_one() -> None:
    with session_scope() as s:
        s.execute(text("SELECT 1"))


def test_a_frozen_server_is_given_up_in_time_and_the_next_request_after_it_thaws_succeeds(short_timeout):
    settings = get_settings()
    assert settings.dependency_deadline_seconds < FUNCTION_TIMEOUT / 2
    select_one()  # a pooled connection, open and idle, as in a warm container
    cut_before = watchdog.cut

    with frozen(short_timeout):
        # Then a statement on the open connection is cut at its deadline, through the ORM path
        gives_up_in_time(select_one)
        assert watchdog.cut == cut_before + 1
        # and the next one cannot connect either, within libpq's connect timeout
        gives_up_in_time(select_one)

    # When the server answers again: no restart, the next request opens a fresh connection
    select_one()


def test_the_compiled_statement_path_is_cut_at_its_deadline_too(short_timeout, make_storyboard):
    board = make_storyboard("user-a")
    with statements.connection() as runner:
        assert storyboards.get(runner, "user-a", board.id) is not None
    cut_before = watchdog.cut

    with frozen(short_timeout):
        with statements.connection() as runner:
            gives_up_in_time(lambda: storyboards.get(runner, "user-a", board.id))
        assert watchdog.cut == cut_before + 1

    with statements.connection() as runner:
        assert storyboards.get(runner, "user-a", board.id) is not None


def test_an_api_request_during_the_freeze_answers_503_with_retry_after_then_200(short_timeout, aws):
    handler = load_function("storyboards").lambda_handler
    event = load_event("storyboards.list.200")
    assert invoke(handler, event).status == 200

    with frozen(short_timeout):
        answer = in_time(lambda: invoke(handler, event))

    assert answer.status == 503
    assert answer.body == {"error": "Service temporarily unavailable, try again"}
    assert answer.headers["retry-after"] == str(get_settings().retry_after_seconds)
    assert invoke(handler, event).status == 200
