"""A reference's objects: where they live, the browser's upload (a presigned POST) and reading,
writing and deleting them.

Under the storyboard's prefix, so the storyboard's delete takes them:
``<storyboard prefix>references/<reference id>/`` holds ``upload`` (the bytes as the browser
sent them, until checked), then for an image ``image.<png|jpg>`` (re-encoded: upright, RGB, no
metadata) and ``thumbnail.jpg`` (256 px), for music ``music.<mp3|m4a|wav|ogg|aac>`` (the file as
uploaded, once it decoded; only its sound is ever used). The upload's policy fixes its key,
its content type and its size range, lives ``UPLOAD_SECONDS``, and tags the object
``UPLOAD_TAG`` so the bucket's lifecycle rule expires an upload never completed after a day
(the sweeper's backstop).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from videogen.storage.bucket import IMAGE_EXTENSIONS, StorageUnavailable, _bucket, _s3, storyboard_prefix
from videogen.storage.objects import ObjectMissing, _missing

MUSIC_EXTENSIONS = {
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/wav": "wav",
    "audio/ogg": "ogg",
    "audio/aac": "aac",
}
"""The content types music is stored with (what decoding found it to be), and their extensions."""
UPLOAD_SECONDS = 600
UPLOAD_TAG = ("videogen-upload", "pending")
"""The tag every browser upload carries; the bucket's lifecycle rule expires such objects."""
TAGGING = (
    f"<Tagging><TagSet><Tag><Key>{UPLOAD_TAG[0]}</Key><Value>{UPLOAD_TAG[1]}</Value></Tag></TagSet></Tagging>"
)


@dataclass(frozen=True, slots=True)
class ReferenceKeys:
    """The keys of one reference's objects."""

    prefix: str

    @property
    def upload(self) -> str:
        return f"{self.prefix}upload"

    def image(self, content_type: str) -> str:
        """The stored image (a PNG or a JPEG: what ``references.images.normalize`` writes)."""
        return f"{self.prefix}image.{IMAGE_EXTENSIONS[content_type]}"

    @property
    def thumbnail(self) -> str:
        return f"{self.prefix}thumbnail.jpg"

    def music(self, content_type: str) -> str:
        """The stored music file (a content type of ``MUSIC_EXTENSIONS``)."""
        return f"{self.prefix}music.{MUSIC_EXTENSIONS[content_type]}"

    def all(self) -> list[str]:
        """Every key the reference may have written."""
        images = [self.image("image/jpeg"), self.image("image/png"), self.thumbnail]
        return [self.upload, *images, *(self.music(kind) for kind in MUSIC_EXTENSIONS)]


def reference_keys(
    user_id: str, storyboard_id: uuid.UUID | str, reference_id: uuid.UUID | str
) -> ReferenceKeys:
    """The keys of a reference: ``<storyboard prefix>references/<reference id>/...``."""
    return ReferenceKeys(
        f"{storyboard_prefix(user_id, storyboard_id)}references/{uuid.UUID(str(reference_id))}/"
    )


def presign_upload(key: str, content_type: str, max_bytes: int) -> dict[str, Any]:
    """``{"url", "fields"}`` of a presigned POST for exactly ``key``, ``content_type`` and 1 to
    ``max_bytes`` bytes, valid ``UPLOAD_SECONDS`` (signed locally: no call to S3)."""
    fields = {"Content-Type": content_type, "tagging": TAGGING}
    conditions: list[Any] = [
        {"Content-Type": content_type},
        {"tagging": TAGGING},
        ["content-length-range", 1, max_bytes],
    ]
    try:
        post = _s3().generate_presigned_post(
            _bucket(), key, Fields=fields, Conditions=conditions, ExpiresIn=UPLOAD_SECONDS
        )
    except (BotoCoreError, ClientError) as exc:
        raise StorageUnavailable("could not sign an upload") from exc
    return {"url": post["url"], "fields": post["fields"]}


def read(key: str, max_bytes: int | None = None) -> bytes:
    """The object's bytes (an upload: at most ``max_bytes + 1``, one more telling the caller it
    is too big); ``ObjectMissing`` when there is none."""
    try:
        if max_bytes is None:
            return _s3().get_object(Bucket=_bucket(), Key=key)["Body"].read()
        return _s3().get_object(Bucket=_bucket(), Key=key, Range=f"bytes=0-{max_bytes}")["Body"].read()
    except ClientError as exc:
        if _missing(exc):
            raise ObjectMissing(key) from None
        if max_bytes is not None and exc.response.get("Error", {}).get("Code") == "InvalidRange":
            return b""  # an empty object has no byte 0
        raise StorageUnavailable("could not read the reference from S3") from exc
    except BotoCoreError as exc:
        raise StorageUnavailable("could not read the reference from S3") from exc


def put(key: str, body: bytes, content_type: str) -> None:
    """Store ``body`` at ``key`` (one PUT: images and music are at most a few tens of MB)."""
    try:
        _s3().put_object(Bucket=_bucket(), Key=key, Body=body, ContentType=content_type)
    except (BotoCoreError, ClientError) as exc:
        raise StorageUnavailable("could not store the reference in S3") from exc
