"""The poll schedule: aimed at the end the provider's progress or the model's typical time
points to, within the backoff's bounds; pure functions on injected values, no clock."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

import pytest

from videogen.generation.pacing import PollFacts, first_poll_delay, poll_delay, poll_facts, remembered

SUBMITTED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


class Pace(TypedDict):
    initial: float
    maximum: float


PACE: Pace = {"initial": 10, "maximum": 60}


def delay(**facts: Any) -> int:
    return poll_delay(PollFacts(**{"polls": 3} | facts), **PACE)


@dataclass
class Job:
    provider: str = "openai"
    model: str = "sora-2"
    created_at: datetime = SUBMITTED - timedelta(minutes=5)
    metadata_: dict[str, Any] = field(
        default_factory=lambda: {"polls": 2, "submitted_at": SUBMITTED.isoformat()}
    )


def test_with_nothing_to_go_by_a_poll_waits_the_backoff():
    # A provider that reports no progress yet (queued), a model without a typical time
    assert delay(elapsed=25, polls=2, progress=0) == 23
    assert delay(elapsed=25, polls=2) == 23


def test_a_job_near_its_end_is_polled_just_before_it():
    # Moving since 10 s at 10 %, 90 % at 90 s: the pace is 1 %/s, 10 s left
    assert delay(elapsed=90, progress=90, moving_since=(10.0, 10)) == 9


def test_the_pace_since_the_job_started_moving_wins_over_a_queue_before_it():
    # 50 % after 60 s since the start, but 10 % -> 50 % took the last 20 s: 25 s left, not 60
    assert delay(elapsed=60, progress=50, moving_since=(40.0, 10)) == 23


def test_a_first_reading_is_checked_sooner_than_a_known_pace():
    first = delay(elapsed=40, progress=50)
    known = delay(elapsed=40, progress=50, moving_since=(20.0, 25))

    assert first == 20  # half of the 40 s the pace since the start leaves
    assert known == 36


def test_a_far_end_waits_at_most_the_maximum():
    assert delay(elapsed=10, progress=2, moving_since=(5.0, 1)) == 60


def test_close_to_the_end_polls_are_a_short_step_apart():
    assert delay(elapsed=120, progress=99, moving_since=(10.0, 5)) == 5


def test_a_job_whose_end_keeps_moving_away_is_polled_less_and_less_often():
    # Progress stuck at 99: each estimate says a second or two
    delays = [delay(elapsed=300 + 5 * n, polls=n, progress=99, moving_since=(10.0, 5)) for n in range(25)]

    assert delays == sorted(delays)
    assert delays[0] == 5
    assert delays[-1] == 60


def test_without_progress_the_first_poll_comes_short_of_the_typical_time():
    assert first_poll_delay("veo-3.1-fast-generate-001", hint=None, **PACE) == 36  # typical 60 s
    assert first_poll_delay("veo-3.1-generate-001", hint=None, **PACE) == 60  # 72 s, at most 60
    assert first_poll_delay("sora-2", hint=None, **PACE) == 10  # no typical time: the backoff


def test_around_the_typical_time_polls_are_spread_then_thin_out_past_it():
    assert delay(elapsed=55, typical=60) == 15
    assert delay(elapsed=70, typical=60) == 15
    assert delay(elapsed=160, typical=60) == 20
    assert delay(elapsed=600, typical=60) == 60


@pytest.mark.parametrize(("hint", "expected"), [(0.25, 9), (3, 9), (30, 30), (5000, 900), (math.nan, 9)])
def test_the_providers_poll_hint_is_a_floor(hint, expected):
    assert delay(elapsed=90, progress=90, moving_since=(10.0, 10), hint=hint) == expected


def test_a_hint_of_zero_never_makes_a_busy_loop():
    assert poll_delay(PollFacts(elapsed=5, polls=1, hint=0), initial=0, maximum=0) == 1


def test_retry_after_is_a_floor_of_the_schedule_too():
    assert delay(elapsed=90, progress=90, moving_since=(10.0, 10), retry_after=300) == 300
    assert delay(elapsed=90, progress=90, moving_since=(10.0, 10), retry_after=3600) == 900


def test_a_maximum_of_zero_polls_at_once():
    assert poll_delay(PollFacts(elapsed=5, polls=1, progress=3), initial=0, maximum=0) == 0
    assert poll_delay(PollFacts(elapsed=5, polls=1, typical=60), initial=0, maximum=0) == 0


def test_the_facts_come_from_the_jobs_metadata_and_catalog_entry():
    job = Job(
        metadata_={"polls": 4, "submitted_at": SUBMITTED.isoformat(), "progress_moving_since": [12.5, 7]}
    )

    facts = poll_facts(job, SUBMITTED + timedelta(seconds=42), progress=30, hint=1.0)

    assert facts == PollFacts(
        elapsed=42, polls=4, progress=30, moving_since=(12.5, 7), typical=None, hint=1.0
    )


def test_a_job_without_a_submit_time_counts_from_its_creation():
    job = Job(metadata_={"polls": 1})

    assert poll_facts(job, job.created_at + timedelta(seconds=30)).elapsed == 30


def test_the_zero_of_a_provider_that_reports_no_progress_is_not_a_reading():
    job = Job(provider="veo", model="veo-3.1-generate-001")

    facts = poll_facts(job, SUBMITTED + timedelta(seconds=30), progress=0)

    assert (facts.progress, facts.typical) == (None, 120)


def test_the_first_moving_reading_is_remembered_once():
    queued = PollFacts(elapsed=10, polls=1, progress=0)
    moving = PollFacts(elapsed=20, polls=2, progress=8)
    later = PollFacts(elapsed=40, polls=3, progress=30, moving_since=(20.0, 8))

    assert remembered(queued) == {}
    assert remembered(moving) == {"progress_moving_since": [20, 8]}
    assert remembered(later) == {}


def test_with_a_push_expected_the_first_poll_is_the_fallback():
    # The model's ~95th percentile (1.5x its typical time), at most SQS's 900 s
    assert first_poll_delay("veo-3.1-fast-generate-001", hint=None, push=True, **PACE) == 90
    # A model with no typical time (an OpenAI-compatible endpoint's: it reports progress) waits
    # the longest poll step, and later polls follow its progress
    assert first_poll_delay("sora-2", hint=None, push=True, **PACE) == PACE["maximum"]
    assert first_poll_delay("sora-2", hint=120, push=True, **PACE) == 120  # a hint stays a floor
