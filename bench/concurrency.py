"""Figure 5: 16 Lambda containers at once, hammering status and patch on one storyboard.

Each thread plays one container: its own engine from ``videogen.data.db.build_engine(settings)``
(pool of one connection, as deployed) and its own sessions; it calls the repositories the
status and storyboards handlers call (the handlers themselves share the process-wide engine,
which would make 16 "containers" share one connection). Every round: a status read of the
shared job, a read of the storyboard's current version, then a patch with that version as
``If-Match``. A patch either applies (the version moves by exactly one) or is refused with
``StaleVersion`` (HTTP 412) because another container got there first; anything else is an
error. After the run the storyboard's version must equal 1 + the number of applied patches,
and no two applied patches may have produced the same version (a lost update would).

A monitor samples ``pg_stat_activity`` every 20 ms: client connections to the database (the
monitor's own excluded) must never exceed the 16 containers.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from bench.report import Report, Row
from bench.stack import Stack

CONTAINERS = 16
USER = "user-concurrency"
CONNECTIONS_SQL = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
)


@dataclass
class Tally:
    """What all containers did; appended to under a lock."""

    applied_versions: list[int] = field(default_factory=list)
    stale: int = 0
    reads: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _container(settings: Any, board_id: uuid.UUID, job_id: uuid.UUID, deadline: float, tally: Tally) -> None:
    from sqlalchemy.orm import sessionmaker  # noqa: PLC0415

    from videogen.data.db import build_engine  # noqa: PLC0415
    from videogen.data.repositories import storyboards, video_jobs  # noqa: PLC0415
    from videogen.errors import StaleVersion  # noqa: PLC0415

    engine = build_engine(settings)
    sessions = sessionmaker(engine, expire_on_commit=False)
    name = threading.current_thread().name
    n = 0
    try:
        while time.monotonic() < deadline:
            n += 1
            try:
                with sessions.begin() as s:
                    video_jobs.get_status_for_user(s, USER, job_id)
                with sessions.begin() as s:
                    version = storyboards.get(s, USER, board_id).version
                with sessions.begin() as s:
                    board = storyboards.update(
                        s, USER, board_id, {"name": f"{name} #{n}"}, expected_version=version
                    )
                with tally.lock:
                    tally.reads += 2
                    tally.applied_versions.append(board.version)
                    if board.version != version + 1:
                        tally.errors.append(f"version {version} became {board.version}")
            except StaleVersion:
                with tally.lock:
                    tally.reads += 2
                    tally.stale += 1
            except Exception as exc:
                with tally.lock:
                    tally.errors.append(f"{type(exc).__name__}: {exc}"[:200])
    finally:
        engine.dispose()


def _monitor(conninfo: str, stop: threading.Event, samples: list[int]) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while not stop.is_set():
            row = conn.execute(CONNECTIONS_SQL).fetchone()
            samples.append(int(row[0]) if row else 0)
            time.sleep(0.02)


def _seed(conninfo: str) -> tuple[uuid.UUID, uuid.UUID]:
    board_id, job_id = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO storyboards (id, user_id, name, preset_key, character, scenes) "
            "VALUES (%s, %s, 'Shared', 'cinematic', %s, %s)",
            (board_id, USER, Jsonb({"name": "Ada"}), Jsonb([{"id": "scene-1", "prompt": "Ada"}])),
        )
        conn.execute(
            "INSERT INTO video_jobs (id, user_id, storyboard_id, scene_id, provider, model, prompt) "
            "VALUES (%s, %s, %s, 'scene-1', 'openai', 'sora-2', 'Ada')",
            (job_id, USER, board_id),
        )
    return board_id, job_id


def _final_version(conninfo: str, board_id: uuid.UUID) -> int:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute("SELECT version FROM storyboards WHERE id = %s", (board_id,)).fetchone()
    return int(row[0]) if row else -1


def run(report: Report, stack: Stack, *, seconds: float) -> None:
    """16 containers for ``seconds``; rows for errors, lost updates and connections."""
    from videogen.data.db import reset_engine  # noqa: PLC0415
    from videogen.runtime.config import get_settings  # noqa: PLC0415

    print(f"\n== 5. concurrency: {CONTAINERS} containers (engine of one connection each) for {seconds:g} s")
    reset_engine()  # the process-wide engine of figure 1 holds a connection we must not count
    conninfo = stack.conninfo()
    board_id, job_id = _seed(conninfo)
    tally, stop = Tally(), threading.Event()
    samples: list[int] = []
    monitor = threading.Thread(target=_monitor, args=(conninfo, stop, samples), daemon=True)
    monitor.start()
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=_container,
            args=(get_settings(), board_id, job_id, deadline, tally),
            name=f"container-{i}",
        )
        for i in range(CONTAINERS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    monitor.join()
    _report(report, tally, samples, _final_version(conninfo, board_id), seconds)


def _report(report: Report, tally: Tally, samples: list[int], final: int, seconds: float) -> None:
    applied = len(tally.applied_versions)
    duplicates = sum(n - 1 for n in Counter(tally.applied_versions).values() if n > 1)
    patches = applied + tally.stale
    errors = "; ".join(sorted(set(tally.errors))[:3])
    report.add(
        Row("5 concurrency: errors", len(tally.errors), None, None, "== 0", not tally.errors, "count", errors)
    )
    report.add(
        Row(
            "5 concurrency: final version",
            final,
            1 + applied,
            None,
            "== 1 + applied",
            final == 1 + applied and duplicates == 0,
            "version",
            f"{applied} applied, {tally.stale} stale (412) of {patches} patches; "
            f"{duplicates} duplicate versions",
        )
    )
    peak = max(samples, default=0)
    report.add(
        Row(
            "5 concurrency: peak connections",
            peak,
            CONTAINERS,
            peak / CONTAINERS,
            f"<= {CONTAINERS}",
            0 < peak <= CONTAINERS,
            "conns",
            f"{len(samples)} samples of pg_stat_activity",
        )
    )
    report.add(
        Row(
            "5 concurrency: requests/s",
            (tally.reads + patches) / seconds,
            None,
            None,
            "-",
            None,
            "req/s",
            f"{tally.reads} reads + {patches} patches in {seconds:g} s",
        )
    )
