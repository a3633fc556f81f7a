"""Reference images through the references function's handler, S3 in moto: declared with a
presigned POST the test sends as a browser would, completed (checked, upright, stripped),
listed, deleted, limited, swept; and every bad file refused with nothing kept."""

from __future__ import annotations

import base64
import io
import json
import struct
import uuid
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import urllib3
from PIL import Image

from tests.support import invoke, load_function
from tools.events import http_api_event
from videogen.references import service
from videogen.storage.reference_objects import UPLOAD_TAG, reference_keys

USER = "user-ref"
ROUTE = "/api/storyboards/{id}/references"


def call(method: str, path: str, route: str, body: Any = None, user: str = USER, **params: str) -> Any:
    event = http_api_event(
        method,
        path,
        route_key=f"{method} {route}",
        path_parameters=params,
        headers={"content-type": "application/json"} if body is not None else {},
        body=json.dumps(body) if body is not None else None,
        sub=user,
    )
    return invoke(load_function("references").lambda_handler, event)


def declare(
    board: uuid.UUID, content_type: str = "image/jpeg", size: int = 1000, user: str = USER, **extra: Any
) -> Any:
    body = {
        "kind": "character",
        "label": "Ada, front",
        "contentType": content_type,
        "sizeBytes": size,
    } | extra
    return call("POST", f"/api/storyboards/{board}/references", ROUTE, body, user=user, id=str(board))


def complete(board: uuid.UUID, ref: str, user: str = USER) -> Any:
    path = f"/api/storyboards/{board}/references/{ref}/complete"
    return call("POST", path, ROUTE + "/{refId}/complete", user=user, id=str(board), refId=ref)


def upload(answer: Any, data: bytes) -> int:
    """POST the file with the presigned form, as the browser does (multipart, file last)."""
    form = answer.body["upload"]
    fields = [*form["fields"].items(), ("file", ("image", data, form["fields"]["Content-Type"]))]
    response = urllib3.request("POST", form["url"], fields=fields, retries=False)
    return response.status


def jpeg(
    size: tuple[int, int] = (64, 48), colour: tuple[int, ...] = (10, 200, 30), mode: str = "RGB", **save: Any
) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, "JPEG", **save)
    return out.getvalue()


def png_header(
    width: int, height: int, depth: int = 8, colour_type: int = 2, rows: bytes | None = None
) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows or b"\0"))
        + chunk(b"IEND", b"")
    )


def png16_with_alpha(width: int = 20, height: int = 10) -> bytes:
    row = b"\0" + struct.pack(">HHHH", 65535, 0, 0, 32768) * width
    return png_header(width, height, 16, 6, row * height)


def exif_rotated_photo() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to show upright
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS latitude: must not survive
    return jpeg((64, 32), exif=exif.tobytes())


@pytest.fixture
def board(aws: Any, make_storyboard: Callable[..., Any]) -> uuid.UUID:
    return make_storyboard(USER).id  # type: ignore[no-any-return]


def objects(prefix: str = "videos/") -> list[str]:
    s3 = boto3.client("s3", region_name="us-east-1")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket="videos", Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def test_a_reference_is_declared_uploaded_by_the_browser_completed_and_listed(board: uuid.UUID):
    # Given a declared reference
    declared = declare(board, size=len(exif_rotated_photo()))
    assert declared.status == 201, declared.body
    reference = declared.body["reference"]
    assert reference["status"] == "pending"
    # whose upload form fixes the key, the type and the size range, for 10 minutes
    policy = json.loads(base64.b64decode(declared.body["upload"]["fields"]["policy"]))
    conditions = policy["conditions"]
    assert {"Content-Type": "image/jpeg"} in conditions
    assert ["content-length-range", 1, 10 * 1024 * 1024] in conditions
    assert {"key": reference_keys(USER, board, reference["id"]).upload} in conditions
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert timedelta(minutes=9) < expires - datetime.now(UTC) <= timedelta(minutes=10)
    # When the browser uploads a phone photo (rotated by EXIF, with GPS) and it is completed
    assert upload(declared, exif_rotated_photo()) in (200, 201, 204)
    done = complete(board, reference["id"])
    # Then it is ready, upright, without metadata, with a 256 px thumbnail
    assert done.status == 200, done.body
    ready = done.body["reference"]
    assert (ready["status"], ready["width"], ready["height"]) == ("ready", 32, 64)
    stored = urllib3.request("GET", ready["url"]).data
    with Image.open(io.BytesIO(stored)) as image:
        assert (image.mode, image.size) == ("RGB", (32, 64))
        assert not image.getexif()
    thumb = urllib3.request("GET", ready["thumbnailUrl"]).data
    assert Image.open(io.BytesIO(thumb)).size == (32, 64)
    # And only the clean image and its thumbnail are kept (the upload is gone)
    prefix = reference_keys(USER, board, reference["id"]).prefix
    assert objects(prefix) == [f"{prefix}image.jpg", f"{prefix}thumbnail.jpg"]
    # And completing again answers the same reference; the list shows it
    assert complete(board, reference["id"]).body["reference"]["id"] == reference["id"]
    listed = call("GET", f"/api/storyboards/{board}/references", ROUTE, id=str(board))
    assert [r["id"] for r in listed.body["references"]] == [reference["id"]]


@pytest.mark.parametrize(
    ("name", "declared_type", "data"),
    [
        ("a CMYK JPEG", "image/jpeg", jpeg(mode="CMYK", colour=(0, 100, 200, 0))),
        ("a 16-bit PNG with alpha", "image/png", png16_with_alpha()),
    ],
)
def test_unusual_but_valid_images_are_normalized_to_rgb(
    board: uuid.UUID, name: str, declared_type: str, data: bytes
):
    declared = declare(board, declared_type, len(data))
    upload(declared, data)
    done = complete(board, declared.body["reference"]["id"])
    assert done.status == 200, (name, done.body)
    with Image.open(io.BytesIO(urllib3.request("GET", done.body["reference"]["url"]).data)) as image:
        assert image.mode == "RGB", name


