"""``make soak``: the local stack under a mixed workload for 20 minutes, frozen twice, then checked.

Several users each read, auto-save with If-Match, generate scenes and whole storyboards, cancel,
compile films and delete, for ``SOAK_SECONDS`` (default 1200); a third of the way in PostgreSQL
freezes for 12 s (its processes stopped, their connections left open), two thirds in the AWS
stand-in does. Then the traffic stops, every job and film is given time to end, and the report
(printed, and written to ``test-artifacts/soak.json``) says: requests by status (no 500, none
outside the route's documented answers), p50/p99 latency per route, each function process's
memory at the start and the end (flat within 10%), the most PostgreSQL connections seen (never over
one per function process), how every job and film ended (none stuck), and that no provider job was
created twice. It exits non-zero when a check fails. Not part of ``make test``: it takes minutes.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import psycopg

from bench.soakload import Client, User
from devstack import control
from devstack.postgres import free_port

REPO = Path(__file__).resolve().parent.parent
REPORT = REPO / "test-artifacts" / "soak.json"
USERS = 4
FREEZE_SECONDS = 12
SETTLE_SECONDS = 240
MEMORY_GROWTH_LIMIT = 1.10
MEMORY_SAMPLE_SECONDS = 60
DOCUMENT = json.loads((REPO / "docs" / "openapi.json").read_text())


def start_stack(home: Path, **knobs: str) -> tuple[subprocess.Popen[str], str, list[str]]:
    """``python -m devstack`` on a free port, with the soak's knobs unless ``knobs`` override
    them; once it printed its ready lines: the process, its base URL and its output so far."""
    port = free_port()
    env = (
        dict(os.environ)
        | {
            "PORT": str(port),
            "DEVSTACK_HOME": str(home),
            "DEVSTACK_CONTROL": "1",
            "FAKE_PROVIDER_SECONDS": "3",
            "LOG_LEVEL": "WARNING",
        }
        | knobs
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in process.stdout or ():
            lines.append(line.rstrip("\n"))
            if " fake openai " in line:  # the ready line naming the fakes (after the database's)
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(180):
        process.kill()
        raise SystemExit("the local stack did not start:\n" + "\n".join(lines[-40:]))
    return process, f"http://127.0.0.1:{port}", lines


def function_memory(stack: subprocess.Popen[str]) -> dict[str, int]:
    """{function: resident KiB} of the stack's function processes."""
    memory = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            argv = (status.parent / "cmdline").read_bytes().split(b"\0")
            text = status.read_text()
        except OSError:
            continue
        if b"devstack.runtime" in argv and b"--name" in argv:
            name = argv[argv.index(b"--name") + 1].decode()
            rss = next(int(line.split()[1]) for line in text.splitlines() if line.startswith("VmRSS:"))
            memory[name] = rss
    return memory


def database_url(lines: list[str]) -> str:
    """The stack's database, from its ready lines (``database postgresql://...``)."""
    return next(m[1] for line in lines if (m := re.search(r"\bdatabase (postgresql://\S+)", line)))


def connections(url: str) -> int:
    with psycopg.connect(url, connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchone()
    return int(row[0]) if row else 0


def allowed(method: str, route: str) -> set[int]:
    responses = DOCUMENT["paths"].get(route, {}).get(method.lower(), {}).get("responses", {})
    return {int(code) for code in responses if code != "500"}


def main() -> int:
    seconds = float(os.environ.get("SOAK_SECONDS", "1200"))
    home = Path(tempfile.mkdtemp(prefix="videogen-soak-"))
    home.chmod(0o755)
    stack, base_url, lines = start_stack(home)
    url = database_url(lines)
    client = Client(base_url)
    stop = threading.Event()
    users = [User(client, f"soak-{n}-{uuid.uuid4().hex[:6]}", random.Random(n)) for n in range(USERS)]
    threads = [threading.Thread(target=user.run, args=(stop,), daemon=True) for user in users]
    try:
        for thread in threads:
            thread.start()
        time.sleep(max(60, seconds / 6))  # every function warmed up: imports, caches, a first film
        memory_start = function_memory(stack)
        # Every minute, each function's memory: whether growth levels off or keeps on.
        memory_timeline: list[dict[str, int]] = [memory_start]
        budget = len(memory_start) + 1
        most_connections = 0
        started = time.monotonic()
        sampled = started
        freezes = {"postgres": seconds / 3, "aws": 2 * seconds / 3}
        while (elapsed := time.monotonic() - started) < seconds:
            for part, at in list(freezes.items()):
                if elapsed >= at:
                    print(control.send(home, f"{part} freeze {FREEZE_SECONDS}"), flush=True)
                    del freezes[part]
            with contextlib.suppress(psycopg.Error):  # frozen: nothing to count
                most_connections = max(most_connections, connections(url))
            if time.monotonic() - sampled >= MEMORY_SAMPLE_SECONDS:
                memory_timeline.append(function_memory(stack))
                sampled = time.monotonic()
            time.sleep(5)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        memory_end = function_memory(stack)
        ends = [user.settle(SETTLE_SECONDS) for user in users]
        records = client.get_json(client.fake_origin(lines, "openai") + "/__fake__/records")
    finally:
        stop.set()
        stack.send_signal(2)
        stack.wait(timeout=60)

    calls = [call for user in users for call in user.calls]
    by_status = Counter(str(call.status) for call in calls)
    outside = Counter(
        f"{call.method} {call.route} {call.status}"
        for call in calls
        if call.status not in allowed(call.method, call.route)
    )
    latency: dict[str, list[float]] = defaultdict(list)
    for call in calls:
        latency[f"{call.method} {call.route}"].append(call.seconds * 1000)
    jobs = Counter(status for end in ends for status in end["jobs"].values())
    films = Counter(status for end in ends for status in end["films"].values())
    created = Counter(c["prompt"] for c in records["creates"] if c["status"] == 200)
    grown = {
        name: round(memory_end[name] / kib, 3)
        for name, kib in memory_start.items()
        if name in memory_end and memory_end[name] > kib * MEMORY_GROWTH_LIMIT
    }
    report: dict[str, Any] = {
        "seconds": seconds,
        "requests": len(calls),
        "byStatus": dict(by_status),
        "outsideTheContract": dict(outside),
        "latencyMs": {
            route: {
                "p50": round(statistics.median(ms), 1),
                "p99": round(sorted(ms)[int(len(ms) * 0.99) - 1], 1),
            }
            for route, ms in sorted(latency.items())
        },
        "memoryKiB": {
            "start": memory_start,
            "end": memory_end,
            "grownOver10Percent": grown,
            "everyMinute": {name: [sample.get(name) for sample in memory_timeline] for name in memory_start},
        },
        "connections": {"most": most_connections, "budget": budget},
        "jobs": dict(jobs),
        "films": dict(films),
        "createdTwice": [prompt for prompt, n in created.items() if n > 1],
    }
    failures = [
        *(["a 500"] if by_status.get("500") else []),
        *(["statuses outside the contract"] if outside else []),
        *(["memory grew over 10%"] if grown else []),
        *(["connections over budget"] if most_connections > budget else []),
        *([f"{n} job(s) stuck"] if (n := jobs.get("stuck", 0)) else []),
        *([f"{n} film(s) stuck"] if (n := films.get("stuck", 0)) else []),
        *(["a provider job created twice"] if report["createdTwice"] else []),
    ]
    report["failures"] = failures
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    print(f"soak: {'FAILED: ' + '; '.join(failures) if failures else 'ok'} ({REPORT})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
