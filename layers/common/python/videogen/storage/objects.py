"""Objects of the videos bucket as files, for media work: whether one exists, ranged reads,
a download to disk and a multipart upload from disk. Uses videogen.storage.bucket's client and bucket.

:class:`ObjectReader` is a seekable, read-only file over one object: each read outside the
bytes it holds fetches a range (256 KiB after a seek, doubling up to 8 MiB while reads run
on), so reading an MP4's index and first frames costs a request or two. Once reads have run
on for a MiB (a copy), the next 8 MiB ranges are fetched in the background, several at once,
as the current one is read: at most ``1 + AHEAD`` ranges in memory, never the file.
"""

from __future__ import annotations

import io
import os
import threading
from collections import deque
from collections.abc import Buffer
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from videogen.storage.bucket import StorageError, StorageUnavailable, _bucket, _s3

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

FIRST_RANGE = 256 * 1024
MAX_RANGE = 8 * 1024 * 1024
AHEAD = 3  # ranges fetched ahead of the reads, in parallel, once they have read
AHEAD_AFTER = 1024 * 1024  # this much in a row (a copy, not an index and a frame or two)
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
    """A seekable read-only file over the object at ``key``: its first range is fetched at
    once (``ObjectMissing`` if there is no object), which also tells its size.

    ``requests`` and ``fetched`` count the ranged GETs made and the bytes they brought.
    """

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.size = 0
        self.requests = 0
        self.fetched = 0
        self._client: S3Client = _s3()
        self._bucket = _bucket()
        self._counting = threading.Lock()
        self._pos = 0
        self._start = 0  # where the held range starts in the object
        self._run = 0  # where the current run of sequential reads started
        self._held = b""
        self._next_range = FIRST_RANGE
        self._ahead: deque[tuple[int, int, Future[bytes]]] = deque()  # (start, end, the bytes to come)
        self._reader: ThreadPoolExecutor | None = None
        self._held = self._get(f"bytes=0-{FIRST_RANGE - 1}", first=True)

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

    def close(self) -> None:
        if self._reader is not None:
            self._reader.shutdown(wait=False, cancel_futures=True)
        self._ahead.clear()
        super().close()

    def _fetch(self, wanted: int) -> None:
        """Hold the range from the current position; in a long run of reads, fetch ahead."""
        sequential = self._pos == self._start + len(self._held)
        self._held = b""  # the old range goes before the new one arrives
        if sequential and self._ahead and self._ahead[0][0] == self._pos:
            self._held = self._ahead.popleft()[2].result()
        else:
            self._ahead.clear()  # after a seek, what was fetched ahead is of no use (left to finish)
            self._run = self._run if sequential else self._pos
            self._next_range = min(MAX_RANGE, self._next_range * 2) if sequential else FIRST_RANGE
            end = min(self.size, self._pos + max(wanted, self._next_range))
            self._held = self._get(f"bytes={self._pos}-{end - 1}")
        self._start = self._pos
        if sequential and self._pos - self._run >= AHEAD_AFTER:
            self._read_ahead()

    def _read_ahead(self) -> None:
        following = self._ahead[-1][1] if self._ahead else self._start + len(self._held)
        while len(self._ahead) < AHEAD and following < self.size:
            end = min(self.size, following + MAX_RANGE)
            self._reader = self._reader or ThreadPoolExecutor(AHEAD, thread_name_prefix="s3-read-ahead")
            future = self._reader.submit(self._get, f"bytes={following}-{end - 1}")
            self._ahead.append((following, end, future))
            following = end

    def _get(self, byte_range: str, *, first: bool = False) -> bytes:
        # A broken body stream is not retried by botocore (only the request is): retry here.
        error: Exception | None = None
        for _ in range(_READ_ATTEMPTS):
            try:
                response = self._client.get_object(Bucket=self._bucket, Key=self.key, Range=byte_range)
                body = response["Body"].read()
            except ClientError as exc:
                if _missing(exc):
                    raise ObjectMissing(self.key) from exc
                if first and exc.response.get("Error", {}).get("Code") == "InvalidRange":
                    return b""  # an empty object
                error = exc
                continue
            except BotoCoreError as exc:
                error = exc
                continue
            with self._counting:
                self.requests += 1
                self.fetched += len(body)
            if first:  # "bytes 0-262143/1350000": the object's size
                self.size = int(str(response.get("ContentRange", "")).rpartition("/")[2] or len(body))
            return body
        raise StorageUnavailable("could not read the object from S3") from error
