"""S3 objects as files (moto): ranged reads that seek like a file and fetch only what is read,
probing a clip from its index without reading its samples, downloads and uploads."""

from __future__ import annotations

import io
import os
import subprocess

import imageio_ffmpeg
import pytest

from tests.integration.film_support import put_object
from videogen.films.media.clips import probe
from videogen.storage import objects


@pytest.fixture
def data(aws) -> bytes:
    payload = os.urandom(3 * objects.FIRST_RANGE + 12345)
    put_object("videos/u/blob.bin", payload)
    return payload


def test_a_reader_reads_and_seeks_like_a_file(data):
    reader = objects.ObjectReader("videos/u/blob.bin")

    assert reader.size == len(data)
    assert reader.read(10) == data[:10]
    assert reader.seek(-5, io.SEEK_END) == len(data) - 5
    assert reader.read(100) == data[-5:]
    assert reader.read(1) == b""
    reader.seek(2 * objects.FIRST_RANGE - 3)
    assert reader.read(6) == data[2 * objects.FIRST_RANGE - 3 : 2 * objects.FIRST_RANGE + 3]
    reader.seek(0)
    assert reader.read() == data


def test_sequential_reads_fetch_growing_ranges(data):
    reader = objects.ObjectReader("videos/u/blob.bin")

    while reader.read(64 * 1024):
        pass

    assert reader.fetched == len(data)
    assert reader.requests == 3  # 256 KiB, 512 KiB, then the rest (up to 1 MiB)


def test_a_long_read_fetches_ahead_yet_every_byte_once(aws):
    payload = os.urandom(3 * objects.MAX_RANGE + 777)
    put_object("videos/u/long.bin", payload)
    reader = objects.ObjectReader("videos/u/long.bin")

    chunks = []
    while chunk := reader.read(256 * 1024):
        chunks.append(chunk)
    reader.close()

    assert b"".join(chunks) == payload
    assert reader.fetched == len(payload)


def test_an_empty_object_reads_as_empty(aws):
    put_object("videos/u/empty.bin", b"")

    reader = objects.ObjectReader("videos/u/empty.bin")

    assert (reader.size, reader.read()) == (0, b"")


def test_a_missing_object_is_named(aws, tmp_path):
    with pytest.raises(objects.ObjectMissing) as missing:
        objects.ObjectReader("videos/u/none.mp4")

    assert missing.value.key == "videos/u/none.mp4"
    assert objects.object_size("videos/u/none.mp4") is None
    with pytest.raises(objects.ObjectMissing):
        objects.download_file("videos/u/none.mp4", tmp_path / "none.mp4")


def test_probing_a_clip_from_its_index_reads_a_fraction_of_it(aws, tmp_path):
    # Given a 4 s 640x360 clip with sound and a real clip's bitrate (noise), written by ffmpeg
    clip = tmp_path / "clip.mp4"
    pattern = "testsrc2=size=640x360:rate=24:duration=4,noise=alls=12:allf=t"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", pattern,
         "-f", "lavfi", "-i", "sine=frequency=440:duration=4", "-c:v", "libx264", "-preset", "ultrafast",
         "-c:a", "aac", "-movflags", "+faststart", str(clip)],
        check=True,
    )  # fmt: skip
    put_object("videos/u/clip.mp4", clip.read_bytes())
    readers: list[objects.ObjectReader] = []

    def open_clip() -> objects.ObjectReader:
        readers.append(objects.ObjectReader("videos/u/clip.mp4"))
        return readers[-1]

    # When it is probed from its index through ranged reads
    info = probe(open_clip, index_only=True)

    # Then it finds what a full probe of the file finds, from one range of it
    assert info == probe(clip)
    assert [r.requests for r in readers] == [1]
    assert readers[0].fetched <= objects.FIRST_RANGE < clip.stat().st_size


def test_files_go_up_and_come_down_whole(aws, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(objects.MAX_RANGE + 1000))  # a multipart upload

    assert objects.upload_file(big, "videos/u/big.bin", "application/octet-stream") == big.stat().st_size
    down = tmp_path / "down.bin"
    assert objects.download_file("videos/u/big.bin", down) == big.stat().st_size
    assert down.read_bytes() == big.read_bytes()
