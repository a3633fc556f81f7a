"""The local stack's supervisor: ``make dev`` (``python -m devstack``).

It starts, in order, and stops in reverse:

1. PostgreSQL from the machine's binaries, data in ``$DEVSTACK_HOME/pgdata`` (default
   ``.local/``, kept across runs), as the ``postgres`` user when run as root; then
   ``alembic upgrade head``;
2. moto (``devstack.aws``) with the template's queues, dead-letter queue, bucket and KMS key,
   and the fake Sora and Veo servers (``devstack.fakes``), side by side;
3. one runtime process per function the template invokes (``devstack.runtime``), each with
   the template's environment variables for that function, their values pointed at the
   local endpoints;
4. the queue poller and scheduler (``devstack.poller``) and the API gateway
   (``devstack.gateway``) on ``127.0.0.1:$PORT``.

Every child runs in its own process group (a Ctrl-C reaches the supervisor only, which stops
the children in order) and, on Linux, dies with the supervisor even if that is killed. A
runtime that exits (a timed-out invocation ends it, as Lambda resets its environment) is
started again on the same port; any other child exiting stops the stack.

Environment knobs: ``PORT`` (3000), ``FAKE_PROVIDER_SECONDS`` (5: how long a fake provider
takes to finish a video), ``SWEEP_INTERVAL_SECONDS`` (60: the sweeper's schedule),
``LOG_LEVEL`` (INFO), ``DEVSTACK_HOME`` (``<repo>/.local``: where data lives).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from devstack.logs import Console, log_level, parse_ready
from devstack.postgres import EmbeddedPostgres, PostgresNotInstalled, free_port
from devstack.template import REGION, Function, Resolver, Template, load

REPO_ROOT = Path(__file__).resolve().parents[2]
DEV_HMAC_SECRET = "devstack-local-hmac-secret-not-for-production"  # noqa: S105 (a local dev value)
READY_TIMEOUT_SECONDS = 90.0
STOP_GRACE_SECONDS = 6.0
RESTART_LIMIT = 5  # runtime restarts within RESTART_WINDOW_SECONDS before the stack gives up
RESTART_WINDOW_SECONDS = 60.0
# RDS Proxy settings: locally the functions reach PostgreSQL through DATABASE_URL instead.
RDS_PROXY_SETTINGS = frozenset({"DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_SECRET_ARN"})


class StartupFailed(Exception):
    """A part of the stack could not start; the message says which and why."""


@dataclass(frozen=True)
class Options:
    """The stack's knobs, from the environment."""

    home: Path
    port: int = 3000
    provider_seconds: float = 5.0
    sweep_interval: float = 60.0
    log_level: str = "INFO"
    template: Path = REPO_ROOT / "template.yaml"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Options:
        def number(name: str, default: float, convert: Callable[[str], Any]) -> Any:
            raw = environ.get(name, "").strip()
            if not raw:
                return default
            try:
                value = convert(raw)
            except ValueError:
                raise StartupFailed(f"{name}={raw!r} is not a number") from None
            if value < 0:
                raise StartupFailed(f"{name} must not be negative")
            return value

        home = environ.get("DEVSTACK_HOME", "").strip()
        return cls(
            home=Path(home).resolve() if home else REPO_ROOT / ".local",
            port=number("PORT", 3000, int),
            provider_seconds=number("FAKE_PROVIDER_SECONDS", 5.0, float),
            sweep_interval=number("SWEEP_INTERVAL_SECONDS", 60.0, float) or 60.0,
            log_level=log_level(),
        )


# --- child processes --------------------------------------------------------------------------------


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

    def _on_line(self, line: str) -> bool:
        payload = parse_ready(line)
        if payload is None and self.ready_keys:
            # ``python -m devstack.fakes`` announces itself with "sora <url>" and "veo <url>" lines.
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


# --- environments -----------------------------------------------------------------------------------


def _settings_names() -> frozenset[str]:
    from videogen.config import Settings  # noqa: PLC0415

    return frozenset(name.upper() for name in Settings.model_fields)


