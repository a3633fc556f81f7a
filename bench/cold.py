"""Figure 2: cold start, importing each function's app.py against importing its libraries alone.

Both in fresh interpreters (``bench.coldchild``), timed in-process around the import, runs
interleaved (app, libs, app, libs, ...). Value and floor are the medians of the runs; the ratio
is the median of each pair's own ratio (app run / the libs run right after it), which a slow
patch of this shared machine cannot tilt the way it can tilt one side's median. The
environment is the deployed one as far as imports care: ``LAMBDA_TASK_ROOT`` set, so
Powertools' Tracer is on (template: ``Tracing: Active``) and patches what it patches, as it
would in Lambda, and ``videogen`` is imported as the layer ships it, compiled to bytecode
(``built_layer``); the function's own app.py is compiled on import, as in Lambda.

The floor is honest per function: the third-party modules that the function's own import
actually loads (discovered by a first app import: every module it added that is neither
standard library nor ours), imported alone, in the same order. Libraries the function imports
only on first use (boto3 for SQS, S3 and KMS) are in neither set, so they neither inflate the
floor nor count against the function. The difference is therefore our own code: videogen, the
app module, the resolver and pydantic models they build, and the Tracer's patching.

Budget for API functions: ratio <= 1.2, and no provider SDK (openai, google.genai) loaded.

With SnapStart the import is paid once per published version, not per new container: what a
restored container still pays before its first answer is the after-restore hook and a first
request on a new connection (``restore`` rows, the status_and_models function against the bench's
database: the sample job, so a 200 when figure 1 seeded it, else a 404 after the same
SELECT). They are told against a warm request and against the import, for information.
Other functions (worker, sweeper, DLQ, migrate) are reported for information, and so is what
tracing costs at import (the status app with ``POWERTOOLS_TRACE_DISABLED`` and without): with
tracing on, Tracer's auto-patching imports every library aws_xray_sdk can patch, used or not
(requests among them), and those are in the floor above, so this row shows their cost.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from bench.measure import median
from bench.report import Report, Row, ratio

REPO = Path(__file__).resolve().parents[1]
API_FUNCTIONS = ("status_and_models", "storyboards", "generate", "jobs", "api_keys", "health")
FIRST_PARTY = ("videogen", "devstack", "bench", "app")
COLD_BUDGET = 1.2


@cache
def built_layer() -> Path:
    """``videogen`` as the layer ships it (``make -C layers/common videogen``: a copy compiled
    to unchecked-hash bytecode; the libraries' bytecode is pip's, in both sides' imports). Made
    once per bench run in a temporary directory, removed when the process exits."""
    root = Path(tempfile.mkdtemp(prefix="videogen-layer-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    layer = REPO / "layers" / "common"
    command = ["make", "--no-print-directory", "-s", "-C", str(layer), "videogen", f"DEST={root}"]
    subprocess.run([*command, f"PYTHON={sys.executable}"], check=True)
    return root


def child_env(function: str, *, tracing: bool = True) -> dict[str, str]:
    """The environment of a deployed function, as far as import-time behaviour goes: the layer
    as built (compiled ``videogen`` first on the path, ahead of the editable install)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "POWERTOOLS_TRACE"))}
    env["PYTHONPATH"] = str(built_layer())
    if not tracing:
        env["POWERTOOLS_TRACE_DISABLED"] = "true"
    env.update(
        {
            "LAMBDA_TASK_ROOT": str(REPO / "functions" / function),
            "AWS_LAMBDA_FUNCTION_NAME": f"videogen-bench-{function}",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "POWERTOOLS_SERVICE_NAME": function,
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def _child(function: str, args: list[str], stdin: str = "", *, tracing: bool = True) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.coldchild", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=child_env(function, tracing=tracing),
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"import of {function} failed: {done.stderr.strip()[-500:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def third_party(modules: list[str]) -> list[str]:
    """The modules that are neither standard library nor ours, in import order."""
    out = []
    for name in modules:
        top = name.split(".")[0]
        if top in sys.stdlib_module_names or top in FIRST_PARTY or top.startswith("__"):
            continue
        out.append(name)
    return out


@dataclass
class ColdResult:
    function: str
    libs: list[str]
    app_times: list[float] = field(default_factory=list)
    lib_times: list[float] = field(default_factory=list)
    sdks: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)


def measure(function: str, runs: int) -> ColdResult:
    folder = str(REPO / "functions" / function)
    first = _child(function, ["app", folder])
    result = ColdResult(function, third_party(first["added"]), sdks=set(first["sdks"]))
    payload = json.dumps(result.libs)
    for _ in range(runs):
        app = _child(function, ["app", folder])
        libs = _child(function, ["libs"], payload)
        result.app_times.append(app["seconds"] * 1000)
        result.lib_times.append(libs["seconds"] * 1000)
        result.sdks |= set(app["sdks"])
        result.failed |= set(libs["failed"])
    return result


def functions_present() -> list[str]:
    present = sorted(p.parent.name for p in (REPO / "functions").glob("*/app.py"))
    return [f for f in API_FUNCTIONS if f in present] + [f for f in present if f not in API_FUNCTIONS]


def _rows(r: ColdResult) -> list[Row]:
    app, libs = median(r.app_times), median(r.lib_times)
    # Each app run is paired with the libs run right after it: the median of the pairs' own
    # ratios shrugs off a slow patch of the machine, which weighs on both sides of a pair alike.
    x = median([a / b for a, b in zip(r.app_times, r.lib_times, strict=True)]) if r.libs else None
    api = r.function in API_FUNCTIONS
    tops = sorted({n.split(".")[0] for n in r.libs if not n.startswith("_") and "cython" not in n})
    of_medians = ratio(app, libs) if r.libs else None
    note = f"ratio of the medians {of_medians:.2f}; " if of_medians is not None else ""
    note += f"{len(r.libs)} library modules: {', '.join(tops) or 'none'}"
    if r.failed:
        note += f"; {len(r.failed)} not importable alone"
    rows = [
        Row(
            f"2 cold {r.function}: import app.py (median)",
            app,
            libs if r.libs else None,
            x,
            f"ratio <= {COLD_BUDGET:g}" if api else "-",
            (x is not None and x <= COLD_BUDGET) if api else None,
            "ms",
            note,
        )
    ]
    if api:
        rows.append(
            Row(
                f"2 cold {r.function}: provider SDKs imported",
                len(r.sdks),
                None,
                None,
                "== 0",
                not r.sdks,
                "modules",
                ", ".join(sorted(r.sdks)) or "no openai, no google.genai",
            )
        )
    return rows


def tracer_row(function: str, runs: int) -> Row:
    """What Powertools' Tracer costs at import: the app with tracing on (deployed) and off.

    With tracing on, ``Tracer()`` auto-patches every library aws_xray_sdk knows how to trace,
    importing those that are installed even if the function never uses them.
    """
    folder = str(REPO / "functions" / function)
    on, off, extra = [], [], set()
    for _ in range(runs):
        traced = _child(function, ["app", folder])
        plain = _child(function, ["app", folder], tracing=False)
        on.append(traced["seconds"] * 1000)
        off.append(plain["seconds"] * 1000)
        extra |= {n.split(".")[0] for n in third_party(traced["added"])} - {
            n.split(".")[0] for n in plain["added"]
        }
    return Row(
        f"2 cold {function}: tracing on vs off",
        median(on),
        median(off),
        ratio(median(on), median(off)),
        "-",
        None,
        "ms",
        "libraries imported only with tracing on: "
        + ", ".join(sorted(n for n in extra if not n.startswith("_"))),
    )


def restore_rows(function: str, event_name: str, runs: int) -> list[Row]:
    """After-restore hook + first request, against a warm request and against the import."""
    folder = str(REPO / "functions" / function)
    results = [_child(function, ["restore", folder, event_name], tracing=False) for _ in range(runs)]
    restore = median([r["restore"] * 1000 for r in results])
    warm = median([r["warm"] * 1000 for r in results])
    imported = median([r["import"] * 1000 for r in results])
    note = f"median of {runs} fresh processes; after-restore hook + first request on a new connection"
    return [
        Row(
            f"2 restore {function}: vs a warm request",
            restore,
            warm,
            ratio(restore, warm),
            "-",
            None,
            "ms",
            note,
        ),
        Row(
            f"2 restore {function}: vs importing app.py",
            restore,
            imported,
            ratio(restore, imported),
            "-",
            None,
            "ms",
            note,
        ),
    ]


def run(report: Report, *, runs: int) -> None:
    """Every function with an app.py: API functions against the budget, the others for information."""
    print(f"\n== 2. cold start: median of {runs} fresh interpreters per side, interleaved")
    for function in functions_present():
        n = runs if function in API_FUNCTIONS else max(7, runs - 4)
        try:
            result = measure(function, n)
        except RuntimeError as exc:
            report.add(
                Row(f"2 cold {function}: import app.py", None, None, None, "-", None, "ms", str(exc)[:200])
            )
            continue
        for row in _rows(result):
            report.add(row)
    report.add(tracer_row("status_and_models", max(7, runs - 4)))
    for row in restore_rows("status_and_models", "status_and_models.get.200", max(5, runs - 6)):
        report.add(row)
