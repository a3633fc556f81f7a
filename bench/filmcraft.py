"""Figure 6c: a crossfaded film (videogen.films.cuts + media.segment) against ``ffmpeg`` re-encoding
the whole film with ``xfade``/``acrossfade``, as the tools we are compared with do.

Clips are 8 s (Veo's length) 640x360 24 fps H.264 + AAC with a moving test pattern and noise
(about a real clip's bitrate) and a keyframe every second, made by the ``imageio-ffmpeg``
binary; the crossfade is 0.5 s. Both sides encode with the same x264 preset and CRF. Ours, as
the pipeline runs it: the cut plan from the clips' keyframes, every cut segment rendered (each
its own Lambda step, so the critical path counts only the slowest), then the copy of the whole
film. One round each (a whole film of 40 clips takes ffmpeg most of a minute here).

- total work: all segments + the copy, against ffmpeg's run (budget <= 0.4x);
- critical path: the slowest segment + the copy (budget <= 0.1x);
- for 10 and 40 clips; and peak RSS of the crossfaded copy, 40 vs 10 clips (``bench.filmchild``);
- music bed: the 10-clip film copied then laid with 30 s of music (looped, ducked), against the
  same film without music plus encoding its sound alone (decode + AAC encode, PyAV): budget
  <= 1.2x, the median of 5 rounds' ratios.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from bench.film import MEMORY_BUDGET, _encoder_args, _run, _timed, copies, peak_rss
from bench.measure import median
from bench.report import Report, Row, ratio
from videogen.films.cuts import CutPlan, plan_cuts
from videogen.films.media.assemble import Span, assemble
from videogen.films.media.clips import Signature, probe
from videogen.films.media.music import lay_music
from videogen.films.media.normalize import AUDIO_BIT_RATE
from videogen.films.media.segment import keyframe_times, render_segment

SECONDS = 8
OVERLAP = Fraction(1, 2)
WORK_BUDGET = 0.4
CRITICAL_BUDGET = 0.1
MUSIC_BUDGET = 1.2


def generate(folder: Path) -> Path:
    path = folder / "clip.mp4"
    video = f"testsrc2=size=640x360:rate=24:duration={SECONDS},noise=alls=12:allf=t"
    tone = f"sine=frequency=440:sample_rate=48000:duration={SECONDS}"
    keyframes = ["-g", "24", "-keyint_min", "24", "-sc_threshold", "0"]  # one a second
    _run(["-f", "lavfi", "-i", video, "-f", "lavfi", "-i", tone, "-c:a", "aac", "-ac", "2",
          "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p",
          *keyframes, "-movflags", "+faststart", str(path)])  # fmt: skip
    return path


def ffmpeg_crossfaded(paths: Sequence[Path], dst: Path, target: Signature, seconds: float) -> None:
    """The whole film through one filter graph: xfade and acrossfade at every cut."""
    inputs: list[str] = []
    for path in paths:
        inputs += ["-i", str(path)]
    d = float(OVERLAP)
    graph, video, audio = [], "[0:v]", "[0:a]"
    for i in range(1, len(paths)):
        offset = i * (seconds - d)
        graph.append(f"{video}[{i}:v]xfade=transition=fade:duration={d}:offset={offset}[v{i}]")
        graph.append(f"{audio}[{i}:a]acrossfade=d={d}:c1=tri:c2=tri[a{i}]")
        video, audio = f"[v{i}]", f"[a{i}]"
    maps = ["-map", video, "-map", audio, "-pix_fmt", target.video.pix_fmt]  # xfade may pick 4:4:4
    _run([*inputs, "-filter_complex", ";".join(graph), *maps, *_encoder_args(target), str(dst)])


def ours(paths: Sequence[Path], folder: Path, target: Signature) -> tuple[list[float], float, list[Span]]:
    """Each segment's time, the copy's, and the spans copied."""
    durations = [
        Fraction(probe(p).duration).limit_denominator(target.video.time_base.denominator) for p in paths
    ]
    plan: CutPlan = plan_cuts(durations, [keyframe_times(p) for p in paths], OVERLAP)
    segment_times, segment_paths = [], []
    for k, segment in enumerate(plan.segments):
        out = folder / f"segment-{len(paths)}-{k}.mp4"
        start = time.perf_counter()
        render_segment(paths, segment, out, target)
        segment_times.append(time.perf_counter() - start)
        segment_paths.append(out)
    spans = []
    for piece in plan.pieces:
        if piece.part is None:
            spans.append(Span(segment_paths[piece.segment or 0]))
            continue
        part = piece.part
        spans.append(
            Span(paths[part.clip], part.start, None if part.end >= durations[part.clip] else part.end)
        )
    start = time.perf_counter()
    assemble(spans, folder / f"crossfaded-{len(paths)}.mp4", target)
    return segment_times, time.perf_counter() - start, spans


def _rows(report: Report, folder: Path, clips: list[Path], target: Signature) -> None:
    n = len(clips)
    segments, copy, _ = ours(clips, folder, target)
    start = time.perf_counter()
    ffmpeg_crossfaded(clips, folder / f"crossfaded-{n}-ffmpeg.mp4", target, SECONDS)
    whole = (time.perf_counter() - start) * 1000
    work = (sum(segments) + copy) * 1000
    critical = (max(segments) + copy) * 1000
    note = f"{len(segments)} segments, slowest {max(segments) * 1000:.0f} ms; copy {copy * 1000:.0f} ms"
    for name, value, budget in (
        ("total work", work, WORK_BUDGET),
        ("critical path", critical, CRITICAL_BUDGET),
    ):
        r = ratio(value, whole)
        ok = None if r is None else r <= budget
        row = Row(f"6c crossfade: {name}, {n} clips", value, whole, r, f"ratio <= {budget}", ok, "ms", note)
        report.add(row)


def _memory_row(report: Report, folder: Path, clips: list[Path], target: Signature) -> None:
    def spans_of(paths: list[Path]) -> dict[str, Any]:
        _, _, spans = ours(paths, folder, target)
        return {
            "spans": [[str(s.source), str(s.start), None if s.end is None else str(s.end)] for s in spans]
        }

    few = peak_rss(spans_of(clips[:10]), folder / "mem-x10.mp4", target)
    lots = peak_rss(spans_of(clips), folder / "mem-x40.mp4", target)
    r = ratio(lots["peak_kb"], few["peak_kb"])
    note = (
        f"growth {few['peak_kb'] - few['before_kb']} kB (10) vs {lots['peak_kb'] - lots['before_kb']} kB (40)"
    )
    ok = None if r is None else r <= MEMORY_BUDGET
    row = Row("6c crossfade: peak RSS, 40 vs 10 clips", lots["peak_kb"] / 1024, few["peak_kb"] / 1024, r,
              f"ratio <= {MEMORY_BUDGET}", ok, "MB", note)  # fmt: skip
    report.add(row)


def _audio_encode(film: Path, dst: Path) -> None:
    """The floor of any music bed: the film's sound decoded and encoded again, nothing else."""
    with av.open(str(film)) as inp, av.open(str(dst), "w", format="mp4") as out:
        ain = inp.streams.audio[0]
        enc = out.add_stream("aac", rate=ain.codec_context.sample_rate, layout=ain.codec_context.layout.name)
        enc.codec_context.bit_rate = AUDIO_BIT_RATE  # the same encode as the film's new sound
        for frame in inp.decode(ain):
            frame.pts = None
            for packet in enc.encode(frame):
                out.mux(packet)
        for packet in enc.encode(None):
            out.mux(packet)


