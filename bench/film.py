"""Figure 6: the film's media core (videogen.films) against the ``ffmpeg`` command doing the same work.

The baseline is the ffmpeg binary of the ``imageio-ffmpeg`` wheel, run in the same session on
the same files, interleaved with ours. Clips are short (2 s) 640x360 24 fps H.264 + AAC with
a moving test pattern and noise, so their bitrate is a real clip's (about 5 Mb/s), written
by that ffmpeg; the odd ones differ in size, frame rate, sample rate or lack sound.

Paired figures run both sides in every round (alternating who goes first); the ratio is the
median of the rounds' ratios.

- copy: ``assemble`` of N matching clips vs ``ffmpeg -f concat -c copy -movflags +faststart``.
- normalize: one odd clip (letterboxed, audio resampled) vs ffmpeg with the same filters and
  x264/AAC settings (``normalize.video_filters``/``audio_filters``/``x264_options``).
- critical path: each odd clip normalized on its own (as Lambda runs them in parallel: the
  slowest one) plus the copy, vs one ffmpeg run re-encoding the whole film (concat filter),
  as the peers do; for 10 and 40 clips.
- memory: peak RSS of a fresh process assembling 40 clips vs 10 (``bench.filmchild``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.measure import Contender, interleave, median
from bench.report import Report, Row, ratio
from videogen.films.media.assemble import assemble
from videogen.films.media.clips import Signature, choose_target, mp4_options, probe
from videogen.films.media.normalize import (
    AUDIO_BIT_RATE,
    CRF,
    audio_filters,
    normalize,
    video_filters,
    x264_options,
)

REPO = Path(__file__).resolve().parents[1]
SECONDS = 2
COPY_BUDGET = 1.3
MEMORY_BUDGET = 1.1


@dataclass(frozen=True)
class Kind:
    """How a generated clip looks: its size, rate and sound (None: silent)."""

    name: str
    width: int = 640
    height: int = 360
    fps: int = 24
    sample_rate: int | None = 48_000
    channels: int = 2
    seconds: int = SECONDS


MATCHING = Kind("matching")
ODD = (
    Kind("square-silent", width=480, height=480, sample_rate=None),
    Kind("scope-mono-44k", width=960, height=400, sample_rate=44_100, channels=1),
    Kind("30fps", fps=30),
)


def ffmpeg() -> str:
    import imageio_ffmpeg  # noqa: PLC0415

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _run(args: Sequence[str]) -> None:
    subprocess.run([ffmpeg(), "-nostdin", "-y", "-loglevel", "error", *args], check=True)


def generate(folder: Path, kind: Kind) -> Path:
    """One clip of ``kind``: moving test pattern with noise, and a tone when it has sound."""
    path = folder / f"{kind.name}.mp4"
    size, rate = f"{kind.width}x{kind.height}", kind.fps
    video = f"testsrc2=size={size}:rate={rate}:duration={kind.seconds},noise=alls=12:allf=t"
    args = ["-f", "lavfi", "-i", video]
    if kind.sample_rate is not None:
        tone = f"sine=frequency=440:sample_rate={kind.sample_rate}:duration={kind.seconds}"
        args += ["-f", "lavfi", "-i", tone]
        args += ["-c:a", "aac", "-ac", str(kind.channels)]
    _run([*args, "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p",
          "-movflags", "+faststart", str(path)])  # fmt: skip
    return path


def copies(source: Path, folder: Path, count: int) -> list[Path]:
    """``count`` distinct files with the bytes of ``source`` (each clip is its own object)."""
    out = []
    for i in range(count):
        path = folder / f"{source.stem}-{i:03d}.mp4"
        if not path.exists():
            shutil.copyfile(source, path)
        out.append(path)
    return out


def _chain(filters: list[tuple[str, str]]) -> str:
    return ",".join(f"{name}={args}" for name, args in filters)


def _encoder_args(target: Signature) -> list[str]:
    opts = x264_options(target.video)
    args = ["-c:v", "libx264", "-preset", opts["preset"], "-crf", CRF, "-profile:v", opts["profile"]]
    args += ["-level:v", opts["level"], "-x264-params", opts["x264-params"]]
    if target.audio is not None:
        args += ["-c:a", "aac", "-b:a", str(AUDIO_BIT_RATE)]
    options = mp4_options(target.video)
    return [
        *args,
        "-movflags",
        options["movflags"],
        "-video_track_timescale",
        options["video_track_timescale"],
    ]


def _filters_of(path: Path, target: Signature) -> tuple[str, str | None]:
    """The video chain for this input, and its audio chain (None when the film is silent)."""
    info = probe(path)
    v = info.signature.video
    video = _chain(video_filters(v.width, v.height, v.sample_aspect_ratio, target.video))
    if target.audio is None:
        return video, None
    frames = round(info.duration * target.video.frame_rate)
    samples = round(frames / target.video.frame_rate * target.audio.sample_rate)
    silent = info.signature.audio is None
    return video, _chain(audio_filters(target.audio, samples, silent=silent))


def ffmpeg_normalize(src: Path, dst: Path, target: Signature) -> None:
    video, audio = _filters_of(src, target)
    args = ["-i", str(src), "-vf", video]
    if audio is not None:
        if probe(src).signature.audio is None:  # the chain starts at anullsrc: a second input
            args = ["-i", str(src), "-f", "lavfi", "-i", audio, "-map", "0:v", "-map", "1:a", "-vf", video]
        else:
            args += ["-af", audio]
    _run([*args, *_encoder_args(target), str(dst)])


def ffmpeg_whole_film(paths: Sequence[Path], dst: Path, target: Signature) -> None:
    """One ffmpeg run decoding every clip, fitting it to the target, concatenating, encoding."""
    inputs: list[str] = []
    graph: list[str] = []
    for i, path in enumerate(paths):
        inputs += ["-i", str(path)]
        video, audio = _filters_of(path, target)
        graph.append(f"[{i}:v]{video}[v{i}]")
        if audio is not None:
            source = "" if probe(path).signature.audio is None else f"[{i}:a]"
            graph.append(f"{source}{audio}[a{i}]")
    streams = "".join(f"[v{i}]" + (f"[a{i}]" if target.audio else "") for i in range(len(paths)))
    has_audio = int(target.audio is not None)
    graph.append(f"{streams}concat=n={len(paths)}:v=1:a={has_audio}[v]" + ("[a]" if has_audio else ""))
    maps = ["-map", "[v]"] + (["-map", "[a]"] if has_audio else [])
    _run([*inputs, "-filter_complex", ";".join(graph), *maps, *_encoder_args(target), str(dst)])


def ffmpeg_concat(paths: Sequence[Path], dst: Path) -> None:
    listing = dst.with_suffix(".txt")
    listing.write_text("".join(f"file '{p}'\n" for p in paths))
    _run(
        ["-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", "-movflags", "+faststart", str(dst)]
    )


def _timed(work: Callable[[], Any]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def pair(
    report: Report, figure: str, pair: tuple[Contender, Contender], note: str, budget: float = COPY_BUDGET
) -> None:
    """Value and floor are medians; the ratio is the median of each round's own ratio, which a
    slow patch of this shared machine cannot tilt the way it can tilt one side's median."""
    ours, theirs = pair
    value, floor = median(ours.samples) * 1000, median(theirs.samples) * 1000
    r = median([a / b for a, b in zip(ours.samples, theirs.samples, strict=True)])
    report.add(Row(figure, value, floor, r, f"ratio <= {budget}", _within(r, budget), "ms", note))


