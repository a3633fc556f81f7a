"""The local stack's supervisor: the running children, watched until a stop, stopped in reverse.

A runtime that exits (a timed-out invocation ends it, as Lambda resets its environment) is
started again on the same port, unless it keeps exiting; any other child exiting stops the
stack. A first SIGINT or SIGTERM stops it gracefully (SIGTERM to every child's process group,
SIGKILL after a grace period); a second one does not wait for the grace period.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
import time
from types import FrameType
from typing import Any

from devstack.logs import Console
from devstack.process import Child, StartupFailed

STOP_GRACE_SECONDS = 6.0


class Supervisor:
    """Starts children in order, watches them, stops them all."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.children: list[Child] = []
        self.stopping = threading.Event()
        self.forced = threading.Event()

    def say(self, text: str) -> None:
        self.console.line("devstack", text)

    def handle_stop_signals(self) -> None:
        """SIGINT and SIGTERM stop the stack (the second one forcefully)."""
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.stopping.is_set():
            self.forced.set()
            return
        self.say(f"{signal.Signals(signum).name}: stopping")
        self.stopping.set()

    def spawn(self, child: Child) -> Child:
        """Start ``child`` (unless the stack is stopping) and keep it for watching and stopping."""
        if self.stopping.is_set():
            raise StartupFailed("stopped while starting")
        child.start(self.console)
        self.children.append(child)
        return child

    def ready(self, child: Child) -> dict[str, Any]:
        """What ``child`` announced once ready (its URL...); fails if it exits or stalls first."""
        return child.wait_ready(self.stopping)

    def watch(self) -> int:
        """Wait for a stop signal; restart runtimes that exit, give up when anything else does."""
        while not self.stopping.wait(0.2):
            for child in self.children:
                code = child.exit_code()
                if code is None:
                    continue
                if not child.restartable:
                    self.say(f"error: {child.name} exited with code {code}; stopping the stack")
                    return 1
                if not child.note_exit():
                    self.say(f"error: {child.name} keeps exiting (code {code}); stopping the stack")
                    return 1
                self.say(f"{child.name} exited with code {code}; starting a fresh one")
                child.restart(self.console)
        return 0

    def stop_children(self) -> None:
        """SIGTERM every child's process group, newest first; SIGKILL what is left after the
        grace period (at once after a second stop signal)."""
        self.stopping.set()
        alive = [c for c in reversed(self.children) if c.exit_code() is None]
        for child in alive:
            child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while any(c.exit_code() is None for c in alive):
            if self.forced.is_set() or time.monotonic() > deadline:
                for child in alive:
                    child.signal_group(signal.SIGKILL)
                break
            time.sleep(0.05)
        for child in alive:
            if child.process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.process.wait(timeout=2)
