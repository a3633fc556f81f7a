"""Request and response models: camelCase on the wire, wire-compatible with the earlier
Next.js front end (``{success, storyboard}`` envelopes, ``{error, details}`` errors).

Request models forbid unknown fields; response models that mirror a table read the ORM row's
attributes (``VideoJobOut.model_validate(job)``) so handlers stay thin.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from videogen.catalog import Provider

MAX_SCENES = 200
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
PresetKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class WireModel(BaseModel):
    """camelCase aliases on the wire; Python names in code."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


class RequestModel(WireModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True, extra="forbid"
    )


class RowModel(WireModel):
    """A response read from an ORM row's attributes of the same names: ``Model.model_validate(row)``."""

    model_config = ConfigDict(from_attributes=True)


class Scene(BaseModel):
    """A scene: a unique string ``id`` plus whatever the front end keeps (prompt, notes...)."""

    model_config = ConfigDict(extra="allow")

    id: Annotated[str, StringConstraints(min_length=1, max_length=64)]


def _unique_scene_ids(scenes: list[Scene] | None) -> list[Scene] | None:
    if scenes is None:
        return None
    seen: set[str] = set()
    for scene in scenes:
        if scene.id in seen:
            raise ValueError(f"scene ids must be unique; {scene.id!r} appears more than once")
        seen.add(scene.id)
    return scenes


class StoryboardCreate(RequestModel):
    name: Name
    preset_key: PresetKey
    character: dict[str, Any] = Field(default_factory=dict)
    scenes: list[Scene] = Field(default_factory=list, max_length=MAX_SCENES)

    _unique = field_validator("scenes")(_unique_scene_ids)


class StoryboardPatch(RequestModel):
    name: Name | None = None
    preset_key: PresetKey | None = None
    character: dict[str, Any] | None = None
    scenes: list[Scene] | None = Field(default=None, max_length=MAX_SCENES)

    _unique = field_validator("scenes")(_unique_scene_ids)

    @model_validator(mode="after")
    def _not_empty(self) -> StoryboardPatch:
        if not self.model_fields_set:
            raise ValueError("a patch must change at least one of name, presetKey, character, scenes")
        for field in self.model_fields_set:
            if getattr(self, field) is None:
                raise ValueError(f"{to_camel(field)} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        """Column values for the repository (scenes as plain JSON)."""
        data = self.model_dump(include=self.model_fields_set, by_alias=False)
        return data


def scenes_json(scenes: list[Scene]) -> list[dict[str, Any]]:
    """Scenes as stored in JSONB (extra keys kept)."""
    return [s.model_dump() for s in scenes]


PublicStatus = Literal["pending", "processing", "completed", "failed", "cancelled"]
"""A job's status as clients see it."""


def public_status(status: str) -> PublicStatus:
    """The job statuses clients know; ``submitting`` is internal and shows as ``processing``."""
    shown = "processing" if status == "submitting" else status
    return cast(PublicStatus, shown)


class VideoJobOut(WireModel):
    """A job as the jobs list and the storyboard detail show it; built by ``videogen.clips``
    (presigned URLs, progress), never straight from a row (its URLs are S3 keys)."""

    id: uuid.UUID
    storyboard_id: uuid.UUID
    scene_id: str
    provider: str
    model: str
    status: PublicStatus
    prompt: str
    progress: int
    progress_estimated: bool = Field(
        default=False, description="true: the provider reports no progress; estimated from elapsed time"
    )
    video_url: str | None = Field(default=None, description="presigned, once completed")
    thumbnail_url: str | None = Field(default=None, description="presigned, once completed (Sora only)")
    cost: float | None
    estimated_cost: float | None
    error_message: str | None
    attempts: int
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


class SceneClip(WireModel):
    """A scene's newest job (all ``null`` but ``sceneId`` and ``stale`` when it has none)."""

    scene_id: str
    job_id: uuid.UUID | None = None
    status: PublicStatus | None = None
    progress: int | None = None
    progress_estimated: bool = False
    video_url: str | None = None
    thumbnail_url: str | None = None
    cost: float | None = None
    stale: bool = Field(
        default=False,
        description="true: the scene, character or preset changed since this clip's job was made "
        "(its prompt is not what the scene composes to now)",
    )


class StoryboardOut(RowModel):
    id: uuid.UUID
    user_id: str
    name: str
    preset_key: str
    character: dict[str, Any]
    scenes: list[dict[str, Any]]
    version: int
    created_at: datetime
    updated_at: datetime


class StoryboardWithJobsOut(StoryboardOut):
    video_jobs: list[VideoJobOut]
    scene_clips: list[SceneClip] = Field(description="one per scene, in scene order")


class StoryboardEnvelope(WireModel):
    success: bool = True
    storyboard: StoryboardOut


class StoryboardDetailEnvelope(WireModel):
    storyboard: StoryboardWithJobsOut


class StoryboardList(WireModel):
    storyboards: list[StoryboardOut]
    next_cursor: str | None


class DeleteResult(WireModel):
    success: bool = True
    message: str


class GenerateRequest(RequestModel):
    storyboard_id: uuid.UUID
    scene_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    provider: Provider
    model: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    prompt: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)] | None = (
        None
    )
    duration_seconds: Annotated[int, Field(ge=1, le=60)] | None = None
    size: Annotated[str, StringConstraints(min_length=3, max_length=16)] | None = None


class GenerateAccepted(WireModel):
    success: bool = True
    job_id: uuid.UUID
    prompt: str
    estimated_cost: float
    status: Literal["queued"] = "queued"


class JobStatus(WireModel):
    job_id: uuid.UUID
    status: PublicStatus
    progress: int
    progress_estimated: bool = Field(
        default=False, description="true: the provider reports no progress; estimated from elapsed time"
    )
    video_url: str | None
    thumbnail_url: str | None
    cost: float | None
    error: str | None
    created_at: datetime
    completed_at: datetime | None


class ApiKeyPut(RequestModel):
    api_key: SecretStr = Field(min_length=8, max_length=512)


class ApiKeySummary(RowModel):
    provider: str
    is_active: bool
    last4: str
    created_at: datetime
    last_used_at: datetime | None


class ApiKeyList(WireModel):
    keys: list[ApiKeySummary]


class ApiKeyDeleted(WireModel):
    success: bool = True
    provider: str
    is_active: bool = False


class Liveness(WireModel):
    """``GET /api/health``: the function answers; nothing behind it is asked."""

    status: Literal["healthy"]


class Health(WireModel):
    """``GET /api/health/ready``: whether the database answers."""

    status: Literal["healthy", "unhealthy"]
    database: Literal["connected", "disconnected"]


class ErrorBody(WireModel):
    error: str
    details: Any = None
