"""Submit and recovery: claim a pending job, ask its provider once to start it, and settle a job
whose create has an unknown outcome.

The provider is never asked twice for one job: that would charge the user twice. So:
- the claim (pending -> submitting, attempts + 1) and the key's decryption share one
  transaction, and its committed ``updated_at`` is the submit mark;
- a create answered 429/5xx was not accepted: the job goes back to ``pending`` and a delayed
  submit is queued (after ``submit_max_attempts`` the job fails);
- a create without an answer (timeout) may have been accepted: the job stays ``submitting``
  and its submit comes back once the mark is stale, for recovery;
- recovery (a stale mark) asks the provider for a job created since the mark: found, it is
  adopted and polled; not found, or the provider cannot list jobs, the job fails with
  :data:`OUTCOME_UNKNOWN`. A fresh mark is another worker mid-call: left alone;
- a job the user cancelled while its create ran gets the provider's id all the same, and is
  cancelled there at once (:mod:`videogen.generation.provider_cancel`).
"""

from __future__ import annotations

import uuid
from contextlib import closing
from dataclasses import replace
from datetime import timedelta

from videogen import catalog
from videogen.catalog import CatalogError
from videogen.data.db import session_scope
from videogen.data.models import VideoJob
from videogen.data.repositories import video_jobs
from videogen.generation import waiting
from videogen.generation.pacing import (
    PUSH_EXPECTED,
    first_poll_delay,
    next_poll_delay,
    provider_refused_create,
)
from videogen.generation.provider_cancel import cancel_at_provider
from videogen.generation.steps import (
    OUTCOME_UNKNOWN,
    JobSteps,
    KeyRefused,
    Lease,
    Outcome,
    count,
    in_status,
    log_fields,
)
from videogen.providers import GenerationRequest, PermanentProviderError, RetryableProviderError, Submission
from videogen.references import job_images
from videogen.references.job_images import ReferenceGone
from videogen.runtime.observability import logger
from videogen.storage.bucket import StorageUnavailable
from videogen.webhooks import callbacks
from videogen.webhooks.callbacks import Source

_RECOVERY_MARGIN_SECONDS = 5


def submit(steps: JobSteps, job_id: uuid.UUID) -> Outcome:
    """Claim a pending job and ask its provider, once, to start it."""
    try:
        claimed = _claim(job_id)
    except KeyRefused as refused:
        # The claim was rolled back with the key lookup: the job is pending again.
        return steps.fail(refused.job_id, ("pending",), refused.message, "submit")
    if isinstance(claimed, Lease):
        return _create(steps, claimed)
    if isinstance(claimed, VideoJob):  # continuing a shot: its first frame comes first
        try:
            return waiting.prepare(claimed, steps.frames)
        except waiting.CannotContinue as refused:
            return steps.fail(job_id, ("pending",), str(refused), "submit")
    if claimed == "submitting":
        return recover(steps, job_id)
    return "unknown-job" if claimed is None else "ignored"


def recover(steps: JobSteps, job_id: uuid.UUID) -> Outcome:
    """Settle a job left ``submitting`` past ``submit_stale_after_seconds``."""
    try:
        lease = _stale_submission(steps, job_id)
    except KeyRefused as refused:
        return steps.fail(refused.job_id, ("submitting",), OUTCOME_UNKNOWN, "recover")
    if not isinstance(lease, Lease):
        return lease
    job = lease.job
    try:
        with closing(steps.providers(job.provider, lease.key)) as provider:
            found = provider.find_existing(provider_request(job))
    except (PermanentProviderError, CatalogError):
        found = None
    if found is None:
        return steps.fail(job.id, ("submitting",), OUTCOME_UNKNOWN, "recover")
    logger.warning(
        "lost submission found at the provider",
        extra=log_fields(job, "recover", provider_job_id=found.provider_job_id),
    )
    outcome = _store_submission(steps, job, found, "recover")
    return "recovered" if outcome == "submitted" else outcome


def provider_request(job: VideoJob) -> GenerationRequest:
    """What the provider is asked to generate for ``job`` (catalog defaults filled in)."""
    defaults = catalog.DEFAULTS[catalog.check_provider(job.provider)]
    negative = job.metadata_.get("negative_prompt")
    return GenerationRequest(
        job_id=str(job.id),
        model=job.model,
        prompt=job.prompt,
        duration_seconds=job.duration_seconds or defaults.duration_seconds,
        size=job.size or defaults.size,
        negative_prompt=negative if isinstance(negative, str) else None,
        # The submit mark: only provider jobs created since then can be this one.
        not_before=job.updated_at,
    )


def _claim(job_id: uuid.UUID) -> Lease | VideoJob | str | None:
    """The claimed job with its key; the job when it awaits its first frame; else the job's
    current status (``None``: no job)."""
    with session_scope() as s:
        job = video_jobs.claim_for_submit(s, job_id)
        if job is None:
            current = video_jobs.get_by_id(s, job_id)
            if current is not None and waiting.awaits_frame(current):
                return current
            return None if current is None else current.status
        # Same transaction: if KMS is down the claim rolls back and SQS retries cleanly.
        return Lease.take(s, job)


