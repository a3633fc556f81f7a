"""What the reference routes and the sweeper do: declare (with the browser's upload), complete
(check, and re-encode an image), list, delete, and sweep uploads never completed.

A declaration stores a ``pending`` row and answers a presigned POST; the browser uploads to S3
itself. Completing reads what it uploaded (at most the size limit), and either stores the
clean image and its thumbnail (or the music, once it decoded whole) and marks the row
``ready``, or deletes the upload and the row and answers 400 naming the problem (declare
again). Completing a ready reference answers it as it is. Deleting removes the objects first,
then the row, so a failure leaves both.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from videogen.api.schemas.references import ReferenceCreate, ReferenceOut
from videogen.data.db import session_scope
from videogen.data.models import ReferenceImage
from videogen.data.repositories import reference_images
from videogen.errors import Conflict, InvalidInput, NotFound, field_errors
from videogen.references import music
from videogen.references.images import ImageRefused, Normalized, normalize
from videogen.references.music import CheckedMusic, MusicRefused
from videogen.runtime.config import get_settings
from videogen.runtime.observability import logger
from videogen.storage import bucket, reference_objects
from videogen.storage.objects import ObjectMissing
from videogen.storage.reference_objects import reference_keys


@dataclass(frozen=True, slots=True)
class Declared:
    reference: ReferenceOut
    upload: dict[str, Any]


def _not_found(reference_id: uuid.UUID) -> NotFound:
    return NotFound("Reference not found", {"referenceId": str(reference_id)})


def view(reference: ReferenceImage) -> ReferenceOut:
    """A reference as the client sees it (presigned URLs once it is ready)."""
    url = thumbnail = None
    if reference.status == "ready":
        keys = reference_keys(reference.user_id, reference.storyboard_id, reference.id)
        if reference.kind == "music":
            url = bucket.presign_get(keys.music(reference.content_type))
        else:
            url = bucket.presign_get(keys.image(reference.content_type))
            thumbnail = bucket.presign_get(keys.thumbnail)
    return ReferenceOut(
        id=reference.id,
        kind=reference.kind,
        label=reference.label,
        status=reference.status,
        width=reference.width,
        height=reference.height,
        url=url,
        thumbnail_url=thumbnail,
        duration_seconds=reference.duration_seconds,
        created_at=reference.created_at,
    )


def _max_bytes(kind: str) -> int:
    settings = get_settings()
    return settings.reference_music_max_bytes if kind == "music" else settings.reference_max_bytes


def _check_type(body: ReferenceCreate) -> None:
    """Music is an audio file, every other kind an image: 400 naming the content type else."""
    audio = body.content_type in music.AUDIO_TYPES
    if audio != (body.kind == "music"):
        wanted = "an audio type (MP3, AAC/M4A, WAV, Ogg)" if body.kind == "music" else "an image type"
        raise InvalidInput(
            f"A {body.kind} reference needs {wanted}",
            field_errors("body.contentType", f"{wanted} for kind {body.kind}", "kind_mismatch"),
        )


def declare(user_id: str, storyboard_id: uuid.UUID, body: ReferenceCreate) -> Declared:
    """A new pending reference and the presigned POST its file goes up with."""
    settings = get_settings()
    _check_type(body)
    max_bytes = _max_bytes(body.kind)
    if body.size_bytes > max_bytes:
        raise InvalidInput(
            "The file is too large",
            field_errors("body.sizeBytes", f"at most {max_bytes} bytes", "too_large"),
        )
    with session_scope() as s:
        reference = reference_images.declare(
            s,
            user_id,
            storyboard_id,
            kind=body.kind,
            label=body.label,
            content_type=body.content_type,
            declared_bytes=body.size_bytes,
            per_storyboard=settings.references_per_storyboard,
            user_cap_bytes=settings.reference_storage_cap_bytes,
        )
        keys = reference_keys(user_id, storyboard_id, reference.id)
        upload = reference_objects.presign_upload(keys.upload, body.content_type, max_bytes)
        s.refresh(reference)
        out = view(reference)
    expires = reference_objects.UPLOAD_SECONDS
    return Declared(out, upload | {"expires_in_seconds": expires})


def complete(user_id: str, storyboard_id: uuid.UUID, reference_id: uuid.UUID, now: datetime) -> ReferenceOut:
    """Check the uploaded file and keep it clean; 400 (and nothing kept) when it is no image
    (music: no audio) we take, 409 when nothing was uploaded yet."""
    problem: str | None = None
    with session_scope() as s:
        reference = reference_images.lock(s, user_id, storyboard_id, reference_id)
        if reference is None:
            raise _not_found(reference_id)
        if reference.status == "ready":
            return view(reference)
        max_bytes = _max_bytes(reference.kind)
        keys = reference_keys(user_id, storyboard_id, reference_id)
        try:
            data = reference_objects.read(keys.upload, max_bytes)
        except ObjectMissing:
            raise Conflict(
                "Nothing was uploaded for this reference yet: send the file with the upload form first",
                {"referenceId": str(reference_id)},
            ) from None
        try:
            if len(data) > max_bytes:
                raise ImageRefused(f"the file is over {max_bytes} bytes")
            if reference.kind == "music":
                _store_music(s, reference, data, music.check(data), now)
            else:
                _store(s, reference, normalize(data), now)
        except (ImageRefused, MusicRefused) as refused:
            problem = str(refused)
            bucket.delete_keys(keys.all())
            reference_images.remove(s, reference_id)
        else:
            return view(reference)
    logger.info("reference refused", extra={"reference_id": str(reference_id), "reason": problem})
    code = "bad_audio" if reference.kind == "music" else "bad_image"
    raise InvalidInput(
        f"The upload was refused and removed: {problem}",
        field_errors("body.file", f"{problem}; declare the reference again with another file", code),
    )


def _store(s: Session, reference: ReferenceImage, image: Normalized, now: datetime) -> None:
    keys = reference_keys(reference.user_id, reference.storyboard_id, reference.id)
    reference_objects.put(keys.image(image.content_type), image.body, image.content_type)
    reference_objects.put(keys.thumbnail, image.thumbnail, "image/jpeg")
    bucket.delete_keys([keys.upload])
    reference_images.mark_ready(
        s,
        reference.id,
        content_type=image.content_type,
        width=image.width,
        height=image.height,
        stored_bytes=len(image.body) + len(image.thumbnail),
        sha256=image.sha256,
        now=now,
    )
    s.refresh(reference)


def _store_music(
    s: Session, reference: ReferenceImage, data: bytes, found: CheckedMusic, now: datetime
) -> None:
    keys = reference_keys(reference.user_id, reference.storyboard_id, reference.id)
    reference_objects.put(keys.music(found.content_type), data, found.content_type)
    bucket.delete_keys([keys.upload])
    reference_images.mark_ready(
        s,
        reference.id,
        content_type=found.content_type,
        stored_bytes=len(data),
        sha256=found.sha256,
        duration_seconds=found.duration_seconds,
        now=now,
    )
    s.refresh(reference)


def listed(user_id: str, storyboard_id: uuid.UUID) -> list[ReferenceOut]:
    with session_scope() as s:
        return [view(r) for r in reference_images.list_for_storyboard(s, user_id, storyboard_id)]


def delete(user_id: str, storyboard_id: uuid.UUID, reference_id: uuid.UUID) -> None:
    """Delete a reference's objects, then its row."""
    with session_scope() as s:
        reference = reference_images.lock(s, user_id, storyboard_id, reference_id)
        if reference is None:
            raise _not_found(reference_id)
        bucket.delete_keys(reference_keys(user_id, storyboard_id, reference_id).all())
        reference_images.remove(s, reference_id)


def sweep_pending(now: datetime, *, limit: int) -> int:
    """Remove references whose upload was never completed within ``reference_pending_seconds``
    (objects first); how many. The bucket's lifecycle rule expires such uploads too."""
    before = now - timedelta(seconds=get_settings().reference_pending_seconds)
    with session_scope() as s:
        stale = reference_images.stale_pending(s, created_before=before, limit=limit)
        for reference in stale:
            bucket.delete_keys(reference_keys(reference.user_id, reference.storyboard_id, reference.id).all())
            reference_images.remove(s, reference.id)
    return len(stale)
