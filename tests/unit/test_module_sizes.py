"""Modules stay small enough to read in one sitting: none of the shipped or local-stack code over
350 lines (split along a seam, as local/devstack and the layer's packages are)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MAX_LINES = 350


def test_no_module_of_the_layer_functions_or_local_stack_is_over_350_lines():
    modules = [p for folder in ("layers", "functions", "local") for p in (REPO / folder).rglob("*.py")]
    assert len(modules) > 50
    lengths = {str(p.relative_to(REPO)): len(p.read_text().splitlines()) for p in modules}
    assert {name: n for name, n in lengths.items() if n > MAX_LINES} == {}
