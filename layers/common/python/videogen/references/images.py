"""Checking an uploaded image before anything uses it, and writing it again clean (Pillow).

:func:`normalize` takes the uploaded bytes and returns the image as it is stored: opened as PNG,
JPEG or WebP only (what the bytes are, whatever the upload claimed); its declared dimensions
checked before a pixel is decoded (at most ``MAX_SIDE`` a side and ``MAX_PIXELS`` in all, so a
decompression bomb is refused unread); a still (an animated WebP or PNG is refused); verified,
then decoded whole (a truncated file fails there); turned upright by its EXIF orientation;
converted to 8-bit RGB (CMYK, 16-bit, palette and alpha too: alpha over white); and encoded
again, JPEG from a JPEG and PNG otherwise, so nothing of the original's metadata (EXIF, GPS,
text chunks, ICC) survives. A 256 px JPEG thumbnail comes with it. Anything else is
:class:`ImageRefused`, whose message names the problem.

:func:`fit` fits a stored image to a video size (cover, centred), for providers that take a
first frame only at the video's own size.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_SIDE = 4096
MAX_PIXELS = 40_000_000
THUMBNAIL_SIDE = 256
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
"""What an upload may be, by Pillow's format name, and its content type."""
JPEG_QUALITY = 92


class ImageRefused(ValueError):
    """The upload is not an image we keep; the message says why (safe to answer)."""


@dataclass(frozen=True, slots=True)
class Normalized:
    """An image as stored: its bytes and type, size, content hash, and its thumbnail."""

    body: bytes
    content_type: str
    width: int
    height: int
    sha256: str
    thumbnail: bytes


def normalize(data: bytes) -> Normalized:
    """The clean, upright RGB image of ``data``; :class:`ImageRefused` when it is not one."""
    if not data:
        raise ImageRefused("the file is empty")
    source = _opened(data)
    width, height = source.size
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise ImageRefused(
            f"the image declares {width}x{height} pixels: at most {MAX_SIDE} a side and "
            f"{MAX_PIXELS // 1_000_000} megapixels"
        )
    if getattr(source, "is_animated", False) or getattr(source, "n_frames", 1) > 1:
        raise ImageRefused("the image is animated: a reference is a still image")
    try:
        source.verify()
        image = _opened(data)
        image.load()
    except ImageRefused:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageRefused(f"the image is damaged or truncated ({type(exc).__name__})") from None
    kind = FORMATS[str(image.format)]
    rgb = _rgb(ImageOps.exif_transpose(image) or image)
    body = _encode(rgb, "JPEG" if kind == "image/jpeg" else "PNG")
    thumbnail = rgb.copy()
    thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    return Normalized(
        body=body,
        content_type="image/jpeg" if kind == "image/jpeg" else "image/png",
        width=rgb.width,
        height=rgb.height,
        sha256=hashlib.sha256(body).hexdigest(),
        thumbnail=_encode(thumbnail, "JPEG", quality=80),
    )


def fit(data: bytes, width: int, height: int) -> bytes:
    """A stored image scaled and cropped (centred) to exactly ``width`` x ``height``, as PNG."""
    with Image.open(io.BytesIO(data)) as image:
        fitted = ImageOps.fit(_rgb(image), (width, height), method=Image.Resampling.LANCZOS)
    return _encode(fitted, "PNG")


def _opened(data: bytes) -> Image.Image:
    """Open ``data`` as one of ``FORMATS`` (only its header is read)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=tuple(FORMATS))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageRefused(
            f"the image declares more than {MAX_PIXELS // 1_000_000} megapixels: refused unread"
        ) from None
    except UnidentifiedImageError:
        raise ImageRefused("the file is not a PNG, JPEG or WebP image") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRefused(f"the image is damaged ({type(exc).__name__})") from None


def _rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB: 16-bit and 32-bit greys scaled down, CMYK converted, alpha over white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = (
            image.point(lambda value: value / 256).convert("L") if image.mode != "I" else image.convert("L")
        )
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _encode(image: Image.Image, kind: str, *, quality: int = JPEG_QUALITY) -> bytes:
    out = io.BytesIO()
    if kind == "JPEG":
        image.save(out, "JPEG", quality=quality, optimize=True)
    else:
        image.save(out, "PNG", optimize=True)
    return out.getvalue()
