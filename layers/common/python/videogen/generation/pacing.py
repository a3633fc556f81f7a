"""Generation pacing, pure functions: how long to wait before the next poll or submit, whether a
poll is on time, whether a failed create may be repeated, and what to say when time ran out.

Polls aim at the expected end (:func:`poll_delay`). The time left comes from the provider's
progress (its pace since it first moved, or since the start: whichever ends sooner), else the
model's typical generation time (``catalog``); the next poll comes after a share of it (``LEAD``),
no sooner than a short step (``DENSE_STEP_SECONDS``; with the typical time alone, wider) and
no later than the maximum. Past the typical time, after a share of the overrun. With neither,
polls back off, ``min(maximum, initial * 1.5**n)``, as do submits and cancels the provider
refused. A poll hint or a ``Retry-After`` is a floor. Delays are whole seconds (SQS's), at
most 900 s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from videogen import catalog
from videogen.messaging.messages import MAX_DELAY_SECONDS
from videogen.providers import RetryableProviderError

BACKOFF_FACTOR = 1.5
POLL_EARLY_TOLERANCE = timedelta(seconds=2)
"""A poll this much before its due time still counts as on time (clocks of hosts differ)."""


def backoff_seconds(step: int, *, initial: float, maximum: float, factor: float = BACKOFF_FACTOR) -> int:
    """``min(maximum, initial * factor**step)`` in whole seconds, rounded up.

    ``step`` is how many polls (or attempts) came before; negative counts as 0.
    """
    exponent = max(0, min(step, 64))  # past 64 the cap has long won; avoids float overflow
    return max(0, math.ceil(min(maximum, initial * factor**exponent)))


def next_poll_delay(
    attempts: int, *, initial: float, maximum: float, retry_after: float | None = None
) -> int:
    """Seconds until the next try of a step the provider refused (a submit, a cancel): the
    backoff ``min(maximum, initial * 1.5**attempts)``, a ``Retry-After`` as a floor (trying
    sooner would only be refused again), in whole seconds, at most SQS's 900 s.
    """
    return _floored(backoff_seconds(attempts, initial=initial, maximum=maximum), retry_after=retry_after)


@dataclass(frozen=True, slots=True)
class PollFacts:
    """What the worker knows when it schedules a job's next poll."""

    elapsed: float
    """Seconds since the provider accepted the job."""
    polls: int
    """Polls made so far."""
    progress: int | None = None
    """The provider's percentage now; ``None`` when it reports none or did not answer."""
    moving_since: tuple[float, int] | None = None
    """``(elapsed, progress)`` at the first poll that saw the progress above 0."""
    typical: float | None = None
    """The model's typical generation seconds (``catalog``), if known."""
    hint: float | None = None
    """The provider's poll-after hint in seconds, if it sent one."""
    retry_after: float | None = None


LEAD = 0.9
"""Share of the time left to wait before the next poll when the provider's pace is known from
two readings of its progress: a little short of the end, and the next estimate is closer."""
FIRST_READING_LEAD = 0.5
"""The same on a first reading: a queue before the work makes the pace since the start look
slower than it is, so the second reading comes sooner."""
DENSE_STEP_SECONDS = 5
"""Polls near the end progress points to come this often: half the 10 s goal, leaving room
for the queue's delivery."""
TYPICAL_LEAD = 0.6
"""Share of the time left to the typical generation time to wait, with no progress to go by."""
TYPICAL_STEP_SECONDS = 15
"""Polls near the typical time come this often: it says little about one job, so polls are
spread around it rather than packed (bench figure 7 weighs the two)."""
OVERRUN_SHARE = 0.2
"""Past the typical time, wait this share of the overrun: polls thin out as it proves wrong."""
PATIENT_POLLS = 10
"""After this many polls the shortest step backs off by half per poll: an estimate that keeps
failing (progress stuck at 99) must not poll every few seconds until the job times out."""


PUSH_EXPECTED = "push_expected"
"""Job metadata: the create gave the provider a callback URL (``videogen.webhooks``)."""
PUSHED_AT = "pushed_at"
"""Job metadata: when the provider's first verified webhook moved a poll to now."""
P95_OVER_TYPICAL = 1.5
"""The catalog's typical generation time times this is our estimate of its 95th percentile
(no provider publishes a distribution): the first poll of a job whose provider will push."""


def first_poll_delay(
    model: str, *, hint: float | None, initial: float, maximum: float, push: bool = False
) -> int:
    """Seconds from the provider accepting a job of ``model`` to its first poll.

    With a webhook expected (``push``) the poll is only the fallback: it waits until about the
    model's 95th-percentile time (at most SQS's 900 s), and later polls back off from there. A
    model with no typical time (OpenAI-compatible endpoints report progress instead) waits the
    longest poll step, and later polls follow its progress.
    """
    typical = catalog.typical_seconds(model)
    if push:
        wait = typical * P95_OVER_TYPICAL if typical else maximum
        return _floored(math.ceil(wait), hint=hint)
    facts = PollFacts(elapsed=0, polls=0, typical=typical, hint=hint)
    return poll_delay(facts, initial=initial, maximum=maximum)


