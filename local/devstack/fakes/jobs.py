"""A fake provider's jobs: the script a prompt selects, and when and how a job finishes.

A job finishes after a number of polls or, when seconds are set, that long after its creation
on the server's clock (``clock``: real UTC time unless a test passes a ``ManualClock`` and moves
it, so that no test sleeps to race a timer). A "never" job stays running; the others end as
their outcome says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from devstack.fakes.records import ImageRole, ReceivedImage, Rgb

Outcome = Literal["completed", "failed", "filtered", "never", "empty"]
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real time (the fakes' default clock)."""
    return datetime.now(UTC)


class ManualClock:
    """A clock for ``clock=``: the real time when made, then only what ``advance`` adds."""

    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward."""
        self.now += timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class Script:
    """How a job (or the creates of a prompt) behaves.

    ``complete_after_polls`` / ``complete_after_seconds`` left ``None`` take the server's
    defaults. ``create_status`` answers creates with that HTTP error instead of starting a
    job: the first ``create_status_times`` creates of the prompt (``None``: every one).
    ``poll_seconds`` makes each poll of the job take that long to answer.
    """

    outcome: Outcome = "completed"
    complete_after_polls: int | None = None
    complete_after_seconds: float | None = None
    create_status: int | None = None
    create_status_times: int | None = 1
    retry_after: float | None = None
    message: str | None = None
    poll_seconds: float | None = None


# Prompt markers: a prompt containing one behaves so (handy for e2e through the real API).
MARKERS: dict[str, Script] = {
    "[fail]": Script(outcome="failed"),
    "[filtered]": Script(outcome="filtered"),
    "[never]": Script(outcome="never"),
    "[empty]": Script(outcome="empty"),
    "[refused]": Script(create_status=400, create_status_times=None),
    "[429]": Script(create_status=429, retry_after=2),
    "[500]": Script(create_status=500),
    "[slow-poll]": Script(poll_seconds=3.0),
}


@dataclass(frozen=True, slots=True)
class Timing:
    """The server's defaults for when a job finishes (a script may override either)."""

    complete_after_polls: int
    complete_after_seconds: float | None


@dataclass(slots=True)
class FakeJob:
    """A job the fake started; its script decides when and how it finishes."""

    id: str
    prompt: str
    params: dict[str, Any]
    script: Script
    created_at: datetime  # on the server's clock
    polls: int = 0
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    callbacks: tuple[str, ...] = ()  # the URLs its completion webhook is pushed to
    images: tuple[ReceivedImage, ...] = ()  # what its create carried (its clip follows the frames)

    def colour(self, role: ImageRole) -> Rgb | None:
        """The mean colour of the job's ``role`` image ("first", "last"), if it was given one."""
        return next((image.colour for image in self.images if image.role == role), None)

    def advance(self, now: datetime, timing: Timing) -> bool:
        """Count one poll; True once the job has finished (whatever its outcome, cancelled too)."""
        self.polls += 1
        if self.cancelled_at is not None:
            return True
        if self.completed_at is None and self._due(now, timing):
            self.completed_at = now
        return self.completed_at is not None

    def progress(self, now: datetime, timing: Timing) -> int:
        """Percent done while running, from polls seen or time elapsed."""
        seconds = self._seconds_needed(timing)
        if seconds:
            fraction = (now - self.created_at).total_seconds() / seconds
        else:
            fraction = self.polls / (self._polls_needed(timing) + 1)
        return max(0, min(99, int(fraction * 100)))

    def due_by_time(self, now: datetime, timing: Timing) -> bool:
        """Whether the job finishes by ``now`` on seconds alone (no poll counted); False for a
        job that finishes by poll count, or never."""
        seconds = self._seconds_needed(timing)
        if seconds is None or self.script.outcome == "never":
            return False
        return (now - self.created_at).total_seconds() >= seconds

    def _due(self, now: datetime, timing: Timing) -> bool:
        if self.script.outcome == "never":
            return False
        if self._seconds_needed(timing) is not None:
            return self.due_by_time(now, timing)
        return self.polls > self._polls_needed(timing)

    def _seconds_needed(self, timing: Timing) -> float | None:
        return self.script.complete_after_seconds or timing.complete_after_seconds

    def _polls_needed(self, timing: Timing) -> int:
        polls = self.script.complete_after_polls
        return timing.complete_after_polls if polls is None else polls
