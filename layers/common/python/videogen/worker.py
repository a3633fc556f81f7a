"""The generation worker's rules: submit, poll, finish, fail, back off, recover, sweep.

No Lambda event types here: ``functions/generation_worker`` parses SQS records into
:class:`~videogen.queue.StepMessage` and calls :meth:`GenerationWorker.run`; the DLQ consumer
calls :meth:`GenerationWorker.give_up`; the scheduled sweeper calls
:meth:`GenerationWorker.sweep`. Collaborators (provider factory, queue sender, clock) are
constructor parameters defaulting to the real ones, so tests pass fakes instead of patching.

Lifecycle: ``pending -> submitting -> processing -> completed | failed``.

Submit (``{"jobId", "step": "submit"}``)
    Claim with a conditional UPDATE (pending -> submitting, attempts + 1) and decrypt the
    user's key in the same transaction; the committed ``submitting`` mark (its ``updated_at``)
    is the claim time. Then exactly one ``provider.submit``; store the provider job id and
    move to ``processing`` in one conditional UPDATE, and send the first poll (delay: the
    provider's hint, else ``poll_initial_delay_seconds``). A message that finds nothing to
    claim is a duplicate and is acknowledged.

    - The provider answered 429/5xx: it did not accept the job. The job goes back to
      ``pending`` and a *delayed submit* is sent (delay ``max(Retry-After, backoff)``), and the
      message is acknowledged: the queue's visibility timeout (18 min) is far too coarse a
      retry clock, and every redelivery would count towards the DLQ. After
      ``submit_max_attempts`` refused creates the job fails ("the provider stayed busy").
    - Timeout or dropped connection: the provider may have accepted (and will charge). The job
      stays ``submitting`` and a submit message is sent for when the mark turns stale, so
      recovery decides; it is never re-created blindly.
    - Rejected key, refused prompt (permanent errors), no active key: ``failed`` with the
      message the user can act on.

Recovery (a submit message finding the job ``submitting`` past ``submit_stale_after_seconds``,
or the sweeper)
    The worker that marked it died between the provider accepting and the id being stored
    (or the create timed out). Ask ``provider.find_existing`` for a job created since the mark:
    found -> store it, ``processing``, poll; not found (or the provider cannot list jobs, like
    Veo) -> ``failed`` with :data:`OUTCOME_UNKNOWN`. A fresh mark is another worker mid-call:
    the message is acknowledged and nothing is done. ``submit_stale_after_seconds`` must
    therefore exceed the worker's Lambda timeout.

Poll (``{"jobId", "step": "poll"}``)
    Only for ``processing`` jobs (others: acknowledged). Each poll takes a lease under a row
    lock: the job's ``metadata.next_poll_at`` says when the chain's next poll message is due,
    so a duplicate or early message (SQS redelivery, the sweeper's re-poll of a live chain)
    is acknowledged without polling, and one job never grows two poll chains. Then
    ``provider.poll``: still running -> progress and the next poll after
    ``next_poll_delay`` (see there), or ``failed`` once ``created_at +
    generation_max_wait_seconds`` has passed; completed -> stream the video (and the
    thumbnail, when the provider makes one) into S3, refusing empty or non-MP4 files, bill
    ``catalog.actual_cost`` for the reported seconds (else the requested ones), and mark
    ``completed``; failed -> ``failed`` with the provider's reason.

    A retryable provider error while polling or downloading schedules the next poll with
    ``max(Retry-After, backoff)`` and acknowledges (the SDKs already retried the read).
    Anything unexpected (database, S3 or KMS down, a bug) raises: only that SQS record fails,
    SQS redelivers it, and after the queue's maxReceiveCount the DLQ consumer fails the job.

A message that could not be sent (queue down) is logged, not raised: the sweeper re-sends the
submit of a stale ``pending`` job and re-polls a stale ``processing`` one.

The decrypted key lives in a local variable for one step; it is never logged, queued,
stored, or put in an exception message.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from videogen import catalog, keys, storage
from videogen.catalog import CatalogError
from videogen.config import Settings, get_settings
from videogen.db import session_scope
from videogen.errors import Conflict
from videogen.models import ACTIVE_JOB_STATUSES, VideoJob
from videogen.observability import logger
from videogen.providers import (
    GenerationRequest,
    PermanentProviderError,
    PollResult,
    ProviderError,
    RetryableProviderError,
    Submission,
    VideoProvider,
    get_provider,
)
from videogen.queue import MAX_DELAY_SECONDS, QueueSender, QueueUnavailable, Step, StepMessage, default_sender
from videogen.repositories import video_jobs
from videogen.storage import EmptyUpload, InvalidMedia

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

ProviderFactory = Callable[[str, str], VideoProvider]
"""``(provider name, decrypted API key) -> VideoProvider``; the worker closes what it gets."""
Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware."""

