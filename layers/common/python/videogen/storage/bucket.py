"""Videos in S3: object keys, deletes and presigned GET URLs (streaming uploads: ``storage.uploads``).

Every object of a storyboard lives under one prefix, so deleting a storyboard's media is one
prefix delete: ``videos/<user>/<storyboard id>/``, with a job's video and thumbnail under
``jobs/<job id>/`` (``video.mp4``, ``thumbnail.<ext>``; a job's derived files, such as a
normalized clip, go beside them) and a film's files under ``films/<film id>/``. ``<user>`` is a
SHA-256 digest of the user id: user ids (JWT ``sub``) may hold characters that are awkward in
keys (``|``, ``/``, ``..``, non-ASCII) and need not be readable in bucket listings or URLs.
Rows keep full keys, so objects stored under the earlier ``videos/<user>/<job id>/`` layout
stay reachable (and deletable) through their rows.

The client follows boto3's endpoint resolution, so ``AWS_ENDPOINT_URL`` (the local stack's
moto server) also applies to presigned URLs: they point where the client points.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from videogen.errors import ServiceUnavailable
from videogen.runtime import aws
from videogen.runtime.config import get_settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ListObjectVersionsOutputTypeDef, ObjectIdentifierTypeDef

VIDEOS_PREFIX = "videos/"
VIDEO_CONTENT_TYPE = "video/mp4"
CAPTIONS_CONTENT_TYPE = "text/vtt; charset=utf-8"
IMAGE_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
"""Thumbnail content types we store, and the key extension for each."""


class StorageError(Exception):
    """Base of storage failures; messages are safe to show."""


class StorageUnavailable(StorageError, ServiceUnavailable):
    """S3 could not be reached, refused the call, or no bucket is configured: retry later."""


@lru_cache(maxsize=1)
def _s3() -> S3Client:
    # Video bodies stream through this client: a read may wait up to a minute where the function's
    # Timeout leaves room for it (the worker's), never longer than a third of that Timeout.
    settings = get_settings()
    read_timeout = max(settings.aws_timeout_seconds, min(60.0, settings.function_timeout_seconds * 0.3))
    return aws.client("s3", signature_version="s3v4", read_timeout=read_timeout)


def reset_clients() -> None:
    """Forget the cached S3 client (tests, settings changes)."""
    _s3.cache_clear()


def _bucket() -> str:
    bucket = get_settings().videos_bucket
    if not bucket:
        raise StorageUnavailable("the videos bucket is not configured (VIDEOS_BUCKET)")
    return bucket


# --- keys -------------------------------------------------------------------------------------


def user_prefix(user_id: str) -> str:
    """``videos/<sha256 of user id>/``: every object of one user lives under it."""
    if not user_id:
        raise ValueError("user_id must not be empty")
    return f"{VIDEOS_PREFIX}{hashlib.sha256(user_id.encode()).hexdigest()}/"


def storyboard_prefix(user_id: str, storyboard_id: uuid.UUID | str) -> str:
    """``videos/<user digest>/<storyboard id>/``: every object of one storyboard (its clips,
    thumbnails, films) lives under it."""
    # Through UUID so that only a real id can shape the key (no "..", no "/").
    return f"{user_prefix(user_id)}{uuid.UUID(str(storyboard_id))}/"


def job_prefix(user_id: str, storyboard_id: uuid.UUID | str, job_id: uuid.UUID | str) -> str:
    """``<storyboard prefix>jobs/<job id>/``: a job's video, thumbnail and derived files."""
    return f"{storyboard_prefix(user_id, storyboard_id)}jobs/{uuid.UUID(str(job_id))}/"


def video_key(user_id: str, storyboard_id: uuid.UUID | str, job_id: uuid.UUID | str) -> str:
    """The S3 key of a job's video: ``<job prefix>video.mp4``."""
    return f"{job_prefix(user_id, storyboard_id, job_id)}video.mp4"


def thumbnail_key(
    user_id: str, storyboard_id: uuid.UUID | str, job_id: uuid.UUID | str, content_type: str = "image/jpeg"
) -> str:
    """The S3 key of a job's thumbnail, its extension following ``content_type``."""
    extension = IMAGE_EXTENSIONS.get(content_type)
    if extension is None:
        raise ValueError(f"unsupported thumbnail content type {content_type!r}")
    return f"{job_prefix(user_id, storyboard_id, job_id)}thumbnail.{extension}"


# --- films: the film pipeline's objects under the storyboard prefix --------------------------


def film_key(user_id: str, storyboard_id: uuid.UUID | str, film_id: uuid.UUID | str) -> str:
    """A film: ``<storyboard prefix>films/<film id>/film.mp4``."""
    return f"{storyboard_prefix(user_id, storyboard_id)}films/{uuid.UUID(str(film_id))}/film.mp4"


def normalized_key(
    user_id: str, storyboard_id: uuid.UUID | str, job_id: uuid.UUID | str, cache_key: str
) -> str:
    """A clip normalized for some film, kept for any film of the same target:
    ``<storyboard prefix>jobs/<job id>/normalized/<cache key>.mp4``."""
    if not cache_key.isalnum() or not cache_key.isascii():
        raise ValueError(f"not a cache key: {cache_key!r}")
    return f"{job_prefix(user_id, storyboard_id, job_id)}normalized/{cache_key}.mp4"


