"""``make bench``: every figure of docs/architecture.md's "Performance budgets", measured in one run.

Starts its own PostgreSQL, moto and fake providers, prints a table of ratios against floors
measured in the same run, writes ``bench/results.json`` and cleans up (also on Ctrl-C).

Environment: ``BENCH_QUICK=1`` for a short smoke run (fewer iterations, 5 s of concurrency);
``BENCH_ONLY=1,3`` to run some figures only (results.json is then not rewritten).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from bench.stack import apply_base_env

apply_base_env()  # before anything imports videogen: settings are read once

from bench import (  # noqa: E402
    cold,
    concurrency,
    film,
    filmcraft,
    filmpipe,
    growth,
    performance_doc,
    timetovideo,
    warm,
    worker,
)
from bench.report import HEADER, Report, machine, markdown_table, readme_rows, write_results  # noqa: E402
from bench.stack import Stack  # noqa: E402


@dataclass(frozen=True)
class Plan:
    quick: bool
    only: frozenset[str]

    @classmethod
    def from_env(cls) -> Plan:
        only = {p.strip() for p in os.environ.get("BENCH_ONLY", "").split(",") if p.strip()}
        return cls(quick=os.environ.get("BENCH_QUICK", "") not in ("", "0"), only=frozenset(only))

    def wants(self, figure: str) -> bool:
        return not self.only or figure in self.only


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def figures(plan: Plan, stack: Stack, report: Report) -> list[tuple[str, Callable[[], None]]]:
    """The figures in running order: the worker after the database ones (it depends on the most
    moving parts), the film's media last (files and ffmpeg, then the pipeline's S3 reads)."""
    q = plan.quick
    return [
        (
            "1",
            lambda: warm.run(report, stack.conninfo(), iterations=100 if q else 400, warmup=20 if q else 40),
        ),
        ("5", lambda: concurrency.run(report, stack, seconds=5.0 if q else 30.0)),
        ("3", lambda: growth.run(report, stack, sizes=(1_000, 10_000, 100_000), rounds=15 if q else 40)),
        ("2", lambda: cold.run(report, runs=7 if q else 11)),
        ("4", lambda: worker.run(report, stack, jobs=20 if q else 100)),
        ("7", lambda: timetovideo.run(report, jobs=1000 if q else 4000)),
        ("7b", lambda: timetovideo.run_push(report, jobs=1000 if q else 4000)),
        ("6", lambda: film.run(report, rounds=3 if q else 7)),
        ("6", lambda: filmpipe.run(report, rounds=3 if q else 7)),
        ("6c", lambda: filmcraft.run(report)),
    ]


def main() -> int:
    plan = Plan.from_env()
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    report = Report()
    stack = Stack()
    try:
        stack.start()
        info = machine(stack.server_version())
        print(f"machine: {info}")
        print(HEADER)
        for figure, run in figures(plan, stack, report):
            if plan.wants(figure):
                run()
    except KeyboardInterrupt:
        print("\ninterrupted: cleaning up", file=sys.stderr)
        return 130
    finally:
        stack.stop()
    elapsed = time.monotonic() - started
    print(f"\n{markdown_table(readme_rows(report.rows))}\n")
    print(f"make bench: {elapsed:.0f} s; {len(report.failed)} budget(s) missed")
    if not plan.only:
        print(f"wrote {write_results(report, info, elapsed, plan.quick)}")
        print(f"wrote {performance_doc.write()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
