"""The images each new job is made from, found ready before anything is inserted.

For the generate routes: every scene's choice (:mod:`.scene_images`), then one statement for all
the references they name; a reference that is not a ready one of the storyboard is a 400 naming
the scene and the field. A job keeps its images in its metadata (``images``: each role's
reference id, SHA-256 and content type), so the worker sends exactly what was checked and the
record says what made the clip. A job continuing from the previous shot records the clip it
continues (``continue_from``) and waits for its first frame (``awaiting_frame``) until the film
compiler has made it (``videogen.films.frame_step``). When the job is submitted,
:func:`request_images` reads them back for the provider: bytes checked against the recorded
SHA-256, or a presigned URL.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from videogen import catalog
from videogen.catalog import ResolvedModel
from videogen.data.repositories import reference_images
from videogen.data.statements import Runner
from videogen.errors import InvalidInput, field_errors
from videogen.providers.base import ImageRole, RequestImage
from videogen.references.scene_images import PreviousClip, SceneImages, chosen
from videogen.storage import bucket, reference_objects
from videogen.storage.objects import ObjectMissing
from videogen.storage.reference_objects import reference_keys

METADATA_KEY = "images"
CONTINUE_KEY = "continue_from"
"""The job metadata key naming the clip a continuing job starts from: ``{"jobId", "sceneId"}``."""
AWAITING_FRAME = "awaiting_frame"
"""Set (true) on a continuing job until its first frame is made; its submit waits while set."""


@dataclass(frozen=True, slots=True)
class JobImages:
    """One job's images and what the storyboard holds for them (``{id: (sha256, type)}``)."""

    images: SceneImages = field(default_factory=SceneImages)
    found: Mapping[uuid.UUID, tuple[str, str]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """What the clip's fingerprint adds for them."""
        return self.images.key()

    def metadata(self) -> dict[str, Any]:
        """``{"images": {"assets": [...], "first": ..., "last": ...}}``, or ``{}`` without images;
        a continuing job's ``continue_from`` and ``awaiting_frame`` besides."""
        continuing = self.images.continues
        if continuing is not None:
            entry = {"jobId": str(continuing.job_id), "sceneId": continuing.scene_id}
            return self._images() | {CONTINUE_KEY: entry, AWAITING_FRAME: True}
        return self._images()

    def _images(self) -> dict[str, Any]:
        if not self.images.ids:
            return {}

        def entry(ref: uuid.UUID) -> dict[str, str]:
            sha256, content_type = self.found[ref]
            return {"id": str(ref), "sha256": sha256, "contentType": content_type}

        images = self.images
        return {
            METADATA_KEY: {
                "assets": [entry(ref) for ref in images.assets],
                "first": entry(images.first) if images.first else None,
                "last": entry(images.last) if images.last else None,
            }
        }


def for_scenes(
    session: Session | Runner,
    user_id: str,
    storyboard_id: uuid.UUID,
    *,
    scenes: list[dict[str, Any]],
    character: dict[str, Any],
    resolved: ResolvedModel,
    previous: Mapping[str, PreviousClip] | None = None,
) -> dict[str, JobImages]:
    """Each scene's images by scene id; ``InvalidInput`` (400) for what the model cannot take or a
    reference the storyboard does not hold ready. ``previous``: what each scene continuing from
    the previous shot would continue, by scene id."""
    previous = previous or {}
    choices = {scene["id"]: choose(scene, character, resolved, previous.get(scene["id"])) for scene in scenes}
    return checked(session, user_id, storyboard_id, choices)


def choose(
    scene: dict[str, Any], character: dict[str, Any], resolved: ResolvedModel, previous: PreviousClip | None
) -> SceneImages:
    """One scene's choice (:func:`~videogen.references.scene_images.chosen`), a refusal naming it."""
    spec = catalog.get_model(resolved.model)
    try:
        return chosen(scene, character, spec, resolved.duration_seconds, previous)
    except InvalidInput as refused:
        raise InvalidInput(f"Scene {scene['id']}: {refused.message}", refused.details) from None


def checked(
    session: Session | Runner, user_id: str, storyboard_id: uuid.UUID, choices: Mapping[str, SceneImages]
) -> dict[str, JobImages]:
    """The scenes' choices with what the storyboard holds for them (one statement when they name
    any); ``InvalidInput`` (400) for a reference it does not hold ready."""
    wanted = {ref for images in choices.values() for ref in images.ids}
    found = reference_images.ready_images(session, user_id, storyboard_id, wanted) if wanted else {}
    for scene_id, images in choices.items():
        missing = [ref for ref in images.ids if ref not in found]
        if missing:
            raise InvalidInput(
                f"Scene {scene_id} names a reference this storyboard does not hold ready",
                field_errors(
                    "scene.referenceIds",
                    f"{missing[0]} is no ready reference image of this storyboard "
                    "(deleted, not completed, or music)",
                    "reference_not_found",
                ),
            )
    return {scene_id: JobImages(images, found) for scene_id, images in choices.items()}


IMAGE_URL_SECONDS = 3600
"""How long a presigned image URL given to a provider that fetches it (fal) stays valid: its
queue may start the job a while after the create."""


class ReferenceGone(Exception):
    """An image the job was made with is no longer stored as it was: the job cannot be made."""


def request_images(
    user_id: str, storyboard_id: uuid.UUID, metadata: Mapping[str, Any], transport: str
) -> tuple[RequestImage, ...]:
    """The job's images for its provider: bytes (checked against the SHA-256 the job recorded)
    or a presigned URL. ``ReferenceGone`` when one was deleted or changed since; S3 trouble
    raises ``StorageUnavailable``."""
    recorded = metadata.get(METADATA_KEY)
    if not isinstance(recorded, dict):
        return ()
    roles: list[tuple[ImageRole, dict[str, str]]] = [
        ("asset", entry) for entry in recorded.get("assets") or []
    ]
    roles += [("first", recorded["first"])] if recorded.get("first") else []
    roles += [("last", recorded["last"])] if recorded.get("last") else []
    images = []
    for role, entry in roles:
        key = reference_keys(user_id, storyboard_id, entry["id"]).image(entry["contentType"])
        if transport == "url":
            url = bucket.presign_get(key, IMAGE_URL_SECONDS)
            images.append(RequestImage(role, entry["contentType"], url=url))
            continue
        try:
            data = reference_objects.read(key)
        except ObjectMissing:
            raise ReferenceGone(
                f"reference image {entry['id']} was deleted after the clip was asked for"
            ) from None
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise ReferenceGone(f"reference image {entry['id']} changed after the clip was asked for")
        images.append(RequestImage(role, entry["contentType"], data=data))
    return tuple(images)
