"""Request and response models of the job routes: whole-storyboard generate, the jobs list and
cancel, a job as those routes and the storyboard detail show it, usage, and the model catalog.

Every model here speaks the job statuses of the status route (``pending``, ``processing``,
``completed``, ``failed``, ``cancelled``); only ``POST /api/video/generate`` keeps answering
``queued`` (the earlier front end's word for ``pending``).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from videogen import catalog
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


# --- the model catalog ------------------------------------------------------------------------


class SizeOffer(WireModel):
    size: str = Field(description="<width>x<height>")
    durations: list[int] = Field(description="seconds this model accepts at this size")
    usd_per_second: float
    price_source: str
    price_as_of: str = Field(description="when the price source was read (YYYY-MM)")


class ModelOffer(WireModel):
    id: str
    provider: str
    status: Literal["current", "retired"]
    retired_on: date | None
    replacement: str | None
    durations: list[int]
    sizes: list[SizeOffer]
    typical_generation_seconds: int | None = Field(
        description="what the estimated progress of providers that report none is measured against"
    )
    notes: str


class ProviderOffer(WireModel):
    id: str
    default_model: str
    default_duration_seconds: int
    default_size: str
    reports_progress: bool
    notes: str


class Catalog(WireModel):
    providers: list[ProviderOffer]
    models: list[ModelOffer]
    typical_generation_source: str

    @classmethod
    def on(cls, today: date) -> Catalog:
        """The catalog as it stands on ``today`` (which models are retired), from catalog.py only."""
        providers = [
            ProviderOffer(
                id=name,
                default_model=d.model,
                default_duration_seconds=d.duration_seconds,
                default_size=d.size,
                reports_progress=catalog.REPORTS_PROGRESS[name],
                notes=d.notes,
            )
            for name, d in catalog.DEFAULTS.items()
        ]
        return cls(
            providers=providers,
            models=[_model_offer(m, today) for m in catalog.MODELS],
            typical_generation_source=catalog.TYPICAL_SECONDS_SOURCE,
        )


def _model_offer(spec: catalog.ModelSpec, today: date) -> ModelOffer:
    sizes = [
        SizeOffer(
            size=size,
            durations=list(spec.durations_for(size)),
            usd_per_second=float(price.usd_per_second),
            price_source=price.source,
            price_as_of=price.as_of,
        )
        for size, price in spec.prices.items()
    ]
    return ModelOffer(
        id=spec.id,
        provider=spec.provider,
        status="retired" if spec.is_retired(today) else "current",
        retired_on=spec.retired_on,
        replacement=spec.replacement,
        durations=list(spec.durations),
        sizes=sizes,
        typical_generation_seconds=spec.typical_seconds,
        notes=spec.notes,
    )
