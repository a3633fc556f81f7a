"""The local stack, ``make dev`` (``python -m devstack``): what starts, in which order.

It starts, in order, and stops in reverse:

1. PostgreSQL from the machine's binaries, data in ``$DEVSTACK_HOME/pgdata`` (default
   ``.local/``, kept across runs), as the ``postgres`` user when run as root (in a directory
   of that user's under /var/tmp when it cannot enter ``$DEVSTACK_HOME``: see
   ``devstack.postgres.cluster_home``); then ``alembic upgrade head``;
2. moto (``devstack.aws``) with the template's queues, dead-letter queue, bucket and KMS key,
   and the fake providers (``devstack.fakes``), side by side;
3. one runtime process per function the template invokes (``devstack.runtime``), each with
   the template's environment variables for that function, their values pointed at the
   local endpoints;
4. the queue poller and scheduler (``devstack.poller``) and the API gateway
   (``devstack.gateway``) on ``127.0.0.1:$PORT``.

Each child is a ``devstack.process.Child`` (its own process group, its ready line), started
with the command line ``devstack.children`` gives it and the environment ``devstack.environment``
builds, and watched by ``devstack.supervisor`` (runtimes that exit are started again; anything
else exiting stops the stack).

Environment knobs (``devstack.environment.Options``; docs/local-stack.md lists them): ``PORT``,
``FAKE_PROVIDER_SECONDS``, ``SWEEP_INTERVAL_SECONDS``, ``LOG_LEVEL``, ``DEVSTACK_HOME``,
``CORS_ORIGINS``, and for fault tests ``DEVSTACK_CONTROL`` (``devstack.control``),
``SQS_DELIVERIES``, ``VISIBILITY_TIMEOUT_SECONDS``, ``FUNCTION_SETTINGS``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from devstack.children import aws_child, fakes_child, gateway_child, poller_child, runtime_child
from devstack.control import SOCKET_NAME, Controls, ControlServer
from devstack.environment import FAKE_PROVIDERS, Endpoints, Options
from devstack.intrinsics import Resolver
from devstack.logs import Console
from devstack.postgres import (
    SUPERUSER,
    EmbeddedPostgres,
    PostgresNotInstalled,
    cluster_home,
    free_port,
    migrate,
)
from devstack.process import StartupFailed, port_is_free
from devstack.supervisor import Supervisor
from devstack.template import Template, load


class Stack:
    """Starts every part in order, supervises them, stops them all."""

    def __init__(self, options: Options, console: Console | None = None) -> None:
        self.options = options
        self.supervisor = Supervisor(console or Console())
        self.template: Template | None = None
        self.postgres: EmbeddedPostgres | None = None
        self.control: ControlServer | None = None

    @property
    def console(self) -> Console:
        return self.supervisor.console

    def say(self, text: str) -> None:
        self.supervisor.say(text)

    def run(self) -> int:
        """Start everything, serve until a stop signal or a failure, stop everything."""
        self.supervisor.handle_stop_signals()
        code = 0
        try:
            self.start()
            code = self.supervisor.watch()
        except StartupFailed as exc:
            if not self.supervisor.stopping.is_set():
                self.say(f"error: {exc}")
                code = 1
        except PostgresNotInstalled as exc:
            self.say(f"error: {exc}")
            code = 1
        finally:
            self.stop()
        return code

    # --- starting, in order -------------------------------------------------------------------

    def start(self) -> None:
        self.template = _load_template(self.options)
        if not port_is_free(self.options.port):
            raise StartupFailed(
                f"port {self.options.port} is in use: stop what uses it or set PORT=<free port>"
            )
        home = self.options.home
        home.mkdir(parents=True, exist_ok=True)
        home.chmod(0o755)  # the postgres user may reach pgdata inside it (else see cluster_home)
        names = [f.name for f in self.template.invoked_functions()]
        self.console.width = max(len(n) for n in (*names, "devstack", "gateway"))
        aws = self.supervisor.spawn(aws_child(self.options))
        fakes = self.supervisor.spawn(fakes_child(self.options))
        database_url = self._start_postgres()
        aws_info, fake_info = self.supervisor.ready(aws), self.supervisor.ready(fakes)
        endpoints = Endpoints(
            database_url,
            aws_info["endpoint"],
            {name: fake_info[name] for name in FAKE_PROVIDERS},
            self.options.log_level,
            live_providers=self.options.live_providers,
            webhook_base_url=f"http://127.0.0.1:{self.options.port}" if self.options.webhooks else None,
        )
        resolver = Resolver(
            self.template, aws_info["refs"], {(r, a): v for r, a, v in aws_info["attributes"]}
        )
        urls = self._start_runtimes(self.template, resolver, endpoints)
        self._start_front(self.template, urls, aws_info)
        if self.options.control and self.postgres is not None:
            self.control = ControlServer(home / SOCKET_NAME, Controls(self.supervisor, self.postgres))
            self.control.start()
        pgdata = self.postgres.data_dir if self.postgres else home / "pgdata"
        for line in _ready_lines(self.options, endpoints, pgdata):
            self.say(line)

    def _start_postgres(self) -> str:
        try:
            where = cluster_home(self.options.home)
        except PermissionError as exc:
            raise StartupFailed(str(exc)) from None
        pg = EmbeddedPostgres(where / "pgdata", free_port(), log_file=where / "postgres.log")
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

    def _start_runtimes(self, template: Template, resolver: Resolver, endpoints: Endpoints) -> dict[str, str]:
        started = {
            function.logical_id: self.supervisor.spawn(
                runtime_child(self.options, function, resolver, endpoints)
            )
            for function in template.invoked_functions()
        }
        return {logical_id: self.supervisor.ready(child)["url"] for logical_id, child in started.items()}

    def _start_front(self, template: Template, urls: Mapping[str, str], aws_info: Mapping[str, Any]) -> None:
        poller = self.supervisor.spawn(poller_child(self.options, template, urls, aws_info))
        gateway = self.supervisor.spawn(gateway_child(self.options, urls, aws_info["endpoint"]))
        self.supervisor.ready(poller)
        self.supervisor.ready(gateway)

    # --- stopping -----------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop every child, then PostgreSQL (fast: roll back, disconnect, shut down)."""
        if self.control is not None:
            self.control.close()
        self.supervisor.stop_children()
        forced = self.supervisor.forced.is_set()
        with contextlib.suppress(PostgresNotInstalled):
            if self.postgres is not None and self.postgres.running():
                self.postgres.stop("immediate" if forced else "fast")
                self.say("postgres stopped")
        if self.supervisor.children or self.postgres is not None:
            self.say("stopped")


