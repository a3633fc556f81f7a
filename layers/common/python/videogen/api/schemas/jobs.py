"""Request and response models of the job routes: generate (one scene or the whole storyboard),
the status of one job, the jobs list and usage (a job itself is ``schemas.VideoJobOut``; the
catalog's models are in ``catalog_schemas``).

Every model here speaks the job statuses of the status route (``pending``, ``processing``,
``completed``, ``failed``, ``cancelled``); only ``POST /api/video/generate`` keeps answering
``queued`` (the earlier front end's word for ``pending``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, field_validator

from videogen import catalog
from videogen.api.schemas.storyboards import MAX_SCENES, JobStatusName, RequestModel, VideoJobOut, WireModel
from videogen.catalog import Provider

SceneId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
SkipReason = Literal["in-flight", "up-to-date", "no-prompt", "queue-unavailable"]


_CATALOG_MODELS = [m.id for m in catalog.MODELS]
_CATALOG_SIZES = sorted({size for m in catalog.MODELS for size in m.sizes})
_CATALOG_DURATIONS = sorted({seconds for m in catalog.MODELS for seconds in m.durations})


def _models_in_words() -> str:
    current = "; ".join(
        f"{p}: "
        + ", ".join(m.id for m in catalog.MODELS if m.provider == p and m.retired_on is None)
        + f" (default {catalog.DEFAULTS[p].model})"
        for p in catalog.PROVIDERS
    )
    retired = ", ".join(f"{m.id} (from {m.retired_on})" for m in catalog.MODELS if m.retired_on)
    return f"A model of the provider: {current}. Retired, refused naming the replacement: {retired}."


class GenerateRequest(RequestModel):
    """A clip for one scene. Durations and sizes must be ones the model accepts (the catalog);
    without `prompt` one is composed from the scene, the character and the preset."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "storyboardId": "0b6f1c64-3f47-4d3a-9a51-6f5d7c2e9b10",
                    "sceneId": "scene-1",
                    "provider": "openai",
                    "durationSeconds": 4,
                }
            ]
        }
    )

    storyboard_id: uuid.UUID
    scene_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    provider: Provider
    # The catalog's models, sizes and durations as enums (null: the default); which of them pair
    # up is the catalog's rule, answered 400 with the allowed ones named.
    model: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None, description=_models_in_words(), json_schema_extra={"enum": [*_CATALOG_MODELS, None]}
    )
    prompt: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)] | None = (
        Field(default=None, description="Used as is; without it, composed from the scene")
    )
    duration_seconds: Annotated[int, Field(ge=1, le=60)] | None = Field(
        default=None,
        description="Seconds; the model's default when absent",
        json_schema_extra={"enum": [*_CATALOG_DURATIONS, None]},
    )
    size: Annotated[str, StringConstraints(min_length=3, max_length=16)] | None = Field(
        default=None,
        description="`<width>x<height>`; the model's default when absent",
        json_schema_extra={"enum": [*_CATALOG_SIZES, None]},
    )


class GenerateAccepted(WireModel):
    """The job was stored and queued (or, for a retry with the same `Idempotency-Key` and the
    same request, the first request's job)."""

    success: bool = True
    job_id: uuid.UUID
    prompt: str = Field(description="The prompt the provider is sent")
    estimated_cost: float = Field(description="US dollars, from the catalog's price for the model and size")
    status: Literal["queued"] = Field(
        default="queued",
        description="Always `queued`: the earlier front end's word for the job's `pending`. Follow "
        "the job with GET /api/video/status/{jobId}.",
    )


class JobStatus(WireModel):
    """Where a job is. `videoUrl` and `thumbnailUrl` are short-lived presigned URLs, present once
    the job completed."""

    job_id: uuid.UUID
    status: JobStatusName
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


class BatchGenerateRequest(RequestModel):
    """``POST /api/storyboards/{id}/generate``: the model for every clip, and which scenes."""

    provider: Provider
    model: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    duration_seconds: Annotated[int, Field(ge=1, le=60)] | None = None
    size: Annotated[str, StringConstraints(min_length=3, max_length=16)] | None = None
    scene_ids: Annotated[list[SceneId], Field(min_length=1, max_length=MAX_SCENES)] | None = Field(
        default=None, description="Only these scenes (default: every scene), in storyboard order."
    )
    regenerate: bool = Field(
        default=False, description="Redo scenes whose clip is up to date (never one in flight)."
    )

    @field_validator("scene_ids")
    @classmethod
    def _unique(cls, scene_ids: list[str] | None) -> list[str] | None:
        if scene_ids is not None and len(set(scene_ids)) != len(scene_ids):
            raise ValueError("sceneIds must be unique")
        return scene_ids


class BatchJob(WireModel):
    scene_id: str
    job_id: uuid.UUID
    status: Literal["pending"] = "pending"
    estimated_cost: float


class BatchSkip(WireModel):
    scene_id: str
    reason: SkipReason = Field(
        description="in-flight: a job for the scene is running (jobId); up-to-date: its clip (jobId) "
        "matches the scene's current text and model; no-prompt: the scene has no text; "
        "queue-unavailable: its job could not be queued and was withdrawn"
    )
    job_id: uuid.UUID | None


class BatchGenerateAccepted(WireModel):
    jobs: list[BatchJob]
    skipped: list[BatchSkip]
    estimated_cost: float = Field(description="USD, the sum of the new jobs' estimates")


class JobsPage(WireModel):
    jobs: list[VideoJobOut]
    next_cursor: str | None


# --- usage ------------------------------------------------------------------------------------


class DailyUsage(WireModel):
    """One UTC day and provider (jobs count on the day they were created); USD."""

    date: date
    provider: str
    completed_cost: float = Field(description="actual cost of the clips completed")
    completed_clips: int
    in_flight_cost: float = Field(description="estimated cost of the jobs still in flight")
    jobs_in_flight: int
    cancelled_cost: float = Field(
        description="estimates of jobs cancelled after they reached the provider (0 for those "
        "cancelled before): still counted, as the provider may bill them"
    )
    cancelled_jobs: int
    counted_cost: float = Field(description="what counts against that day's cap: the three above")


class TodayUsage(WireModel):
    """Where the caller stands against the caps now: the numbers a generate is checked against."""

    date: date
    spent: float = Field(description="USD spent or reserved today (UTC)")
    daily_cap: float
    remaining: float
    jobs_in_flight: int
    max_jobs_in_flight: int


class Usage(WireModel):
    days: int
    since: date
    daily: list[DailyUsage] = Field(description="days and providers with jobs, oldest first")
    today: TodayUsage
