"""``docs/performance.md``, written from ``bench/results.json`` and nothing else.

``make bench`` writes it after each full run; ``python -m bench.performance_doc`` writes it again
from the results on disk. No figure in it is typed by hand, and a test fails when the committed
page differs from what the committed results give. What changed between runs belongs in commit
messages, not here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.report import RESULTS, Row, markdown_table, readme_rows

DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"

METHOD = Path(__file__).with_name("performance_method.md")
"""What each figure measures and how: the page's opening, kept beside the code that measures."""


def render(results: dict[str, Any]) -> str:
    """The page for one ``results.json`` document."""
    rows = [Row(**row) for row in results["rows"]]
    machine = results["machine"]
    kind = "a quick run (`BENCH_QUICK=1`)" if results["quick"] else "a full run"
    missed = [r for r in rows if r.ok is False]
    parts = [
        METHOD.read_text(),
        "## Latest results\n",
        f"{kind.capitalize()} at {results['generated_at']}, {results['runtime_seconds']:.0f} s: "
        f"{machine['nproc']} CPUs ({machine['cpu']}), Python {machine['python']}, PostgreSQL "
        f"{machine['postgresql']}, {machine['platform']}. On a shared, noisy machine: read the ratios "
        f"rather than the milliseconds. {len(missed)} of {sum(r.ok is not None for r in rows)} "
        "budgeted rows missed.\n",
        markdown_table(readme_rows(rows)) + "\n",
    ]
    if missed:
        parts.append("## Rows over budget, with the run's own notes\n")
        parts.append("\n".join(f"- **{r.figure}**: {r.note or 'no note recorded'}" for r in missed) + "\n")
    noted = [r for r in rows if r.ok is not False and r.note]
    if noted:
        parts.append("## Notes of the other rows\n")
        parts.append("\n".join(f"- **{r.figure}**: {r.note}" for r in noted) + "\n")
    return "\n".join(parts)


def write(results_path: Path = RESULTS, doc: Path = DOC) -> Path:
    doc.write_text(render(json.loads(results_path.read_text())))
    return doc


if __name__ == "__main__":
    print(f"wrote {write()}", file=sys.stderr)
