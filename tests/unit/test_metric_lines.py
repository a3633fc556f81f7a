"""Metrics written by the worker's record threads at once stay one EMF document per line."""

from __future__ import annotations

import json
import threading

from videogen.runtime.observability import emit_metric


def test_metrics_emitted_from_many_threads_at_once_stay_whole_lines(capfd):
    # Given record threads counting at the same time (the worker runs a batch's records at once)
    start = threading.Barrier(8)

    def count(provider: str) -> None:
        start.wait()
        for _ in range(300):
            emit_metric("JobsCompleted", {"provider": provider, "padding": "x" * 200})

    threads = [threading.Thread(target=count, args=(f"p{n}",)) for n in range(8)]
    capfd.readouterr()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then CloudWatch can read every line: one JSON document each, none glued to another
    lines = capfd.readouterr().out.splitlines()
    documents = [json.loads(line) for line in lines]
    assert len(documents) == 8 * 300
    assert {d["provider"] for d in documents} == {f"p{n}" for n in range(8)}
