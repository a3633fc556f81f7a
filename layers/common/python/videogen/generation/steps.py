"""What every generation step stands on: its collaborators, its outcomes, the lease on a job and
its key, failing a job, and queuing the job's next step.

A step function takes a :class:`JobSteps` first, as a repository function takes the session:
the provider factory, queue sender, clock and settings, each defaulting to the real one, so
tests pass fakes instead of patching. A step changes a job only by a conditional UPDATE from
the statuses it acts on; finding the job elsewhere, it does nothing (``"ignored"``). The
decrypted key lives in a :class:`Lease` for one step: never logged, queued, stored or raised.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from videogen import keys
from videogen.data.db import session_scope
from videogen.data.models import VideoJob
from videogen.data.repositories import video_jobs
from videogen.errors import Conflict
from videogen.generation import waiting
from videogen.messaging.messages import (
    FrameMessage,
    QueueSender,
    Step,
    StepMessage,
    default_sender,
    frame_sender,
)
from videogen.messaging.pipeline import Clock, send_next, utc_now
from videogen.providers import ProviderKey, VideoProvider, get_provider
from videogen.runtime.config import Settings, get_settings
from videogen.runtime.observability import emit_metric, logger

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

ProviderFactory = Callable[[str, ProviderKey], VideoProvider]
"""``(provider name, decrypted key) -> VideoProvider``; the step closes what it gets."""

Outcome = Literal[
    "submitted",  # the provider accepted; the first poll is on its way
    "recovered",  # a lost submission was found at the provider and adopted
    "retry-scheduled",  # the provider refused for now; a delayed submit is on its way
    "awaiting-recovery",  # the create's outcome is unknown; recovery will decide
    "in-flight",  # another worker holds a fresh submit mark
    "awaiting-frame",  # a continuing job: its first frame is being made (the film queue)
    "waiting",  # a continuing job: the clip it continues is not done yet
    "polled",  # still running; the next poll is on its way
    "completed",
    "failed",
    "not-due",  # a duplicate or early poll: the chain's next poll is still to come
    "duplicate-push",  # the job's provider already pushed once: acknowledged, nothing asked
    "cancelled",  # the provider took the cancel of a cancelled job
    "cancel-refused",  # the provider would not (or could not be reached to) cancel it
    "ignored",  # the job is not in the state this step acts on (a duplicate or late message)
    "unknown-job",  # no such job (e.g. deleted with its storyboard): nothing to do
]

OUTCOME_UNKNOWN = (
    "generation outcome unknown, not resubmitted to avoid a second charge: the worker stopped "
    "while the provider was accepting the job, and the provider has no record we can match to it"
)
"""The honest error of a job whose submission could not be confirmed."""

_MAX_ERROR_CHARS = 2000


def default_provider_factory(name: str, key: ProviderKey) -> VideoProvider:
    """The real provider client for ``name``, configured from settings (base URL, timeout)."""
    return get_provider(name, key, get_settings())


class KeyRefused(Exception):
    """No usable key for the job (none active, or unreadable): the job fails with ``message``."""

    def __init__(self, job_id: uuid.UUID, message: str) -> None:
        super().__init__(message)
        # The id only: the rolled-back transaction expired the job object itself.
        self.job_id = job_id
        self.message = message


@dataclass(frozen=True, slots=True)
class Lease:
    """A job this step owns, with the user's key for this step only."""

    job: VideoJob
    key: ProviderKey = field(repr=False)

    @classmethod
    def take(cls, session: Session, job: VideoJob) -> Lease:
        """The job with its owner's decrypted key; :class:`KeyRefused` when there is none."""
        try:
            return cls(job, keys.decrypt_for_user(session, job.user_id, job.provider))
        except (Conflict, keys.SealedKeyUnreadable) as exc:
            raise KeyRefused(job.id, exc.message) from None


def in_status(job: VideoJob | None, status: str) -> VideoJob | Outcome:
    """``job`` when it is in the ``status`` a step acts on; else ``"unknown-job"`` or ``"ignored"``."""
    if job is None:
        return "unknown-job"
    return job if job.status == status else "ignored"


def lease_in_status(
    job_id: uuid.UUID, status: str, mark: Callable[[VideoJob], dict[str, object] | Outcome]
) -> Lease | Outcome:
    """The job, if still in ``status``, leased to this step with its key.

    Under the row lock, ``mark(job)`` says what to merge into the job's metadata to hold the
    lease (so a duplicate message finds it), or the outcome when this step must not act.
    """
    with session_scope() as s:
        job = in_status(video_jobs.lock_by_id(s, job_id), status)
        if not isinstance(job, VideoJob):
            return job
        marked = mark(job)
        if not isinstance(marked, dict):
            return marked
        leased = video_jobs.update_in_status(s, job_id, status, {"metadata_": job.metadata_ | marked})
        if leased is None:  # pragma: no cover - the row is locked and was in that status
            return "ignored"
        return Lease.take(s, leased)


def log_fields(job: VideoJob, step: str, **fields: object) -> dict[str, object]:
    """The structured log fields of one step of ``job`` (ids only, never the prompt or key)."""
    return {"job_id": str(job.id), "provider": job.provider, "step": step, **fields}


def count(name: str, provider: str) -> None:
    """Count one of a provider's jobs in a business metric (``JobsSubmitted``, ``JobsFailed``...)."""
    emit_metric(name, {"provider": provider})


@dataclass(frozen=True)
class JobSteps:
    """A generation step's collaborators, and what every step may do to its job.

    ``providers`` builds a provider client from (name, key), ``sender`` queues the next step,
    ``frames`` a continuing job's frame step (the film queue), ``clock`` tells the time;
    ``settings`` defaults to the process settings at each call.
    """

    providers: ProviderFactory = default_provider_factory
    sender: QueueSender = field(default_factory=default_sender)
    frames: QueueSender[FrameMessage] = field(default_factory=frame_sender)
    clock: Clock = utc_now
    settings: Settings | None = None

    @property
    def config(self) -> Settings:
        """The settings this step runs with."""
        return self.settings or get_settings()

    def after(self, seconds: int) -> str:
        """The time ``seconds`` from now, as stored in a job's metadata."""
        return (self.clock() + timedelta(seconds=seconds)).isoformat()

    def fail(self, job_id: uuid.UUID, from_statuses: Iterable[str], message: str, step: str) -> Outcome:
        """Fail the job with ``message`` if it is still in one of ``from_statuses``, and the jobs
        waiting to continue from its clip."""
        with session_scope() as s:
            failed = video_jobs.transition(
                s,
                job_id,
                from_statuses=tuple(from_statuses),
                to_status="failed",
                changes={"error_message": message[:_MAX_ERROR_CHARS]},
            )
        if failed is None:
            return "ignored"
        count("JobsFailed", failed.provider)
        logger.warning("job failed", extra=log_fields(failed, step, error=message))
        waiting.fail_waiters(job_id)
        return "failed"

    def send(self, job: VideoJob, step: Step, delay: int) -> None:
        """Queue ``step`` of ``job`` after ``delay`` seconds (a lost send is the sweeper's)."""
        send_next(self.sender, StepMessage(job_id=job.id, step=step), delay, log_fields(job, step))
