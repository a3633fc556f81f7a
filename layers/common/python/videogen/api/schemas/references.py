"""``/api/storyboards/{id}/references``: reference images and music, declared, uploaded to S3,
completed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal, get_args

from pydantic import ConfigDict, Field, StringConstraints
from pydantic.config import JsonDict

from videogen.api.schemas.storyboards import NOT_ONLY_WHITESPACE, RequestModel, WireModel

ReferenceKind = Literal["character", "object", "style", "frame", "music"]
ImageType = Literal["image/png", "image/jpeg", "image/webp"]
AudioType = Literal[
    "audio/mpeg", "audio/mp4", "audio/aac", "audio/x-m4a", "audio/wav", "audio/x-wav", "audio/ogg"
]
MAX_MUSIC_BYTES = 20 * 1024 * 1024
MAX_IMAGE_BYTES = 10 * 1024 * 1024
"""The settings' defaults ``reference_music_max_bytes`` and ``reference_max_bytes``: what the
document states (the service checks the settings' values)."""
KIND_MATCHES_TYPE: JsonDict = {
    "if": {"properties": {"kind": {"const": "music"}}},
    "then": {"properties": {"contentType": {"enum": list(get_args(AudioType))}}},
    "else": {
        "properties": {
            "contentType": {"enum": list(get_args(ImageType))},
            "sizeBytes": {"maximum": MAX_IMAGE_BYTES},
        }
    },
}
"""The coupling of ``kind`` and the file, in JSON Schema's terms (the service checks it too: 400)."""


class ReferenceCreate(RequestModel):
    """A reference to upload: what it is, and the file's type and size (the upload's policy
    holds the browser to them). ``music`` is an audio file (MP3, AAC/M4A, WAV, Ogg; at most 20 MB
    and 10 minutes) for a film's music bed, never sent to a video model; every other kind is an
    image (PNG, JPEG, WebP; at most 10 MB)."""

    model_config = ConfigDict(json_schema_extra=KIND_MATCHES_TYPE)

    kind: ReferenceKind
    label: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
        Field(json_schema_extra={"pattern": NOT_ONLY_WHITESPACE}),
    ]
    content_type: ImageType | AudioType
    size_bytes: int = Field(
        ge=1, le=MAX_MUSIC_BYTES, description="the file's size in bytes (an image: at most 10 MB)"
    )


class ReferenceOut(WireModel):
    """A reference: ``pending`` until completed, then ``ready`` with presigned URLs: an image
    with its size and its 256 px thumbnail; music with its length (no size, no thumbnail)."""

    id: uuid.UUID
    kind: ReferenceKind
    label: str
    status: Literal["pending", "ready"]
    width: int | None = None
    height: int | None = None
    url: str | None = None
    thumbnail_url: str | None = None
    duration_seconds: float | None = Field(default=None, description="music: its length, as decoded")
    created_at: datetime


class Upload(WireModel):
    """A presigned S3 POST: send ``fields`` and then the file as multipart form data to ``url``."""

    url: str
    fields: dict[str, str]
    expires_in_seconds: int


class ReferenceCreated(WireModel):
    reference: ReferenceOut
    upload: Upload


class ReferenceEnvelope(WireModel):
    reference: ReferenceOut


class ReferenceList(WireModel):
    references: list[ReferenceOut]
