"""Polling a processing job: lease the poll, ask the provider, then finish (store the video,
bill it), fail, or queue the next poll.

One poll chain per job: each poll takes a lease under a row lock, and ``metadata.next_poll_at``
says when the chain's next message is due, so a duplicate or early message is acknowledged
without asking the provider. A job still running past ``created_at +
generation_max_wait_seconds`` fails. A finished video is copied to S3 at once (provider assets
expire); an empty or non-MP4 file fails the job, a missing thumbnail does not. Files stored
for a job deleted meanwhile (with its storyboard) are deleted again. The cost is
``catalog.actual_cost`` of the seconds the provider reports, else of those requested. Shots
waiting to continue from the finished clip get their frame step (``waiting``). The next
poll comes when ``pacing.poll_delay`` says (aimed at the expected end); a retryable provider
error only pushes it back (``Retry-After`` is a floor); anything unexpected (database, S3,
KMS, a bug) raises, so SQS redelivers that message alone.
"""

from __future__ import annotations

import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from datetime import timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from videogen import catalog
from videogen.catalog import CatalogError
from videogen.data.db import session_scope
from videogen.data.models import VideoJob
from videogen.data.repositories import api_keys, continuations, video_jobs
from videogen.generation import waiting
from videogen.generation.pacing import (
    PUSHED_AT,
    overdue_error,
    poll_delay,
    poll_facts,
    poll_is_due,
    remembered,
)
from videogen.generation.steps import (
    JobSteps,
    KeyRefused,
    Lease,
    Outcome,
    count,
    lease_in_status,
    log_fields,
)
from videogen.providers import (
    PermanentProviderError,
    PollResult,
    ProviderError,
    RetryableProviderError,
    VideoProvider,
)
from videogen.runtime.config import get_settings
from videogen.runtime.observability import emit_metric, logger
from videogen.storage import bucket, cleanup, uploads
from videogen.storage.uploads import EmptyUpload, InvalidMedia


def poll(steps: JobSteps, job_id: uuid.UUID, *, pushed: bool = False) -> Outcome:
    """Ask the provider about a processing job; finish, fail or schedule the next poll.

    ``pushed``: now, because its provider said it finished (a verified webhook). Once per job:
    the first push is marked in the job's metadata (``pushed_at``) under the row lock, and any
    later one (a provider's retry, a replay) is acknowledged without asking the provider. So a
    forged or replayed event can at worst move one poll forward; the poll then reads the state
    from the provider with the user's key, and the chain goes on from there (the old chain's
    delayed message finds its time moved and ends as ``not-due``).
    """
    try:
        lease = _lease_poll(steps, job_id, pushed=pushed)
    except KeyRefused as refused:
        return steps.fail(refused.job_id, ("processing",), refused.message, "push" if pushed else "poll")
    if not isinstance(lease, Lease):
        return lease
    return _ask_provider(steps, lease)


def push_from_endpoint(steps: JobSteps, key_id: uuid.UUID, provider_job_id: str) -> Outcome:
    """A push from the endpoint registered for stored key ``key_id``: the key owner's job that
    the provider knows as ``provider_job_id`` is polled now, as :func:`poll` with ``pushed``.
    Only that user's jobs are looked at; none (a removed key, another user's video) is
    ``"unknown-job"``."""
    with session_scope() as s:
        owner = api_keys.owner_of_webhook(s, key_id)
        job_id = (
            None if owner is None else video_jobs.find_by_provider_job(s, owner, "openai", provider_job_id)
        )
    if job_id is None:
        return "unknown-job"
    return poll(steps, job_id, pushed=True)


