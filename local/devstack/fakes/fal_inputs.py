"""The fal fake's image inputs: an image-to-video request's URLs, downloaded when its job runs (in a
thread per job, started as the job is queued), as fal's runners download them.

A URL that cannot be fetched (no answer, not 200, a redirect, over ``images.FETCH_TIMEOUT_SECONDS``)
fails the job with fal's ``file_download_error``, one that is not a PNG, JPEG or WebP image with
``image_load_error``: 422 ``detail`` entries (docs.fal.ai/errors; the wording is ours).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from devstack.fakes.fal_endpoints import Endpoint
from devstack.fakes.images import FETCH_TIMEOUT_SECONDS, FORMATS, ImageRefused, fetch, read
from devstack.fakes.records import ReceivedImage

_MESSAGES = {
    "file_download_error": "Failed to download the file. Please check if the URL is accessible.",
    "image_load_error": "Failed to load the image. Please ensure the image file is not corrupted "
    "and is in a supported format.",
}


class Downloads:
    """The downloads under way, one thread per job; ``wait`` blocks until a job's are done."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}

    def start(self, job_id: str, run: Callable[[], None]) -> None:
        """Run ``run`` (the job's downloads) in a thread of its own."""
        thread = threading.Thread(target=run, name=f"fal-inputs-{job_id}", daemon=True)
        with self._lock:
            self._threads[job_id] = thread
        thread.start()

    def wait(self, job_id: str) -> None:
        """Return once the job's downloads have ended (at once for a job without any)."""
        with self._lock:
            thread = self._threads.get(job_id)
        if thread is not None:
            thread.join(timeout=3 * FETCH_TIMEOUT_SECONDS)


def download(
    schema: Endpoint, body: dict[str, Any]
) -> tuple[tuple[ReceivedImage, ...], list[dict[str, Any]]]:
    """Fetch and read each image URL of ``body`` that ``schema`` takes: the images read, and the
    422 ``detail`` entries of those that could not be."""
    images: list[ReceivedImage] = []
    errors: list[dict[str, Any]] = []
    for name, role in schema.images.items():
        url = body.get(name)
        if not isinstance(url, str):
            continue
        try:
            images.append(read(fetch(url), role, "", tuple(FORMATS.values())))
        except ImageRefused:
            errors.append(_error(name, url, "image_load_error"))
        except OSError:
            errors.append(_error(name, url, "file_download_error"))
    return tuple(images), errors


def without_signatures(schema: Endpoint, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with its image URLs cut before the query (a presigned URL's signature is not
    kept in the records)."""
    return body | {
        name: urlsplit(body[name])._replace(query="", fragment="").geturl()
        for name in schema.images
        if isinstance(body.get(name), str)
    }


def _error(name: str, url: str, kind: str) -> dict[str, Any]:
    where = urlsplit(url)._replace(query="", fragment="").geturl()
    return {
        "loc": ["body", name],
        "msg": _MESSAGES[kind],
        "type": kind,
        "url": f"https://docs.fal.ai/errors#{kind}",
        "input": where,
    }
