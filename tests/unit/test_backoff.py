"""The worker's pacing rules and create-outcome classification: pure functions, no I/O."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from videogen.generation.pacing import backoff_seconds, next_poll_delay, poll_is_due, provider_refused_create
from videogen.providers import RetryableProviderError

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("step", "expected"),
    [(0, 10), (1, 15), (2, 23), (3, 34), (4, 51), (5, 60), (6, 60), (1000, 60), (-3, 10)],
)
def test_backoff_grows_by_half_from_the_initial_delay_up_to_the_maximum(step, expected):
    assert backoff_seconds(step, initial=10, maximum=60) == expected


def test_backoff_never_decreases():
    delays = [backoff_seconds(n, initial=10, maximum=60) for n in range(30)]

    assert delays == sorted(delays)


def test_a_zero_initial_delay_polls_at_once():
    assert backoff_seconds(5, initial=0, maximum=60) == 0


def test_a_refused_step_waits_the_backoff():
    assert next_poll_delay(2, initial=10, maximum=60) == 23


@pytest.mark.parametrize(("retry_after", "expected"), [(2, 23), (45.5, 46), (None, 23)])
def test_retry_after_is_a_floor(retry_after, expected):
    assert next_poll_delay(2, initial=10, maximum=60, retry_after=retry_after) == expected


def test_delays_never_exceed_what_sqs_accepts():
    assert next_poll_delay(0, initial=10, maximum=60, retry_after=3600) == 900


def test_a_non_finite_retry_after_is_ignored():
    assert next_poll_delay(0, initial=10, maximum=60, retry_after=math.inf) == 10


def test_a_poll_is_due_without_a_schedule_at_or_after_its_time_and_a_little_before():
    due_at = NOW + timedelta(seconds=30)
    schedule = {"next_poll_at": due_at.isoformat()}

    assert poll_is_due({}, NOW)
    assert poll_is_due({"next_poll_at": "garbage"}, NOW)
    assert poll_is_due(schedule, due_at)
    assert poll_is_due(schedule, due_at + timedelta(minutes=10))
    assert poll_is_due(schedule, due_at - timedelta(seconds=1))  # another host's clock
    assert not poll_is_due(schedule, NOW)  # a duplicate of the message that scheduled it


def test_a_create_answered_with_a_status_was_refused():
    assert provider_refused_create(RetryableProviderError("busy (429)", 2.0, answered=True))
    assert provider_refused_create(RetryableProviderError("busy (503)", answered=True))


def test_a_create_without_an_answer_may_have_started_a_job():
    assert not provider_refused_create(RetryableProviderError("the video provider did not answer in time"))
    assert not provider_refused_create(RetryableProviderError("could not reach the video provider"))