def _within(r: float | None, budget: float) -> bool | None:
    return None if r is None else r <= budget


def _copy_row(report: Report, folder: Path, clips: list[Path], target: Signature, rounds: int) -> None:
    out = folder / "copy.mp4"
    theirs_out = folder / "copy-ffmpeg.mp4"
    ours = Contender("assemble", lambda _: assemble(clips, out, target))
    theirs = Contender("ffmpeg concat", lambda _: ffmpeg_concat(clips, theirs_out))
    interleave([ours, theirs], iterations=rounds, warmup=1)
    size = sum(p.stat().st_size for p in clips) / 1e6
    pair(report, f"6 film: copy {len(clips)} clips", (ours, theirs), f"{size:.0f} MB of clips")


def _normalize_row(report: Report, folder: Path, odd: Path, target: Signature, rounds: int) -> None:
    ours = Contender("normalize", lambda _: normalize(odd, folder / "norm.mp4", target))
    theirs = Contender("ffmpeg", lambda _: ffmpeg_normalize(odd, folder / "norm-ffmpeg.mp4", target))
    interleave([ours, theirs], iterations=rounds, warmup=1)
    pair(report, "6 film: normalize one clip", (ours, theirs), f"{odd.stem} to the film's target")


def _critical_row(report: Report, folder: Path, clips: list[Path]) -> None:
    n = len(clips)
    chosen = choose_target([probe(p) for p in clips])
    target = chosen.signature
    ready = list(clips)
    spans = []
    for i in chosen.to_normalize:
        ready[i] = folder / f"film{n}-normalized-{i}.mp4"
        start = time.perf_counter()
        normalize(clips[i], ready[i], target)
        spans.append(time.perf_counter() - start)
    copy = _timed(lambda: assemble(ready, folder / f"film{n}.mp4", target))
    whole = _timed(lambda: ffmpeg_whole_film(clips, folder / f"film{n}-ffmpeg.mp4", target)) * 1000
    slowest = max(spans, default=0.0)
    value = (slowest + copy) * 1000
    note = (
        f"{len(spans)} normalized, slowest {slowest * 1000:.0f} ms, all of them "
        f"{sum(spans) * 1000:.0f} ms; copy {copy * 1000:.0f} ms"
    )
    r = ratio(value, whole)
    ok = None if r is None else r < 1
    report.add(Row(f"6 film: critical path, {n} mixed clips", value, whole, r, "ratio < 1", ok, "ms", note))


