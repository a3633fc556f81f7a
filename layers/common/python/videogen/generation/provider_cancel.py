"""The worker's ``cancel`` step: stop a cancelled job at its provider, as far as its API allows.

The job is already ``cancelled`` (the user's cancel, :mod:`videogen.generation.cancel`); this
step only acts on the provider, once, and records what happened in
``metadata.provider_cancel`` (``state``: ``requested`` while a worker asks, then ``cancelled``,
``refused`` with the provider's reason, or ``unreachable``; ``retrying`` between attempts):

- no provider job id yet (a create still running): nothing to do here; the submit step stores
  the id on the cancelled job and calls this step itself;
- a fresh ``requested`` state is another worker mid-call: left alone (``in-flight``); a stale
  one (that worker died) is asked again;
- 429/5xx or no answer: asked again later with backoff, at most ``submit_max_attempts`` times;
- a refusal (the provider cannot cancel a job in that state, or has no such job): recorded,
  not retried.

What each provider offers is in its adapter's module doc (Sora: ``DELETE /videos/{id}``; Veo:
Vertex's ``:cancel``). A job's estimate counts against the day's cap either way.
"""

from __future__ import annotations

import uuid
from contextlib import closing
from datetime import datetime
from typing import Any

from videogen.data.db import session_scope
from videogen.data.models import VideoJob
from videogen.data.repositories import video_jobs
from videogen.generation.pacing import next_poll_delay
from videogen.generation.steps import (
    JobSteps,
    KeyRefused,
    Lease,
    Outcome,
    count,
    in_status,
    lease_in_status,
    log_fields,
)
from videogen.providers import PermanentProviderError, RetryableProviderError
from videogen.runtime.observability import logger

SETTLED = ("cancelled", "refused", "unreachable")
_LEASE_MARGIN_SECONDS = 30


def cancel_at_provider(steps: JobSteps, job_id: uuid.UUID) -> Outcome:
    """Ask the provider to stop a cancelled job (see module doc)."""
    try:
        lease = _lease(steps, job_id)
    except KeyRefused as refused:
        return _settle(steps, refused.job_id, "refused", refused.message)
    if not isinstance(lease, Lease):
        return lease
    job = lease.job
    try:
        with closing(steps.providers(job.provider, lease.key)) as provider:
            provider.cancel(job.provider_job_id or "")
    except RetryableProviderError as exc:
        return _later(steps, job, exc)
    except PermanentProviderError as exc:
        return _settle(steps, job.id, "refused", str(exc))
    return _settle(steps, job.id, "cancelled", None)


def _state(job: VideoJob) -> dict[str, Any]:
    found = job.metadata_.get("provider_cancel")
    return found if isinstance(found, dict) else {}


def _leased_until(state: dict[str, Any]) -> datetime | None:
    value = state.get("until")
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _lease(steps: JobSteps, job_id: uuid.UUID) -> Lease | Outcome:
    now = steps.clock()

    def mark(job: VideoJob) -> dict[str, object] | Outcome:
        state = _state(job)
        if job.provider_job_id is None or state.get("state") in SETTLED:
            return "ignored"
        until = _leased_until(state)
        if state.get("state") == "requested" and until is not None and now < until:
            return "in-flight"
        lease_for = steps.config.provider_deadline_seconds * 3 + _LEASE_MARGIN_SECONDS  # the SDKs retry
        attempts = int(state.get("attempts", 0)) + 1
        return {
            "provider_cancel": {
                "state": "requested",
                "attempts": attempts,
                "until": steps.after(int(lease_for)),
            }
        }

    return lease_in_status(job_id, "cancelled", mark)


def _record(job_id: uuid.UUID, state: dict[str, Any]) -> VideoJob | None:
    with session_scope() as s:
        job = in_status(video_jobs.lock_by_id(s, job_id), "cancelled")
        if not isinstance(job, VideoJob):
            return None
        merged = _state(job) | state
        return video_jobs.update_in_status(
            s, job_id, "cancelled", {"metadata_": job.metadata_ | {"provider_cancel": merged}}
        )


def _settle(steps: JobSteps, job_id: uuid.UUID, state: str, reason: str | None) -> Outcome:
    job = _record(job_id, {"state": state, "reason": reason, "at": steps.clock().isoformat()})
    if job is None:
        return "ignored"
    count("ProviderCancels" if state == "cancelled" else "ProviderCancelsRefused", job.provider)
    fields = log_fields(job, "cancel", provider_job_id=job.provider_job_id, result=state, reason=reason)
    logger.info("provider cancel settled", extra=fields)
    return "cancelled" if state == "cancelled" else "cancel-refused"


def _later(steps: JobSteps, job: VideoJob, error: RetryableProviderError) -> Outcome:
    config = steps.config
    attempts = int(_state(job).get("attempts", 1))
    if attempts >= config.submit_max_attempts:
        return _settle(steps, job.id, "unreachable", f"gave up after {attempts} attempts: {error}")
    delay = next_poll_delay(
        attempts - 1,
        initial=config.poll_initial_delay_seconds,
        maximum=config.poll_max_delay_seconds,
        retry_after=error.retry_after,
    )
    if _record(job.id, {"state": "retrying", "until": None}) is None:
        return "ignored"
    logger.warning(
        "the provider did not take the cancel; asking again later",
        extra=log_fields(job, "cancel", reason=str(error), delay_seconds=delay),
    )
    steps.send(job, "cancel", delay)
    return "retry-scheduled"
