"""Faults on demand in a running local stack, for the fault tests and for trying them by hand.

With ``DEVSTACK_CONTROL=1`` the stack listens on the Unix socket ``$DEVSTACK_HOME/control.sock``
(mode 0600: its own user only; nothing listens without the knob). One command per connection,
one line back, ``ok ...`` or ``error ...``:

- ``postgres down <seconds>``: stop PostgreSQL now (fast shutdown), start it again after that long;
- ``aws down <seconds>``: moto stops serving (connections refused, open ones cut) and comes back
  after that long with its queues, objects and keys as they were;
- ``postgres freeze <seconds>``, ``aws freeze <seconds>``: the processes stopped (SIGSTOP) with
  their connections left open, as a frozen host, a partition or a failover in progress looks to a
  client (it connects, sends, and waits), then resumed (SIGCONT) after that long;
- ``kill <function>``: SIGKILL a function's process, as a crashed Lambda environment; the
  supervisor starts a fresh one.

``python -m devstack.control postgres down 10`` sends one to the stack whose ``DEVSTACK_HOME``
is in the environment (default ``.local``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import socketserver
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from devstack.postgres import EmbeddedPostgres
from devstack.process import Child, StartupFailed
from devstack.supervisor import Supervisor

SOCKET_NAME = "control.sock"
MAX_DOWN_SECONDS = 300.0
_UNIX_PATH_MAX = 107


class ControlError(RuntimeError):
    """The stack refused or could not run a command."""


@dataclass
class Controls:
    """What the commands do to the stack's parts; restarts pending after a ``down`` are timers."""

    supervisor: Supervisor
    postgres: EmbeddedPostgres
    _timers: list[threading.Timer] = field(default_factory=list)
    _frozen: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, line: str) -> str:
        """Run one command line; the answer's text (``ControlError`` when refused)."""
        words = line.split()
        match words:
            case ["postgres", "down", seconds]:
                self.postgres.stop("fast")
                self._later(_seconds(seconds), self._postgres_up)
                return f"postgres down for {seconds} s"
            case ["aws", "down", seconds]:
                aws = self._child("aws")
                aws.signal_group(signal.SIGUSR1)
                self._later(_seconds(seconds), lambda: aws.signal_group(signal.SIGUSR2))
                return f"aws down for {seconds} s"
            case ["postgres", "freeze", seconds]:
                self._freeze(self.postgres.server_pids(), _seconds(seconds))
                return f"postgres frozen for {seconds} s"
            case ["aws", "freeze", seconds]:
                aws = self._child("aws")
                self._freeze([aws.pid] if aws.pid is not None else [], _seconds(seconds))
                return f"aws frozen for {seconds} s"
            case ["kill", name]:
                child = self._child(name)
                if not child.restartable:
                    raise ControlError(f"{name} is not a function")
                child.signal_group(signal.SIGKILL)
                return f"{name} killed"
        raise ControlError(f"unknown command {line.strip()!r}")

    def close(self) -> None:
        """Cancel pending restarts (the stack is stopping and stops everything itself), and resume
        what is frozen at once: a stopped process cannot shut down."""
        with self._lock:
            for timer in self._timers:
                timer.cancel()
            self._thaw(set(self._frozen))

    def _freeze(self, pids: list[int], seconds: float) -> None:
        if not pids:
            raise ControlError("nothing runs to freeze")
        with self._lock:
            self._frozen |= set(pids)
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
        timer = threading.Timer(seconds, self._thaw_locked, args=(set(pids),))
        timer.daemon = True
        with self._lock:
            self._timers.append(timer)
        timer.start()

    def _thaw_locked(self, pids: set[int]) -> None:
        with self._lock:
            self._thaw(pids)

    def _thaw(self, pids: set[int]) -> None:
        for pid in pids & self._frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self._frozen -= pids

    def _postgres_up(self) -> None:
        if not self.postgres.running():
            self.postgres.start()

    def _later(self, seconds: float, action: Callable[[], None]) -> None:
        def guarded() -> None:
            with self._lock:
                if not self.supervisor.stopping.is_set():
                    action()

        timer = threading.Timer(seconds, guarded)
        timer.daemon = True
        with self._lock:
            self._timers.append(timer)
        timer.start()

    def _child(self, name: str) -> Child:
        found = [c for c in self.supervisor.children if c.name == name]
        if not found:
            raise ControlError(f"no part named {name!r}")
        return found[-1]


def _seconds(raw: str) -> float:
    try:
        seconds = float(raw)
    except ValueError:
        raise ControlError(f"{raw!r} is not a number of seconds") from None
    if not 0 < seconds <= MAX_DOWN_SECONDS:
        raise ControlError(f"seconds must be within (0, {MAX_DOWN_SECONDS:g}]")
    return seconds


class ControlServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """The control socket: one line in, one line out."""

    daemon_threads = True

    def __init__(self, path: Path, controls: Controls) -> None:
        if len(str(path)) > _UNIX_PATH_MAX:
            raise StartupFailed(f"{path} is too long for a Unix socket: set a shorter DEVSTACK_HOME")
        path.unlink(missing_ok=True)
        self.path = path
        self.controls = controls
        previous = os.umask(0o177)  # created 0600: only this user may send faults
        try:
            super().__init__(str(path), _Handler)
        finally:
            os.umask(previous)

    def start(self) -> None:
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()

    def close(self) -> None:
        self.controls.close()
        self.shutdown()
        self.server_close()
        self.path.unlink(missing_ok=True)


class _Handler(socketserver.StreamRequestHandler):
    server: ControlServer

    def handle(self) -> None:
        line = self.rfile.readline(1024).decode(errors="replace")
        try:
            answer = "ok " + self.server.controls.run(line)
        except (ControlError, OSError) as exc:
            answer = f"error {exc}"
        self.wfile.write(answer.encode() + b"\n")


def send(home: Path, command: str, timeout: float = 60.0) -> str:
    """Send ``command`` to the stack whose data lives in ``home``; its answer (``ControlError``
    when it refused)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout)
        connection.connect(str(home / SOCKET_NAME))
        connection.sendall(command.encode() + b"\n")
        answer = connection.makefile("rb").readline().decode().strip()
    if not answer.startswith("ok "):
        raise ControlError(answer.removeprefix("error ").strip() or "no answer")
    return answer[3:]


def main(argv: list[str] | None = None) -> int:
    """``python -m devstack.control <command...>``: send one command, print the answer."""
    from devstack.environment import Options  # noqa: PLC0415

    words = sys.argv[1:] if argv is None else argv
    home = Options.from_env(os.environ).home
    try:
        print(send(home, " ".join(words)))
    except (ControlError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
