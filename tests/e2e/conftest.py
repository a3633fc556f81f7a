"""The local stack started for real (``python -m devstack``, what ``make dev`` runs) on a free
port, its data in a temporary DEVSTACK_HOME (never the developer's .local/), fake providers
finishing in a second; tests drive it over HTTP with urllib, as a client would.

One stack serves the whole session, started with the fault knobs (``FAULT_KNOBS``): the
control socket (PostgreSQL or moto down for a while, a function killed), every queue message
delivered three times, short visibility timeouts and poll leases. Everything else must work
the same under them, which is itself a test of at-least-once delivery."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from devstack import control
from devstack.postgres import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_SECONDS = 120.0
CORS_ORIGINS = ("http://localhost:3000", "http://localhost:5173")
FAULT_KNOBS = {
    "DEVSTACK_CONTROL": "1",
    "SQS_DELIVERIES": "3",
    # Redelivery after a crash within seconds; longer than any one invocation of these tests.
    "VISIBILITY_TIMEOUT_SECONDS": "8",
    # A poll lease shorter than the visibility timeout, so a redelivered poll is due again.
    "FUNCTION_SETTINGS": "POLL_MAX_DELAY_SECONDS=3,CLEANUP_STALE_AFTER_SECONDS=3",
    "SWEEP_INTERVAL_SECONDS": "2",
}
# A client that never goes through an HTTP(S)_PROXY: everything here is on loopback.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Answer:
    """An HTTP answer: status, lower-case headers, the body (JSON decoded when it is JSON)."""

    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


def http(
    method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
) -> Answer:
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)  # noqa: S310 (http on loopback)
    try:
        with OPENER.open(request, timeout=30) as response:
            return Answer(
                response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
            )
    except urllib.error.HTTPError as error:
        return Answer(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


@dataclass
class RunningStack:
    """A ``python -m devstack`` process and what it printed."""

    process: subprocess.Popen[str]
    base_url: str
    home: Path
    lines: list[str] = field(default_factory=list)

    def call(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        user: str | None = "alice",
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """A JSON API call as ``user`` (``X-Dev-User``); ``payload`` None sends no body."""
        all_headers = {"Accept": "application/json"}
        if user is not None:
            all_headers["X-Dev-User"] = user
        body = None
        if payload is not None:
            body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            all_headers["Content-Type"] = "application/json"
        all_headers |= headers or {}
        return http(method, self.base_url + path, body=body, headers=all_headers)

    def output(self) -> str:
        return "\n".join(self.lines[-80:])

    def descendants(self) -> set[int]:
        """Every process below the stack (its children, their children)."""
        table = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True, check=True)
        children: dict[int, list[int]] = {}
        for row in table.stdout.splitlines():
            pid, ppid = (int(v) for v in row.split())
            children.setdefault(ppid, []).append(pid)
        found: set[int] = set()
        pending = [self.process.pid]
        while pending:
            for child in children.get(pending.pop(), []):
                if child not in found:
                    found.add(child)
                    pending.append(child)
        return found

    def control(self, command: str) -> str:
        """A fault command through the stack's control socket (see devstack.control)."""
        return control.send(self.home, command)

    def fake_origin(self, provider: str) -> str:
        """``http://127.0.0.1:<port>`` of a fake provider, from the ready lines."""
        for line in self.lines:
            words = line.split()
            if "fake" in words and provider in words:
                url = words[words.index(provider) + 1]
                return url.removesuffix("/v1")
        raise AssertionError(f"no fake {provider} in the output:\n{self.output()}")

    def fake_records(self, provider: str) -> Any:
        """What the fake provider recorded (creates by prompt, cancels, slow polls in flight)."""
        return http("GET", self.fake_origin(provider) + "/__fake__/records").json

    def postmaster_pid(self) -> int | None:
        pid_file = self.home / "pgdata" / "postmaster.pid"
        return int(pid_file.read_text().split()[0]) if pid_file.exists() else None

    def interrupt(self, timeout: float = 20.0) -> tuple[int, float]:
        """Ctrl-C (SIGINT); the exit code and how long it took to exit."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=timeout)
        return code, time.monotonic() - started


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie awaiting its reaper does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return state != "Z"


PORT_ATTEMPTS = 3


def start_stack(home: Path, port: int, knobs: dict[str, str] = FAULT_KNOBS) -> RunningStack:
    """Start ``python -m devstack`` (with the fault knobs unless told otherwise) and wait for its
    ready line. A free port can be taken before the stack binds it (another worker's outgoing
    connection draws from the same range): then it starts again on another one."""
    for _ in range(PORT_ATTEMPTS - 1):
        started = _start(home, port, knobs)
        if started.process.poll() is None or "is in use" not in started.output():
            return started
        port = free_port()
    return _start(home, port, knobs)


def stack_port_of(stack: RunningStack) -> int:
    return int(stack.base_url.rsplit(":", 1)[1])


def _start(home: Path, port: int, knobs: dict[str, str]) -> RunningStack:
    env = dict(os.environ) | {
        "PORT": str(port),
        "DEVSTACK_HOME": str(home),
        "FAKE_PROVIDER_SECONDS": "1",
        "LOG_LEVEL": "INFO",
        "CORS_ORIGINS": ",".join(CORS_ORIGINS),
        **knobs,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack"],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    stack = RunningStack(process, f"http://127.0.0.1:{port}", home)
    ready = threading.Event()
    banner = f"videogen local stack ready on http://127.0.0.1:{port}"

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            stack.lines.append(line.rstrip("\n"))
            if banner in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not ready.wait(0.2):
        if process.poll() is not None and "is in use" in stack.output():
            return stack  # start_stack tries another port
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the local stack did not start:\n{stack.output()}")
    return stack


@pytest.fixture(scope="session")
def stack_home() -> Iterator[Path]:
    """A DEVSTACK_HOME for the session; the postgres user must reach pgdata inside it."""
    home = Path(tempfile.mkdtemp(prefix="videogen-e2e-"))
    home.chmod(0o755)
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def stack_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def stack(stack_home: Path, stack_port: int) -> Iterator[RunningStack]:
    """The running stack, shared by the session (test_local_stack stops it with Ctrl-C and puts
    the stack it starts again in its place)."""
    running = start_stack(stack_home, stack_port)
    yield running
    if running.process.poll() is None:
        code, _ = running.interrupt()
        assert code == 0, running.output()


E2E_GROUPS = {
    "local-stack-faults": (
        "test_faults.py",
        "test_jobs_through_the_stack.py",
        "test_references_through_the_stack.py",
    ),
    "local-stack-fuzz": ("test_fuzz.py", "test_films.py"),
    "local-stack-restart": ("test_local_stack.py", "test_clips_and_films.py", "test_editor.py"),
}
"""The e2e files by group (about a quarter of the e2e time each); every other file (the rest of the
browser tests) is in ``local-stack-browser``."""


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own, which reads the marks into node ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``--dist loadgroup``, as ``make test`` runs), the e2e tests run as four
    groups of about the same length, each on one worker with its own local stack (a PostgreSQL,
    moto, fakes and a process per function). Most of their time is spent waiting (on the fakes'
    clock, on a stopped PostgreSQL, on Chromium), so ``make test`` runs two workers more than there
    are cores (tests/conftest.py), and the unit and integration tests fill the workers meanwhile."""
    e2e = Path(__file__).parent
    for item in items:
        if e2e in item.path.parents:
            group = next(
                (name for name, files in E2E_GROUPS.items() if item.path.name in files),
                "local-stack-browser",
            )
            item.add_marker(pytest.mark.xdist_group(group))
