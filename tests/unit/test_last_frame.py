"""A clip's last frame as the continuing shot's first frame: exactly the frame a decoder presents
last, read from the last keyframe on, on real MP4s."""

from __future__ import annotations

import io
from pathlib import Path

import av
import pytest
from PIL import Image

from devstack.fakes.media import Clip, clip_rows
from tests.film_media_support import BLUE, GREEN, RED, near, render
from videogen.films.media.clips import ClipUnreadable
from videogen.films.media.frames import last_frame


def decoded_last(path: Path) -> bytes:
    """The RGB24 pixels of the last frame a plain decode from the start presents."""
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    last = max(frames, key=lambda f: f.pts or 0)
    rgb = last.reformat(format="rgb24")
    plane = rgb.planes[0]
    data = bytes(plane)
    return b"".join(
        data[y * plane.line_size : y * plane.line_size + 3 * rgb.width] for y in range(rgb.height)
    )


def pixel(image: Image.Image, x: int, y: int) -> tuple[int, int, int]:
    found = image.convert("RGB").getpixel((x, y))
    assert isinstance(found, tuple)
    return found[0], found[1], found[2]


def with_keyframes_every(folder: Path, clip: Clip, gop: int) -> Path:
    """``clip`` encoded with a keyframe every ``gop`` frames and B-frames (so decode order differs
    from presentation order), as a faststart MP4."""
    path = folder / "gop.mp4"
    with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=clip.fps)
        stream.width, stream.height, stream.pix_fmt = clip.width, clip.height, "yuv420p"
        stream.options = {"preset": "medium", "profile": "high", "g": str(gop), "keyint_min": str(gop)}
        for index in range(clip.frames):
            frame = av.VideoFrame(clip.width, clip.height, "rgb24")
            padding = b"\x00" * (frame.planes[0].line_size - clip.width * 3)
            frame.planes[0].update(b"".join(row + padding for row in clip_rows(clip, index)))
            for packet in stream.encode(frame.reformat(format="yuv420p")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def keyframes(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for packet in container.demux(video=0) if packet.is_keyframe)


def test_the_still_is_exactly_the_last_decoded_frame_of_a_clip_ending_elsewhere(tmp_path: Path) -> None:
    path = with_keyframes_every(tmp_path, Clip(GREEN, frames=30, last=RED), gop=8)
    assert keyframes(path) >= 3  # so the seek has a last keyframe to land on

    still = last_frame(path)

    with Image.open(io.BytesIO(still.png)) as image:
        assert (image.format, image.mode, image.size) == ("PNG", "RGB", (still.width, still.height))
        assert image.tobytes() == decoded_last(path)  # pixel for pixel
        assert near(pixel(image, 4, 4), RED)  # the clip's own last frame, not its background
    with Image.open(io.BytesIO(still.thumbnail)) as thumbnail:
        assert thumbnail.format == "JPEG"
        assert max(thumbnail.size) <= 256
        assert near(pixel(thumbnail, 2, 2), RED, tolerance=24)


def test_a_fake_providers_clip_gives_its_last_frame_colour(tmp_path: Path) -> None:
    path = render(tmp_path, "fake", Clip(BLUE, frames=12, first=GREEN, last=RED))

    still = last_frame(str(path))

    with Image.open(io.BytesIO(still.png)) as image:
        assert image.tobytes() == decoded_last(path)
        assert near(pixel(image, image.width // 2, image.height // 2), RED)


def test_a_file_that_is_no_video_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "not.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"junk" * 64)

    with pytest.raises(ClipUnreadable):
        last_frame(path)