def _lease_poll(steps: JobSteps, job_id: uuid.UUID, *, pushed: bool = False) -> Lease | Outcome:
    now = steps.clock()

    def mark(job: VideoJob) -> dict[str, object] | Outcome:
        if pushed and job.metadata_.get(PUSHED_AT):
            return "duplicate-push"
        if not pushed and not poll_is_due(job.metadata_, now):
            return "not-due"
        # Until this step sets the real next due time, duplicates count as early.
        lease_until = now + timedelta(seconds=steps.config.poll_max_delay_seconds)
        lease = {"polls": int(job.metadata_.get("polls", 0)) + 1, "next_poll_at": lease_until.isoformat()}
        return lease | ({PUSHED_AT: now.isoformat()} if pushed else {})

    # Row lock: concurrent duplicates of one poll message take turns, and the second finds
    # the lease the first wrote.
    return lease_in_status(job_id, "processing", mark)


def _ask_provider(steps: JobSteps, lease: Lease) -> Outcome:
    job = lease.job
    with closing(steps.providers(job.provider, lease.key)) as provider:
        try:
            result = provider.poll(job.provider_job_id or "")
        except RetryableProviderError as exc:
            return _poll_later(steps, job, retry_after=exc.retry_after, reason=str(exc))
        except PermanentProviderError as exc:
            return steps.fail(job.id, ("processing",), str(exc), "poll")
        if result.state == "completed":
            return _finish(steps, job, provider, result)
    if result.state == "failed":
        reason = result.error or "the provider reported the video as failed without a reason"
        return steps.fail(job.id, ("processing",), reason, "poll")
    return _poll_later(steps, job, progress=result.progress, hint=result.poll_after_seconds)


def _poll_later(
    steps: JobSteps,
    job: VideoJob,
    *,
    progress: int | None = None,
    hint: float | None = None,
    retry_after: float | None = None,
    reason: str | None = None,
) -> Outcome:
    config = steps.config
    if steps.clock() >= job.created_at + timedelta(seconds=config.generation_max_wait_seconds):
        message = overdue_error("processing", config.generation_max_wait_seconds)
        return steps.fail(job.id, ("processing",), message, "poll")
    facts = poll_facts(job, steps.clock(), progress=progress, hint=hint, retry_after=retry_after)
    delay = poll_delay(
        facts, initial=config.poll_initial_delay_seconds, maximum=config.poll_max_delay_seconds
    )
    metadata = job.metadata_ | remembered(facts) | {"next_poll_at": steps.after(delay)}
    changes: dict[str, Any] = {"metadata_": metadata}
    if progress is not None:
        # 100 means stored in S3; the provider's own 100 may still precede its "completed".
        changes["progress"] = max(job.progress, min(progress, 99))
    with session_scope() as s:
        updated = video_jobs.update_in_status(s, job.id, "processing", changes)
    if updated is None:
        return "ignored"
    if reason is not None:
        logger.warning(
            "provider busy; poll again later",
            extra=log_fields(job, "poll", reason=reason, delay_seconds=delay),
        )
    steps.send(job, "poll", delay)
    return "polled"


def _finish(steps: JobSteps, job: VideoJob, provider: VideoProvider, result: PollResult) -> Outcome:
    # The thumbnail goes up beside the video, not after it: the two uploads overlap.
    thumbnail = _side_thread().submit(_store_thumbnail, job, provider) if provider.has_thumbnails else None
    try:
        video_key, size = _store_video(job, provider, thumbnail)
    except (EmptyUpload, InvalidMedia) as exc:
        return steps.fail(job.id, ("processing",), _bad_video(exc), "poll")
    except RetryableProviderError as exc:
        return _poll_later(steps, job, retry_after=exc.retry_after, reason=str(exc))
    except PermanentProviderError as exc:
        return steps.fail(job.id, ("processing",), str(exc), "poll")
    thumbnail_key = thumbnail.result() if thumbnail is not None else None
    seconds = result.duration_seconds or job.duration_seconds
    now = steps.clock()
    changes = {
        "video_url": video_key,
        "thumbnail_url": thumbnail_key,
        "progress": 100,
        "cost": _cost(job, seconds),
        "completed_at": now,
        "error_message": None,
        "metadata_": job.metadata_ | {"video_bytes": size, "billed_seconds": seconds},
    }
    with session_scope() as s:
        done = video_jobs.transition(
            s, job.id, from_statuses=("processing",), to_status="completed", changes=changes
        )
        # The next shots waiting to continue from this clip (same transaction: no extra commit).
        waiters = continuations.waiting_on(s, job.id) if done is not None else []
    if done is None:
        return _unless_gone(job, video_key, thumbnail_key)
    latency = max(0.0, (now - job.created_at).total_seconds())
    count("JobsCompleted", job.provider)
    emit_metric("GenerationLatency", {"provider": job.provider}, latency, MetricUnit.Seconds)
    logger.info("job completed", extra=log_fields(job, "poll", latency_seconds=round(latency, 3)))
    waiting.wake(steps.frames, job.id, waiters)
    return "completed"


