"""The frame step: a continuing job's first frame, the exact last frame of the clip it continues.

``{"jobId", "step": "frame"}`` on the film queue, for a job still ``awaiting_frame``
(``videogen.generation.waiting`` sends it). The clip's last frame is decoded from its last
keyframe through ranged reads (``media.frames``) and kept as a derived reference image (kind
``frame``, ``source_job_id`` the clip's job) whose id follows from that job, so the next scene to
continue the same clip reuses it and a duplicate delivery writes the same objects and row. The
job then names it as its first frame, leaves ``awaiting_frame``, and its submit goes to the
generation queue. A clip that is gone, failed or does not decode fails the job (and those
waiting on it) naming the scene it continues; one not done yet leaves the job waiting.
"""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any, Literal

from videogen.data.db import session_scope
from videogen.data.models import ReferenceImage, VideoJob
from videogen.data.repositories import continuations, video_jobs
from videogen.films.media.clips import MediaError
from videogen.films.media.frames import last_frame
from videogen.generation import waiting
from videogen.messaging.messages import QueueSender, StepMessage
from videogen.messaging.pipeline import send_next
from videogen.references.job_images import AWAITING_FRAME, CONTINUE_KEY, METADATA_KEY
from videogen.runtime.observability import emit_metric, logger
from videogen.storage import objects, reference_objects
from videogen.storage.reference_objects import reference_keys

FrameOutcome = Literal["framed", "waiting", "failed", "ignored", "unknown-job"]

_FRAMES = uuid.UUID("5d0f3c4e-8f0b-4a7e-9a55-7b1c0e6f2a10")
"""The namespace of derived frames' ids: one id per clip's last frame."""


def frame_reference_id(clip_job_id: uuid.UUID) -> uuid.UUID:
    """The id of the reference holding the last frame of ``clip_job_id``'s clip."""
    return uuid.uuid5(_FRAMES, f"last-frame:{clip_job_id}")


def make_first_frame(jobs: QueueSender[StepMessage], job_id: uuid.UUID) -> FrameOutcome:
    """Give a continuing job its first frame and queue its submit on ``jobs``."""
    with session_scope(autocommit=True) as s:
        job = video_jobs.get_by_id(s, job_id)
    if job is None:
        return "unknown-job"
    if job.status != "pending":
        return "ignored"
    if not waiting.awaits_frame(job):  # made by an earlier delivery: its submit again is harmless
        _submit(jobs, job)
        return "framed"
    previous = _continued_clip(job)
    if not isinstance(previous, VideoJob):
        return previous
    try:
        frame = _frame_of(job, previous)
    except (objects.ObjectMissing, MediaError) as exc:
        missing = isinstance(exc, objects.ObjectMissing)
        return _no_clip(job, "is missing from storage" if missing else f"does not decode ({exc})")
    return _name_first_frame(jobs, job, frame)


def _continued_clip(job: VideoJob) -> VideoJob | FrameOutcome:
    """The completed job whose clip ``job`` continues; else ``waiting``, or the job failed."""
    previous_id = waiting.continued_job_id(job)
    with session_scope(autocommit=True) as s:
        previous = video_jobs.get_by_id(s, previous_id) if previous_id else None
    reason = waiting.why_not_continued(job, previous)
    if reason is not None:
        return _fail(job, reason)
    if previous is None or previous.status != "completed":
        return "waiting"  # its completion sends this step again
    if not previous.video_url:
        return _no_clip(job, "is missing from storage")
    return previous


def _frame_of(job: VideoJob, previous: VideoJob) -> ReferenceImage:
    """The derived frame of ``previous``'s clip: found, or decoded and stored now."""
    reference_id = frame_reference_id(previous.id)
    with session_scope(autocommit=True) as s:
        found = continuations.derived_frame(s, reference_id)
    if found is not None:
        return found
    still = last_frame(partial(objects.ObjectReader, previous.video_url or ""))
    keys = reference_keys(job.user_id, job.storyboard_id, reference_id)
    reference_objects.put(keys.image("image/png"), still.png, "image/png")
    reference_objects.put(keys.thumbnail, still.thumbnail, "image/jpeg")
    scene = str(job.metadata_[CONTINUE_KEY].get("sceneId"))
    values: dict[str, Any] = {
        "id": reference_id,
        "user_id": job.user_id,
        "storyboard_id": job.storyboard_id,
        "kind": "frame",
        "label": f"Last frame of scene {scene}"[:100],
        "content_type": "image/png",
        "declared_bytes": len(still.png),
        "width": still.width,
        "height": still.height,
        "stored_bytes": len(still.png) + len(still.thumbnail),
        "sha256": still.sha256,
        "source_job_id": previous.id,
    }
    with session_scope() as s:
        continuations.store_derived_frame(s, values)
        stored = continuations.derived_frame(s, reference_id)
    if stored is None:  # pragma: no cover - inserted or already there, in this transaction
        raise MediaError("the derived frame was not stored")
    emit_metric("FramesDerived", {"step": "frame"})
    return stored


def _name_first_frame(jobs: QueueSender[StepMessage], job: VideoJob, frame: ReferenceImage) -> FrameOutcome:
    entry = {"id": str(frame.id), "sha256": frame.sha256, "contentType": frame.content_type}
    images = job.metadata_.get(METADATA_KEY) or {"assets": [], "first": None, "last": None}
    metadata = {k: v for k, v in job.metadata_.items() if k != AWAITING_FRAME}
    metadata[METADATA_KEY] = images | {"first": entry}
    with session_scope() as s:
        named = video_jobs.update_in_status(s, job.id, "pending", {"metadata_": metadata})
    if named is None:
        return "ignored"  # cancelled or deleted meanwhile
    logger.info("first frame made", extra={"job_id": str(job.id), "reference_id": str(frame.id)})
    _submit(jobs, job)
    return "framed"


def _submit(jobs: QueueSender[StepMessage], job: VideoJob) -> None:
    send_next(jobs, StepMessage(job_id=job.id, step="submit"), 0, {"job_id": str(job.id), "step": "submit"})


def _no_clip(job: VideoJob, problem: str) -> FrameOutcome:
    """Fail the job: the clip it continues ``problem`` (its scene named)."""
    scene = job.metadata_[CONTINUE_KEY].get("sceneId")
    return _fail(job, f"scene {scene}: its clip {problem}, so there is no last frame to continue from")


def _fail(job: VideoJob, reason: str) -> FrameOutcome:
    return "failed" if waiting.fail(job.id, reason) else "ignored"
