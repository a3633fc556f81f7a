"""Clips as the film sees them: probe, the signature stream copy needs, the film's target, verify.

A film is assembled by stream copy only, so its clips must agree on everything a decoder
configures once per track: codec and its headers, size, pixel format, frame rate and time
base, and the audio format. ``Signature`` is exactly that; ``choose_target`` picks the one most
clips already have, and the rest go through ``normalize`` (videogen.films.media.normalize) before
``assemble`` (videogen.films.media.assemble). A clip is a local file or a callable opening a
seekable file (``Source``: the pipeline reads S3 objects by ranges, videogen.storage.objects).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import av
import av.logging

# Bump when normalize's encoder settings change: normalized clips cached under the old key then
# carry other parameter sets under the same id, and must not meet the new ones in a film.
ENCODER_REVISION = 2
# What normalize can produce, so what a film with clips to normalize may target.
X264_PROFILES = {"Constrained Baseline": "baseline", "Baseline": "baseline", "Main": "main", "High": "high"}
# Python reads through PyAV in pieces this large (its default, 32 KiB, means many small calls).
_READ_BUFFER = 256 * 1024


class SeekableFile(Protocol):
    """What PyAV reads a clip through when it is not a local file."""

    def read(self, size: int = -1, /) -> bytes | None: ...
    def seek(self, offset: int, whence: int = 0, /) -> int: ...
    def tell(self) -> int: ...


Source = Path | str | Callable[[], SeekableFile]
"""A clip to read: a local file, or a callable returning a fresh seekable binary file (PyAV
closes it with the container)."""


class MediaError(Exception):
    """A clip or film the media core cannot use; the message says what and where."""


class ClipUnreadable(MediaError):
    """Not an MP4 with a decodable video stream (empty, corrupt, another format)."""


class ClipMismatch(MediaError):
    """Clip ``index`` cannot be copied into a film of the target signature."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(f"clip {index}: {reason}")
        self.index = index


class FilmInvalid(MediaError):
    """The assembled film fails verification; ``part`` is "video", "audio" or "container";
    ``clip`` the index of the clip where decoding failed, when it did."""

    def __init__(self, part: str, reason: str, clip: int | None = None) -> None:
        super().__init__(f"{part}: {reason}")
        self.part = part
        self.clip = clip


class NoTarget(MediaError):
    """No signature of the clips can be the film's: they differ and none is one normalize makes."""


@dataclass(frozen=True)
class VideoFormat:
    """The video stream parameters a track has once; ``parameter_sets`` is the extradata (avcC)."""

    codec: str
    profile: str | None
    level: int
    width: int
    height: int
    pix_fmt: str
    frame_rate: Fraction
    time_base: Fraction
    sample_aspect_ratio: Fraction
    color: tuple[int, int, int, int]  # AVCOL_* range, matrix, primaries, transfer
    parameter_sets: str  # hex

    def shape(self) -> VideoFormat:
        """Everything but the parameter sets: what normalized clips share with the target."""
        return replace(self, parameter_sets="")


@dataclass(frozen=True)
class AudioFormat:
    """The audio stream parameters a track has once; ``config`` is the extradata (AAC's ASC)."""

    codec: str
    profile: str | None
    sample_rate: int
    layout: str
    frame_size: int
    config: str  # hex

    def shape(self) -> AudioFormat:
        return replace(self, config="")


