"""Real, tiny media for the fake providers: an H.264 MP4 and a PNG, derived from the prompt.

The clip is 256x144, 8 fps, 2 s, yuv420p, Constrained Baseline, ``moov`` before ``mdat``
(faststart), so what lands in S3 plays in any browser. The background colour comes from a
hash of the prompt and a white block walks left to right, one step per frame. Results are
cached by prompt; a first render takes a few tens of milliseconds.
"""

from __future__ import annotations

import hashlib
import struct
import tempfile
import zlib
from functools import lru_cache
from pathlib import Path

import av

WIDTH = 256
HEIGHT = 144
FPS = 8
FRAMES = 16
_BLOCK = 16
_BLOCK_TOP = HEIGHT // 2 - _BLOCK // 2


def colour(prompt: str) -> tuple[int, int, int]:
    """The background colour a prompt gets (stable across runs)."""
    digest = hashlib.sha256(prompt.encode()).digest()
    return digest[0], digest[1], digest[2]


def frame_rows(prompt: str, index: int) -> list[bytes]:
    """RGB24 rows (no padding) of frame ``index``: background plus the walking block."""
    background = bytes(colour(prompt)) * WIDTH
    x = (index * (WIDTH - _BLOCK)) // max(1, FRAMES - 1)
    block_row = background[: x * 3] + b"\xff" * (_BLOCK * 3) + background[(x + _BLOCK) * 3 :]
    return [block_row if _BLOCK_TOP <= y < _BLOCK_TOP + _BLOCK else background for y in range(HEIGHT)]


@lru_cache(maxsize=128)
def render_video(prompt: str) -> bytes:
    """An H.264 MP4 for ``prompt`` (cached)."""
    # faststart rewrites the file to move the index first, which needs a real file.
    with tempfile.TemporaryDirectory(prefix="devstack-media-") as tmp:
        path = Path(tmp) / "clip.mp4"
        with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
            stream = container.add_stream("libx264", rate=FPS)
            stream.width = WIDTH
            stream.height = HEIGHT
            stream.pix_fmt = "yuv420p"
            stream.options = {"preset": "ultrafast", "profile": "baseline"}
            for index in range(FRAMES):
                frame = _rgb_frame(frame_rows(prompt, index))
                for packet in stream.encode(frame.reformat(format="yuv420p")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        return path.read_bytes()


@lru_cache(maxsize=128)
def render_thumbnail(prompt: str) -> bytes:
    """A PNG of the clip's first frame (cached)."""
    raw = b"".join(b"\x00" + row for row in frame_rows(prompt, 0))  # filter type 0 per row
    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw))
        + _png_chunk(b"IEND", b"")
    )


def _rgb_frame(rows: list[bytes]) -> av.VideoFrame:
    frame = av.VideoFrame(WIDTH, HEIGHT, "rgb24")
    plane = frame.planes[0]
    # Each plane row may be padded beyond width * 3 bytes.
    padding = b"\x00" * (plane.line_size - WIDTH * 3)
    plane.update(b"".join(row + padding for row in rows))
    return frame


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
