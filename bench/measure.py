"""Measuring helpers: percentiles, interleaved (ABAB) timing, statement and round-trip counts,
and a stdout that swallows what handlers log while they are timed."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-quantile (0..1) of ``samples``, by linear interpolation."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no samples")
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


@dataclass
class Contender:
    """One of the things timed against each other: ``setup`` (untimed), ``run`` (timed), ``teardown``."""

    name: str
    run: Callable[[Any], Any]
    setup: Callable[[], Any] = lambda: None
    teardown: Callable[[Any, Any], None] = lambda prepared, result: None
    samples: list[float] = field(default_factory=list)

    def once(self, record: bool) -> None:
        prepared = self.setup()
        start = time.perf_counter()
        result = self.run(prepared)
        elapsed = time.perf_counter() - start
        self.teardown(prepared, result)
        if record:
            self.samples.append(elapsed)

    def p(self, q: float) -> float:
        return percentile(self.samples, q) * 1000.0


def interleave(contenders: Sequence[Contender], iterations: int, warmup: int) -> None:
    """Run every contender once per round, rotating who goes first (ABC, BCA, CAB, ...), so
    drift of a noisy machine lands on all of them alike."""
    n = len(contenders)
    for i in range(warmup + iterations):
        shift = i % n
        for c in (*contenders[shift:], *contenders[:shift]):
            c.once(record=i >= warmup)


@dataclass
class WireTrace:
    """What libpq sent and received on one connection: every round trip ends with the server's
    ``ReadyForQuery``, so their number is the number of round trips."""

    lines: list[str]

    @property
    def round_trips(self) -> int:
        return sum(1 for line in self.lines if line.startswith("B") and "ReadyForQuery" in line)

    def requests(self) -> list[str]:
        """What started each round trip, shortened: ``BEGIN``, ``SELECT video_jobs.id, ...``."""
        out: list[str] = []
        for line in self.lines:
            parts = line.split("\t")
            if len(parts) >= 4 and parts[0] == "F" and parts[2] in ("Query", "Parse"):
                text = parts[3].strip()
                if parts[2] == "Parse":  # Parse <statement name> <sql> ...
                    text = text.split('" "', 1)[-1]
                out.append(" ".join(text.strip('"').split())[:48])
        return out


@contextmanager
def wire_trace(dbapi_connection: Any) -> Iterator[list[WireTrace]]:
    """Trace the libpq protocol of one psycopg connection while the block runs."""
    import psycopg  # noqa: PLC0415

    fd, name = tempfile.mkstemp(prefix="bench-trace-")
    box: list[WireTrace] = []
    pgconn = dbapi_connection.pgconn
    pgconn.trace(fd)
    pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS | psycopg.pq.Trace.REGRESS_MODE)
    try:
        yield box
    finally:
        pgconn.untrace()
        os.close(fd)
        path = Path(name)
        box.append(WireTrace(path.read_text().splitlines()))
        path.unlink()


@contextmanager
def quiet_stdout() -> Iterator[None]:
    """Point file descriptor 1 at /dev/null while handlers log and emit metrics (EMF lines),
    then restore it: the work of writing stays, the noise in our table goes."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