def base_environment(aws_endpoint: str | None = None) -> dict[str, str]:
    """What every child inherits: our environment without any app setting or AWS identity
    (a developer's DATABASE_URL or AWS profile must never reach a local function), plus fake
    credentials, the region and moto's endpoint."""
    settings = _settings_names()
    env = {
        k: v
        for k, v in os.environ.items()
        if k.upper() not in settings and not k.startswith(("AWS_", "POWERTOOLS_"))
    }
    loopback = "127.0.0.1,localhost"
    env |= {
        "AWS_ACCESS_KEY_ID": "devstack",
        "AWS_SECRET_ACCESS_KEY": "devstack",  # moto accepts anything; never a real account
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": log_level(),
        "NO_PROXY": ",".join(filter(None, (env.get("NO_PROXY"), loopback))),
        "no_proxy": ",".join(filter(None, (env.get("no_proxy"), loopback))),
    }
    if aws_endpoint:
        env["AWS_ENDPOINT_URL"] = aws_endpoint
    return env


@dataclass(frozen=True)
class Endpoints:
    """Where the local stand-ins listen."""

    database_url: str
    aws: str
    sora: str
    veo: str
    log_level: str


def function_environment(function: Function, resolver: Resolver, endpoints: Endpoints) -> dict[str, str]:
    """The function's template variables with local values; nothing the template lacks.

    Two replacements, both with names videogen.config reads: the RDS Proxy settings
    (``DB_HOST``...) become ``DATABASE_URL``, and ``API_KEY_HMAC_SECRET_ARN`` (a Secrets
    Manager secret) becomes ``API_KEY_HMAC_SECRET`` with a local dev value. Values that exist
    only in AWS are left out.
    """
    overrides = {
        "SORA_BASE_URL": endpoints.sora,
        "VEO_BASE_URL": endpoints.veo,
        "POWERTOOLS_LOG_LEVEL": endpoints.log_level,
    }
    env: dict[str, str] = {}
    for name, value in function.environment.items():
        if name in RDS_PROXY_SETTINGS:
            env["DATABASE_URL"] = endpoints.database_url
        elif name == "API_KEY_HMAC_SECRET_ARN":
            env["API_KEY_HMAC_SECRET"] = DEV_HMAC_SECRET
        elif name in overrides:
            env[name] = overrides[name]
        else:
            resolved = resolver.resolve_string(value)
            if resolved is not None:
                env[name] = resolved
    return env


# --- the stack --------------------------------------------------------------------------------------