def segment_key(user_id: str, storyboard_id: uuid.UUID | str, job_id: uuid.UUID | str, cache_key: str) -> str:
    """A crossfade segment made from the clip of ``job_id`` and the next, kept for any film that
    cuts them the same way: ``<storyboard prefix>jobs/<job id>/segments/<cache key>.mp4``."""
    if not cache_key.isalnum() or not cache_key.isascii():
        raise ValueError(f"not a cache key: {cache_key!r}")
    return f"{job_prefix(user_id, storyboard_id, job_id)}segments/{cache_key}.mp4"


def captions_key(user_id: str, storyboard_id: uuid.UUID | str, film_id: uuid.UUID | str) -> str:
    """A film's captions: ``<storyboard prefix>films/<film id>/captions.vtt``."""
    return f"{storyboard_prefix(user_id, storyboard_id)}films/{uuid.UUID(str(film_id))}/captions.vtt"


def is_storage_key(value: str) -> bool:
    """Whether a stored ``video_url``/``thumbnail_url`` is one of our S3 keys (not a URL)."""
    return value.startswith(VIDEOS_PREFIX)


# --- deletes ----------------------------------------------------------------------------------
# The bucket is versioned (an overwrite or a stray delete of a paid-for video can be undone for
# 30 days), so a plain DeleteObject would only hide a file behind a delete marker. A user's
# delete must be final: these functions remove every version of every object they name.

DELETE_BATCH = 1000
"""S3's ceiling of objects per DeleteObjects request (and per ListObjectVersions page)."""


def delete_keys(keys: Iterable[str]) -> int:
    """Delete ``keys`` from the videos bucket, every version of each; return how many keys.

    Deleting a key that is not there is no error, so a repeated cleanup is harmless.
    ``StorageUnavailable`` when S3 fails or refuses any of them.
    """
    unique = sorted(set(keys))
    versions = [v for key in unique for v in _versions(key) if v["Key"] == key]
    _delete_versions(versions)
    return len(unique)


def delete_prefix(prefix: str, *, page_size: int = DELETE_BATCH) -> int:
    """Delete every object under ``prefix``, every version of each (paginated
    ListObjectVersions, one DeleteObjects per page of up to ``page_size``, at most 1000);
    return how many objects there were (their versions not counted twice).

    ``prefix`` must be a folder under ``videos/`` (ending in ``/``): never the whole bucket.
    """
    if not prefix.startswith(VIDEOS_PREFIX) or not prefix.endswith("/") or prefix == VIDEOS_PREFIX:
        raise ValueError(f"refusing to delete under {prefix!r}: not a folder under {VIDEOS_PREFIX}")
    keys: set[str] = set()
    for page in _version_pages(prefix, min(page_size, DELETE_BATCH)):
        keys.update(v["Key"] for v in page)
        _delete_versions(page)
    return len(keys)


def _versions(prefix: str) -> list[ObjectIdentifierTypeDef]:
    try:
        pages = _s3().get_paginator("list_object_versions").paginate(Bucket=_bucket(), Prefix=prefix)
        return [v for page in pages for v in _identifiers(page)]
    except (BotoCoreError, ClientError) as exc:
        raise StorageUnavailable("could not list the files to delete in S3") from exc


def _version_pages(prefix: str, page_size: int) -> Iterator[list[ObjectIdentifierTypeDef]]:
    """The first ``page_size`` versions and delete markers left under ``prefix``, again and
    again until none is left: each page is deleted before the next is asked for, so the
    listing starts over each time instead of trusting a marker into what just changed."""
    while True:
        try:
            page = _s3().list_object_versions(Bucket=_bucket(), Prefix=prefix, MaxKeys=page_size)
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable("could not list the files to delete in S3") from exc
        found = _identifiers(page)
        if not found:
            return
        yield found


def _identifiers(page: ListObjectVersionsOutputTypeDef) -> list[ObjectIdentifierTypeDef]:
    """A listing page's versions and delete markers (an unversioned object is version ``null``)."""
    found = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
    return [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in found]


def _delete_versions(versions: list[ObjectIdentifierTypeDef]) -> None:
    bucket = _bucket()
    for start in range(0, len(versions), DELETE_BATCH):
        batch = versions[start : start + DELETE_BATCH]
        try:
            response = _s3().delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable("could not delete files in S3") from exc
        errors = response.get("Errors", [])
        if errors:
            raise StorageUnavailable(
                f"S3 refused to delete {len(errors)} files (first: {errors[0].get('Code')})"
            )


# --- download URLs ----------------------------------------------------------------------------


def presign_get(key: str, expires: int | None = None) -> str:
    """A presigned GET URL (SigV4) for ``key``, valid ``expires`` seconds.

    ``expires`` defaults to ``settings.presign_expiry_seconds``. Signing is local: no call
    to S3 is made, and the key is not checked for existence.
    """
    seconds = get_settings().presign_expiry_seconds if expires is None else expires
    try:
        return _s3().generate_presigned_url(
            "get_object", Params={"Bucket": _bucket(), "Key": key}, ExpiresIn=seconds
        )
    except (BotoCoreError, ClientError) as exc:
        raise StorageUnavailable("could not sign a download URL") from exc


def url_for(stored: str | None, expires: int | None = None) -> str | None:
    """What a client may fetch for a stored ``video_url``/``thumbnail_url``.

    Our S3 keys become presigned URLs; anything else (``None``, a legacy absolute URL) is
    returned as is.
    """
    if stored is None or not is_storage_key(stored):
        return stored
    return presign_get(stored, expires)