def _unless_gone(job: VideoJob, *stored: str | None) -> Outcome:
    """The job left ``processing`` while its files went up. Gone with its storyboard: the
    storyboard's cleanup may have run before they landed, so delete them here."""
    with session_scope() as s:
        if video_jobs.get_by_id(s, job.id) is not None:
            return "ignored"  # e.g. failed as overdue meanwhile: its files go with its storyboard
    cleanup.discard_orphans(job.user_id, job.storyboard_id, stored)
    logger.info("job deleted while its video was stored; files removed", extra=log_fields(job, "poll"))
    return "unknown-job"


def _store_video(
    job: VideoJob, provider: VideoProvider, thumbnail: Future[str | None] | None
) -> tuple[str, int]:
    """The video's S3 key and size; when it cannot be stored, the ``thumbnail`` going up
    beside it is dropped (:func:`_drop`) before the error propagates."""
    key = bucket.video_key(job.user_id, job.storyboard_id, job.id)
    try:
        chunks = provider.download(job.provider_job_id or "", "video")
        size = uploads.upload_stream(key, chunks, bucket.VIDEO_CONTENT_TYPE, validate_head=uploads.is_mp4)
    except BaseException:
        _drop(thumbnail)
        raise
    return key, size


@cache
def _side_thread() -> ThreadPoolExecutor:
    """The threads for thumbnails going up beside their videos, one per record a batch runs at
    once; made per container on first use and reused (no pool per object)."""
    workers = get_settings().worker_record_concurrency
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="thumbnail")


def _drop(thumbnail: Future[str | None] | None) -> None:
    """The video was not stored: wait for its thumbnail (the provider is closed after this
    step) and delete it if it went up, so a job without a video has no files. Best effort: the
    storyboard's cleanup takes what is left under its prefix."""
    if thumbnail is None:
        return
    try:
        key = thumbnail.result()
        if key is not None:
            bucket.delete_keys([key])
    except Exception as exc:  # the step's outcome is the video's; a thumbnail error only logs
        logger.warning("thumbnail of a failed video not removed", extra={"error_type": type(exc).__name__})


def _store_thumbnail(job: VideoJob, provider: VideoProvider) -> str | None:
    """The thumbnail's S3 key, or ``None``: a missing thumbnail never fails a finished video."""
    try:
        chunks = provider.download(job.provider_job_id or "", "thumbnail")
        key = uploads.upload_thumbnail(job.user_id, job.storyboard_id, job.id, chunks)
    except (ProviderError, EmptyUpload, InvalidMedia) as exc:
        logger.warning("no thumbnail stored", extra=log_fields(job, "poll", reason=str(exc)))
        return None
    return key


def _cost(job: VideoJob, seconds: float | None) -> Decimal | None:
    if seconds is None or job.size is None:
        return job.estimated_cost
    try:
        return catalog.actual_cost(job.model, job.size, seconds)
    except (CatalogError, ValueError) as exc:
        logger.warning("cost falls back to the estimate", extra=log_fields(job, "poll", reason=str(exc)))
        return job.estimated_cost


def _bad_video(exc: EmptyUpload | InvalidMedia) -> str:
    if isinstance(exc, EmptyUpload):
        return "the provider returned an empty video (0 bytes)"
    return "the provider returned a file that is not a valid MP4 video"
