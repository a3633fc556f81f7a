"""Rows of results, the table printed to stdout, ``bench/results.json``, and the machine."""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results.json"


@dataclass
class Row:
    """One measured figure: ``value`` against ``floor`` (same unit), ``ratio`` = value / floor.

    ``budget`` is what the architecture allows, in words ("ratio <= 2", "== 1", ...); ``ok``
    is ``None`` for figures reported for information only.
    """

    figure: str
    value: float | None
    floor: float | None
    ratio: float | None
    budget: str
    ok: bool | None
    unit: str = ""
    note: str = ""


@dataclass
class Report:
    """Everything one run measured, in order."""

    rows: list[Row] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        print(format_row(row), flush=True)
        return row

    @property
    def failed(self) -> list[Row]:
        return [r for r in self.rows if r.ok is False]


def ratio(value: float | None, floor: float | None) -> float | None:
    """``value / floor``, or ``None`` when either is missing or the floor is zero."""
    if value is None or floor is None or floor == 0:
        return None
    return value / floor


def _num(x: float | None, digits: int = 2) -> str:
    if x is None:
        return "-"
    if isinstance(x, int):
        return str(x)
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.{digits}f}"


def _ok(ok: bool | None) -> str:
    return {True: "ok", False: "FAIL", None: "info"}[ok]


HEADER = f"{'figure':<46} {'value':>9} {'floor':>9} {'ratio':>7}  {'unit':<8} {'budget':<16} ok"


def format_row(row: Row) -> str:
    line = (
        f"{row.figure:<46} {_num(row.value):>9} {_num(row.floor):>9} {_num(row.ratio):>7}  "
        f"{row.unit:<8} {row.budget:<16} {_ok(row.ok)}"
    )
    return f"{line}  ({row.note})" if row.note else line


def markdown_table(rows: list[Row]) -> str:
    """The results table (docs/performance.md, and the end of make bench's output)."""
    lines = [
        "| figure | value | floor | ratio | unit | budget | ok |",
        "| --- | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r.figure} | {_num(r.value)} | {_num(r.floor)} | {_num(r.ratio)} | {r.unit} | "
            f"{r.budget} | {_ok(r.ok)} |"
        )
    return "\n".join(lines)


KEY_INFO = (
    "round trips",
    "connection+repo",
    "ANALYZEs",
    "tracing",
    "4 worker",
    "restore",
    "p50 after finish",
)


def readme_rows(rows: list[Row]) -> list[Row]:
    """The rows for the results table: every budgeted one, plus the informative rows that explain them."""
    return [r for r in rows if r.ok is not None or any(k in r.figure for k in KEY_INFO)]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine(postgres_version: str) -> dict[str, Any]:
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "python": sys.version.split()[0],
        "postgresql": postgres_version,
        "platform": platform.platform(),
    }


def write_results(report: Report, info: dict[str, Any], seconds: float, quick: bool) -> Path:
    """``bench/results.json``: the machine, the run's length and every row."""
    document = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "runtime_seconds": round(seconds, 1),
        "machine": info,
        "rows": [asdict(r) for r in report.rows],
    }
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    return RESULTS
