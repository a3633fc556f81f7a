"""Check an assembled film: every packet of every stream decodes, and it lasts as long as its clips."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.logging

from videogen.films.media.assemble import Film
from videogen.films.media.clips import FilmInvalid, Signature

TOLERANCE_PER_CLIP = 0.1  # seconds


def verify(path: Path | str, expected_durations: Sequence[float]) -> float:
    """Decode the whole film at ``path`` (errors are fatal, logged ones too) and check that
    video and audio each last ``sum(expected_durations)`` within 0.1 s per clip; returns the
    video's length. ``FilmInvalid`` names the stream and, for decoding, the time and clip."""
    starts = list(itertools.accumulate(expected_durations, initial=0.0))[:-1]
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as error:
        raise FilmInvalid("container", f"not a readable MP4 ({error.strerror or error})") from error
    with container:
        streams: list[Any] = [*container.streams.video[:1], *container.streams.audio[:1]]
        if not container.streams.video:
            raise FilmInvalid("video", "no video stream")
        tallies = {s.index: _Tally(s.type, Fraction(s.time_base)) for s in streams}
        video = tallies[streams[0].index]
        for stream in streams:
            stream.codec_context.options = {"err_detect": "explode"}
            # One thread: a decoder thread that logs waits for the GIL in PyAV's log callback,
            # and closing the container joins it while holding the GIL (a deadlock, seen when
            # a broken film raised mid-decode with frames still in flight).
            stream.codec_context.thread_count = 1
        _decode_all(container, streams, tallies, starts)
    expected = sum(expected_durations)
    tolerance = TOLERANCE_PER_CLIP * len(expected_durations)
    for tally in tallies.values():
        tally.check(expected, tolerance)
    return video.seconds


@dataclass
class _Tally:
    kind: str
    time_base: Fraction
    packets: int = 0
    frames: int = 0
    start: int | None = None
    end: int = 0
    at: float = 0.0  # the last packet's time, for naming where decoding failed

    def count(self, packet: Any) -> None:
        self.packets += 1
        self.at = float(packet.pts * self.time_base)
        if not packet.is_discard:
            self.start = packet.pts if self.start is None else min(self.start, packet.pts)
            self.end = max(self.end, packet.pts + packet.duration)

    @property
    def seconds(self) -> float:
        return 0.0 if self.start is None else float((self.end - self.start) * self.time_base)

    def check(self, expected: float, tolerance: float) -> None:
        if self.kind == "video" and self.frames != self.packets:
            raise FilmInvalid("video", f"{self.packets} packets gave {self.frames} frames")
        if abs(self.seconds - expected) > tolerance:
            raise FilmInvalid(self.kind, f"lasts {self.seconds:.3f} s, clips add up to {expected:.3f} s")


def _decode_all(container: Any, streams: list[Any], tallies: dict[int, _Tally], starts: list[float]) -> None:
    level = av.logging.get_level()
    av.logging.set_level(av.logging.ERROR)
    try:
        with av.logging.Capture(local=False) as logs:
            for packet in container.demux(*streams):
                tally = tallies[packet.stream.index]
                if packet.dts is not None:
                    tally.count(packet)
                try:
                    tally.frames += len(packet.decode())
                except av.error.FFmpegError as error:
                    raise _failure(tally, starts, str(error.strerror or error)) from error
                if logs:
                    raise _failure(tally, starts, logs[0][2].strip())
    finally:
        av.logging.set_level(level)


def _failure(tally: _Tally, starts: list[float], reason: str) -> FilmInvalid:
    clip = max(1, bisect.bisect_right(starts, tally.at))
    message = f"does not decode at {tally.at:.2f} s (clip {clip}): {reason}"
    return FilmInvalid(tally.kind, message, clip=clip - 1)


def check_sync(film: Film, target: Signature) -> None:
    """Where each copied span's sound starts against its picture: within one audio frame
    (``FilmInvalid`` naming the time otherwise). Every span starts at a cut or a keyframe, so
    this measures the sound at every cut of the film."""
    if target.audio is None:
        return
    frame = target.audio.frame_size / target.audio.sample_rate
    for video_at, audio_at in film.starts:
        if audio_at is None:
            raise FilmInvalid("audio", f"no sound from {video_at:.3f} s on, the picture goes on")
        if abs(audio_at - video_at) > frame:
            drift = (audio_at - video_at) * 1000
            raise FilmInvalid("audio", f"at {video_at:.3f} s the sound is {drift:+.1f} ms off the picture")