Outcome = Literal[
    "submitted",  # the provider accepted; the first poll is on its way
    "recovered",  # a lost submission was found at the provider and adopted
    "retry-scheduled",  # the provider refused for now; a delayed submit is on its way
    "awaiting-recovery",  # the create's outcome is unknown; recovery will decide
    "in-flight",  # another worker holds a fresh submit mark
    "polled",  # still running; the next poll is on its way
    "completed",
    "failed",
    "not-due",  # a duplicate or early poll: the chain's next poll is still to come
    "ignored",  # the job is not in the state this step acts on (a duplicate or late message)
    "unknown-job",  # no such job (e.g. deleted with its storyboard): nothing to do
]

OUTCOME_UNKNOWN = (
    "generation outcome unknown, not resubmitted to avoid a second charge: the worker stopped "
    "while the provider was accepting the job, and the provider has no record we can match to it"
)
"""The honest error of a job whose submission could not be confirmed."""

BACKOFF_FACTOR = 1.5
POLL_EARLY_TOLERANCE = timedelta(seconds=2)
"""A poll this much before its due time still counts as on time (clocks of hosts differ)."""
_RECOVERY_MARGIN_SECONDS = 5
_MAX_ERROR_CHARS = 2000


def utc_now() -> datetime:
    """The current UTC time (the default clock)."""
    return datetime.now(UTC)


def default_provider_factory(name: str, api_key: str) -> VideoProvider:
    """The real provider client for ``name``, configured from settings (base URL, timeout)."""
    return get_provider(name, api_key, get_settings())


# --- pacing (pure) ----------------------------------------------------------------------------


def backoff_seconds(step: int, *, initial: float, maximum: float, factor: float = BACKOFF_FACTOR) -> int:
    """``min(maximum, initial * factor**step)`` in whole seconds, rounded up.

    ``step`` is how many polls (or attempts) came before; negative counts as 0.
    """
    exponent = max(0, min(step, 64))  # past 64 the cap has long won; avoids float overflow
    return max(0, math.ceil(min(maximum, initial * factor**exponent)))


def next_poll_delay(
    polls_done: int,
    *,
    initial: float,
    maximum: float,
    hint: float | None = None,
    retry_after: float | None = None,
) -> int:
    """Seconds until the next poll: the provider's hint if it gave one (at least 1 s), else
    the backoff ``min(maximum, initial * 1.5**polls_done)``.

    A ``Retry-After`` is a floor (polling sooner would only be refused again). Rounded up to
    whole seconds (SQS delays are whole seconds) and capped at SQS's 900 s.
    """
    if hint is not None and math.isfinite(hint):
        # At least a second: a provider hinting 0 must not turn the poll chain into a busy loop.
        delay = max(1, math.ceil(hint))
    else:
        delay = backoff_seconds(polls_done, initial=initial, maximum=maximum)
    if retry_after is not None and math.isfinite(retry_after):
        delay = max(delay, math.ceil(retry_after))
    return min(delay, MAX_DELAY_SECONDS)


