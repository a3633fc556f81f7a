"""The child process of figure 2: one timed import in a fresh interpreter, reported as JSON.

``python -m bench.coldchild app functions/status_and_models`` imports ``app`` with that folder first on
``sys.path``, as the Lambda runtime imports a handler module (``tools.functions``, loaded
before the clock starts in both modes); ``python -m bench.coldchild libs`` imports the module
names given as a JSON list on stdin, in order. Only the import itself is timed
(``time.perf_counter`` around it); the interpreter's own start-up is the same for both and is
left out. The JSON line tells the seconds, the modules the import added, the names that
could not be imported alone, and which provider SDKs ended up loaded.

``python -m bench.coldchild restore functions/status_and_models <event>`` is SnapStart's critical path:
after the timed import and one request, the before-snapshot hook runs (what Lambda runs
before taking the snapshot); then the after-restore hook and the first request after it (on
a new connection) are timed together, and then warm requests one by one.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

from tools.functions import import_handler_module

PROVIDER_SDKS = ("openai", "google.genai")


def _import_app(folder: str) -> float:
    start = time.perf_counter()
    import_handler_module(Path(folder), "app", name="app", keep_on_path=True)
    return time.perf_counter() - start


def _import_libs(names: list[str], failed: list[str]) -> float:
    start = time.perf_counter()
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:
            failed.append(name)
    return time.perf_counter() - start


def _restore(folder: str, event_name: str, warm: int) -> dict[str, float]:
    """Import, one request, before-snapshot; then after-restore + first request; then warm ones."""
    from tools.harness import LambdaContext, load_event  # noqa: PLC0415

    seconds = _import_app(folder)
    handler = sys.modules["app"].lambda_handler
    from videogen.runtime import snapstart  # noqa: PLC0415 (the app imported it)

    context = LambdaContext(function_name="bench-restore")
    handler(load_event(event_name), context)
    snapstart.before_snapshot()
    event = load_event(event_name)
    start = time.perf_counter()
    snapstart.after_restore()
    handler(event, context)
    restored = time.perf_counter() - start
    times = []
    for _ in range(warm):
        event = load_event(event_name)
        start = time.perf_counter()
        handler(event, context)
        times.append(time.perf_counter() - start)
    times.sort()
    return {"import": seconds, "restore": restored, "warm": times[len(times) // 2]}


def main(argv: list[str]) -> int:
    if argv[0] == "restore":
        print(json.dumps(_restore(argv[1], argv[2], warm=50)))
        return 0
    before = set(sys.modules)
    failed: list[str] = []
    app = argv[0] == "app"
    seconds = _import_app(argv[1]) if app else _import_libs(json.loads(sys.stdin.read()), failed)
    added = [name for name in sys.modules if name not in before]
    sdks = [name for name in PROVIDER_SDKS if name in sys.modules]
    print(json.dumps({"seconds": seconds, "added": added, "failed": failed, "sdks": sdks}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
