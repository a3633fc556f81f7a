"""Generation pacing, pure functions: how long to wait before the next poll or submit, whether a
poll is on time, whether a failed create may be repeated, and what to say when time ran out.

Backoff is ``min(maximum, initial * 1.5**n)``, rounded up to whole seconds (SQS delays are
whole seconds). A provider's poll hint replaces the backoff; a ``Retry-After`` is a floor.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from videogen.providers import RetryableProviderError
from videogen.queue import MAX_DELAY_SECONDS

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


def overdue_error(status: str, max_wait_seconds: int) -> str:
    """The error of a job in ``status`` still active ``max_wait_seconds`` after it was created."""
    waited = _span(max_wait_seconds)
    if status == "pending":
        return f"generation did not start within {waited}"
    return f"the provider did not finish within {waited}"


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
