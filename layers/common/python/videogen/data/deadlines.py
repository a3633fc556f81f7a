"""Client-side deadlines for PostgreSQL: a statement, a commit or the idle pre-ping that runs past
its deadline has its connection's socket shut down, so the call raises at once instead of waiting
for a server that may never answer (a frozen host, a network partition, a failover in progress).

A server-side ``statement_timeout`` cannot help when the server itself is stuck, and TCP keeps a
frozen peer's connection open (its kernel still acknowledges), so the deadline is kept here: one
daemon thread per process holds the armed deadlines and, when one passes, shuts the socket down
(both ways). psycopg then reports the connection lost, SQLAlchemy invalidates it, the request
answers 503, and the next one opens a fresh connection (under ``connect_timeout``).
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event


class Watchdog:
    """Armed deadlines, each a connection to cut when it passes; one thread, started on first use."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Any]] = []
        self._armed: dict[int, Any] = {}
        self._counter = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self.cut = 0
        """How many connections a passed deadline cut (tests read it)."""

    def arm(self, dbapi_connection: Any, seconds: float) -> int:
        """Cut ``dbapi_connection`` in ``seconds`` unless disarmed first; the token to disarm."""
        token = next(self._counter)
        deadline = time.monotonic() + seconds
        with self._wake:
            self._armed[token] = dbapi_connection
            # Wake the thread only when this deadline comes first: deadlines of one length arrive
            # in order, so on the hot path (a statement at a time) nothing switches threads.
            first = not self._heap or deadline < self._heap[0][0]
            heapq.heappush(self._heap, (deadline, token, dbapi_connection))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="db-deadlines", daemon=True)
                self._thread.start()
            elif first:
                self._wake.notify()
        return token

    def disarm(self, token: int | None) -> None:
        if token is not None:
            with self._wake:
                self._armed.pop(token, None)

    @contextmanager
    def deadline(self, dbapi_connection: Any, seconds: float) -> Iterator[None]:
        """The block's calls on ``dbapi_connection`` end by ``seconds`` from now, answered or cut."""
        token = self.arm(dbapi_connection, seconds)
        try:
            yield
        finally:
            self.disarm(token)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._heap or (self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._wake.wait(timeout)
                _, token, connection = heapq.heappop(self._heap)
                if self._armed.pop(token, None) is None:
                    continue  # disarmed in time
            sock = _socket_of(connection)
            if sock is None:
                continue
            with sock:
                # Counted before the cut: the thread it wakes may read the count at once.
                self.cut += 1
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    self.cut -= 1  # already gone: nothing was cut


def _socket_of(dbapi_connection: Any) -> socket.socket | None:
    """A socket on a duplicate of the connection's descriptor (closing it leaves the connection's
    own open), or None when the connection has none."""
    try:
        fileno = dbapi_connection.fileno()
    except Exception:
        return None
    try:
        duplicate = os.dup(fileno)
    except OSError:
        return None
    try:
        return socket.socket(fileno=duplicate)
    except OSError:
        os.close(duplicate)
        return None


watchdog = Watchdog()
"""The process's one watchdog."""

_ARMED = "videogen_deadline"


def attach(engine: Engine, seconds: float) -> None:
    """Each statement SQLAlchemy runs on ``engine``, and each commit and rollback, ends within
    ``seconds``, answered or cut; whatever is still armed when a connection goes back to the pool
    is disarmed there. (``statements.Runner`` arms its own statements: SQLAlchemy tells its
    listeners of them without an execution context.)"""

    def arm(conn: Any) -> None:
        if conn.invalidated:
            return  # cut already (or lost): the rollback only resets SQLAlchemy's state
        record = conn.connection
        watchdog.disarm(record.info.pop(_ARMED, None))
        record.info[_ARMED] = watchdog.arm(record.dbapi_connection, seconds)

    def arm_statement(conn: Any, *args: Any) -> None:
        if conn is not None and args[3] is not None:  # args: cursor, statement, parameters, context
            arm(conn)

    def disarm_statement(conn: Any, *args: Any) -> None:
        if conn is not None and args[3] is not None and not conn.invalidated:
            watchdog.disarm(conn.connection.info.pop(_ARMED, None))

    def disarm_failed(context: Any) -> None:
        if context.connection is not None and not context.connection.invalidated:
            watchdog.disarm(context.connection.connection.info.pop(_ARMED, None))

    def disarm_returned(dbapi_connection: Any, record: Any) -> None:
        watchdog.disarm(record.info.pop(_ARMED, None))

    event.listen(engine, "before_cursor_execute", arm_statement)
    event.listen(engine, "after_cursor_execute", disarm_statement)
    event.listen(engine, "handle_error", disarm_failed)
    event.listen(engine, "commit", arm)
    event.listen(engine, "rollback", arm)
    event.listen(engine, "checkin", disarm_returned)
