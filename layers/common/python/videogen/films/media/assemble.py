"""Concatenate clips of one signature into a fast-start MP4 by stream copy (never re-encoding).

What is copied is a list of spans: a whole clip, or a clip from one keyframe to another (a
crossfaded film copies the stretches between its re-encoded cut segments, videogen.films.cuts).
Clips are read one after another, packet by packet, so memory holds the film's index and not
its samples. Video: each clip is offset by the exact end of the clips before it. Audio: AAC
packets are 1024-sample units that MP4 places back to back, and every clip starts with an
encoder-priming packet; copying them all would push the sound later by a packet per clip.
So the audio keeps a running position and, at each clip, starts from the packet whose time
lies closest to it (the first clip keeps its priming, which the film's edit list hides) and
stops when the next packet would lie mostly past the clip's video: each clip's sound starts
within half a packet of its picture, and the error never accumulates.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from videogen.films.media.avcc import AvcConfig, ParameterSetCollision
from videogen.films.media.captions import Captions
from videogen.films.media.clips import (
    AudioFormat,
    ClipMismatch,
    Signature,
    Source,
    VideoFormat,
    audio_format,
    mp4_options,
    open_clip,
    video_format,
)


@dataclass(frozen=True)
class Span:
    """Seconds ``start`` (a keyframe) to ``end`` (a keyframe; None: the end) of a clip."""

    source: Source
    start: Fraction = Fraction(0)
    end: Fraction | None = None


@dataclass(frozen=True)
class Film:
    """What ``assemble`` wrote: each span's video length as copied, the total, the file size,
    and where each span's picture and sound start in the film (seconds), to check they agree."""

    clip_durations: tuple[float, ...]
    duration: float
    size_bytes: int
    starts: tuple[tuple[float, float | None], ...] = ()


@dataclass(frozen=True)
class _Head:
    """What the copy needs from a clip before its first packet."""

    extradata: bytes
    reorder: int  # pts - dts of its first video packet (B-frame delay), in the video time base
    seconds: Fraction  # video length from the header, used only to cut the clip's audio


def assemble(
    paths: Sequence[Source | Span], dst: Path | str, target: Signature, captions: Captions | None = None
) -> Film:
    """Copy ``paths`` (files, or callables opening one: see ``media.Source``; or spans of them)
    in order into ``dst``, with ``captions`` as a soft subtitle track. Every clip must match
    ``target`` (normalized clips and segments may carry their own parameter sets under free
    ids); otherwise ``ClipMismatch`` names it. One clip is open at a time."""
    if not paths:
        raise ClipMismatch(0, "a film needs at least one clip")
    spans = [p if isinstance(p, Span) else Span(p) for p in paths]
    heads = [_head(i, span.source, target) for i, span in enumerate(spans)]
    extradata = _track_config(heads, target)
    with av.open(str(dst), "w", format="mp4", options=mp4_options(target.video)) as out:
        copier = _Copier(out, spans[0].source, extradata, target, max(h.reorder for h in heads))
        if captions is not None and captions.cues:
            captions.mux(out)
        durations = [
            copier.copy(i, span, head, last=i == len(spans) - 1)
            for i, (span, head) in enumerate(zip(spans, heads, strict=True))
        ]
    return Film(tuple(durations), sum(durations), os.path.getsize(dst), tuple(copier.starts))


# Copying needs only the MP4 index: open without decoding a frame to probe (7 ms -> 1 ms a clip).
# Then profile, level, pixel format, colour and pixel aspect may stay unknown; they live in the
# avcC and its SPS, which _track_config compares and unites and verify's decoding vouches for.
_HEADER_ONLY = {"skip_frame": "all", "analyzeduration": "0", "probesize": "32"}


def _copy_fields(video: VideoFormat) -> tuple[object, ...]:
    """What a clip's video must share with the film's to be copied, as the MP4 index tells it."""
    return (video.codec, video.width, video.height, video.frame_rate, video.time_base)


def _audio_fields(audio: AudioFormat) -> tuple[object, ...]:
    """The same for audio; the profile is in the AudioSpecificConfig's first two bytes."""
    return (audio.codec, audio.sample_rate, audio.layout, audio.frame_size, audio.config[:4])


def _head(index: int, path: Source, target: Signature) -> _Head:
    try:
        with open_clip(path, _HEADER_ONLY) as container:
            return _check(index, container, target)
    except av.error.FFmpegError as error:
        raise ClipMismatch(index, f"unreadable ({error.strerror or error})") from error


def _check(index: int, container: Any, target: Signature) -> _Head:
    if not container.streams.video:
        raise ClipMismatch(index, "no video stream")
    video = container.streams.video[0]
    found = _copy_fields(video_format(video))
    if found != _copy_fields(target.video):
        raise ClipMismatch(index, f"video {found} is not the film's {_copy_fields(target.video)}")
    seconds = Fraction(video.duration or 0) * video.time_base
    if target.audio is not None:
        if not container.streams.audio:
            raise ClipMismatch(index, "no audio, the film has sound")
        audio = container.streams.audio[0]
        if _audio_fields(audio_format(audio)) != _audio_fields(target.audio):
            raise ClipMismatch(index, "audio format is not the film's")
        audio_seconds = Fraction(audio.duration or 0) * audio.time_base
        if audio_seconds < seconds - Fraction(target.audio.frame_size, 2 * target.audio.sample_rate):
            raise ClipMismatch(index, "audio is shorter than the video")
    first = next((p for p in container.demux(video) if p.dts is not None), None)
    if first is None:
        raise ClipMismatch(index, "no video packets")
    return _Head(bytes(video.codec_context.extradata or b""), first.pts - first.dts, seconds)


