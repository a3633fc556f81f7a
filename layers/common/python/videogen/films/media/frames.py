"""A clip's last frame as a still: exactly the last frame a decoder presents, as a PNG.

Only the end of the clip is read: a seek to its last keyframe (the MP4's sync-sample index,
through ranged reads when the clip is an S3 object), then decoding from there to the end and
keeping the frame presented last (the highest time, whatever order B-frames decode in). A clip
whose index cannot be seeked is decoded from its start. The PNG is lossless, so its pixels are
the decoded frame's, in RGB; a small JPEG thumbnail comes with it. PyAV only (no Pillow): the
film compiler is the one function that carries it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av

from videogen.films.media.clips import ClipUnreadable, Source, open_clip

THUMBNAIL_SIDE = 256


@dataclass(frozen=True, slots=True)
class Still:
    """A frame as stored: the PNG, its size and SHA-256, and a JPEG thumbnail."""

    png: bytes
    width: int
    height: int
    sha256: str
    thumbnail: bytes


def last_frame(source: Source) -> Still:
    """The last presented frame of ``source``'s video; ``ClipUnreadable`` when it has none."""
    try:
        with open_clip(source) as container:
            if not container.streams.video:
                raise ClipUnreadable("no video stream")
            stream = container.streams.video[0]
            frame = _from_last_keyframe(container, stream)
            if frame is None:  # no index to seek by, or nothing decoded after the seek
                container.seek(0, stream=stream, backward=True, any_frame=False)
                frame = _last_decoded(container, stream)
            if frame is None:
                raise ClipUnreadable("no decodable video frame")
            return still(frame)
    except av.error.FFmpegError as error:
        raise ClipUnreadable(f"not a readable video ({error.strerror or error})") from error


def _from_last_keyframe(container: Any, stream: Any) -> Any:
    if not stream.duration:
        return None
    end = (stream.start_time or 0) + stream.duration
    try:
        container.seek(end, stream=stream, backward=True, any_frame=False)
    except av.error.FFmpegError:
        return None
    return _last_decoded(container, stream)


def _last_decoded(container: Any, stream: Any) -> Any:
    last = None
    for frame in container.decode(stream):
        if last is None or (frame.pts is not None and (last.pts is None or frame.pts >= last.pts)):
            last = frame
    return last


def still(frame: Any) -> Still:
    """``frame`` (a decoded ``av.VideoFrame``) as a lossless RGB PNG and a JPEG thumbnail."""
    rgb = frame.reformat(format="rgb24")
    png = _encode("png", rgb, "rgb24")
    scale = THUMBNAIL_SIDE / max(rgb.width, rgb.height)
    width, height = _even(rgb.width * min(1.0, scale)), _even(rgb.height * min(1.0, scale))
    small = frame.reformat(width=width, height=height, format="yuvj420p")
    return Still(
        png=png,
        width=rgb.width,
        height=rgb.height,
        sha256=hashlib.sha256(png).hexdigest(),
        thumbnail=_encode("mjpeg", small, "yuvj420p"),
    )


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def _encode(codec: str, frame: Any, pix_fmt: str) -> bytes:
    """One frame as one image file (PyAV's PNG or JPEG encoder)."""
    context: Any = av.CodecContext.create(codec, "w")
    context.width, context.height, context.pix_fmt = frame.width, frame.height, pix_fmt
    context.time_base = Fraction(1, 25)
    packets = [*context.encode(frame), *context.encode(None)]
    return b"".join(bytes(packet) for packet in packets)
