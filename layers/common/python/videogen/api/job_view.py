"""What a client sees of a job: presigned URLs for what is in S3, the progress (estimated for
providers that report none), and each scene's newest clip with whether it is stale.

Progress: a provider's own percentage is shown as the worker stored it (at most 99 until the
video is stored, then 100). Veo reports none, so while its job is ``processing`` the progress
is estimated from the time since the provider accepted it against the model's typical
generation time (``catalog``): 90 at the typical time, then creeping towards 99, never 100
before the video is stored; ``progressEstimated`` says so.

Stale: a scene's newest job is stale when its fingerprint is not the one the scene composes to
now with that job's model, size and duration (the scene, character or preset changed since,
or the job ran on an explicit prompt), or, for a scene continuing the previous shot, when the
previous scene's current clip (its newest completed one, as a film takes) is another.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from videogen import catalog
from videogen.api.schemas.jobs import JobStatus
from videogen.api.schemas.storyboards import SceneClip, VideoJobOut, public_status
from videogen.data.repositories.video_jobs import StatusView
from videogen.generation.pacing import PacedJob, started_at
from videogen.generation.prompt import scene_fingerprint
from videogen.references.scene_images import PreviousClip
from videogen.storage import bucket

_AT_TYPICAL = 90
_CEILING = 99


class ProgressOf(PacedJob, Protocol):
    """The columns progress is shown from (a job row, or the status route's narrow view)."""

    @property
    def status(self) -> str: ...
    @property
    def progress(self) -> int: ...


class ClipJob(ProgressOf, Protocol):
    """A job as clients see it: an ORM row, or a hot read's ``video_jobs.JobRow``."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def storyboard_id(self) -> uuid.UUID: ...
    @property
    def scene_id(self) -> str: ...
    @property
    def prompt(self) -> str: ...
    @property
    def video_url(self) -> str | None: ...
    @property
    def thumbnail_url(self) -> str | None: ...
    @property
    def cost(self) -> Decimal | None: ...
    @property
    def estimated_cost(self) -> Decimal | None: ...
    @property
    def error_message(self) -> str | None: ...
    @property
    def attempts(self) -> int: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def completed_at(self) -> datetime | None: ...
    @property
    def fingerprint(self) -> str | None: ...
    @property
    def size(self) -> str | None: ...
    @property
    def duration_seconds(self) -> int | None: ...


class SceneSource(Protocol):
    """What a storyboard's scenes compose from (an ORM row or a ``StoryboardOut``)."""

    @property
    def scenes(self) -> list[Any]: ...
    @property
    def character(self) -> dict[str, Any]: ...
    @property
    def preset_key(self) -> str: ...


def estimated_progress(elapsed_seconds: float, typical_seconds: float) -> int:
    """0 at the start, 90 at the typical time, then towards 99 (never 100)."""
    if elapsed_seconds <= 0 or typical_seconds <= 0:
        return 0
    if elapsed_seconds <= typical_seconds:
        return int(_AT_TYPICAL * elapsed_seconds / typical_seconds)
    extra = (_CEILING - _AT_TYPICAL) * (1 - typical_seconds / elapsed_seconds)
    return min(_CEILING, int(_AT_TYPICAL + extra))


def shown_progress(job: ProgressOf, now: datetime) -> tuple[int, bool]:
    """``(progress, estimated)`` of a job as clients see it at ``now``."""
    if job.status != "processing" or catalog.REPORTS_PROGRESS.get(job.provider, True):
        return job.progress, False
    typical = catalog.typical_seconds(job.model)
    if typical is None:
        return job.progress, False
    elapsed = (now - started_at(job)).total_seconds()
    return max(job.progress, estimated_progress(elapsed, typical)), True


def job_status(job: StatusView, now: datetime) -> JobStatus:
    """The status route's answer (also the cancel route's): presigned URLs, shown progress."""
    progress, estimated = shown_progress(job, now)
    return JobStatus(
        job_id=job.id,
        status=public_status(job.status),
        progress=progress,
        progress_estimated=estimated,
        video_url=bucket.url_for(job.video_url),
        thumbnail_url=bucket.url_for(job.thumbnail_url),
        cost=None if job.cost is None else float(job.cost),
        error=job.error_message,
        created_at=job.created_at,
        completed_at=job.completed_at,
    )


def job_view(job: ClipJob, now: datetime) -> VideoJobOut:
    """The job with presigned URLs and its shown progress."""
    progress, estimated = shown_progress(job, now)
    return VideoJobOut(
        id=job.id,
        storyboard_id=job.storyboard_id,
        scene_id=job.scene_id,
        provider=job.provider,
        model=job.model,
        status=public_status(job.status),
        prompt=job.prompt,
        progress=progress,
        progress_estimated=estimated,
        video_url=bucket.url_for(job.video_url),
        thumbnail_url=bucket.url_for(job.thumbnail_url),
        cost=None if job.cost is None else float(job.cost),
        estimated_cost=None if job.estimated_cost is None else float(job.estimated_cost),
        error_message=job.error_message,
        attempts=job.attempts,
        created_at=job.created_at,
        updated_at=job.updated_at,
        completed_at=job.completed_at,
    )


def is_stale(
    job: ClipJob, scene: dict[str, Any], storyboard: SceneSource, previous: PreviousClip | None = None
) -> bool:
    """Whether ``job`` no longer matches what ``scene`` composes to (see module doc);
    ``previous``: the clip a continuing scene would continue now."""
    if job.fingerprint is None or job.size is None or job.duration_seconds is None:
        return False  # a job from before fingerprints: nothing to compare with
    now = scene_fingerprint(
        scene,
        storyboard.character,
        storyboard.preset_key,
        model=job.model,
        size=job.size,
        seconds=job.duration_seconds,
        previous=previous,
    )
    return now != job.fingerprint


def _is_clip(job: ClipJob) -> bool:
    return job.status == "completed" and (job.video_url or "").startswith(bucket.VIDEOS_PREFIX)


def _film_order(job: ClipJob) -> tuple[bool, datetime, datetime, uuid.UUID]:
    """As ``film_requests.newest_clips`` ranks a scene's clips: completed last, made last, id."""
    completed = job.completed_at
    return completed is not None, completed or job.created_at, job.created_at, job.id


def scene_clips(storyboard: SceneSource, views: Iterable[tuple[ClipJob, VideoJobOut]]) -> list[SceneClip]:
    """Each scene's newest job (``views`` oldest first), in scene order."""
    newest: dict[str, tuple[ClipJob, VideoJobOut]] = {}
    current: dict[str, ClipJob] = {}  # each scene's newest completed clip: what a film takes
    for job, view in views:
        newest[job.scene_id] = (job, view)
        held = current.get(job.scene_id)
        if _is_clip(job) and (held is None or _film_order(job) > _film_order(held)):
            current[job.scene_id] = job
    clips = []
    before: str | None = None
    for scene in storyboard.scenes:
        if not isinstance(scene, dict) or not isinstance(scene.get("id"), str):
            continue
        clip_before = current.get(before) if before is not None else None
        previous = PreviousClip(before, clip_before.id if clip_before else None)
        before = scene["id"]
        found = newest.get(scene["id"])
        if found is None:
            clips.append(SceneClip(scene_id=scene["id"]))
            continue
        job, view = found
        clips.append(
            SceneClip(
                scene_id=scene["id"],
                job_id=view.id,
                status=view.status,
                progress=view.progress,
                progress_estimated=view.progress_estimated,
                video_url=view.video_url,
                thumbnail_url=view.thumbnail_url,
                cost=view.cost,
                stale=is_stale(job, scene, storyboard, previous),
            )
        )
    return clips
