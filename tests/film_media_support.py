"""Reading films back for the media tests: colours of decoded frames, the sound's onsets."""

from __future__ import annotations

import array
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from devstack.fakes.media import Clip, render_clip

Rgb = tuple[int, int, int]
RED: Rgb = (200, 30, 30)
GREEN: Rgb = (30, 200, 30)
BLUE: Rgb = (30, 30, 200)
BLACK: Rgb = (0, 0, 0)


def render(folder: Path, name: str, clip: Clip) -> Path:
    return render_clip(clip, folder / f"{name}.mp4")


@dataclass(frozen=True)
class Picture:
    """One decoded frame as RGB24 rows, with its time."""

    seconds: float
    width: int
    height: int
    rows: list[bytes]

    def at(self, x: int, y: int) -> Rgb:
        row = self.rows[y]
        return row[3 * x], row[3 * x + 1], row[3 * x + 2]

    def white_run(self, x: int, y: int, dx: int, dy: int) -> int:
        """How many pixels from (x, y) stepping (dx, dy) are near white (the block, blurred a
        little at its edges by scaling and chroma subsampling)."""
        count = 0
        while 0 <= x < self.width and 0 <= y < self.height and min(self.at(x, y)) >= 180:
            count, x, y = count + 1, x + dx, y + dy
        return count