def _load_template(options: Options) -> Template:
    if not options.template.exists():
        raise StartupFailed(f"{options.template} not found")
    try:
        template = load(options.template, options.parameters)
    except ValueError as exc:
        raise StartupFailed(str(exc)) from None
    if not template.routes:
        raise StartupFailed(f"{options.template} declares no HttpApi routes")
    return template


def _ready_lines(options: Options, endpoints: Endpoints, pgdata: Path) -> list[str]:
    where = "pgdata/"
    if pgdata != options.home / "pgdata":
        where = f"{pgdata}, since {SUPERUSER} cannot enter {options.home}"
    lines = [
        f"videogen local stack ready on http://127.0.0.1:{options.port}",
        f"  data lives in {options.home} (S3 objects and KMS key: aws/; PostgreSQL: {where})",
        f"  database {endpoints.database_url.replace('+psycopg', '')}",
        f"  moto {endpoints.aws}  "
        + "  ".join(f"fake {name} {url}" for name, url in endpoints.providers.items()),
        f"  fake providers finish a video in {options.provider_seconds:g} s; "
        f"the sweeper runs every {options.sweep_interval:g} s",
    ]
    if options.live_providers:
        lines.append("  LIVE_PROVIDERS=1: the worker calls the real providers with the keys you save")
    elif options.webhooks:
        lines.append(
            "  the fake Gemini API and fal push signed webhooks, the fake OpenAI endpoint to URLs "
            "registered at /__fake__/webhooks (WEBHOOKS=0: poll only)"
        )
    else:
        lines.append("  WEBHOOKS=0: no create asks for a webhook; polls alone follow every job")
    if options.cors_origins:
        lines.append(f"  CORS allows {', '.join(options.cors_origins)}")
    faults = [
        f"control socket {options.home / SOCKET_NAME}" if options.control else "",
        f"every queue message delivered {options.deliveries} times" if options.deliveries > 1 else "",
        f"visibility timeout {options.visibility_timeout} s" if options.visibility_timeout else "",
        ", ".join(f"{n}={v}" for n, v in options.function_settings),
    ]
    if any(faults):
        lines.append("  faults: " + "; ".join(f for f in faults if f))
    lines.append("  every route but /api/health wants an 'X-Dev-User: <user id>' header; Ctrl-C stops")
    return lines


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
