"""The sweeper's and the dead-letter consumer's rules: no job stays pending, submitting or
processing forever, and a finished job is never touched.

A sweep, oldest jobs first and at most ``sweep_batch_size`` of each kind: fails active jobs
older than ``generation_max_wait_seconds`` (a shot continuing the previous one: counted from that
shot's completion); runs recovery on jobs ``submitting`` past
``submit_stale_after_seconds``; re-queues the poll of jobs ``processing`` untouched for three
maximum poll delays, and the submit of jobs ``pending`` past ``pending_stale_after_seconds``
(their message was lost), and the provider cancel of cancelled jobs left unsettled as long
(lost message, or its worker died). A re-poll of a live chain is harmless: the poll lease
answers "not-due", the cancel lease "in-flight". A dead letter fails its job, from any active
status; a cancelled job is never touched.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from videogen.data.db import session_scope
from videogen.data.models import ACTIVE_JOB_STATUSES, VideoJob
from videogen.data.repositories import continuations, video_jobs
from videogen.generation import waiting
from videogen.generation.pacing import overdue_error
from videogen.generation.steps import JobSteps, Outcome, log_fields
from videogen.generation.submit import recover
from videogen.messaging.messages import Step
from videogen.runtime.observability import logger


@dataclass
class SweepReport:
    """What one sweep did: jobs failed as overdue, recoveries tried, polls, submits and provider
    cancels re-sent."""

    expired: int = 0
    recovered: int = 0
    repolled: int = 0
    resubmitted: int = 0
    recancelled: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts, for the sweeper's response and log line."""
        return asdict(self)


def sweep(steps: JobSteps) -> SweepReport:
    """Find stuck jobs and move them on."""
    config = steps.config
    now = steps.clock()
    report = SweepReport(expired=_expire_overdue(steps, now))
    report.recovered, report.errors = _recover_stale(
        steps, now - timedelta(seconds=config.submit_stale_after_seconds)
    )
    report.repolled = _resend(
        steps, "processing", now - timedelta(seconds=3 * config.poll_max_delay_seconds), "poll"
    )
    report.resubmitted = _resend(
        steps, "pending", now - timedelta(seconds=config.pending_stale_after_seconds), "submit"
    )
    with session_scope() as s:
        unsettled = video_jobs.list_unsettled_cancels(
            s,
            updated_before=now - timedelta(seconds=3 * config.poll_max_delay_seconds),
            limit=config.sweep_batch_size,
        )
    report.recancelled = _send_each(steps, unsettled, "cancel")
    return report


def give_up(steps: JobSteps, job_id: uuid.UUID, attempts: int) -> Outcome:
    """Fail a job whose message exhausted its receives (the DLQ consumer), unless finished."""
    message = f"generation gave up after {attempts} attempts"
    return steps.fail(job_id, ACTIVE_JOB_STATUSES, message, "dead-letter")


def _expire_overdue(steps: JobSteps, now: datetime) -> int:
    config = steps.config
    deadline = now - timedelta(seconds=config.generation_max_wait_seconds)
    with session_scope() as s:
        listed = video_jobs.list_by_status(s, ACTIVE_JOB_STATUSES, limit=config.sweep_batch_size)
        jobs = [j for j in listed if j.created_at < deadline]
        previous = {j.id: p for j in jobs if (p := waiting.continued_job_id(j)) is not None}
        continued = continuations.continued_states(s, set(previous.values())) if previous else {}
    expired = 0
    for job in jobs:
        if job.id in previous and not _overdue(continued.get(previous[job.id]), deadline):
            continue
        message = overdue_error(job.status, config.generation_max_wait_seconds)
        expired += steps.fail(job.id, (job.status,), message, "sweep") == "failed"
    return expired


def _overdue(continued: continuations.ContinuedState | None, deadline: datetime) -> bool:
    """Whether a job created before ``deadline`` that continues the previous shot (``continued``:
    that shot's status and completion, None when it is gone) is overdue. It cannot start before
    that shot's clip is made: its wait counts from then. While that shot is in flight its own
    deadline decides, and its failure fails the jobs waiting on it; a chain of shots made one
    after another is not held to one shot's wait."""
    if continued is None:
        return True
    status, completed_at = continued
    if status in ACTIVE_JOB_STATUSES:
        return False
    return completed_at is None or completed_at < deadline


def _recover_stale(steps: JobSteps, updated_before: datetime) -> tuple[int, int]:
    with session_scope() as s:
        jobs = video_jobs.list_by_status(
            s, ("submitting",), updated_before=updated_before, limit=steps.config.sweep_batch_size
        )
    recovered = errors = 0
    for job in jobs:
        try:
            recovered += recover(steps, job.id) in ("recovered", "failed")
        except Exception as exc:  # one provider's trouble must not stop the sweep
            errors += 1
            logger.warning(
                "recovery failed; next sweep retries", extra=log_fields(job, "sweep", reason=str(exc))
            )
    return recovered, errors


def _resend(steps: JobSteps, status: str, updated_before: datetime, step: Step) -> int:
    with session_scope() as s:
        jobs = video_jobs.list_by_status(
            s, (status,), updated_before=updated_before, limit=steps.config.sweep_batch_size
        )
    return _send_each(steps, jobs, step)


def _send_each(steps: JobSteps, jobs: list[VideoJob], step: Step) -> int:
    for job in jobs:
        logger.info("re-sending a lost step", extra=log_fields(job, step))
        steps.send(job, step, 0)
    return len(jobs)
