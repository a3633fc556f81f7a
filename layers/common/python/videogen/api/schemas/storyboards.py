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
    JsonValue,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import SkipJsonSchema

from videogen.catalog import Provider
from videogen.films.craft import CaptionInvalid, scene_caption

MAX_SCENES = 200
NOT_ONLY_WHITESPACE = r"[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
"""A character that ``strip_whitespace`` keeps (Unicode White_Space, what it strips), as the
document states that rule; the code enforces it by stripping, then ``min_length=1``."""
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    Field(
        description="1 to 200 characters, surrounding whitespace removed; not only whitespace",
        json_schema_extra={"pattern": NOT_ONLY_WHITESPACE},
    ),
]
PresetKey = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    Field(
        json_schema_extra={"pattern": NOT_ONLY_WHITESPACE},
        description="The visual style: a preset such as `cinematic`, `anime`, `noir`; any other key is "
        "used in words in composed prompts",
    ),
]
Character = Annotated[
    dict[str, Any],
    Field(
        description="The character profile: any JSON object the front end keeps. Its text fields join "
        "composed prompts (`name` first)."
    ),
]
JobStatusName = Literal["pending", "processing", "completed", "failed", "cancelled"]
"""A job's status as the API answers it (the internal ``submitting`` answers ``processing``)."""


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
    """A scene: a unique string `id` plus whatever the front end keeps (`prompt`, `description`
    or `text` make its generation prompt; other fields are kept as sent). A `caption` (one
    line of plain text, at most 200 characters; `captionStartMs`/`captionEndMs` within the
    shot, optional) is what films show under the shot."""

    model_config = ConfigDict(
        extra="allow", json_schema_extra={"examples": [{"id": "scene-1", "prompt": "Ada opens the lab door"}]}
    )

    id: Annotated[str, StringConstraints(min_length=1, max_length=64)]

    @model_validator(mode="after")
    def _caption_rules(self) -> Scene:
        try:
            scene_caption(self.model_extra or {})
        except CaptionInvalid as invalid:
            raise ValueError(str(invalid)) from None
        return self


# The document can state only that no two scenes are equal (uniqueItems); the rule is stricter:
# no two share an id (the validator below).
Scenes = Annotated[list[Scene], Field(max_length=MAX_SCENES, json_schema_extra={"uniqueItems": True})]


def _unique_scene_ids(scenes: list[Scene] | None) -> list[Scene] | None:
    if scenes is None:
        return None
    seen: set[str] = set()
    for scene in scenes:
        if scene.id in seen:
            raise ValueError(f"scene ids must be unique; {scene.id!r} appears more than once")
        seen.add(scene.id)
    return scenes


STORYBOARD_EXAMPLE: dict[str, JsonValue] = {
    "name": "Pilot episode",
    "presetKey": "cinematic",
    "character": {"name": "Ada", "description": "a curious engineer in a yellow raincoat"},
    "scenes": [
        {"id": "scene-1", "prompt": "Ada opens the lab door at dawn"},
        {"id": "scene-2", "prompt": "Ada watches the prototype take off"},
    ],
}


class StoryboardCreate(RequestModel):
    """A new storyboard. Scene ids must be unique within it."""

    model_config = ConfigDict(json_schema_extra={"examples": [STORYBOARD_EXAMPLE]})

    name: Name
    preset_key: PresetKey
    character: Character = Field(default_factory=dict)
    scenes: Scenes = Field(default_factory=list)

    _unique = field_validator("scenes")(_unique_scene_ids)


class StoryboardPatch(RequestModel):
    """The fields to change (at least one; none may be null). `character` and `scenes` replace
    the stored ones whole."""

    model_config = ConfigDict(
        json_schema_extra={"minProperties": 1, "examples": [{"name": "Pilot episode (v2)"}]}
    )

    # Optional, never null: None is only "not sent" (the document leaves null out; a null is refused).
    name: Name | SkipJsonSchema[None] = None
    preset_key: PresetKey | SkipJsonSchema[None] = None
    character: Character | SkipJsonSchema[None] = None
    scenes: Scenes | SkipJsonSchema[None] = None

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


def public_status(status: str) -> JobStatusName:
    """The job statuses clients know; ``submitting`` is internal and shows as ``processing``."""
    shown = "processing" if status == "submitting" else status
    return cast(JobStatusName, shown)


class VideoJobOut(WireModel):
    """A job as the jobs list and the storyboard detail show it; built by ``videogen.api.job_view``
    (presigned URLs, progress), never straight from a row (its URLs are S3 keys)."""

    id: uuid.UUID
    storyboard_id: uuid.UUID
    scene_id: str
    provider: Provider
    model: str
    status: JobStatusName
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
    status: JobStatusName | None = None
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
    """A storyboard as stored. `version` grows by one with every change: send it back in
    `If-Match` to refuse a lost update."""

    id: uuid.UUID
    user_id: str
    name: str
    preset_key: str
    character: dict[str, Any]
    scenes: list[dict[str, Any]]
    version: int = Field(ge=1)
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
    """A page of the caller's storyboards, most recently changed first."""

    storyboards: list[StoryboardOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page", examples=[None]
    )


class DeleteResult(WireModel):
    success: bool = True
    message: str


class Liveness(WireModel):
    """``GET /api/health``: the function answers; nothing behind it is asked."""

    status: Literal["healthy"]


class Health(WireModel):
    """``GET /api/health/ready``: whether the database answers."""

    status: Literal["healthy", "unhealthy"]
    database: Literal["connected", "disconnected"]