def _python(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def _port_is_free(port: int) -> bool:
    with socket.socket() as s:
        # As the gateway binds it: connections of a previous run in TIME_WAIT do not count.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def migrate(database_url: str) -> tuple[str | None, str | None]:
    """``alembic upgrade head`` (migrations/alembic.ini); the revisions before and after."""
    from alembic import command  # noqa: PLC0415
    from alembic.config import Config  # noqa: PLC0415
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415
    from sqlalchemy import create_engine  # noqa: PLC0415

    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            before = MigrationContext.configure(conn).get_current_revision()
            config = Config(str(REPO_ROOT / "migrations" / "alembic.ini"))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            after = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    return before, after


class Stack:
    """Starts every part, watches them, stops them all."""

    def __init__(self, options: Options, console: Console | None = None) -> None:
        self.options = options
        self.console = console or Console()
        self.template: Template | None = None
        self.postgres: EmbeddedPostgres | None = None
        self.children: list[Child] = []
        self.stopping = threading.Event()
        self.forced = threading.Event()

    def say(self, text: str) -> None:
        self.console.line("devstack", text)

    # --- lifecycle ----------------------------------------------------------------------------

    def run(self) -> int:
        """Start everything, serve until a stop signal or a failure, stop everything."""
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        code = 0
        try:
            self.start()
            code = self.supervise()
        except StartupFailed as exc:
            if not self.stopping.is_set():
                self.say(f"error: {exc}")
                code = 1
        except PostgresNotInstalled as exc:
            self.say(f"error: {exc}")
            code = 1
        finally:
            self.stop()
        return code

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.stopping.is_set():
            self.forced.set()
            return
        self.say(f"{signal.Signals(signum).name}: stopping")
        self.stopping.set()

    def start(self) -> None:
        self.template = self._load_template()
        if not _port_is_free(self.options.port):
            raise StartupFailed(
                f"port {self.options.port} is in use: stop what uses it or set PORT=<free port>"
            )
        home = self.options.home
        home.mkdir(parents=True, exist_ok=True)
        home.chmod(0o755)  # the postgres user must reach pgdata inside it
        names = [f.name for f in self.template.invoked_functions()]
        self.console.width = max(len(n) for n in (*names, "devstack", "gateway"))
        aws = self._spawn(
            Child(
                "aws",
                _python(
                    "devstack.aws", "--template", str(self.options.template), "--state-dir", str(home / "aws")
                ),
                base_environment(),
            )
        )
        fakes = self._spawn(self._fakes_child())
        database_url = self._start_postgres()
        aws_info, fake_info = aws.wait_ready(self.stopping), fakes.wait_ready(self.stopping)
        endpoints = Endpoints(
            database_url, aws_info["endpoint"], fake_info["sora"], fake_info["veo"], self.options.log_level
        )
        resolver = Resolver(
            self.template, aws_info["refs"], {(r, a): v for r, a, v in aws_info["attributes"]}
        )
        urls = self._start_runtimes(resolver, endpoints)
        self._start_front(urls, aws_info)
        self._announce(endpoints)

    def _load_template(self) -> Template:
        if not self.options.template.exists():
            raise StartupFailed(f"{self.options.template} not found")
        template = load(self.options.template)
        if not template.routes:
            raise StartupFailed(f"{self.options.template} declares no HttpApi routes")
        return template

    def _spawn(self, child: Child) -> Child:
        if self.stopping.is_set():
            raise StartupFailed("stopped while starting")
        child.start(self.console)
        self.children.append(child)
        return child

    def _fakes_child(self) -> Child:
        args = ["--complete-after-seconds", str(self.options.provider_seconds)]
        if self.options.log_level == "DEBUG":
            args.append("--verbose")
        return Child(
            "fakes", _python("devstack.fakes", *args), base_environment(), ready_keys=("sora", "veo")
        )

    def _start_postgres(self) -> str:
        pg = EmbeddedPostgres(
            self.options.home / "pgdata", free_port(), log_file=self.options.home / "postgres.log"
        )
        self.postgres = pg
        if pg.running():
            self.say("a PostgreSQL left running by an earlier stack holds the data directory: stopping it")
            pg.stop("fast")
        fresh = not pg.initialised()
        try:
            pg.start()
            pg.create_database()
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or exc.stdout or "").strip().splitlines()[-3:]
            raise StartupFailed(
                f"PostgreSQL did not start: {' / '.join(detail)} (log: {pg.log_file})"
            ) from None
        self.say(
            f"postgres {'initialised and ' if fresh else ''}started on port {pg.port} (data: {pg.data_dir})"
        )
        before, after = migrate(pg.url())
        self.say(f"schema at {after}" + (f" (migrated from {before or 'empty'})" if before != after else ""))
        return pg.url()

    @property
    def loaded_template(self) -> Template:
        if self.template is None:
            raise RuntimeError("the template is loaded by start()")
        return self.template

    def _start_runtimes(self, resolver: Resolver, endpoints: Endpoints) -> dict[str, str]:
        base = base_environment(endpoints.aws)
        started: dict[str, Child] = {}
        for function in self.loaded_template.invoked_functions():
            env = base | function_environment(function, resolver, endpoints)
            argv = _python(
                "devstack.runtime",
                "--name", function.name,
                "--code-uri", str(function.code_uri),
                "--handler", function.handler,
                "--timeout", str(function.timeout),
                "--memory-size", str(function.memory_size),
            )  # fmt: skip
            started[function.logical_id] = self._spawn(
                Child(function.name, argv, env, cwd=function.code_uri, restartable=True)
            )
        return {logical_id: child.wait_ready(self.stopping)["url"] for logical_id, child in started.items()}

    def _start_front(self, urls: Mapping[str, str], aws_info: Mapping[str, Any]) -> None:
        functions = [f"--function={name}={url}" for name, url in urls.items()]
        queues = [f"--queue={name}={aws_info['refs'][name]}" for name in self.loaded_template.queues]
        template = ["--template", str(self.options.template)]
        poller = self._spawn(
            Child(
                "poller",
                _python("devstack.poller", *template, *functions, *queues,
                        "--schedule-interval", str(self.options.sweep_interval)),
                base_environment(aws_info["endpoint"]),
            )
        )  # fmt: skip
        media = ["--media-origin", aws_info["endpoint"]]  # where presigned clips play from: the web app's CSP
        gateway = self._spawn(
            Child(
                "gateway",
                _python("devstack.gateway", *template, "--port", str(self.options.port), *functions, *media),
                base_environment(),
            )
        )
        poller.wait_ready(self.stopping)
        gateway.wait_ready(self.stopping)

    def _announce(self, endpoints: Endpoints) -> None:
        home = self.options.home
        self.say(f"videogen local stack ready on http://127.0.0.1:{self.options.port}")
        self.say(f"  data lives in {home} (PostgreSQL: pgdata/, S3 objects and KMS key: aws/)")
        self.say(f"  database {endpoints.database_url.replace('+psycopg', '')}")
        self.say(f"  moto {endpoints.aws}  fake sora {endpoints.sora}  fake veo {endpoints.veo}")
        self.say(f"  fake providers finish a video in {self.options.provider_seconds:g} s; "
                 f"the sweeper runs every {self.options.sweep_interval:g} s")  # fmt: skip
        self.say("  every route but /api/health wants an 'X-Dev-User: <user id>' header; Ctrl-C stops")

    # --- watching -----------------------------------------------------------------------------

    def supervise(self) -> int:
        """Wait for a stop signal; restart runtimes that exit, give up when anything else does."""
        while not self.stopping.wait(0.2):
            for child in self.children:
                code = child.exit_code()
                if code is None:
                    continue
                if not child.restartable:
                    self.say(f"error: {child.name} exited with code {code}; stopping the stack")
                    return 1
                if not self._restart(child, code):
                    return 1
        return 0

    def _restart(self, child: Child, code: int) -> bool:
        now = time.monotonic()
        child.restarts = [t for t in child.restarts if now - t < RESTART_WINDOW_SECONDS] + [now]
        if len(child.restarts) > RESTART_LIMIT:
            self.say(f"error: {child.name} keeps exiting (code {code}); stopping the stack")
            return False
        port = str(child.info.get("url", "")).rpartition(":")[2]
        if port.isdigit() and "--port" not in child.argv:
            child.argv += ["--port", port]
        self.say(f"{child.name} exited with code {code}; starting a fresh one")
        child.start(self.console)
        return True

    # --- stopping -----------------------------------------------------------------------------

    def stop(self) -> None:
        """SIGTERM every child's process group, SIGKILL what is left after a grace period,
        then stop PostgreSQL (fast: roll back, disconnect, shut down)."""
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
        with contextlib.suppress(PostgresNotInstalled):
            if self.postgres is not None and self.postgres.running():
                self.postgres.stop("immediate" if self.forced.is_set() else "fast")
                self.say("postgres stopped")
        if self.children or self.postgres is not None:
            self.say("stopped")


def main() -> int:
    """``python -m devstack``: run the local stack in the foreground."""
    console = Console()
    try:
        options = Options.from_env(os.environ)
    except StartupFailed as exc:
        console.line("devstack", f"error: {exc}")
        return 2
    if shutil.which("runuser") is None and os.geteuid() == 0:
        console.line("devstack", "error: running as root needs `runuser` (util-linux) to start PostgreSQL")
        return 2
    return Stack(options, console).run()