def _create(steps: JobSteps, lease: Lease) -> Outcome:
    job = lease.job
    callback = None
    try:
        request = provider_request(job)
        with closing(steps.providers(job.provider, lease.key)) as provider:
            images = job_images.request_images(
                job.user_id, job.storyboard_id, job.metadata_, provider.image_transport
            )
            callback = _callback(job, provider.webhook_source)
            submission = provider.submit(replace(request, callback_url=callback, images=images))
    except (PermanentProviderError, CatalogError, ReferenceGone) as exc:
        message = exc.message if isinstance(exc, CatalogError) else str(exc)
        return steps.fail(job.id, ("submitting",), message, "submit")
    except StorageUnavailable as exc:  # before the provider was asked: nothing started
        return _submit_later(steps, job, RetryableProviderError(str(exc), answered=True))
    except RetryableProviderError as exc:
        if provider_refused_create(exc):
            return _submit_later(steps, job, exc)
        return _await_recovery(steps, job, exc)
    # Pushed: to the create's callback URL, or to the URL registered for the key (its secret kept).
    push = callback is not None or (lease.key.webhook and callbacks.enabled())
    return _store_submission(steps, job, submission, "submit", push=push)


def _callback(job: VideoJob, source: Source | None) -> str | None:
    """The callback URL the create gives the provider; ``None`` (polls alone) when it pushes
    nothing, webhooks are off, or their secret cannot be read now (logged: polls still work)."""
    try:
        return callbacks.callback_url(source, job.id)
    except callbacks.WebhookSecretUnavailable as exc:
        logger.warning("no webhook for this job", extra=log_fields(job, "submit", reason=str(exc)))
        return None


def _store_submission(
    steps: JobSteps, job: VideoJob, submission: Submission, step: str, *, push: bool = False
) -> Outcome:
    config = steps.config
    delay = first_poll_delay(
        job.model,
        hint=submission.poll_after_seconds,
        initial=config.poll_initial_delay_seconds,
        maximum=config.poll_max_delay_seconds,
        push=push,
    )
    # submitted_at: the clock of the estimated progress of providers that report none (videogen.api.job_view).
    metadata = job.metadata_ | {
        "polls": 0,
        "next_poll_at": steps.after(delay),
        "submitted_at": steps.clock().isoformat(),
        PUSH_EXPECTED: push,
    }
    with session_scope() as s:
        stored = video_jobs.transition(
            s,
            job.id,
            from_statuses=("submitting",),
            to_status="processing",
            changes={"provider_job_id": submission.provider_job_id, "progress": 0, "metadata_": metadata},
        )
    fields = log_fields(job, step, provider_job_id=submission.provider_job_id)
    if stored is None:
        return _accepted_after_all(steps, job, submission, fields)
    count("JobsSubmitted", job.provider)
    logger.info("job submitted", extra=fields | {"poll_delay_seconds": delay})
    steps.send(job, "poll", delay)
    return "submitted"


def _accepted_after_all(
    steps: JobSteps, job: VideoJob, submission: Submission, fields: dict[str, object]
) -> Outcome:
    """The provider accepted a job that is no longer ``submitting``: cancelled meanwhile (stop
    it there now that its id is known), or settled by recovery or the sweeper."""
    with session_scope() as s:
        kept = video_jobs.update_in_status(
            s, job.id, "cancelled", {"provider_job_id": submission.provider_job_id}
        )
    if kept is not None:
        logger.info("the job was cancelled while its create ran; cancelling it at the provider", extra=fields)
        return cancel_at_provider(steps, job.id)
    logger.error("the provider accepted a job that is no longer submitting", extra=fields)
    return "ignored"


def _submit_later(steps: JobSteps, job: VideoJob, error: RetryableProviderError) -> Outcome:
    config = steps.config
    if job.attempts >= config.submit_max_attempts:
        message = f"the provider stayed busy after {job.attempts} attempts: {error}"
        return steps.fail(job.id, ("submitting",), message, "submit")
    delay = next_poll_delay(
        job.attempts - 1,
        initial=config.poll_initial_delay_seconds,
        maximum=config.poll_max_delay_seconds,
        retry_after=error.retry_after,
    )
    with session_scope() as s:
        released = video_jobs.transition(s, job.id, from_statuses=("submitting",), to_status="pending")
    if released is None:
        return "ignored"
    logger.warning(
        "the provider refused the create for now; submit again later",
        extra=log_fields(job, "submit", reason=str(error), attempts=job.attempts, delay_seconds=delay),
    )
    steps.send(job, "submit", delay)
    return "retry-scheduled"


def _await_recovery(steps: JobSteps, job: VideoJob, error: RetryableProviderError) -> Outcome:
    # Left "submitting": this message comes back once the mark is stale, and recovery asks
    # the provider instead of creating a second, paid, job.
    delay = steps.config.submit_stale_after_seconds + _RECOVERY_MARGIN_SECONDS
    logger.warning(
        "the create's outcome is unknown; recovery will look the job up",
        extra=log_fields(job, "submit", reason=str(error), delay_seconds=delay),
    )
    steps.send(job, "submit", delay)
    return "awaiting-recovery"


def _stale_submission(steps: JobSteps, job_id: uuid.UUID) -> Lease | Outcome:
    with session_scope() as s:
        job = in_status(video_jobs.get_by_id(s, job_id), "submitting")
        if not isinstance(job, VideoJob):
            return job
        age = steps.clock() - job.updated_at
        if age < timedelta(seconds=steps.config.submit_stale_after_seconds):
            return "in-flight"
        return Lease.take(s, job)
