"""Objects of the videos bucket as files, for media work: whether one exists, ranged reads,
a download to disk and a multipart upload from disk. Uses videogen.storage's client and bucket.

:class:`ObjectReader` is a seekable, read-only file over one object: each read outside the
bytes it holds fetches a range (1 MiB after a seek, doubling up to 8 MiB while reads run on),
so reading an MP4's index costs a request or two and copying a whole clip holds at most one
range in memory, never the file.
"""

from __future__ import annotations

import io
import os
from collections.abc import Buffer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from videogen.storage import StorageError, StorageUnavailable, _bucket, _s3

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

FIRST_RANGE = 1024 * 1024
MAX_RANGE = 8 * 1024 * 1024
_READ_ATTEMPTS = 3
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})


class ObjectMissing(StorageError):
    """No object at ``key``."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no object at {key}")
        self.key = key


def _missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code", "")) in _MISSING


def _transfer_config() -> Any:
    from boto3.s3.transfer import TransferConfig  # noqa: PLC0415 (boto3 on first use)

    return TransferConfig(multipart_threshold=MAX_RANGE, multipart_chunksize=MAX_RANGE)


def object_size(key: str) -> int | None:
    """The size of the object at ``key``; ``None`` when there is none (HEAD)."""
    try:
        return _s3().head_object(Bucket=_bucket(), Key=key)["ContentLength"]
    except ClientError as exc:
        if _missing(exc):
            return None
        raise StorageUnavailable("could not look the object up in S3") from exc
    except BotoCoreError as exc:
        raise StorageUnavailable("could not look the object up in S3") from exc


def download_file(key: str, path: Path) -> int:
    """Copy the object at ``key`` to ``path`` (ranged GETs, in parallel); its size."""
    from boto3.exceptions import S3TransferFailedError  # noqa: PLC0415

    try:
        _s3().download_file(_bucket(), key, str(path), Config=_transfer_config())
    except ClientError as exc:
        if _missing(exc):
            raise ObjectMissing(key) from exc
        raise StorageUnavailable("could not read the object from S3") from exc
    except (BotoCoreError, S3TransferFailedError) as exc:
        raise StorageUnavailable("could not read the object from S3") from exc
    return os.path.getsize(path)


def upload_file(path: Path, key: str, content_type: str) -> int:
    """Store the file at ``path`` as ``key`` (a multipart upload when large); its size."""
    from boto3.exceptions import S3UploadFailedError  # noqa: PLC0415

    try:
        _s3().upload_file(
            str(path), _bucket(), key, ExtraArgs={"ContentType": content_type}, Config=_transfer_config()
        )
    except (BotoCoreError, ClientError, S3UploadFailedError) as exc:
        raise StorageUnavailable("could not store the file in S3") from exc
    return os.path.getsize(path)


class ObjectReader(io.RawIOBase):
    """A seekable read-only file over the object at ``key`` (``ObjectMissing`` if none).

    ``requests`` and ``fetched`` count the ranged GETs made and the bytes they brought.
    """

    def __init__(self, key: str) -> None:
        super().__init__()
        size = object_size(key)
        if size is None:
            raise ObjectMissing(key)
        self.key = key
        self.size = size
        self.requests = 0
        self.fetched = 0
        self._client: S3Client = _s3()
        self._bucket = _bucket()
        self._pos = 0
        self._start = 0  # where the held range starts in the object
        self._held = b""
        self._next_range = FIRST_RANGE

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Buffer) -> int:
        target = memoryview(buffer).cast("B")
        if self._pos >= self.size or not len(target):
            return 0
        offset = self._pos - self._start
        if not 0 <= offset < len(self._held):
            self._fetch(len(target))
            offset = 0
        n = min(len(target), len(self._held) - offset)
        target[:n] = self._held[offset : offset + n]
        self._pos += n
        return n

    def _fetch(self, wanted: int) -> None:
        """Hold the range from the current position: sequential reads get longer ranges."""
        sequential = self._held and self._pos == self._start + len(self._held)
        self._next_range = min(MAX_RANGE, self._next_range * 2) if sequential else FIRST_RANGE
        end = min(self.size, self._pos + max(wanted, self._next_range)) - 1
        self._held = b""  # the old range goes before the new one arrives
        self._held, self._start = self._get(f"bytes={self._pos}-{end}"), self._pos
        self.requests += 1
        self.fetched += len(self._held)

    def _get(self, byte_range: str) -> bytes:
        # A broken body stream is not retried by botocore (only the request is): retry here.
        error: Exception | None = None
        for _ in range(_READ_ATTEMPTS):
            try:
                response = self._client.get_object(Bucket=self._bucket, Key=self.key, Range=byte_range)
                return response["Body"].read()
            except ClientError as exc:
                if _missing(exc):
                    raise ObjectMissing(self.key) from exc
                error = exc
            except BotoCoreError as exc:
                error = exc
        raise StorageUnavailable("could not read the object from S3") from error