@dataclass(frozen=True)
class Signature:
    """What must be equal for clips to be concatenated by stream copy (hashable, JSON-able)."""

    video: VideoFormat
    audio: AudioFormat | None

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, fractions as "n/d"), for a database row or a message."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"), default=str)

    @classmethod
    def from_json(cls, text: str) -> Signature:
        data: dict[str, Any] = json.loads(text)
        video = data["video"]
        for name in ("frame_rate", "time_base", "sample_aspect_ratio"):
            video[name] = Fraction(video[name])
        video["color"] = tuple(video["color"])
        audio = data["audio"]
        return cls(VideoFormat(**video), None if audio is None else AudioFormat(**audio))

    def key(self) -> str:
        """A short digest of the signature, for cache keys and object names."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:32]

    @property
    def producible(self) -> bool:
        """Whether normalize can re-encode a clip to match this signature (H.264 4:2:0 + AAC LC)."""
        video_ok = self.video.codec == "h264" and self.video.profile in X264_PROFILES
        audio_ok = self.audio is None or (self.audio.codec == "aac" and self.audio.profile == "LC")
        return video_ok and self.video.pix_fmt == "yuv420p" and audio_ok


@dataclass(frozen=True)
class ClipInfo:
    """What ``probe`` found in one clip; durations are exact, from the streams' packets."""

    signature: Signature
    duration: float  # seconds of video
    frames: int
    audio_duration: float | None

    def copyable(self, target: Signature) -> bool:
        """Whether this clip goes into a film of ``target`` as it is (its audio dropped if the
        film has none; kept only if it lasts as long as the video, give or take half a frame)."""
        if self.signature.video != target.video:
            return False
        if target.audio is None:
            return True
        if self.signature.audio != target.audio or self.audio_duration is None:
            return False
        half_frame = target.audio.frame_size / target.audio.sample_rate / 2
        return self.audio_duration >= self.duration - half_frame


def mp4_options(video: VideoFormat) -> dict[str, str]:
    """Muxer options for a clip or film of ``video``: index first, the target's track timescale."""
    return {"movflags": "+faststart", "video_track_timescale": str(video.time_base.denominator)}


@dataclass(frozen=True)
class Target:
    """The film's signature and the indexes of the clips that need normalizing to it."""

    signature: Signature
    to_normalize: tuple[int, ...]


def choose_target(infos: Sequence[ClipInfo]) -> Target:
    """The signature most clips have exactly (ties: with sound first, then the earliest clip).

    A signature normalize cannot produce wins only when every clip can be copied under it.
    """
    if not infos:
        raise NoTarget("a film needs at least one clip")
    counts = Counter(info.signature for info in infos)
    first = {sig: next(i for i, info in enumerate(infos) if info.signature == sig) for sig in counts}
    ranked = sorted(counts, key=lambda sig: (-counts[sig], sig.audio is None, first[sig]))
    for signature in ranked:
        todo = tuple(i for i, info in enumerate(infos) if not info.copyable(signature))
        if not todo or signature.producible:
            return Target(signature, todo)
    raise NoTarget("the clips differ and none is H.264 4:2:0 with AAC LC audio or none")


def normalize_key(clip_id: str, target: Signature) -> str:
    """The cache key of ``clip_id`` normalized to ``target`` (changes with the encoder build)."""
    material = f"{ENCODER_REVISION}:{av.__version__}:{clip_id}:{target.key()}"
    return hashlib.sha256(material.encode()).hexdigest()[:40]


def open_clip(source: Source, options: dict[str, str] | None = None) -> Any:
    """``av.open`` of a clip for reading (a file path, or the file ``source()`` opens)."""
    if isinstance(source, Path | str):
        return av.open(str(source), options=options or {})
    return av.open(source(), options=options or {}, buffer_size=_READ_BUFFER)


def probe(source: Source, *, index_only: bool = False) -> ClipInfo:
    """Read a clip's streams and its first frames; ``ClipUnreadable`` if it is not a usable MP4.

    Durations come from every packet's time, or with ``index_only`` from the MP4 index (the
    sum of its sample durations: the same figures, without reading the samples; a clip whose
    index lacks them is read whole anyway).
    """
    try:
        with open_clip(source) as container:
            return _probe(container, index_only)
    except av.error.FFmpegError as error:
        raise ClipUnreadable(f"not a readable MP4 ({error.strerror or error})") from error


