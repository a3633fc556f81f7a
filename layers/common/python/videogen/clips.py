"""What a client sees of a job: presigned URLs for what is in S3, the progress (estimated for
providers that report none), and each scene's newest clip with whether it is stale.

Progress: a provider's own percentage is shown as the worker stored it (at most 99 until the
video is stored, then 100). Veo reports none, so while its job is ``processing`` the progress
is estimated from the time since the provider accepted it against the model's typical
generation time (``catalog``): 90 at the typical time, then creeping towards 99, never 100
before the video is stored; ``progressEstimated`` says so.

Stale: a scene's newest job is stale when its fingerprint is not the one the scene composes to
now with that job's model, size and duration (the scene, character or preset changed since,
or the job ran on an explicit prompt).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from videogen import catalog, storage
from videogen.generation.pacing import PacedJob, started_at
from videogen.generation.prompt import scene_fingerprint
from videogen.models import Storyboard, VideoJob
from videogen.repositories.video_jobs import StatusView
from videogen.schemas import JobStatus, SceneClip, VideoJobOut, public_status

_AT_TYPICAL = 90
_CEILING = 99


class ProgressOf(PacedJob, Protocol):
    """The columns progress is shown from (a job row, or the status route's narrow view)."""

    @property
    def status(self) -> str: ...
    @property
    def progress(self) -> int: ...


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
        video_url=storage.url_for(job.video_url),
        thumbnail_url=storage.url_for(job.thumbnail_url),
        cost=None if job.cost is None else float(job.cost),
        error=job.error_message,
        created_at=job.created_at,
        completed_at=job.completed_at,
    )


def job_view(job: VideoJob, now: datetime) -> VideoJobOut:
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
        video_url=storage.url_for(job.video_url),
        thumbnail_url=storage.url_for(job.thumbnail_url),
        cost=None if job.cost is None else float(job.cost),
        estimated_cost=None if job.estimated_cost is None else float(job.estimated_cost),
        error_message=job.error_message,
        attempts=job.attempts,
        created_at=job.created_at,
        updated_at=job.updated_at,
        completed_at=job.completed_at,
    )


def is_stale(job: VideoJob, scene: dict[str, Any], storyboard: Storyboard) -> bool:
    """Whether ``job`` no longer matches what ``scene`` composes to (see module doc)."""
    if job.fingerprint is None or job.size is None or job.duration_seconds is None:
        return False  # a job from before fingerprints: nothing to compare with
    now = scene_fingerprint(
        scene,
        storyboard.character,
        storyboard.preset_key,
        model=job.model,
        size=job.size,
        seconds=job.duration_seconds,
    )
    return now != job.fingerprint


def scene_clips(storyboard: Storyboard, views: Iterable[tuple[VideoJob, VideoJobOut]]) -> list[SceneClip]:
    """Each scene's newest job (``views`` oldest first), in scene order."""
    newest: dict[str, tuple[VideoJob, VideoJobOut]] = {}
    for job, view in views:
        newest[job.scene_id] = (job, view)
    clips = []
    for scene in storyboard.scenes:
        if not isinstance(scene, dict) or not isinstance(scene.get("id"), str):
            continue
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
                stale=is_stale(job, scene, storyboard),
            )
        )
    return clips
