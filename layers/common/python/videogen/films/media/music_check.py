"""Checking an uploaded music file by decoding it whole: what it is, or why it cannot be used.

Only the demuxers of the formats we take are allowed (``MUSIC_DEMUXERS``: FFmpeg opens nothing
else, so a playlist naming other files or URLs, an image or a video container is refused before
its header is read); a duration the header declares over the limit is refused before a sample
is decoded; then the first audio stream is decoded to its end (a file is at most 20 MB), and
the samples decoded, not the header, give its duration (where the header states one exactly,
most of it must decode: an Ogg that lost pages is refused). Other streams (an MP3's cover
picture) are ignored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import av

from videogen.films.media.clips import MediaError, Source, open_clip

MAX_SECONDS = 600.0
MIN_SECONDS = 1.0  # shorter would be looped hundreds of times a minute: not a music bed
MUSIC_DEMUXERS = "mp3,mov,wav,ogg,aac"
EXACT_HEADERS = {"mov", "wav", "ogg"}
"""Demuxers whose header states the length (MP3 and ADTS AAC estimate it from the bit rate)."""
TRUNCATED_BELOW = 0.9  # of the stated length: less decodes from a damaged or truncated file
"""FFmpeg demuxers of MP3, MP4/M4A (mov), WAV, Ogg and ADTS AAC: the only ones opened."""
CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "mov": "audio/mp4",
    "wav": "audio/wav",
    "ogg": "audio/ogg",
    "aac": "audio/aac",
}
"""The content type a stored music file is served with, by the demuxer that read it."""
_OPEN_OPTIONS = {"format_whitelist": MUSIC_DEMUXERS}


class MusicUnusable(MediaError):
    """A music file that cannot be laid under a film; the message says why (safe to answer)."""


@dataclass(frozen=True, slots=True)
class MusicInfo:
    """What decoding a music file found: its length (decoded samples), codec, rate and channels."""

    duration: float
    codec: str
    sample_rate: int
    channels: int
    content_type: str


def probe_music(source: Source) -> MusicInfo:
    """Decode ``source`` whole; ``MusicUnusable`` when it is no audio of the formats we take, has
    no sound, does not decode, or lasts over ``MAX_SECONDS`` (or under ``MIN_SECONDS``)."""
    with open_music(source) as container:
        stream = first_audio(container)
        declared = _declared_seconds(container, stream)
        if declared > MAX_SECONDS:
            raise MusicUnusable(f"the music lasts {_clock(declared)}: at most {_clock(MAX_SECONDS)}")
        rate = stream.codec_context.sample_rate
        channels = stream.codec_context.channels
        decoded = 0
        for frame in decoded_frames(container, stream):
            decoded += frame.samples
            rate, channels = frame.sample_rate, len(frame.layout.channels)
            if decoded > MAX_SECONDS * rate:
                raise MusicUnusable(f"the music lasts more than {_clock(MAX_SECONDS)}")
        seconds = decoded / rate if rate else 0.0
        if decoded == 0:
            raise MusicUnusable("the file holds no sound that decodes")
        demuxer = container.format.name.split(",")[0]
        if demuxer in EXACT_HEADERS and seconds < declared * TRUNCATED_BELOW:
            raise MusicUnusable(
                f"the music is damaged or truncated: it states {_clock(declared)}, {seconds:.1f} s decode"
            )
        if seconds < MIN_SECONDS:
            raise MusicUnusable(f"the music lasts {seconds:.2f} s: at least {MIN_SECONDS:.0f} s")
        return MusicInfo(seconds, stream.codec_context.name, rate, channels, CONTENT_TYPES[demuxer])


def open_music(source: Source) -> Any:
    """The music's container, opened by one of ``MUSIC_DEMUXERS`` only; ``MusicUnusable`` else."""
    try:
        return open_clip(source, _OPEN_OPTIONS)
    except av.error.FFmpegError as error:
        raise MusicUnusable("the file is not an MP3, AAC/M4A, WAV or Ogg audio file") from error


def first_audio(container: Any) -> Any:
    if not container.streams.audio:
        raise MusicUnusable("the file has no audio stream")
    return container.streams.audio[0]


def decoded_frames(container: Any, stream: Any) -> Iterator[Any]:
    """Every frame of ``stream`` (``MusicUnusable`` when one does not decode)."""
    stream.codec_context.thread_count = 1
    stream.codec_context.options = {"err_detect": "crccheck+bitstream+buffer"}
    try:
        yield from container.decode(stream)
    except av.error.FFmpegError as error:
        raise MusicUnusable(
            f"the music is damaged: it does not decode ({error.strerror or error})"
        ) from error


def _declared_seconds(container: Any, stream: Any) -> float:
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    return container.duration / av.time_base if container.duration else 0.0


def _clock(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{rest:02d}" if hours else f"{minutes}:{rest:02d}"