def _music_row(report: Report, folder: Path, clips: list[Path], target: Signature) -> None:
    music = folder / "music.m4a"
    _run(["-f", "lavfi", "-i", "sine=frequency=330:sample_rate=44100:duration=30", "-c:a", "aac", str(music)])
    plain, bed, floor = folder / "plain.mp4", folder / "bed.mp4", folder / "sound.m4a"
    rounds = []
    for i in range(5):  # alternating which side goes first, as figure 6's pairs do
        without = _timed(lambda: assemble(clips, plain, target))
        sides = [
            lambda: _timed(lambda: lay_music(plain, music, bed, volume_db=-12.0, duck=True)),
            lambda: _timed(lambda: _audio_encode(plain, floor)),
        ]
        laid, encode = (sides[0](), sides[1]()) if i % 2 == 0 else tuple(reversed((sides[1](), sides[0]())))
        rounds.append((without + laid, without + encode))
    value, base = median([a for a, _ in rounds]) * 1000, median([b for _, b in rounds]) * 1000
    r = median([a / b for a, b in rounds])
    note = f"{len(clips)} clips of {SECONDS} s; 30 s of music looped and ducked"
    row = Row(
        f"6c music bed, {len(clips)} clips",
        value,
        base,
        r,
        f"ratio <= {MUSIC_BUDGET}",
        r <= MUSIC_BUDGET,
        "ms",
        note,
    )
    report.add(row)


def run(report: Report) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-filmcraft-") as tmp:
        folder = Path(tmp)
        source = generate(folder)
        clips = copies(source, folder, 40)
        target = probe(source).signature
        for count in (10, 40):
            _rows(report, folder, clips[:count], target)
        _memory_row(report, folder, clips, target)
        _music_row(report, folder, clips[:10], target)
