"""Figure 6, the pipeline's side: how the film compiler reads clips from S3 (moto, its own
process) against the plainer design that downloads every clip to disk first.

Clips as figure 6 makes them (640x360 24 fps H.264 + AAC with noise, about 5 Mb/s): ten of
20 s (12 MB, a provider clip's length) for the plan and the copy, and forty of 2 s for the
memory. Both sides run in every round, alternating who goes first; the ratio is the median of
the rounds' ratios.

- plan: the plan step's probe of the clips from their MP4 index through ranged reads
  (``videogen.storage.objects.ObjectReader``) vs downloading each clip and probing the file.
- assemble: the copy of the clips streamed from S3 into the film vs downloading them all to
  disk, then copying (the disk then holds every clip and the film, not the film alone).
- memory: peak RSS of a fresh process assembling 40 clips streamed from S3 vs 10.
"""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path

from bench import film
from bench.measure import Contender, interleave
from bench.report import Report, Row, ratio
from videogen.films.media.assemble import assemble
from videogen.films.media.clips import Signature, probe
from videogen.storage import objects

LONG = film.Kind("long", seconds=20)
LONG_COUNT = 10
SHORT_COUNT = 40
PLAN_BUDGET = 1.0
ASSEMBLE_BUDGET = 1.3


def _upload(clips: list[Path]) -> list[str]:
    keys = [f"videos/bench/{clip.name}" for clip in clips]
    for clip, key in zip(clips, keys, strict=True):
        objects.upload_file(clip, key, "video/mp4")
    return keys


def _plan_row(report: Report, folder: Path, keys: list[str], rounds: int) -> None:
    fetched: list[int] = []

    def ranged(_: object) -> None:
        readers: list[objects.ObjectReader] = []

        def opened(key: str) -> objects.ObjectReader:
            readers.append(objects.ObjectReader(key))
            return readers[-1]

        for key in keys:
            probe(partial(opened, key), index_only=True)
        fetched.append(sum(r.fetched for r in readers))

    def downloaded(_: object) -> None:
        for key in keys:
            path = folder / "probe.mp4"
            objects.download_file(key, path)
            probe(path)

    ours, theirs = Contender("ranged", ranged), Contender("download", downloaded)
    interleave([ours, theirs], iterations=rounds, warmup=1)
    whole = sum(objects.object_size(k) or 0 for k in keys)
    note = f"{fetched[-1] / 1e6:.1f} MB read of {whole / 1e6:.0f} MB"
    figure = f"6 film pipeline: plan probes {len(keys)} 20 s clips in S3"
    film.pair(report, figure, (ours, theirs), note, PLAN_BUDGET)


def _assemble_row(report: Report, folder: Path, keys: list[str], target: Signature, rounds: int) -> None:
    sources = [partial(objects.ObjectReader, key) for key in keys]

    def streamed(_: object) -> None:
        assemble(sources, folder / "streamed.mp4", target)

    def downloaded(_: object) -> None:
        paths = []
        for i, key in enumerate(keys):
            paths.append(folder / f"clip-{i:03d}.mp4")
            objects.download_file(key, paths[-1])
        assemble(paths, folder / "downloaded.mp4", target)

    ours, theirs = Contender("streamed", streamed), Contender("download", downloaded)
    interleave([ours, theirs], iterations=rounds, warmup=1)
    note = "clips streamed into the film vs downloaded to disk first"
    figure = f"6 film pipeline: assemble {len(keys)} 20 s clips from S3"
    film.pair(report, figure, (ours, theirs), note, ASSEMBLE_BUDGET)


def _memory_row(report: Report, folder: Path, keys: list[str], target: Signature) -> None:
    few = film.peak_rss({"keys": keys[:10]}, folder / "mem10.mp4", target)
    lots = film.peak_rss({"keys": keys}, folder / "mem40.mp4", target)
    r = ratio(lots["peak_kb"], few["peak_kb"])
    note = (
        f"growth while assembling {few['peak_kb'] - few['before_kb']} kB (10) vs "
        f"{lots['peak_kb'] - lots['before_kb']} kB ({len(keys)}), clips streamed from S3"
    )
    figure = f"6 film pipeline: peak RSS, {len(keys)} vs 10 clips"
    ok = None if r is None else r <= film.MEMORY_BUDGET
    budget = f"ratio <= {film.MEMORY_BUDGET}"
    report.add(Row(figure, lots["peak_kb"] / 1024, few["peak_kb"] / 1024, r, budget, ok, "MB", note))


def run(report: Report, *, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-filmpipe-") as tmp:
        folder = Path(tmp)
        long_source = film.generate(folder, LONG)
        long_keys = _upload(film.copies(long_source, folder, LONG_COUNT))
        target = probe(long_source).signature
        _plan_row(report, folder, long_keys, rounds)
        _assemble_row(report, folder, long_keys, target, rounds)
        short_source = film.generate(folder, film.MATCHING)
        _memory_row(
            report,
            folder,
            _upload(film.copies(short_source, folder, SHORT_COUNT)),
            probe(short_source).signature,
        )
