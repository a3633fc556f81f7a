"""Music references through the references function's handler, S3 in moto: declared with a
presigned POST of up to 20 MB, uploaded as a browser would, completed by decoding the file
(stored with its length), listed, found by the film pipeline; and every file that is not usable
music refused with nothing kept."""

from __future__ import annotations

import base64
import json
import struct
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import urllib3

from tests.film_media_support import render_music
from tests.integration.test_references import ROUTE, call, complete, declare, objects, upload
from videogen.data.db import session_scope
from videogen.references.music import ready_music
from videogen.storage.reference_objects import reference_keys

USER = "user-ref"  # test_references' user: its helpers act as them


@pytest.fixture
def board(aws: Any, make_storyboard: Callable[..., Any]) -> uuid.UUID:
    return make_storyboard(USER).id  # type: ignore[no-any-return]


def declare_music(board: uuid.UUID, data: bytes, content_type: str = "audio/mpeg", **extra: Any) -> Any:
    return declare(board, content_type, len(data), kind="music", label="Theme", **extra)


def listed(board: uuid.UUID) -> list[dict[str, Any]]:
    answer = call("GET", f"/api/storyboards/{board}/references", ROUTE, id=str(board))
    assert answer.status == 200, answer.body
    return answer.body["references"]  # type: ignore[no-any-return]


def test_music_is_declared_uploaded_decoded_and_listed_with_its_length(board: uuid.UUID, tmp_path: Path):
    # Given a declared music reference: its upload form takes up to 20 MB of that audio type
    data = render_music(tmp_path / "theme.mp3", 3.0).read_bytes()
    declared = declare_music(board, data)
    assert declared.status == 201, declared.body
    reference = declared.body["reference"]
    assert (reference["kind"], reference["status"]) == ("music", "pending")
    conditions = json.loads(base64.b64decode(declared.body["upload"]["fields"]["policy"]))["conditions"]
    assert {"Content-Type": "audio/mpeg"} in conditions
    assert ["content-length-range", 1, 20 * 1024 * 1024] in conditions

    # When the browser uploads the MP3 and it is completed
    assert upload(declared, data) in (200, 201, 204)
    done = complete(board, reference["id"])

    # Then it is ready with its decoded length, no size and no thumbnail, and listed so
    assert done.status == 200, done.body
    ready = done.body["reference"]
    assert ready["status"] == "ready"
    assert ready["durationSeconds"] == pytest.approx(3.0, abs=0.001)
    assert (ready["width"], ready["height"], ready["thumbnailUrl"]) == (None, None, None)
    assert listed(board) == [ready]
    # And the file is kept as uploaded under music.mp3 (the upload gone), served as MP3
    keys = reference_keys(USER, board, reference["id"])
    assert objects() == [keys.music("audio/mpeg")]
    served = urllib3.request("GET", ready["url"], retries=False)
    assert served.status == 200
    assert (served.data, served.headers["Content-Type"]) == (data, "audio/mpeg")
    # And the film pipeline finds it, for its owner only
    with session_scope() as s:
        found = ready_music(s, USER, board, uuid.UUID(reference["id"]))
        assert found is not None
        assert (found.key, found.duration_seconds) == (keys.music("audio/mpeg"), ready["durationSeconds"])
        assert ready_music(s, "mallory", board, uuid.UUID(reference["id"])) is None
    # And deleting it removes the file
    path = f"/api/storyboards/{board}/references/{reference['id']}"
    deleted = call("DELETE", path, ROUTE + "/{refId}", id=str(board), refId=reference["id"])
    assert deleted.status == 200, deleted.body
    assert (objects(), listed(board)) == ([], [])


def test_music_is_stored_as_what_it_decodes_as_whatever_the_browser_called_it(
    board: uuid.UUID, tmp_path: Path
):
    data = render_music(tmp_path / "theme.m4a", 2.0, sample_rate=48_000).read_bytes()
    declared = declare_music(board, data, "audio/x-m4a")
    upload(declared, data)

    done = complete(board, declared.body["reference"]["id"])

    assert done.status == 200, done.body
    keys = reference_keys(USER, board, declared.body["reference"]["id"])
    assert objects() == [keys.music("audio/mp4")]


def mp3_stating_two_hours(tmp_path: Path) -> bytes:
    data = bytearray(render_music(tmp_path / "long.mp3", 2.0).read_bytes())
    tag = data.find(b"Info")
    data[tag + 8 : tag + 12] = struct.pack(">I", 7200 * 44_100 // 1152)
    return bytes(data)


BAD_MUSIC: dict[str, tuple[Callable[[Path], bytes], str]] = {
    "text": (lambda _: b"these are the lyrics, not the song\n" * 40, "not an MP3, AAC/M4A, WAV or Ogg"),
    "two hours": (mp3_stating_two_hours, "lasts 2:00:00: at most 10:00"),
    "damaged": (
        lambda folder: render_music(folder / "a.m4a", 2.0).read_bytes()[:1500],
        "not an MP3, AAC/M4A, WAV or Ogg",
    ),
}


@pytest.mark.parametrize("case", BAD_MUSIC)
def test_a_file_that_is_not_usable_music_is_refused_and_nothing_is_kept(
    board: uuid.UUID, tmp_path: Path, case: str
):
    make, words = BAD_MUSIC[case]
    data = make(tmp_path)
    declared = declare_music(board, data)
    upload(declared, data)

    refused = complete(board, declared.body["reference"]["id"])

    assert refused.status == 400, refused.body
    assert words in refused.body["error"]
    assert [(d["field"], d["type"]) for d in refused.body["details"]] == [("body.file", "bad_audio")]
    assert objects() == []
    assert listed(board) == []


def fields(answer: Any) -> list[str]:
    return [detail["field"] for detail in answer.body["details"]]


def test_the_kind_and_the_type_must_agree_and_each_has_its_size_limit(board: uuid.UUID):
    as_image = declare(board, "image/png", 1000, kind="music", label="Theme")
    assert as_image.status == 400
    assert fields(as_image) == ["body.contentType"]
    as_audio = declare(board, "audio/mpeg", 1000)  # a character picture cannot be audio
    assert as_audio.status == 400
    assert fields(as_audio) == ["body.contentType"]
    big_image = declare(board, "image/jpeg", 15 * 1024 * 1024)
    assert big_image.status == 400
    assert fields(big_image) == ["body.sizeBytes"]
    assert declare(board, "audio/wav", 15 * 1024 * 1024, kind="music", label="Theme").status == 201
    too_big = declare(board, "audio/wav", 20 * 1024 * 1024 + 1, kind="music", label="Theme")
    assert too_big.status == 400
    assert fields(too_big) == ["body.sizeBytes"]
    assert listed(board)[0]["kind"] == "music"


def test_another_users_storyboard_or_music_is_404(board: uuid.UUID, tmp_path: Path):
    data = render_music(tmp_path / "theme.wav", 1.5).read_bytes()
    assert declare_music(board, data, "audio/wav", user="mallory").status == 404
    declared = declare_music(board, data, "audio/wav")
    upload(declared, data)
    assert complete(board, declared.body["reference"]["id"], user="mallory").status == 404
    assert complete(board, declared.body["reference"]["id"]).status == 200
