"""Real, tiny media for the fake providers: H.264 MP4s (optionally with an AAC tone) and a PNG.

``render_video(prompt, provider)``, what the fakes serve: 2 s, yuv420p, ``moov`` before
``mdat`` (faststart), so what lands in S3 plays in any browser. The providers' clips differ
as real ones do, so a film of both needs normalizing: Sora's are 256x144 at 8 fps with a
440 Hz AAC tone (Sora 2 clips carry sound), Veo's 320x180 at 12 fps, silent, from another
encoder preset. The background colour comes from a hash of the prompt and a white block
walks left to right, one step per frame; a create's first (last) frame image makes the first
(last) frame a plain fill of that image's mean colour (``first=``, ``last=``, as a model starts
from and ends on the images it is given); results are cached by arguments. ``render_clip`` writes
the same kind of clip at any size, frame rate, length, colour, pixel format, H.264 profile,
preset and keyframe interval (the fakes' clips have a keyframe a second), with or without a
sine tone (for the film tests and bench).
"""

from __future__ import annotations

import hashlib
import math
import struct
import tempfile
import zlib
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import av

WIDTH = 256
HEIGHT = 144
FPS = 8
FRAMES = 16
BLOCK_FRACTION = 9  # the block's side is the frame height divided by this (16 px at 144 px)
Rgb = tuple[int, int, int]


@dataclass(frozen=True)
class Tone:
    """An AAC track: a sine of ``frequency`` Hz from ``start`` seconds on, silence before it."""

    frequency: float = 440.0
    start: float = 0.0
    sample_rate: int = 48_000
    layout: str = "stereo"
    amplitude: float = 0.3


@dataclass(frozen=True)
class Clip:
    """What ``render_clip`` draws: ``frames`` frames of ``colour`` with the walking white block."""

    colour: Rgb
    width: int = WIDTH
    height: int = HEIGHT
    fps: int | Fraction = FPS
    frames: int = FRAMES
    profile: str = "baseline"
    pix_fmt: str = "yuv420p"
    preset: str = "ultrafast"  # another preset stands in for another provider's encoder
    tone: Tone | None = None
    first: Rgb | None = None  # frame 0 filled with this colour (a create's first frame)
    last: Rgb | None = None  # the final frame filled with this colour (its last frame)
    gop: int | None = None  # frames from one keyframe to the next (None: x264's default, 250)

    @property
    def block(self) -> int:
        return max(2, self.height // BLOCK_FRACTION)


LOOKS = {
    "openai": Clip((0, 0, 0), tone=Tone(), gop=8),
    "veo": Clip((0, 0, 0), width=320, height=180, fps=12, frames=24, preset="veryfast", gop=12),
}
"""What each fake provider's clips look like (the colour follows the prompt)."""


def colour(prompt: str) -> Rgb:
    """The background colour a prompt gets (stable across runs)."""
    digest = hashlib.sha256(prompt.encode()).digest()
    return digest[0], digest[1], digest[2]


def clip_rows(clip: Clip, index: int) -> list[bytes]:
    """RGB24 rows (no padding) of frame ``index`` of ``clip``."""
    fill = clip.first if index == 0 else clip.last if index == clip.frames - 1 else None
    if fill is not None:
        return [bytes(fill) * clip.width] * clip.height
    side, width = clip.block, clip.width
    background = bytes(clip.colour) * width
    x = (index * (width - side)) // max(1, clip.frames - 1)
    block_row = background[: x * 3] + b"\xff" * (side * 3) + background[(x + side) * 3 :]
    top = clip.height // 2 - side // 2
    return [block_row if top <= y < top + side else background for y in range(clip.height)]


@lru_cache(maxsize=128)
def render_video(
    prompt: str, provider: str = "openai", first: Rgb | None = None, last: Rgb | None = None
) -> bytes:
    """An H.264 MP4 for ``prompt`` as ``provider``'s fake serves it (cached), starting on a frame
    of colour ``first`` and ending on one of ``last`` when given."""
    # faststart rewrites the file to move the index first, which needs a real file.
    with tempfile.TemporaryDirectory(prefix="devstack-media-") as tmp:
        path = Path(tmp) / "clip.mp4"
        render_clip(replace(LOOKS[provider], colour=colour(prompt), first=first, last=last), path)
        return path.read_bytes()


def render_clip(clip: Clip, path: Path) -> Path:
    """Write ``clip`` to ``path`` as a faststart MP4 (video first, then the tone if any)."""
    with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=clip.fps)
        stream.width = clip.width
        stream.height = clip.height
        stream.pix_fmt = clip.pix_fmt
        stream.options = {"preset": clip.preset, "profile": clip.profile}
        if clip.gop is not None:  # a keyframe every gop frames, as streaming encoders do
            stream.options |= {"g": str(clip.gop), "keyint_min": str(clip.gop), "sc_threshold": "0"}
        audio = None if clip.tone is None else _add_tone_stream(container, clip.tone)
        for index in range(clip.frames):
            frame = _rgb_frame(clip_rows(clip, index), clip.width, clip.height)
            for packet in stream.encode(frame.reformat(format=clip.pix_fmt)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        if audio is not None and clip.tone is not None:
            _encode_tone(container, audio, clip.tone, Fraction(clip.frames) / Fraction(clip.fps))
    return path


@lru_cache(maxsize=128)
def render_thumbnail(prompt: str, first: Rgb | None = None) -> bytes:
    """A PNG of the clip's first frame (cached)."""
    rows = clip_rows(Clip(colour(prompt), first=first), 0)
    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 per row
    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw))
        + _png_chunk(b"IEND", b"")
    )


def _add_tone_stream(container: av.container.OutputContainer, tone: Tone) -> av.AudioStream:
    return container.add_stream("aac", rate=tone.sample_rate, layout=tone.layout)


def _encode_tone(
    container: av.container.OutputContainer, stream: av.AudioStream, tone: Tone, seconds: Fraction
) -> None:
    """As many samples as the video lasts, in frames of the encoder's size."""
    rate = tone.sample_rate
    total = round(seconds * rate)
    onset = round(tone.start * rate)
    size = stream.codec_context.frame_size or 1024
    for first in range(0, total, size):
        count = min(size, total - first)
        samples = [
            tone.amplitude * math.sin(2 * math.pi * tone.frequency * (n - onset) / rate)
            if n >= onset
            else 0.0
            for n in range(first, first + count)
        ]
        frame = av.AudioFrame(format="fltp", layout=tone.layout, samples=count)
        plane_bytes = struct.pack(f"<{count}f", *samples)
        for plane in frame.planes:
            plane.update(plane_bytes + b"\x00" * (plane.buffer_size - len(plane_bytes)))
        frame.sample_rate = rate
        frame.pts = first
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


def _rgb_frame(rows: list[bytes], width: int, height: int) -> av.VideoFrame:
    frame = av.VideoFrame(width, height, "rgb24")
    plane = frame.planes[0]
    # Each plane row may be padded beyond width * 3 bytes.
    padding = b"\x00" * (plane.line_size - width * 3)
    plane.update(b"".join(row + padding for row in rows))
    return frame


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
