"""Jobs continuing from the previous shot, as the worker moves them: a continuing job's submit
waits for its first frame, which the film compiler makes (it has PyAV) once the clip it
continues is completed.

- **submit** of a job still ``awaiting_frame`` (its claim refuses it) looks at the job it
  continues: completed, the frame step goes to the film queue (``awaiting-frame``); still in
  flight, nothing happens (``waiting``): its completion sends the frame step; failed, cancelled
  or gone, the job fails naming the scene it continues.
- **completion** of a job sends the frame step of every job waiting on it;
- **failure** of a job fails every job waiting on it, down the chain.

The sweeper re-sends the submit of jobs left pending, so a lost frame step or wake-up comes back
through the first rule.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from videogen.data.db import session_scope
from videogen.data.models import VideoJob
from videogen.data.repositories import continuations, video_jobs
from videogen.messaging.messages import FrameMessage, QueueSender
from videogen.messaging.pipeline import send_next
from videogen.references.job_images import AWAITING_FRAME, CONTINUE_KEY
from videogen.runtime.observability import emit_metric, logger


def awaits_frame(job: VideoJob) -> bool:
    """Whether ``job`` is a continuing job whose first frame is not made yet."""
    return job.status == "pending" and bool(job.metadata_.get(AWAITING_FRAME))


def continued_job_id(job: VideoJob) -> uuid.UUID | None:
    """The job whose clip ``job`` continues, if it continues one."""
    entry: Any = job.metadata_.get(CONTINUE_KEY)
    if not isinstance(entry, dict) or not isinstance(entry.get("jobId"), str):
        return None
    return uuid.UUID(entry["jobId"])


def why_not_continued(job: VideoJob, previous: VideoJob | None) -> str | None:
    """Why ``job`` can never get its first frame from ``previous`` (``None``: it still can)."""
    scene = job.metadata_.get(CONTINUE_KEY, {}).get("sceneId")
    if previous is None or previous.user_id != job.user_id:
        return f"scene {scene}: the clip this shot continues is gone"
    if previous.status == "failed":
        return f"scene {scene} failed ({previous.error_message}), so there is no last frame to continue from"
    if previous.status == "cancelled":
        return f"scene {scene} was cancelled, so there is no last frame to continue from"
    return None


def send_frame(frames: QueueSender[FrameMessage], job_id: uuid.UUID) -> None:
    """Queue the frame step of ``job_id`` on the film queue (a lost send is the sweeper's)."""
    send_next(frames, FrameMessage(job_id=job_id, step="frame"), 0, {"job_id": str(job_id), "step": "frame"})


class CannotContinue(Exception):
    """The clip a job continues will never be: the message says why, naming its scene."""


def prepare(job: VideoJob, frames: QueueSender[FrameMessage]) -> Literal["awaiting-frame", "waiting"]:
    """What the submit of an ``awaiting_frame`` job does: send its frame step, or wait for the
    clip it continues; :class:`CannotContinue` when that clip will never be."""
    previous_id = continued_job_id(job)
    with session_scope() as s:
        previous = video_jobs.get_by_id(s, previous_id) if previous_id else None
    reason = why_not_continued(job, previous)
    if reason is not None:
        raise CannotContinue(reason)
    if previous is not None and previous.status != "completed":
        return "waiting"
    send_frame(frames, job.id)
    return "awaiting-frame"


def wake(frames: QueueSender[FrameMessage], job_id: uuid.UUID, waiting: list[uuid.UUID]) -> None:
    """Send the frame step of each job ``waiting`` on ``job_id``'s clip (just completed; found
    by ``continuations.waiting_on`` in the completing transaction)."""
    for waiter in waiting:
        extra = {"job_id": str(waiter), "continues": str(job_id)}
        logger.info("the clip a job continues is done", extra=extra)
        send_frame(frames, waiter)


def fail_waiters(job_id: uuid.UUID) -> int:
    """Fail the jobs waiting, directly or down a chain, on ``job_id``'s clip (which failed)."""
    with session_scope() as s:
        failed = continuations.fail_waiting_on(s, job_id)
    for waiter, provider in failed:
        emit_metric("JobsFailed", {"provider": provider})
        logger.warning(
            "a job's previous shot failed", extra={"job_id": str(waiter), "continues": str(job_id)}
        )
    return len(failed)


def fail(job_id: uuid.UUID, reason: str) -> bool:
    """Fail a pending continuing job with ``reason`` (and those waiting on it); False when it was
    no longer pending."""
    with session_scope() as s:
        failed = video_jobs.transition(
            s,
            job_id,
            from_statuses=("pending",),
            to_status="failed",
            changes={"error_message": reason[:2000]},
        )
    if failed is None:
        return False
    emit_metric("JobsFailed", {"provider": failed.provider})
    logger.warning("job failed", extra={"job_id": str(job_id), "step": "frame", "error": reason})
    fail_waiters(job_id)
    return True
