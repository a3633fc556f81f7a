"""The worker's pacing rules and create-outcome classification: pure functions, no I/O."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from videogen.providers import RetryableProviderError
from videogen.worker import backoff_seconds, next_poll_delay, poll_is_due, provider_refused_create

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


def test_without_a_hint_the_poll_delay_is_the_backoff():
    assert next_poll_delay(2, initial=10, maximum=60) == 23


@pytest.mark.parametrize(("hint", "expected"), [(0.25, 1), (3, 3), (0, 1), (90, 90), (-1, 1)])
def test_the_providers_hint_sets_the_delay_in_whole_seconds_at_least_one(hint, expected):
    assert next_poll_delay(4, initial=10, maximum=60, hint=hint) == expected


@pytest.mark.parametrize(("retry_after", "expected"), [(2, 23), (45.5, 46), (None, 23)])
def test_retry_after_is_a_floor(retry_after, expected):
    assert next_poll_delay(2, initial=10, maximum=60, retry_after=retry_after) == expected


def test_delays_never_exceed_what_sqs_accepts():
    assert next_poll_delay(0, initial=10, maximum=60, retry_after=3600) == 900
    assert next_poll_delay(0, initial=10, maximum=60, hint=5000) == 900


def test_a_non_finite_hint_or_retry_after_is_ignored():
    assert next_poll_delay(0, initial=10, maximum=60, hint=math.nan, retry_after=math.inf) == 10


def test_a_poll_is_due_without_a_schedule_at_or_after_its_time_and_a_little_before():
    due_at = NOW + timedelta(seconds=30)
    schedule = {"next_poll_at": due_at.isoformat()}

    assert poll_is_due({}, NOW)
    assert poll_is_due({"next_poll_at": "garbage"}, NOW)
    assert poll_is_due(schedule, due_at)
    assert poll_is_due(schedule, due_at + timedelta(minutes=10))
    assert poll_is_due(schedule, due_at - timedelta(seconds=1))  # another host's clock
    assert not poll_is_due(schedule, NOW)  # a duplicate of the message that scheduled it


class StatusError(Exception):
    """Shaped like openai's APIStatusError: the provider answered with a status."""

    def __init__(self, status_code: int) -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code


class GoogleError(Exception):
    """Shaped like google-genai's APIError: ``code`` is the HTTP status."""

    def __init__(self, code: int) -> None:
        super().__init__(f"HTTP {code}")
        self.code = code


class ReadTimeout(Exception):
    """No answer at all."""


def _adapted(cause: Exception, retry_after: float | None = None) -> RetryableProviderError:
    """What the adapters raise: a RetryableProviderError raised while handling ``cause``."""
    try:
        try:
            raise cause
        except Exception:
            raise RetryableProviderError("the video provider is busy", retry_after) from None
    except RetryableProviderError as error:
        return error


@pytest.mark.parametrize("cause", [StatusError(429), StatusError(503), GoogleError(500), GoogleError(429)])
def test_a_create_answered_with_a_status_was_refused(cause):
    assert provider_refused_create(_adapted(cause))


def test_a_retry_after_proves_the_provider_answered():
    assert provider_refused_create(_adapted(ReadTimeout(), retry_after=2))


def test_a_create_without_an_answer_may_have_started_a_job():
    assert not provider_refused_create(_adapted(ReadTimeout()))
    assert not provider_refused_create(RetryableProviderError("could not reach the video provider"))


def test_an_error_code_that_is_not_a_status_does_not_count_as_an_answer():
    class ConnectionDropped(Exception):
        code = "ECONNRESET"

    assert not provider_refused_create(_adapted(ConnectionDropped()))
