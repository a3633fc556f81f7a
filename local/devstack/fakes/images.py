"""Images the fakes receive: read with Pillow into a ``ReceivedImage`` (hash, size, mean colour),
or refused with a reason; and fetched over HTTP for fal, as its runners download input URLs.

A fetch is one GET with no proxy and no redirect followed (a 3xx is a failure, as an S3
presigned GET never redirects), within ``FETCH_TIMEOUT_SECONDS`` and ``MAX_IMAGE_BYTES``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import http.client
import io
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from PIL import Image, ImageStat, UnidentifiedImageError

from devstack.fakes.records import ImageRole, ReceivedImage
from devstack.fakes.webhooks import direct_opener

FETCH_TIMEOUT_SECONDS = 10.0
MAX_IMAGE_BYTES = 20 * 1024 * 1024
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
"""Pillow's format name to the content type it is sent as."""
PNG_OR_JPEG = ("image/png", "image/jpeg")

_OPENER = direct_opener()


class ImageRefused(ValueError):
    """Why an image cannot be taken (the message is what the fake answers)."""


def read(data: bytes, role: ImageRole, content_type: str, allowed: tuple[str, ...]) -> ReceivedImage:
    """``data`` as a ``ReceivedImage``, declared as ``content_type``; refused unless it decodes as
    an image of one of the ``allowed`` content types (the declared one, when one is declared)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            actual = FORMATS.get(image.format or "")
            if actual not in allowed or content_type not in ("", actual):
                raise ImageRefused(f"The {role} image is not of type {content_type or ' or '.join(allowed)}.")
            rgb = image.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise ImageRefused(f"The {role} image could not be read as an image.") from error
    mean = ImageStat.Stat(rgb).mean
    return ReceivedImage(
        role=role,
        content_type=content_type or str(actual),
        sha256=hashlib.sha256(data).hexdigest(),
        width=rgb.width,
        height=rgb.height,
        colour=(round(mean[0]), round(mean[1]), round(mean[2])),
    )


def read_base64(encoded: object, role: ImageRole, content_type: str) -> ReceivedImage:
    """A base64 PNG or JPEG (standard alphabet, padded), as Google's APIs take images inline."""
    if not isinstance(encoded, str) or not encoded:
        raise ImageRefused(f"The {role} image has no base64 bytes.")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ImageRefused(f"The {role} image's bytes are not valid base64.") from error
    return read(data, role, content_type, PNG_OR_JPEG)


def fetch(url: str) -> bytes:
    """GET ``url``'s bytes; ``OSError`` when there is no 200 answer (a redirect included)."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise OSError(f"not an http(s) URL: {urlsplit(url).scheme!r}")
    request = urllib.request.Request(url, method="GET")  # noqa: S310 - http(s) only, checked above
    try:
        with _OPENER.open(request, timeout=FETCH_TIMEOUT_SECONDS) as response:
            if response.status != 200:
                raise OSError(f"answered {response.status}")
            data: bytes = response.read(MAX_IMAGE_BYTES + 1)
    except urllib.error.HTTPError as error:
        error.close()
        raise OSError(f"answered {error.code}") from error
    except (http.client.HTTPException, ValueError) as error:
        raise OSError(str(error)) from error
    if len(data) > MAX_IMAGE_BYTES:
        raise OSError("too large")
    return data