def _animated_webp() -> bytes:
    frames = [Image.new("RGB", (8, 8), colour) for colour in ((255, 0, 0), (0, 255, 0))]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:])
    return out.getvalue()


BAD_FILES = {
    "bytes that are not an image": ("image/png", b"hello, this is text pretending to be a PNG", "not a PNG"),
    "a GIF/JS polyglot": ("image/png", b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=1;alert(1);", "not a PNG"),
    "a PNG declaring 100,000 x 100,000": ("image/png", png_header(100_000, 100_000), "megapixels"),
    "a truncated JPEG": ("image/jpeg", jpeg((256, 256))[:300], "damaged"),
    "an animated WebP": ("image/webp", _animated_webp(), "animated"),
    "an SVG": ("image/png", b"<svg xmlns='http://www.w3.org/2000/svg'><script>1</script></svg>", "not a PNG"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_is_refused_naming_the_problem_and_nothing_is_kept(board: uuid.UUID, case: str):
    content_type, data, words = BAD_FILES[case]
    declared = declare(board, content_type, len(data))
    upload(declared, data)

    refused = complete(board, declared.body["reference"]["id"])

    assert refused.status == 400, refused.body
    assert words in refused.body["error"]
    assert objects() == []
    listed = call("GET", f"/api/storyboards/{board}/references", ROUTE, id=str(board))
    assert listed.body["references"] == []


def test_completing_before_the_upload_is_409_and_keeps_the_reference(board: uuid.UUID):
    ref = declare(board).body["reference"]["id"]
    early = complete(board, ref)
    assert early.status == 409
    assert early.body["error"].startswith("Nothing was uploaded")
    listed = call("GET", f"/api/storyboards/{board}/references", ROUTE, id=str(board))
    assert [r["status"] for r in listed.body["references"]] == ["pending"]


def test_an_empty_file_and_one_over_the_limit_are_refused(board: uuid.UUID, configure: Callable[..., None]):
    configure(reference_max_bytes=2048)
    too_big = declare(board, size=4096)
    assert too_big.status == 400
    declared = declare(board, size=1000)
    # S3 itself refuses a file over the policy's range; moto does not, so completing checks too
    upload(declared, jpeg((512, 512), quality=100))
    refused = complete(board, declared.body["reference"]["id"])
    assert refused.status == 400
    assert "over 2048 bytes" in refused.body["error"]
    empty = declare(board, size=10)
    upload(empty, b"")
    assert complete(board, empty.body["reference"]["id"]).status in (400, 409)
    assert objects() == []


def test_another_users_storyboard_or_reference_is_404_and_the_13th_reference_409(
    board: uuid.UUID, make_storyboard: Callable[..., Any]
):
    ref = declare(board).body["reference"]["id"]
    assert declare(board, user="mallory").status == 404
    assert complete(board, ref, user="mallory").status == 404
    delete = call(
        "DELETE",
        f"/api/storyboards/{board}/references/{ref}",
        ROUTE + "/{refId}",
        user="mallory",
        id=str(board),
        refId=ref,
    )
    assert delete.status == 404
    for _ in range(11):
        assert declare(board).status == 201
    thirteenth = declare(board)
    assert thirteenth.status == 409
    assert thirteenth.body["details"] == {"limit": 12, "current": 12}
    other = make_storyboard(USER).id
    assert declare(other).status == 201  # the limit is per storyboard


def test_a_users_storage_cap_counts_every_storyboard(
    board: uuid.UUID, make_storyboard: Callable[..., Any], configure: Callable[..., None]
):
    configure(reference_storage_cap_bytes=1024 * 1024, reference_max_bytes=700 * 1024)
    assert declare(board, size=600 * 1024).status == 201
    capped = declare(make_storyboard(USER).id, size=600 * 1024)
    assert capped.status == 409
    assert capped.body["details"]["limitBytes"] == 1024 * 1024


def test_deleting_a_reference_or_its_storyboard_removes_its_files(board: uuid.UUID):
    data = jpeg()
    declared = declare(board, size=len(data))
    upload(declared, data)
    ref = declared.body["reference"]["id"]
    assert complete(board, ref).status == 200
    assert objects() != []
    gone = call(
        "DELETE", f"/api/storyboards/{board}/references/{ref}", ROUTE + "/{refId}", id=str(board), refId=ref
    )
    assert gone.status == 200
    assert objects() == []
    assert complete(board, ref).status == 404


def test_uploads_never_completed_are_swept_after_a_day_and_carry_the_lifecycle_tag(board: uuid.UUID):
    data = jpeg()
    declared = declare(board, size=len(data))
    upload(declared, data)
    # (S3 tags the upload from the form's signed "tagging" field, and the bucket's lifecycle rule
    # expires such objects after a day; moto does not apply POST tags, so the form is checked)
    fields = declared.body["upload"]["fields"]
    tag = f"<Tag><Key>{UPLOAD_TAG[0]}</Key><Value>{UPLOAD_TAG[1]}</Value></Tag>"
    assert tag in fields["tagging"]
    assert {"tagging": fields["tagging"]} in json.loads(base64.b64decode(fields["policy"]))["conditions"]
    assert service.sweep_pending(datetime.now(UTC), limit=10) == 0
    assert service.sweep_pending(datetime.now(UTC) + timedelta(days=1, minutes=1), limit=10) == 1
    assert objects() == []
    listed = call("GET", f"/api/storyboards/{board}/references", ROUTE, id=str(board))
    assert listed.body["references"] == []
