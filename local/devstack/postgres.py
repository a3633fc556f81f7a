"""An embedded PostgreSQL from the machine's binaries, for the local stack and the test session.

PostgreSQL refuses to run as root, so when we are root the cluster is created and started as
the ``postgres`` user (``runuser``) in a directory that user owns. A checkout that user cannot
enter (cloned as root into a private directory) keeps its cluster under ``/var/tmp`` instead
(:func:`cluster_home`). The cluster listens on loopback TCP only, with trust auth for local
development (never used outside this machine).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SUPERUSER = "postgres"
DEFAULT_DB = "videogen"
FALLBACK_ROOT = Path("/var/tmp")  # noqa: S108 (kept across reboots, unlike /tmp; checked below)


class PostgresNotInstalled(RuntimeError):
    """No initdb/pg_ctl on PATH or in the usual Debian location."""


def _bin_dir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "pg_ctl").exists():
            return candidate
    raise PostgresNotInstalled(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install them, e.g. "
        "`apt-get install postgresql-15` (Debian) or `brew install postgresql@15` (macOS)"
    )


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_db_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", SUPERUSER, "--", *cmd]
    return cmd


def _chown_for_db_user(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, SUPERUSER, SUPERUSER)


def db_user_can_enter(path: Path) -> bool:
    """Whether the user PostgreSQL runs as may enter ``path`` (and so every directory above it)."""
    if os.geteuid() != 0:
        return True
    entered = subprocess.run(
        _as_db_user(["test", "-x", str(path)]), check=False, capture_output=True, cwd="/"
    )
    return entered.returncode == 0


def cluster_home(home: Path, fallback_root: Path = FALLBACK_ROOT) -> Path:
    """Where a stack whose data lives in ``home`` keeps its cluster and the server's log.

    ``home`` itself when the database user can enter it. Otherwise (root in a checkout only
    root can enter) a directory under ``fallback_root`` named after ``home``, so that two
    checkouts never share one, owned by that user with mode 0700. It is the same on every
    start, so the data survives restarts.
    """
    if db_user_can_enter(home):
        return home
    resolved = home.resolve()
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", resolved.parent.name)[:40]
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
    fallback = fallback_root / f"videogen-devstack-{name}-{digest}"
    fallback.mkdir(mode=0o700, exist_ok=True)
    found = fallback.lstat()
    # In a world-writable directory: never follow a link or adopt someone else's directory.
    if not stat.S_ISDIR(found.st_mode) or found.st_uid not in (0, _db_user_uid()):
        raise PermissionError(f"{fallback} exists but is not a directory of root or {SUPERUSER}: remove it")
    _chown_for_db_user(fallback)
    fallback.chmod(0o700)
    return fallback


def _db_user_uid() -> int:
    import pwd  # noqa: PLC0415 (POSIX only, and only needed here)

    return pwd.getpwnam(SUPERUSER).pw_uid


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL cluster in ``data_dir`` on ``port``; ``start()`` initialises it when new."""

    data_dir: Path
    port: int
    log_file: Path | None = None

    @property
    def bin_dir(self) -> Path:
        return _bin_dir()

    def url(self, database: str = DEFAULT_DB) -> str:
        """SQLAlchemy URL (psycopg 3) of ``database`` on this cluster."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        # From "/": the database user may not be able to enter our working directory.
        return subprocess.run(
            _as_db_user([str(self.bin_dir / args[0]), *args[1:]]),
            check=check,
            text=True,
            capture_output=True,
            cwd="/",
        )

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        """initdb (UTF8, trust auth on loopback) unless the data directory already holds a cluster."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        _chown_for_db_user(self.data_dir)
        self.data_dir.chmod(0o700)
        if self.initialised():
            return
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "-A",
            "trust",
        )

    def start(self, *, timeout: float = 30.0, port_attempts: int = 3) -> None:
        """Start the server (after ``init``) and wait until it accepts connections.

        A free port can be taken between ``free_port()`` and the server binding it (other test
        workers start clusters at the same moment): the server then starts on another free port,
        up to ``port_attempts`` in all.
        """
        for _ in range(port_attempts - 1):
            try:
                return self._start(timeout)
            except subprocess.CalledProcessError:
                if "Address already in use" not in self._log_tail():
                    raise
                self.port = free_port()
        return self._start(timeout)

    def _log_tail(self) -> str:
        log = self.log_file or (self.data_dir.parent / "postgres.log")
        try:
            return log.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def _start(self, timeout: float) -> None:
        self.init()
        log = self.log_file or (self.data_dir.parent / "postgres.log")
        log.parent.mkdir(parents=True, exist_ok=True)
        log.touch()
        _chown_for_db_user(log)
        # Loopback only, no unix socket; durability traded for speed (a dev/test cluster).
        options = (
            f"-p {self.port} -k '' -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(log),
            "-o",
            options,
            "-w",
            "-t",
            str(int(timeout)),
            "start",
        )
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._run("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), check=False).returncode == 0:
                return
            time.sleep(0.1)
        raise TimeoutError(f"PostgreSQL did not accept connections on port {self.port}")

    def create_database(self, name: str = DEFAULT_DB) -> None:
        """Create ``name`` if it does not exist yet."""
        exists = self._psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{name}'").strip()
        if exists != "1":
            self._psql("postgres", f'CREATE DATABASE "{name}"')

    def _psql(self, database: str, sql: str) -> str:
        return self._run(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, "-d", database, "-tAc", sql
        ).stdout

    def running(self) -> bool:
        """Whether a server runs on this data directory (e.g. one left behind by a killed stack)."""
        if not (self.data_dir / "postmaster.pid").exists():
            return False
        return self._run("pg_ctl", "-D", str(self.data_dir), "status", check=False).returncode == 0

    def server_pids(self) -> list[int]:
        """The postmaster and every process it started (its backends and workers); none when no
        server runs. What a freeze stops: a host that hangs without closing its connections."""
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return []
        postmaster = int(pid_file.read_text().split()[0])
        children = []
        for status in Path("/proc").glob("[0-9]*/stat"):
            try:
                ppid = int(status.read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
            if ppid == postmaster:
                children.append(int(status.parent.name))
        return [postmaster, *children]

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: roll back open transactions, disconnect, shut down)."""
        if (self.data_dir / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop", check=False)


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
