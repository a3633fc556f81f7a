"""Streaming a provider's download into the videos bucket: the first bytes sniffed, then one
``PutObject`` for a body of up to one part (8 MiB), else a multipart upload part by part.

No transfer thread pool is started per object (boto3's ``upload_fileobj`` starts and joins one
each time): a clip is read from its stream once, at most one part held in memory, each part sent
as it fills. A stream that fails midway, or S3 refusing a part, aborts the multipart upload, so
nothing half-written stays behind (nor its parts, billed until aborted).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from itertools import chain
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from videogen.storage.bucket import StorageError, StorageUnavailable, _bucket, _s3, thumbnail_key

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

PART_BYTES = 8 * 1024 * 1024
"""One PutObject up to this size; above it, parts of this size (S3's minimum part is 5 MiB)."""
_HEAD_BYTES = 16  # enough for every signature sniffed below


class EmptyUpload(StorageError):
    """The stream held no bytes: the provider delivered nothing (a failure, not a success)."""


class InvalidMedia(StorageError):
    """The stream's first bytes are not what was expected (e.g. not an MP4)."""


def is_mp4(first_bytes: bytes) -> bool:
    """Whether a file starts like an ISO-BMFF/MP4 file: an ``ftyp`` box at offset 4."""
    return len(first_bytes) >= 12 and first_bytes[4:8] == b"ftyp"


def image_content_type(first_bytes: bytes) -> str | None:
    """``image/jpeg``, ``image/png`` or ``image/webp`` from the magic bytes, else ``None``."""
    if first_bytes.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if first_bytes.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if first_bytes[:4] == b"RIFF" and first_bytes[8:12] == b"WEBP":
        return "image/webp"
    return None


def _read_head(chunks: Iterator[bytes]) -> bytes:
    head = b""
    while len(head) < _HEAD_BYTES:
        chunk = next(chunks, None)
        if chunk is None:
            break
        head += chunk
    return head


def upload_stream(
    key: str,
    chunks: Iterable[bytes],
    content_type: str,
    *,
    validate_head: Callable[[bytes], bool] | None = None,
) -> int:
    """Stream ``chunks`` into the videos bucket at ``key``; return the bytes written.

    Nothing is uploaded when the stream is empty (``EmptyUpload``) or when ``validate_head``
    (e.g. :func:`is_mp4`) rejects its first bytes (``InvalidMedia``). S3 failures raise
    ``StorageUnavailable``; an exception from ``chunks`` itself (e.g. the provider's download
    failing) propagates unchanged.
    """
    iterator = iter(chunks)
    head = _read_head(iterator)
    if validate_head is not None and head and not validate_head(head):
        raise InvalidMedia(f"the file is not a valid {content_type} file")
    return _upload(key, head, iterator, content_type)


def upload_thumbnail(
    user_id: str, storyboard_id: uuid.UUID | str, job_id: uuid.UUID | str, chunks: Iterable[bytes]
) -> str:
    """Stream a job's thumbnail to S3, its type (and key extension) sniffed from its first
    bytes; returns the key. ``EmptyUpload`` / ``InvalidMedia`` when it is no image we store."""
    iterator = iter(chunks)
    head = _read_head(iterator)
    content_type = image_content_type(head)
    if head and content_type is None:
        raise InvalidMedia("the thumbnail is not a JPEG, PNG or WebP image")
    key = thumbnail_key(user_id, storyboard_id, job_id, content_type or "image/jpeg")
    _upload(key, head, iterator, content_type or "image/jpeg")
    return key


def _parts(head: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    """The stream cut into ``PART_BYTES`` parts (the last one shorter), one in memory at a time."""
    buffer = bytearray(head)
    for chunk in rest:
        buffer += chunk
        while len(buffer) >= PART_BYTES:
            yield bytes(buffer[:PART_BYTES])
            del buffer[:PART_BYTES]
    if buffer:
        yield bytes(buffer)


def _upload(key: str, head: bytes, rest: Iterator[bytes], content_type: str) -> int:
    if not head:
        raise EmptyUpload("the file is empty (0 bytes)")
    bucket = _bucket()
    parts = _parts(head, rest)
    first = next(parts)
    second = next(parts, None)
    if second is None:  # the whole body fits one part: one request
        try:
            _s3().put_object(Bucket=bucket, Key=key, Body=first, ContentType=content_type)
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable("could not store the file in S3") from exc
        return len(first)
    return _multipart(bucket, key, content_type, [first, second], parts)


def _multipart(bucket: str, key: str, content_type: str, ready: list[bytes], parts: Iterator[bytes]) -> int:
    s3 = _s3()
    try:
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType=content_type)["UploadId"]
    except (BotoCoreError, ClientError) as exc:
        raise StorageUnavailable("could not store the file in S3") from exc
    done: list[CompletedPartTypeDef] = []
    size = 0
    try:
        for number, body in enumerate(chain(ready, parts), start=1):  # unread parts stay unread
            etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)
            done.append({"ETag": etag["ETag"], "PartNumber": number})
            size += len(body)
        s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done}
        )
    except BaseException as exc:
        with suppress(BotoCoreError, ClientError):  # else the bucket's lifecycle rule removes it
            s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        if isinstance(exc, BotoCoreError | ClientError):
            raise StorageUnavailable("could not store the file in S3") from exc
        raise
    return size
