"""A child process of the local stack: its own process group, its output, its ready line.

Every child runs in its own process group (a Ctrl-C reaches the supervisor only, which stops
the children in order) and, on Linux, dies with the supervisor even if that is killed. A child
is ready once it printed its ``devstack:ready {json}`` line (or, for the fake providers, one
``<name> <url>`` line per ``ready_keys``).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack.logs import Console, parse_ready

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_SECONDS = 90.0
RESTART_LIMIT = 5  # restarts within RESTART_WINDOW_SECONDS before the stack gives up
RESTART_WINDOW_SECONDS = 60.0


class StartupFailed(Exception):
    """A part of the stack could not start; the message says which and why."""


def python_module(module: str, *args: str) -> list[str]:
    """The argv running ``python -m <module> <args>`` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def port_is_free(port: int) -> bool:
    """Whether the gateway could bind ``127.0.0.1:<port>`` now."""
    with socket.socket() as s:
        # As the gateway binds it: connections of a previous run in TIME_WAIT do not count.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _parent_death_signal() -> Callable[[], None] | None:
    """On Linux, a preexec hook asking the kernel to SIGTERM the child when we die."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def hook() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)

    return hook


_DIE_WITH_PARENT = _parent_death_signal()


@dataclass
class Child:
    """A process of the stack: its output goes to the console, its ready line to ``info``."""

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path = REPO_ROOT
    ready_keys: tuple[str, ...] = ()
    restartable: bool = False
    process: subprocess.Popen[str] | None = None
    info: dict[str, Any] = field(default_factory=dict)
    ready: threading.Event = field(default_factory=threading.Event)
    restarts: list[float] = field(default_factory=list)

    def start(self, console: Console) -> None:
        self.ready.clear()
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,  # its own process group: the terminal's Ctrl-C reaches only us
            preexec_fn=_DIE_WITH_PARENT,  # noqa: PLW1509 (only a prctl call between fork and exec)
        )
        if self.process.stdout is None:
            raise RuntimeError("child started without a stdout pipe")
        console.pump(self.name, self.process.stdout, self._on_line)

    def note_exit(self) -> bool:
        """Count an exit; False once it exited more than ``RESTART_LIMIT`` times within
        ``RESTART_WINDOW_SECONDS`` (it keeps failing: restarting again would not help)."""
        now = time.monotonic()
        self.restarts = [t for t in self.restarts if now - t < RESTART_WINDOW_SECONDS] + [now]
        return len(self.restarts) <= RESTART_LIMIT

    def restart(self, console: Console) -> None:
        """Start a fresh process on the port the last one served."""
        port = str(self.info.get("url", "")).rpartition(":")[2]
        if port.isdigit() and "--port" not in self.argv:
            self.argv += ["--port", port]
        self.start(console)

    def _on_line(self, line: str) -> bool:
        payload = parse_ready(line)
        if payload is None and self.ready_keys:
            # ``python -m devstack.fakes`` announces itself with one "<provider> <url>" line per fake.
            key, _, value = line.strip().partition(" ")
            payload = {key: value} if key in self.ready_keys and value.startswith("http") else None
        if payload is None:
            return False
        self.info.update(payload)
        if all(key in self.info for key in self.ready_keys):
            self.ready.set()
        return True

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def signal_group(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signum)

    def wait_ready(self, stopping: threading.Event, timeout: float = READY_TIMEOUT_SECONDS) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while not self.ready.wait(0.1):
            if stopping.is_set():
                raise StartupFailed("stopped while starting")
            code = self.exit_code()
            if code is not None:
                time.sleep(0.2)  # let its last lines reach the console
                raise StartupFailed(f"{self.name} exited with code {code} before it was ready (see above)")
            if time.monotonic() > deadline:
                raise StartupFailed(f"{self.name} was not ready within {timeout:.0f} s")
        return self.info