def poll_is_due(metadata: dict[str, Any], now: datetime) -> bool:
    """Whether a poll message arriving ``now`` is the chain's expected one (not early)."""
    due_at = _parse_time(metadata.get("next_poll_at"))
    return due_at is None or now >= due_at - POLL_EARLY_TOLERANCE


def provider_refused_create(error: RetryableProviderError) -> bool:
    """Whether a failed create was answered with an HTTP status (429, 5xx): not accepted.

    A timeout or a dropped connection gets no answer, so the provider may have started (and
    will bill) the job: such a create must go through recovery, never be repeated.
    """
    return error.answered


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _span(seconds: int) -> str:
    if seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds} seconds"


# --- metrics ----------------------------------------------------------------------------------


def _emit(name: str, provider: str, value: float = 1, unit: MetricUnit = MetricUnit.Count) -> None:
    # One EMF document per metric: a batch mixes providers, and Metrics.add_dimension would
    # apply one provider to every metric of the flush.
    with single_metric(
        name=name,
        unit=unit,
        value=value,
        namespace=get_settings().powertools_metrics_namespace,
        default_dimensions={"provider": provider},
    ):
        pass


# --- internals --------------------------------------------------------------------------------


class _KeyRefused(Exception):
    """No usable key for the job (none active, or unreadable): the job fails with ``message``."""

    def __init__(self, job_id: uuid.UUID, message: str) -> None:
        super().__init__(message)
        # The id only: the rolled-back transaction expired the job object itself.
        self.job_id = job_id
        self.message = message


@dataclass(frozen=True, slots=True)
class _Lease:
    """A job this step owns, with the user's key for this step only."""

    job: VideoJob
    api_key: str = field(repr=False)


def _decrypt(session: Session, job: VideoJob) -> str:
    try:
        return keys.decrypt_for_user(session, job.user_id, job.provider)
    except (Conflict, keys.SealedKeyUnreadable) as exc:
        raise _KeyRefused(job.id, exc.message) from None


def _log_fields(job: VideoJob, step: str, **fields: object) -> dict[str, object]:
    return {"job_id": str(job.id), "provider": job.provider, "step": step, **fields}


@dataclass
class SweepReport:
    """What one sweep did: jobs failed as overdue, recoveries tried, polls and submits re-sent."""

    expired: int = 0
    recovered: int = 0
    repolled: int = 0
    resubmitted: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts, for the sweeper's response and log line."""
        return asdict(self)


