"""docs/performance.md is what `make bench` writes from bench/results.json, never a hand edit."""

from __future__ import annotations

import json

from bench import performance_doc
from bench.report import RESULTS


def test_the_performance_page_is_written_from_the_committed_results():
    expected = performance_doc.render(json.loads(RESULTS.read_text()))
    assert performance_doc.DOC.read_text() == expected, (
        "docs/performance.md is stale: run `python -m bench.performance_doc` (make bench writes it)"
    )


def test_each_missed_budget_is_listed_with_its_own_note():
    results = json.loads(RESULTS.read_text())
    page = performance_doc.render(results)
    missed = [row for row in results["rows"] if row["ok"] is False]
    assert missed  # the committed run missed some budgets; each must be on the page
    for row in missed:
        assert f"- **{row['figure']}**: {row['note'] or 'no note recorded'}" in page
