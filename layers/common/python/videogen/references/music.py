"""Music references: an uploaded audio file checked by decoding it whole, and what a film takes.

:func:`check` runs :func:`videogen.films.media.music_check.probe_music` on the uploaded bytes:
PyAV is imported there and only there, so the references function loads FFmpeg's libraries when
a music reference is completed, never at import (nor in its SnapStart snapshot). The file is
kept as uploaded (its sound is all a film ever uses: nothing of its metadata leaves the
bucket) under the content type decoding found, whatever the browser declared. Music is never
offered to a video model: scenes take images only (``reference_images.ready_images``).
"""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from typing import get_args

from sqlalchemy.orm import Session

from videogen.api.schemas.references import AudioType
from videogen.data.repositories import reference_images
from videogen.storage.reference_objects import reference_keys

AUDIO_TYPES = frozenset(get_args(AudioType))
"""What a music upload may declare (the upload's policy holds the browser to it)."""


class MusicRefused(ValueError):
    """The upload is not music we keep; the message says why (safe to answer)."""


@dataclass(frozen=True, slots=True)
class CheckedMusic:
    """An upload that decoded: its content type (by what it is), length and content hash."""

    content_type: str
    duration_seconds: float
    sha256: str


@dataclass(frozen=True, slots=True)
class FilmMusic:
    """A ready music reference as the film pipeline reads it: its object's key and length."""

    reference_id: uuid.UUID
    key: str
    content_type: str
    duration_seconds: float


def check(data: bytes) -> CheckedMusic:
    """What ``data`` is once decoded whole; :class:`MusicRefused` when it is no music we take."""
    from videogen.films.media.music_check import MusicUnusable, probe_music  # noqa: PLC0415 (PyAV: here only)

    if not data:
        raise MusicRefused("the file is empty")
    try:
        info = probe_music(lambda: io.BytesIO(data))
    except MusicUnusable as refused:
        raise MusicRefused(str(refused)) from None
    return CheckedMusic(info.content_type, info.duration, hashlib.sha256(data).hexdigest())


def ready_music(
    session: Session, user_id: str, storyboard_id: uuid.UUID, reference_id: uuid.UUID
) -> FilmMusic | None:
    """The user's ready music reference ``reference_id`` of the storyboard; None when there is
    none (another user's, another storyboard's, an image, pending, deleted)."""
    found = reference_images.ready_music(session, user_id, storyboard_id, reference_id)
    if found is None or found.duration_seconds is None:
        return None
    key = reference_keys(user_id, storyboard_id, reference_id).music(found.content_type)
    return FilmMusic(reference_id, key, found.content_type, found.duration_seconds)