def pictures(path: Path) -> Iterator[Picture]:
    """Every frame of the film's video, decoded, in presentation order."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            rgb = frame.reformat(format="rgb24")
            plane = rgb.planes[0]
            data = bytes(plane)
            rows = [
                data[y * plane.line_size : y * plane.line_size + 3 * rgb.width] for y in range(rgb.height)
            ]
            yield Picture(float(frame.time or 0.0), rgb.width, rgb.height, rows)


def near(found: Rgb, expected: Rgb, tolerance: int = 16) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(found, expected, strict=True))


def samples(path: Path) -> tuple[int, array.array[float]]:
    """The film's first audio channel, decoded and placed by each frame's time (sample rate,
    float samples from time 0)."""
    out: array.array[float] = array.array("f")
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        for frame in container.decode(stream):
            assert frame.format.name == "fltp", frame.format.name  # what FFmpeg's AAC decoder gives
            channel = array.array("f", bytes(frame.planes[0])[: 4 * frame.samples])
            start = round((frame.time or 0.0) * rate)
            skip = max(0, len(out) - start)  # overlap with what is placed already, or priming
            out.extend(array.array("f", bytes(4 * max(0, start - len(out)))))  # a gap: silence
            out.extend(channel[skip:])
    return rate, out


def onset(rate: int, sound: array.array[float], after: float, threshold: float = 0.1) -> float:
    """The time of the first sample at or after ``after`` seconds louder than ``threshold``."""
    for index in range(round(after * rate), len(sound)):
        if abs(sound[index]) > threshold:
            return index / rate
    raise AssertionError(f"no sound after {after:.3f} s")


def loudest(rate: int, sound: array.array[float], start: float, end: float) -> float:
    window = sound[round(start * rate) : round(end * rate)]
    return max((abs(x) for x in window), default=0.0)


def streams(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as container:
        found = {"video": len(container.streams.video), "audio": len(container.streams.audio)}
        return found | ({"subtitle": len(container.streams.subtitles)} if container.streams.subtitles else {})


MUSIC_CODECS = {".wav": "pcm_s16le", ".mp3": "libmp3lame", ".m4a": "aac", ".ogg": "libopus", ".aac": "aac"}
"""What ``render_music`` encodes each kind of file with (all in PyAV's wheel)."""


def render_music(
    path: Path,
    seconds: float,
    *,
    sample_rate: int = 44_100,
    layout: str = "stereo",
    frequency: float = 330.0,
    amplitude: float = 0.3,
) -> Path:
    """A music file of ``seconds`` of a sine (its kind by the suffix: .wav, .mp3, .m4a, .ogg, .aac)."""
    codec = MUSIC_CODECS[path.suffix]
    muxer = {".m4a": "ipod", ".aac": "adts"}.get(path.suffix)
    with av.open(str(path), "w", format=muxer) as container:
        stream: Any = container.add_stream(codec, rate=sample_rate, layout=layout)
        encoder_format = stream.codec_context.codec.audio_formats[0].name
        resampler = av.AudioResampler(format=encoder_format, layout=layout, rate=sample_rate)
        total = round(seconds * sample_rate)
        for first in range(0, total, 1024):
            count = min(1024, total - first)
            wave = array.array(
                "f",
                (
                    amplitude * math.sin(2 * math.pi * frequency * n / sample_rate)
                    for n in range(first, first + count)
                ),
            )
            frame = av.AudioFrame(format="fltp", layout=layout, samples=count)
            for plane in frame.planes:
                plane.update(wave.tobytes() + bytes(plane.buffer_size - 4 * count))
            frame.sample_rate, frame.pts = sample_rate, first
            for converted in resampler.resample(frame):
                container.mux(stream.encode(converted))
        for converted in resampler.resample(None):
            container.mux(stream.encode(converted))
        container.mux(stream.encode(None))
    return path


def normalized(folder: Path, clips: list[Path]) -> tuple[list[Any], Any, list[Path]]:
    """What plan and normalize do on files: each clip's probe, the target, and the clips to copy
    (the odd ones normalized next to them)."""
    from videogen.films.media.clips import choose_target, probe  # noqa: PLC0415
    from videogen.films.media.normalize import normalize  # noqa: PLC0415

    infos = [probe(p) for p in clips]
    target = choose_target(infos)
    ready = list(clips)
    for i in target.to_normalize:
        ready[i] = folder / f"normalized-{i}.mp4"
        normalize(clips[i], ready[i], target.signature)
    return infos, target, ready


def crossfaded_film(folder: Path, clips: list[Path], overlap: Fraction) -> tuple[Path, float]:
    """What the pipeline does for a crossfaded film, on files: probe, choose the target, normalize
    the odd clips, plan the cuts, render each segment from the clips as they are, copy the rest,
    check it (length and sound at every cut); the film and its length."""
    from videogen.films.cuts import plan_cuts  # noqa: PLC0415
    from videogen.films.media.assemble import Span, assemble  # noqa: PLC0415
    from videogen.films.media.normalize import keyframes_of_normalized  # noqa: PLC0415
    from videogen.films.media.segment import keyframe_times, render_segment  # noqa: PLC0415
    from videogen.films.media.verify import check_sync, verify  # noqa: PLC0415
    from videogen.films.segments import exact_seconds  # noqa: PLC0415

    infos, target, ready = normalized(folder, clips)
    odd = set(target.to_normalize)
    durations = [exact_seconds(info, target.signature, i in odd) for i, info in enumerate(infos)]
    keyframes = [
        keyframes_of_normalized(info.duration, target.signature.video)
        if i in odd
        else keyframe_times(clips[i])
        for i, info in enumerate(infos)
    ]
    plan = plan_cuts(durations, keyframes, overlap)
    segments = [folder / f"segment-{k}.mp4" for k in range(len(plan.segments))]
    for segment, path in zip(plan.segments, segments, strict=True):
        render_segment(clips, segment, path, target.signature)
    spans = []
    for piece in plan.pieces:
        part = piece.part
        if part is None:
            spans.append(Span(segments[piece.segment or 0]))
        else:
            spans.append(
                Span(ready[part.clip], part.start, None if part.end >= durations[part.clip] else part.end)
            )
    film = folder / "crossfaded.mp4"
    made = assemble(spans, film, target.signature)
    shares = [float(d - overlap) for d in durations[:-1]] + [float(durations[-1])]
    seconds = verify(film, shares)
    check_sync(made, target.signature)
    return film, seconds