def _probe(container: Any, index_only: bool) -> ClipInfo:
    if "mp4" not in container.format.name.split(","):
        raise ClipUnreadable(f"not an MP4 ({container.format.name})")
    if not container.streams.video:
        raise ClipUnreadable("no video stream")
    video = container.streams.video[0]
    audio = container.streams.audio[0] if container.streams.audio else None
    indexed = index_only and all(s.duration for s in (video, audio) if s is not None)
    spans = _scan(container, video, audio, whole=not indexed)
    signature = Signature(video_format(video), None if audio is None else audio_format(audio))
    if spans[video.index].decoded == 0:
        raise ClipUnreadable("no decodable video frame")
    if audio is not None and spans[audio.index].decoded == 0:
        raise ClipUnreadable("the audio stream does not decode")
    if indexed:
        audio_seconds = None if audio is None else float(audio.duration * audio.time_base)
        return ClipInfo(signature, float(video.duration * video.time_base), video.frames, audio_seconds)
    audio_seconds = None if audio is None else spans[audio.index].seconds(audio.time_base)
    video_span = spans[video.index]
    return ClipInfo(signature, video_span.seconds(video.time_base), video_span.frames, audio_seconds)


@dataclass
class _Span:
    """The extent of one stream's presented packets, in its time base, and what decoded."""

    start: int | None = None
    end: int = 0
    frames: int = 0
    decoded: int = 0

    def add(self, packet: Any) -> None:
        if packet.pts is None or packet.is_discard:
            return
        self.start = packet.pts if self.start is None else min(self.start, packet.pts)
        self.end = max(self.end, packet.pts + packet.duration)
        self.frames += 1

    def seconds(self, time_base: Fraction | None) -> float:
        if self.start is None or time_base is None:
            return 0.0
        return float((self.end - self.start) * time_base)


def _scan(container: Any, *streams: Any, whole: bool = True) -> dict[int, _Span]:
    """Demux every packet (``whole``) or only until each stream decoded its first frame (no
    decoding beyond it)."""
    spans = {s.index: _Span() for s in streams if s is not None}
    for packet in container.demux(*(s for s in streams if s is not None)):
        span = spans[packet.stream.index]
        if packet.dts is None:  # a flush packet: the decoder may still hold the first frame
            span.decoded += 0 if span.decoded else len(packet.decode())
            continue
        span.add(packet)
        if not span.decoded:
            span.decoded = len(packet.decode())
        if not whole and all(s.decoded for s in spans.values()):
            break
    return spans


def _fraction(value: Any, default: Fraction) -> Fraction:
    return Fraction(value) if value else default


def video_format(stream: Any) -> VideoFormat:
    """The ``VideoFormat`` of an open PyAV video stream."""
    ctx = stream.codec_context
    time_base = Fraction(stream.time_base)
    rate = stream.average_rate or stream.guessed_rate or 1 / time_base
    return VideoFormat(
        codec=ctx.name,
        profile=ctx.profile,
        level=int(ctx.level),
        width=ctx.width,
        height=ctx.height,
        pix_fmt=ctx.pix_fmt or "",
        frame_rate=Fraction(rate),
        time_base=time_base,
        sample_aspect_ratio=_fraction(stream.sample_aspect_ratio, Fraction(1)),
        color=(int(ctx.color_range), int(ctx.colorspace), int(ctx.color_primaries), int(ctx.color_trc)),
        parameter_sets=(ctx.extradata or b"").hex(),
    )


def audio_format(stream: Any) -> AudioFormat:
    """The ``AudioFormat`` of an open PyAV audio stream."""
    ctx = stream.codec_context
    return AudioFormat(
        codec=ctx.name,
        profile=ctx.profile,
        sample_rate=ctx.sample_rate,
        layout=ctx.layout.name,
        frame_size=ctx.frame_size or 1024,
        config=(ctx.extradata or b"").hex(),
    )
