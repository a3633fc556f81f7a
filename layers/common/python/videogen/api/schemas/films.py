"""The films API's request and response models, and a film's progress as the user sees it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from videogen.api.schemas.storyboards import MAX_SCENES, RequestModel, WireModel
from videogen.data.models import CompiledVideo
from videogen.films.craft import Music, Transition

SceneId = Annotated[str, StringConstraints(min_length=1, max_length=64)]

# Progress: planning, then the normalized share of the clips to normalize, then assembling.
_PLANNING, _NORMALIZING, _NORMALIZED, _ASSEMBLING = 5, 10, 80, 90


class CompileRequest(RequestModel):
    """The body of ``POST /api/storyboards/{id}/compile`` (optional, as are its fields)."""

    scenes_order: list[SceneId] | None = Field(default=None, max_length=MAX_SCENES)
    transition: Transition = Field(default_factory=Transition)
    music: Music | None = None
    caption_language: str = Field(
        default="eng",
        pattern="^[a-z]{3}$",
        description="The captions' language as MP4 tags it (ISO 639-2, e.g. `eng`, `fra`, `deu`)",
    )


class CompileAccepted(WireModel):
    compiled_video_id: uuid.UUID
    status: Literal["pending"] = "pending"
    scenes_order: list[str]


class CompiledVideoOut(WireModel):
    id: uuid.UUID
    storyboard_id: uuid.UUID
    status: str
    progress: int
    scenes_order: list[str]
    final_video_url: str | None
    duration_seconds: float | None
    file_size_bytes: int | None
    error: str | None
    created_at: datetime
    completed_at: datetime | None
    transition: Transition
    music: Music | None
    captions_url: str | None = Field(
        description="The film's captions as WebVTT (presigned), once completed, when a scene has one"
    )

    @classmethod
    def from_row(
        cls, film: CompiledVideo, final_video_url: str | None, captions_url: str | None = None
    ) -> CompiledVideoOut:
        """The film as shown; ``final_video_url`` (and ``captions_url`` when it has captions)
        are presigned URLs once it is completed."""
        return cls(
            id=film.id,
            storyboard_id=film.storyboard_id,
            status=film.status,
            progress=progress(film),
            scenes_order=[str(scene) for scene in film.scenes_order],
            final_video_url=final_video_url,
            duration_seconds=film.duration_seconds,
            file_size_bytes=film.file_size_bytes,
            error=film.error_message,
            created_at=film.created_at,
            completed_at=film.completed_at,
            transition=Transition.model_validate(film.metadata_.get("transition") or {}),
            music=Music.model_validate(film.metadata_["music"]["request"])
            if film.metadata_.get("music")
            else None,
            captions_url=captions_url,
        )


class CompiledVideoList(WireModel):
    compiled_videos: list[CompiledVideoOut]


def progress(film: CompiledVideo) -> int:
    """0-100 from the film's step and counts (never stored, so it cannot disagree with them):
    pending 0, planning 5, normalizing 10-80 by clips done, waiting to assemble 80,
    assembling 90, completed 100; a failed film keeps the figure of the step it failed in."""
    if film.status == "completed":
        return 100
    if film.step == "plan":
        return 0 if film.status == "pending" else _PLANNING
    if film.step == "normalize":
        done, needed = len(film.normalized_clips), max(1, len(film.normalize_clips))
        return _NORMALIZING + (_NORMALIZED - _NORMALIZING) * done // needed
    return _ASSEMBLING if film.claimed_at is not None else _NORMALIZED