# --- the worker -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GenerationWorker:
    """Runs generation steps; see the module docstring for the rules.

    ``providers`` builds a provider client from (name, key), ``sender`` queues the next step,
    ``clock`` tells the time; ``settings`` defaults to the process settings at each call.
    """

    providers: ProviderFactory = default_provider_factory
    sender: QueueSender = field(default_factory=default_sender)
    clock: Clock = utc_now
    settings: Settings | None = None

    @property
    def _config(self) -> Settings:
        return self.settings or get_settings()

    # Entry points ------------------------------------------------------------------------

    def run(self, message: StepMessage) -> Outcome:
        """Run one queue message's step; returns what happened (also logged).

        Raises only on unexpected trouble (database, S3, KMS unavailable, a bug), so that the
        caller fails this message alone and SQS redelivers it.
        """
        outcome = self.submit(message.job_id) if message.step == "submit" else self.poll(message.job_id)
        fields = {"job_id": str(message.job_id), "step": message.step, "outcome": outcome}
        if outcome == "unknown-job":
            logger.warning("step for an unknown job acknowledged", extra=fields)
        else:
            logger.info("step handled", extra=fields)
        return outcome

    def submit(self, job_id: uuid.UUID) -> Outcome:
        """Claim a pending job and ask its provider, once, to start it."""
        try:
            claimed = self._claim_for_submit(job_id)
        except _KeyRefused as refused:
            # The claim was rolled back with the key lookup: the job is pending again.
            return self._fail(refused.job_id, ("pending",), refused.message, "submit")
        if isinstance(claimed, _Lease):
            return self._create(claimed)
        if claimed == "submitting":
            return self.recover(job_id)
        return "unknown-job" if claimed is None else "ignored"

    def recover(self, job_id: uuid.UUID) -> Outcome:
        """Settle a job left ``submitting`` (see "Recovery" in the module docstring)."""
        try:
            lease = self._stale_submission(job_id)
        except _KeyRefused as refused:
            return self._fail(refused.job_id, ("submitting",), OUTCOME_UNKNOWN, "recover")
        if not isinstance(lease, _Lease):
            return lease
        job = lease.job
        try:
            with closing(self.providers(job.provider, lease.api_key)) as provider:
                found = provider.find_existing(self._request(job))
        except (PermanentProviderError, CatalogError):
            found = None
        if found is None:
            return self._fail(job.id, ("submitting",), OUTCOME_UNKNOWN, "recover")
        logger.warning(
            "lost submission found at the provider",
            extra=_log_fields(job, "recover", provider_job_id=found.provider_job_id),
        )
        outcome = self._store_submission(job, found, "recover")
        return "recovered" if outcome == "submitted" else outcome

    def poll(self, job_id: uuid.UUID) -> Outcome:
        """Ask the provider about a processing job; finish, fail or schedule the next poll."""
        try:
            lease = self._lease_poll(job_id)
        except _KeyRefused as refused:
            return self._fail(refused.job_id, ("processing",), refused.message, "poll")
        if not isinstance(lease, _Lease):
            return lease
        return self._poll_provider(lease)

    def give_up(self, job_id: uuid.UUID, attempts: int) -> Outcome:
        """Fail a job whose message exhausted its receives (the DLQ consumer), unless finished."""
        message = f"generation gave up after {attempts} attempts"
        return self._fail(job_id, ACTIVE_JOB_STATUSES, message, "dead-letter")

    def sweep(self) -> SweepReport:
        """Find stuck jobs and move them on (see ``functions/generation_sweeper``)."""
        config = self._config
        now = self.clock()
        report = SweepReport(expired=self._expire_overdue(now))
        report.recovered, report.errors = self._recover_stale(
            now - timedelta(seconds=config.submit_stale_after_seconds)
        )
        report.repolled = self._resend(
            "processing", now - timedelta(seconds=3 * config.poll_max_delay_seconds), "poll"
        )
        report.resubmitted = self._resend(
            "pending", now - timedelta(seconds=config.pending_stale_after_seconds), "submit"
        )
        return report

    # Submit ------------------------------------------------------------------------------

    def _claim_for_submit(self, job_id: uuid.UUID) -> _Lease | str | None:
        """The claimed job with its key; else the job's current status (``None``: no job)."""
        with session_scope() as s:
            job = video_jobs.claim_for_submit(s, job_id)
            if job is None:
                current = video_jobs.get_by_id(s, job_id)
                return None if current is None else current.status
            # Same transaction: if KMS is down the claim rolls back and SQS retries cleanly.
            return _Lease(job, _decrypt(s, job))

    def _create(self, lease: _Lease) -> Outcome:
        job = lease.job
        try:
            request = self._request(job)
            with closing(self.providers(job.provider, lease.api_key)) as provider:
                submission = provider.submit(request)
        except (PermanentProviderError, CatalogError) as exc:
            return self._fail(job.id, ("submitting",), _message(exc), "submit")
        except RetryableProviderError as exc:
            if provider_refused_create(exc):
                return self._submit_later(job, exc)
            return self._await_recovery(job, exc)
        return self._store_submission(job, submission, "submit")

    def _request(self, job: VideoJob) -> GenerationRequest:
        defaults = catalog.DEFAULTS[catalog.check_provider(job.provider)]
        negative = job.metadata_.get("negative_prompt")
        return GenerationRequest(
            job_id=str(job.id),
            model=job.model,
            prompt=job.prompt,
            duration_seconds=job.duration_seconds or defaults.duration_seconds,
            size=catalog.provider_size(job.provider, job.size or defaults.size),
            negative_prompt=negative if isinstance(negative, str) else None,
            # The submit mark: only provider jobs created since then can be this one.
            not_before=job.updated_at,
        )

    def _store_submission(self, job: VideoJob, submission: Submission, step: str) -> Outcome:
        config = self._config
        delay = next_poll_delay(
            0,
            initial=config.poll_initial_delay_seconds,
            maximum=config.poll_max_delay_seconds,
            hint=submission.poll_after_seconds,
        )
        metadata = job.metadata_ | {"polls": 0, "next_poll_at": self._after(delay)}
        with session_scope() as s:
            stored = video_jobs.transition(
                s,
                job.id,
                from_statuses=("submitting",),
                to_status="processing",
                changes={"provider_job_id": submission.provider_job_id, "progress": 0, "metadata_": metadata},
            )
        fields = _log_fields(job, step, provider_job_id=submission.provider_job_id)
        if stored is None:
            # Only if recovery or the sweeper settled the job while this create ran.
            logger.error("the provider accepted a job that is no longer submitting", extra=fields)
            return "ignored"
        _emit("JobsSubmitted", job.provider)
        logger.info("job submitted", extra=fields | {"poll_delay_seconds": delay})
        self._send(job, "poll", delay)
        return "submitted"

    def _submit_later(self, job: VideoJob, error: RetryableProviderError) -> Outcome:
        config = self._config
        if job.attempts >= config.submit_max_attempts:
            message = f"the provider stayed busy after {job.attempts} attempts: {error}"
            return self._fail(job.id, ("submitting",), message, "submit")
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
            extra=_log_fields(job, "submit", reason=str(error), attempts=job.attempts, delay_seconds=delay),
        )
        self._send(job, "submit", delay)
        return "retry-scheduled"

    def _await_recovery(self, job: VideoJob, error: RetryableProviderError) -> Outcome:
        # Left "submitting": this message comes back once the mark is stale, and recovery asks
        # the provider instead of creating a second, paid, job.
        delay = self._config.submit_stale_after_seconds + _RECOVERY_MARGIN_SECONDS
        logger.warning(
            "the create's outcome is unknown; recovery will look the job up",
            extra=_log_fields(job, "submit", reason=str(error), delay_seconds=delay),
        )
        self._send(job, "submit", delay)
        return "awaiting-recovery"

    def _stale_submission(self, job_id: uuid.UUID) -> _Lease | Outcome:
        with session_scope() as s:
            job = video_jobs.get_by_id(s, job_id)
            if job is None:
                return "unknown-job"
            if job.status != "submitting":
                return "ignored"
            age = self.clock() - job.updated_at
            if age < timedelta(seconds=self._config.submit_stale_after_seconds):
                return "in-flight"
            return _Lease(job, _decrypt(s, job))

    # Poll --------------------------------------------------------------------------------

    def _lease_poll(self, job_id: uuid.UUID) -> _Lease | Outcome:
        now = self.clock()
        with session_scope() as s:
            # Row lock: concurrent duplicates of one poll message take turns, and the second
            # finds the lease the first wrote.
            job = video_jobs.lock_by_id(s, job_id)
            if job is None:
                return "unknown-job"
            if job.status != "processing":
                return "ignored"
            if not poll_is_due(job.metadata_, now):
                return "not-due"
            # Until this step sets the real next due time, duplicates count as early.
            lease_until = now + timedelta(seconds=self._config.poll_max_delay_seconds)
            metadata = job.metadata_ | {
                "polls": int(job.metadata_.get("polls", 0)) + 1,
                "next_poll_at": lease_until.isoformat(),
            }
            leased = video_jobs.update_in_status(s, job_id, "processing", {"metadata_": metadata})
            if leased is None:  # pragma: no cover - the row is locked and was processing
                return "ignored"
            return _Lease(leased, _decrypt(s, leased))

    def _poll_provider(self, lease: _Lease) -> Outcome:
        job = lease.job
        with closing(self.providers(job.provider, lease.api_key)) as provider:
            try:
                result = provider.poll(job.provider_job_id or "")
            except RetryableProviderError as exc:
                return self._poll_later(job, retry_after=exc.retry_after, reason=str(exc))
            except PermanentProviderError as exc:
                return self._fail(job.id, ("processing",), str(exc), "poll")
            if result.state == "completed":
                return self._finish(job, provider, result)
        if result.state == "failed":
            reason = result.error or "the provider reported the video as failed without a reason"
            return self._fail(job.id, ("processing",), reason, "poll")
        return self._poll_later(job, progress=result.progress, hint=result.poll_after_seconds)

    def _poll_later(
        self,
        job: VideoJob,
        *,
        progress: int | None = None,
        hint: float | None = None,
        retry_after: float | None = None,
        reason: str | None = None,
    ) -> Outcome:
        config = self._config
        if self.clock() >= job.created_at + timedelta(seconds=config.generation_max_wait_seconds):
            message = f"the provider did not finish within {_span(config.generation_max_wait_seconds)}"
            return self._fail(job.id, ("processing",), message, "poll")
        delay = next_poll_delay(
            int(job.metadata_.get("polls", 0)),
            initial=config.poll_initial_delay_seconds,
            maximum=config.poll_max_delay_seconds,
            hint=hint,
            retry_after=retry_after,
        )
        changes: dict[str, Any] = {"metadata_": job.metadata_ | {"next_poll_at": self._after(delay)}}
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
                extra=_log_fields(job, "poll", reason=reason, delay_seconds=delay),
            )
        self._send(job, "poll", delay)
        return "polled"

    # Finish ------------------------------------------------------------------------------

    def _finish(self, job: VideoJob, provider: VideoProvider, result: PollResult) -> Outcome:
        # Copied at once: provider assets expire (OpenAI's expires_at).
        try:
            video_key, size = self._store_video(job, provider)
        except (EmptyUpload, InvalidMedia) as exc:
            return self._fail(job.id, ("processing",), _bad_video(exc), "poll")
        except RetryableProviderError as exc:
            return self._poll_later(job, retry_after=exc.retry_after, reason=str(exc))
        except PermanentProviderError as exc:
            return self._fail(job.id, ("processing",), str(exc), "poll")
        thumbnail_key = self._store_thumbnail(job, provider) if provider.has_thumbnails else None
        seconds = result.duration_seconds or job.duration_seconds
        now = self.clock()
        changes = {
            "video_url": video_key,
            "thumbnail_url": thumbnail_key,
            "progress": 100,
            "cost": self._cost(job, seconds),
            "completed_at": now,
            "error_message": None,
            "metadata_": job.metadata_ | {"video_bytes": size, "billed_seconds": seconds},
        }
        with session_scope() as s:
            done = video_jobs.transition(
                s, job.id, from_statuses=("processing",), to_status="completed", changes=changes
            )
        if done is None:
            return "ignored"
        latency = max(0.0, (now - job.created_at).total_seconds())
        _emit("JobsCompleted", job.provider)
        _emit("GenerationLatency", job.provider, latency, MetricUnit.Seconds)
        logger.info("job completed", extra=_log_fields(job, "poll", latency_seconds=round(latency, 3)))
        return "completed"

    def _store_video(self, job: VideoJob, provider: VideoProvider) -> tuple[str, int]:
        key = storage.video_key(job.user_id, job.id)
        chunks = provider.download(job.provider_job_id or "", "video")
        size = storage.upload_stream(key, chunks, storage.VIDEO_CONTENT_TYPE, validate_head=storage.is_mp4)
        return key, size

    def _store_thumbnail(self, job: VideoJob, provider: VideoProvider) -> str | None:
        """The thumbnail's S3 key, or ``None``: a missing thumbnail never fails a finished video."""
        try:
            chunks = provider.download(job.provider_job_id or "", "thumbnail")
            key = storage.upload_thumbnail(job.user_id, job.id, chunks)
        except (ProviderError, EmptyUpload, InvalidMedia) as exc:
            logger.warning("no thumbnail stored", extra=_log_fields(job, "poll", reason=str(exc)))
            return None
        return key

    def _cost(self, job: VideoJob, seconds: float | None) -> Decimal | None:
        if seconds is None or job.size is None:
            return job.estimated_cost
        try:
            return catalog.actual_cost(job.model, job.size, seconds)
        except (CatalogError, ValueError) as exc:
            logger.warning("cost falls back to the estimate", extra=_log_fields(job, "poll", reason=str(exc)))
            return job.estimated_cost

    # Failing, sending, sweeping ---------------------------------------------------------

    def _fail(self, job_id: uuid.UUID, from_statuses: Iterable[str], message: str, step: str) -> Outcome:
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
        _emit("JobsFailed", failed.provider)
        logger.warning("job failed", extra=_log_fields(failed, step, error=message))
        return "failed"

    def _send(self, job: VideoJob, step: Step, delay: int) -> None:
        try:
            self.sender.send(StepMessage(job_id=job.id, step=step), delay)
        except QueueUnavailable:
            # Not raised: the step's work is committed; the sweeper re-sends what got lost.
            logger.error("could not queue the next step; the sweeper will", extra=_log_fields(job, step))

    def _after(self, seconds: int) -> str:
        return (self.clock() + timedelta(seconds=seconds)).isoformat()

    def _expire_overdue(self, now: datetime) -> int:
        config = self._config
        deadline = now - timedelta(seconds=config.generation_max_wait_seconds)
        with session_scope() as s:
            jobs = video_jobs.list_by_status(s, ACTIVE_JOB_STATUSES, limit=config.sweep_batch_size)
        expired = 0
        for job in (j for j in jobs if j.created_at < deadline):
            waited = _span(config.generation_max_wait_seconds)
            message = (
                f"generation did not start within {waited}"
                if job.status == "pending"
                else f"the provider did not finish within {waited}"
            )
            expired += self._fail(job.id, (job.status,), message, "sweep") == "failed"
        return expired

    def _recover_stale(self, updated_before: datetime) -> tuple[int, int]:
        with session_scope() as s:
            jobs = video_jobs.list_by_status(
                s, ("submitting",), updated_before=updated_before, limit=self._config.sweep_batch_size
            )
        recovered = errors = 0
        for job in jobs:
            try:
                recovered += self.recover(job.id) in ("recovered", "failed")
            except Exception as exc:  # one provider's trouble must not stop the sweep
                errors += 1
                logger.warning(
                    "recovery failed; next sweep retries", extra=_log_fields(job, "sweep", reason=str(exc))
                )
        return recovered, errors

    def _resend(self, status: str, updated_before: datetime, step: Step) -> int:
        with session_scope() as s:
            jobs = video_jobs.list_by_status(
                s, (status,), updated_before=updated_before, limit=self._config.sweep_batch_size
            )
        for job in jobs:
            logger.info("re-sending a lost step", extra=_log_fields(job, step))
            self._send(job, step, 0)
        return len(jobs)


def _message(exc: Exception) -> str:
    return exc.message if isinstance(exc, CatalogError) else str(exc)


def _bad_video(exc: EmptyUpload | InvalidMedia) -> str:
    if isinstance(exc, EmptyUpload):
        return "the provider returned an empty video (0 bytes)"
    return "the provider returned a file that is not a valid MP4 video"


__all__ = [
    "OUTCOME_UNKNOWN",
    "Clock",
    "GenerationWorker",
    "Outcome",
    "ProviderFactory",
    "SweepReport",
    "backoff_seconds",
    "default_provider_factory",
    "next_poll_delay",
    "poll_is_due",
    "provider_refused_create",
    "utc_now",
]