def seconds_left(facts: PollFacts) -> float | None:
    """The expected seconds until the provider finishes (negative: past the typical time), or
    ``None`` with nothing to go by (no progress yet and no typical time).

    From progress: the pace since the start, or since the first poll that saw it move when
    that says sooner (a queue before the work makes the pace since the start too slow).
    """
    progress = facts.progress
    if progress is not None and 0 < progress < 100:
        left = 100 - progress
        estimate = facts.elapsed * left / progress
        if facts.moving_since is not None:
            since, before = facts.moving_since
            if before < progress and since < facts.elapsed:
                estimate = min(estimate, left * (facts.elapsed - since) / (progress - before))
        return estimate
    if facts.typical is not None and facts.typical > 0:
        return facts.typical - facts.elapsed
    return None


def poll_delay(facts: PollFacts, *, initial: float, maximum: float) -> int:
    """Seconds until the next poll of a running job (the rule: this module's docstring)."""
    left = seconds_left(facts)
    if left is None:
        delay: float = backoff_seconds(facts.polls, initial=initial, maximum=maximum)
    else:
        lead, step = _pace(facts)
        step = backoff_seconds(facts.polls - PATIENT_POLLS, initial=step, maximum=maximum)
        share = lead * left if left > 0 else OVERRUN_SHARE * -left
        delay = min(maximum, max(step, share))
    return _floored(math.ceil(delay), hint=facts.hint, retry_after=facts.retry_after)


def _pace(facts: PollFacts) -> tuple[float, int]:
    """The share of the time left to wait and the shortest step, by what the estimate rests on."""
    if facts.progress is None or not 0 < facts.progress < 100:
        return TYPICAL_LEAD, TYPICAL_STEP_SECONDS
    return (LEAD if facts.moving_since is not None else FIRST_READING_LEAD), DENSE_STEP_SECONDS


def _floored(delay: int, *, hint: float | None = None, retry_after: float | None = None) -> int:
    """``delay`` raised to the provider's hint (at least 1 s: a hint of 0 must not make a busy
    loop) and ``Retry-After``, in whole seconds, capped at SQS's 900 s."""
    if hint is not None and math.isfinite(hint):
        delay = max(delay, 1, math.ceil(hint))
    if retry_after is not None and math.isfinite(retry_after):
        delay = max(delay, math.ceil(retry_after))
    return min(delay, MAX_DELAY_SECONDS)


class PacedJob(Protocol):
    """The columns a job's poll schedule is read from (a ``VideoJob``)."""

    @property
    def provider(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def metadata_(self) -> dict[str, Any]: ...


_MOVING_SINCE = "progress_moving_since"


def poll_facts(
    job: PacedJob,
    now: datetime,
    *,
    progress: int | None = None,
    hint: float | None = None,
    retry_after: float | None = None,
) -> PollFacts:
    """What ``job``'s metadata and catalog entry tell at ``now``, with what the provider said
    (``progress`` is ignored for providers that report none: their 0 means nothing)."""
    metadata = job.metadata_
    return PollFacts(
        elapsed=max(0.0, (now - started_at(job)).total_seconds()),
        polls=int(metadata.get("polls", 0)),
        progress=progress if catalog.REPORTS_PROGRESS.get(job.provider, True) else None,
        moving_since=_reading(metadata.get(_MOVING_SINCE)),
        typical=catalog.typical_seconds(job.model),
        hint=hint,
        retry_after=retry_after,
    )


def started_at(job: PacedJob) -> datetime:
    """When the provider accepted ``job`` (``metadata.submitted_at``), else when it was created."""
    return _parse_time(job.metadata_.get("submitted_at")) or job.created_at


def remembered(facts: PollFacts) -> dict[str, Any]:
    """What to add to the job's metadata for later polls: the first moving progress seen."""
    if facts.moving_since is None and facts.progress is not None and facts.progress > 0:
        return {_MOVING_SINCE: [round(facts.elapsed, 3), facts.progress]}
    return {}


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


def overdue_error(status: str, max_wait_seconds: int) -> str:
    """The error of a job in ``status`` still active ``max_wait_seconds`` after it was created."""
    waited = _span(max_wait_seconds)
    if status == "pending":
        return f"generation did not start within {waited}"
    return f"the provider did not finish within {waited}"


def _reading(value: object) -> tuple[float, int] | None:
    """A stored ``[elapsed, progress]``, or ``None`` (absent, or written by other code)."""
    if not isinstance(value, list) or len(value) != 2:
        return None
    try:
        return float(value[0]), int(value[1])
    except (TypeError, ValueError):
        return None


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
