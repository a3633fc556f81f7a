"""``/api/storyboards/{id}/references``: reference images, declared, uploaded to S3, completed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from videogen.api.schemas.storyboards import NOT_ONLY_WHITESPACE, RequestModel, WireModel

ReferenceKind = Literal["character", "object", "style", "frame"]
ImageType = Literal["image/png", "image/jpeg", "image/webp"]
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
"""The settings' default ``reference_max_bytes``: what the document states."""


class ReferenceCreate(RequestModel):
    """A reference image to upload: what it is, and the file's type and size (the upload's
    policy holds the browser to them)."""

    kind: ReferenceKind
    label: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
        Field(json_schema_extra={"pattern": NOT_ONLY_WHITESPACE}),
    ]
    content_type: ImageType
    size_bytes: int = Field(ge=1, le=MAX_UPLOAD_BYTES, description="the file's size in bytes")


class ReferenceOut(WireModel):
    """A reference image: ``pending`` until completed, then ``ready`` with its size and
    presigned URLs of the stored image and its 256 px thumbnail."""

    id: uuid.UUID
    kind: ReferenceKind
    label: str
    status: Literal["pending", "ready"]
    width: int | None = None
    height: int | None = None
    url: str | None = None
    thumbnail_url: str | None = None
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