def _track_config(heads: list[_Head], target: Signature) -> bytes:
    """The film's avcC: the target's parameter sets plus those of normalized clips."""
    own = bytes.fromhex(target.video.parameter_sets)
    if target.video.codec != "h264":  # only identical headers can share a track
        for i, head in enumerate(heads):
            if head.extradata != own:
                raise ClipMismatch(i, "stream headers differ from the film's")
        return own
    merged = AvcConfig.parse(own)
    for i, head in enumerate(heads):
        try:
            config = AvcConfig.parse(head.extradata)
            if config.profile_and_level != merged.profile_and_level:
                raise ClipMismatch(i, "H.264 profile or level is not the film's")
            merged = merged.union([config])
        except ParameterSetCollision as error:
            raise ClipMismatch(i, f"parameter sets collide with the film's ({error})") from error
        except ValueError as error:
            raise ClipMismatch(i, f"no avcC parameter sets ({error})") from error
    return merged.to_bytes()


class _Copier:
    """The output streams and the running positions of both tracks."""

    def __init__(self, out: Any, template: Source, extradata: bytes, target: Signature, reorder: int) -> None:
        self.out = out
        self.target = target
        self.reorder = reorder
        with open_clip(template, _HEADER_ONLY) as first:
            self.video: Any = out.add_stream_from_template(first.streams.video[0])
            self.audio: Any = None
            if target.audio is not None:
                self.audio = out.add_stream_from_template(first.streams.audio[0])
                self.audio.codec_context.extradata = bytes.fromhex(target.audio.config)
        self.video.codec_context.extradata = extradata
        self.video_end = 0  # video time base
        self.audio_at: int | None = None  # audio time base (samples)
        self.starts: list[tuple[float, float | None]] = []

    def copy(self, index: int, span: Span, head: _Head, *, last: bool) -> float:
        """Copy one span; its video length in seconds."""
        tb = self.target.video.time_base
        begin = self.video_end
        start = int(span.start / tb)
        stop = None if span.end is None else int(span.end / tb)
        offset = begin - start
        shift = self.reorder - head.reorder
        seconds = (head.seconds if span.end is None else span.end) - span.start
        audio = _AudioCut.at(
            self.target,
            start=begin * tb,
            clip_start=span.start,
            seconds=seconds,
            position=self.audio_at,
            last=last,
        )
        try:
            with open_clip(span.source, _HEADER_ONLY) as container:
                video = container.streams.video[0]
                streams: list[Any] = [video] if audio is None else [video, container.streams.audio[0]]
                if span.start > 0:  # from a second before its first keyframe, for the sound
                    container.seek(
                        int(max(Fraction(0), span.start - 1) / Fraction(video.time_base)), stream=video
                    )
                video_done = False
                for packet in container.demux(*streams):
                    if packet.dts is None:
                        continue
                    if packet.stream.type == "video":
                        video_done = video_done or (
                            stop is not None and packet.is_keyframe and packet.pts >= stop
                        )
                        if not video_done and packet.pts >= start:
                            self._video(packet, offset, shift)
                    elif audio is not None and audio.place(packet):
                        packet.stream = self.audio
                        self.out.mux(packet)
                    if video_done and (audio is None or audio.past):
                        break
        except av.error.FFmpegError as error:
            raise ClipMismatch(index, f"unreadable ({error.strerror or error})") from error
        audio_start = None
        if audio is not None and self.target.audio is not None:
            audio_start = None if audio.first is None else audio.first / self.target.audio.sample_rate
            self.audio_at = audio.position
        self.starts.append((float(begin * tb), audio_start))
        return float((self.video_end - begin) * tb)

    def _video(self, packet: Any, offset: int, shift: int) -> None:
        packet.pts += offset
        packet.dts += offset - shift
        self.video_end = max(self.video_end, packet.pts + packet.duration)
        packet.stream = self.video
        self.out.mux(packet)


@dataclass
class _AudioCut:
    """Which of one clip's audio packets the film keeps, and where they go (samples)."""

    offset: int  # where the clip's video starts
    end: int  # where its video ends (by the header)
    position: int | None  # the film's audio so far; None before the first packet
    unit: int  # samples per packet
    last: bool
    started: bool = False
    past: bool = False  # a packet lay mostly past the span's picture: the rest do too
    first: int | None = None  # where the span's first kept packet went

    @classmethod
    def at(
        cls,
        target: Signature,
        *,
        start: Fraction,
        clip_start: Fraction,
        seconds: Fraction,
        position: int | None,
        last: bool,
    ) -> _AudioCut | None:
        """The cut of a span of ``seconds`` from ``clip_start`` in its clip, placed at ``start``
        in the film."""
        if target.audio is None:
            return None
        rate = target.audio.sample_rate
        begin = round(start * rate)
        offset = begin - round(clip_start * rate)
        return cls(offset, begin + round(seconds * rate), position, target.audio.frame_size, last)

    def place(self, packet: Any) -> bool:
        """Whether to keep ``packet``; if so its timestamps are set to the film's position."""
        at = self.offset + packet.pts
        if self.past:
            return False
        if self.position is None:  # the film's first packet keeps its time (priming included)
            self.position = at
        # Mid-film packets count as whole units; the film's last one keeps its trimmed length.
        length = packet.duration if self.last else self.unit
        if not self.started:
            if at < self.position - self.unit // 2:
                return False  # priming, or sound the previous clip already covers
            self.started = True
        if self.position + length // 2 > self.end:
            self.past = True
            return False  # mostly past this clip's picture
        if self.first is None:
            self.first = max(0, self.position)
        packet.pts = packet.dts = self.position
        packet.duration = length
        self.position += length
        return True
