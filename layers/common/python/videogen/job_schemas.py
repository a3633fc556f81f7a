"""Request and response models of the job routes: whole-storyboard generate, the jobs list and
usage (a job itself is ``schemas.VideoJobOut``; the catalog's models are in ``catalog_schemas``).

Every model here speaks the job statuses of the status route (``pending``, ``processing``,
``completed``, ``failed``, ``cancelled``); only ``POST /api/video/generate`` keeps answering
``queued`` (the earlier front end's word for ``pending``).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from videogen.catalog import Provider
from videogen.schemas import MAX_SCENES, RequestModel, VideoJobOut, WireModel

SceneId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
SkipReason = Literal["in-flight", "up-to-date", "no-prompt", "queue-unavailable"]


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
