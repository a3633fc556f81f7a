"""The child process of figure 6's memory row: one ``assemble`` in a fresh interpreter, its peak RSS.

``python -m bench.filmchild`` reads ``{"paths": [...], "dst": ..., "target": <Signature JSON>}``
(or ``"keys"``: S3 objects streamed through ranged reads, as the film compiler reads them; or
``"spans"``: ``[path, start, end]`` stretches of clips, as a crossfaded film copies them) on
stdin, imports the film code, notes the resident set before assembling and the peak after,
and prints them as a JSON line (kB, ``VmRSS`` and ``VmHWM`` of ``/proc/self/status``: the
latter belongs to this program's image, where ``getrusage``'s maximum would still count the
parent's pages the child had between fork and exec).
"""

from __future__ import annotations

import json
import sys
from functools import partial
from pathlib import Path


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def main() -> int:
    from fractions import Fraction  # noqa: PLC0415

    from videogen.films.media.assemble import Span, assemble  # noqa: PLC0415
    from videogen.films.media.clips import Signature, Source  # noqa: PLC0415
    from videogen.storage.objects import ObjectReader  # noqa: PLC0415

    job = json.loads(sys.stdin.read())
    target = Signature.from_json(job["target"])
    sources: list[Source | Span] = [partial(ObjectReader, key) for key in job.get("keys", [])]
    sources = sources or [
        Span(p, Fraction(a), None if b is None else Fraction(b)) for p, a, b in job.get("spans", [])
    ]
    sources = sources or job["paths"]
    before = _status_kb("VmRSS")
    film = assemble(sources, job["dst"], target)
    peak = _status_kb("VmHWM")
    print(json.dumps({"before_kb": before, "peak_kb": peak, "film_bytes": film.size_bytes}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