def peak_rss(clips: dict[str, Any], dst: Path, target: Signature) -> dict[str, int]:
    """Peak RSS of a fresh process assembling ``{"paths": [...]}`` (files), ``{"keys": [...]}``
    (S3 objects, streamed) or ``{"spans": [[path, start, end], ...]}`` into ``dst``
    (``bench.filmchild``)."""
    job = clips | {"dst": str(dst), "target": target.to_json()}
    done = subprocess.run(
        [sys.executable, "-m", "bench.filmchild"],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=True,
    )
    result: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _memory_row(report: Report, folder: Path, many: list[Path], target: Signature) -> None:
    few = peak_rss({"paths": [str(p) for p in many[:10]]}, folder / "mem10.mp4", target)
    lots = peak_rss({"paths": [str(p) for p in many]}, folder / "mem40.mp4", target)
    r = ratio(lots["peak_kb"], few["peak_kb"])
    note = (
        f"growth while assembling {few['peak_kb'] - few['before_kb']} kB (10) vs "
        f"{lots['peak_kb'] - lots['before_kb']} kB ({len(many)}); films {few['film_bytes'] / 1e6:.0f} MB "
        f"vs {lots['film_bytes'] / 1e6:.0f} MB"
    )
    figure = f"6 film: peak RSS, {len(many)} vs 10 clips"
    value, floor = lots["peak_kb"] / 1024, few["peak_kb"] / 1024
    budget = f"ratio <= {MEMORY_BUDGET}"
    report.add(Row(figure, value, floor, r, budget, _within(r, MEMORY_BUDGET), "MB", note))


def mixed(matching: list[Path], odd: list[list[Path]], count: int) -> list[Path]:
    """``count`` clips, about 3 in 10 of them odd (the kinds in turn), spread through the film."""
    out, used, kinds = [], 0, 0
    for i in range(count):
        if i % 10 in (2, 5, 8):
            out.append(odd[kinds % len(odd)][kinds // len(odd)])
            kinds += 1
        else:
            out.append(matching[used])
            used += 1
    return out


def run(report: Report, *, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-film-") as tmp:
        folder = Path(tmp)
        source = generate(folder, MATCHING)
        matching = copies(source, folder, 40)
        odd = [copies(generate(folder, kind), folder, 4) for kind in ODD]
        target = probe(source).signature
        _copy_row(report, folder, matching, target, rounds)
        _normalize_row(report, folder, odd[1][0], target, rounds)
        for count in (10, 40):
            _critical_row(report, folder, mixed(matching, odd, count))
        _memory_row(report, folder, matching, target)
