"""The contract every video provider adapter keeps, run against each one's fake over loopback.

Submit, poll and download with the real SDK; every failure is a RetryableProviderError (with
Retry-After, and whether the provider answered) or a PermanentProviderError the user can act
on; a create is never sent twice; the key never shows in an error, a log line or a record.
"""

from __future__ import annotations

import logging
import socket
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pytest

from devstack.fakes import FakeProviderServer, ManualClock, Script
from devstack.fakes.jobs import Outcome
from tests.integration.providers.cases import CASES, ProviderCase, finish, refusal_reason
from videogen.providers import (
    PermanentProviderError,
    ProviderKey,
    RetryableProviderError,
    VideoProvider,
    get_provider,
)

# The SDK flags every videos method deprecated (OpenAI's own endpoint closes); irrelevant here.
pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")


# --- the happy path -------------------------------------------------------------------------------


def test_a_submitted_job_is_polled_to_completion_and_downloads_a_real_mp4(
    case: ProviderCase, provider: VideoProvider
) -> None:
    # Given a job the provider finishes on the third poll
    submission = provider.submit(case.request())

    # When the worker polls until it completes and downloads the video
    polls = [provider.poll(submission.provider_job_id) for _ in range(3)]
    video = b"".join(provider.download(submission.provider_job_id, "video"))

    # Then it is processing, then completed with the duration the provider reports, and the bytes are an MP4
    assert [p.state for p in polls] == ["processing", "processing", "completed"]
    assert (polls[-1].progress, polls[-1].duration_seconds) == (100, case.reported_duration)
    assert video[4:8] == b"ftyp"
    assert len(video) > 1000


@pytest.mark.parametrize("case", [c for c in CASES if c.thumbnails], indirect=True, ids=str)
def test_a_provider_with_thumbnails_downloads_a_png(case: ProviderCase, provider: VideoProvider) -> None:
    submission = provider.submit(case.request())
    finish(provider, submission.provider_job_id)

    thumbnail = b"".join(provider.download(submission.provider_job_id, "thumbnail"))

    assert provider.has_thumbnails
    assert thumbnail.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize("case", [c for c in CASES if not c.thumbnails], indirect=True, ids=str)
def test_a_provider_without_thumbnails_refuses_the_download_permanently(
    case: ProviderCase, provider: VideoProvider
) -> None:
    submission = provider.submit(case.request())
    finish(provider, submission.provider_job_id)

    assert provider.has_thumbnails is False
    with pytest.raises(PermanentProviderError, match="no thumbnail"):
        b"".join(provider.download(submission.provider_job_id, "thumbnail"))


def test_a_job_completes_once_the_configured_seconds_pass_on_the_providers_clock(case: ProviderCase) -> None:
    # Given a provider that finishes jobs 0.3 s after their creation, on a clock the test moves
    clock = ManualClock()
    with (
        case.fake_class(complete_after_seconds=0.3, clock=clock) as fake,
        closing(
            case.adapter(case.provider_key(case.key, fake.base_url), case.settings(fake.base_url))
        ) as provider,
    ):
        submission = provider.submit(case.request())
        early = provider.poll(submission.provider_job_id)

        # When 0.3 s pass
        clock.advance(0.3)
        late = provider.poll(submission.provider_job_id)

    # Then the job is processing before and completed after
    assert (early.state, late.state) == ("processing", "completed")


# --- creates: answered refusals, retries, keys -----------------------------------------------------


def test_rate_limited_create_is_retryable_with_retry_after_and_sent_only_once(
    case: ProviderCase, provider: VideoProvider, fake: FakeProviderServer
) -> None:
    # Given a provider answering the first create with 429 and Retry-After: 2
    prompt = "a crowded market [429]"

    # When the worker submits
    with pytest.raises(RetryableProviderError) as raised:
        provider.submit(case.request(prompt))

    # Then our worker, not the SDK, decides when to retry: one create reached the provider
    assert raised.value.retry_after == 2.0
    assert raised.value.answered  # the provider replied: this create was refused, not accepted
    assert fake.create_count(prompt) == 1


@pytest.mark.parametrize(
    ("prompt", "script"),
    [
        ("a stormy harbour [500]", None),
        ("a flaky scene [flaky]", Script(create_status=503, create_status_times=2)),
    ],
    ids=["500", "503-twice"],
)
def test_server_error_on_create_is_retryable_and_sent_only_once(
    case: ProviderCase,
    provider: VideoProvider,
    fake: FakeProviderServer,
    prompt: str,
    script: Script | None,
) -> None:
    if script is not None:
        fake.script("[flaky]", script)

    with pytest.raises(RetryableProviderError) as raised:
        provider.submit(case.request(prompt))

    assert raised.value.answered
    assert fake.create_count(prompt) == 1


def test_create_after_a_rate_limit_succeeds_when_the_worker_retries(
    case: ProviderCase, provider: VideoProvider, fake: FakeProviderServer
) -> None:
    prompt = "a crowded market [429]"
    with pytest.raises(RetryableProviderError):
        provider.submit(case.request(prompt))

    submission = provider.submit(case.request(prompt))

    assert provider.poll(submission.provider_job_id).state == "processing"
    assert [record.status for record in fake.creates] == [429, 200]


def test_rejected_key_is_permanent_with_a_message_the_user_can_act_on(
    case: ProviderCase, fake: FakeProviderServer
) -> None:
    with (
        closing(
            case.adapter(case.provider_key(case.revoked_key, fake.base_url), case.settings(fake.base_url))
        ) as provider,
        pytest.raises(PermanentProviderError) as raised,
    ):
        provider.submit(case.request())

    assert f"PUT /api/keys/{case.name}" in str(raised.value)
    assert case.revoked_key not in str(raised.value)
    assert fake.create_count() == 1


def test_refused_prompt_is_permanent_with_the_providers_reason(
    case: ProviderCase, provider: VideoProvider
) -> None:
    reason = refusal_reason(case, provider, case.request("something forbidden [refused]"))

    for words in case.refusal:
        assert words in reason


def test_duration_the_endpoint_does_not_offer_is_refused_permanently(
    case: ProviderCase, provider: VideoProvider
) -> None:
    seconds, words = case.unoffered_duration

    assert words in refusal_reason(case, provider, case.request(duration_seconds=seconds))


def test_unreachable_provider_is_retryable_and_not_known_to_have_answered(case: ProviderCase) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{closed_port}{case.api_path}"
    with (
        closing(case.adapter(case.provider_key(case.key, base_url), case.settings(base_url))) as provider,
        pytest.raises(RetryableProviderError, match="could not reach") as raised,
    ):
        provider.submit(case.request())
    assert not raised.value.answered  # no reply: the create may or may not have started


# --- jobs that fail or never finish ----------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["failed", "filtered"])
def test_a_job_the_provider_fails_or_filters_reports_the_providers_message(
    case: ProviderCase, provider: VideoProvider, fake: FakeProviderServer, outcome: Outcome
) -> None:
    fake.script("[broken]", Script(outcome=outcome, message="Generation backend unavailable."))
    submission = provider.submit(case.request("a scene [broken]"))

    result = finish(provider, submission.provider_job_id)

    assert result.state == "failed"
    assert result.error is not None
    assert "Generation backend unavailable." in result.error


def test_completed_job_with_an_empty_file_downloads_no_bytes(
    case: ProviderCase, provider: VideoProvider
) -> None:
    # The adapter reports what it got; the worker judges a zero-byte video a failure.
    submission = provider.submit(case.request("an empty scene [empty]"))

    assert finish(provider, submission.provider_job_id).state == "completed"
    assert b"".join(provider.download(submission.provider_job_id, "video")) == b""


def test_job_that_never_finishes_stays_processing(case: ProviderCase, provider: VideoProvider) -> None:
    submission = provider.submit(case.request("an endless scene [never]"))

    states = {provider.poll(submission.provider_job_id).state for _ in range(5)}

    assert states == {"processing"}


def test_unknown_job_is_permanent(case: ProviderCase, provider: VideoProvider) -> None:
    with pytest.raises(PermanentProviderError, match="no such job"):
        provider.poll(case.unknown_job_id)


# --- reads: retried inside, then classified ---------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503])
def test_transient_poll_failure_is_retried_inside_the_sdk(
    case: ProviderCase, provider: VideoProvider, fake: FakeProviderServer, status: int
) -> None:
    submission = provider.submit(case.request())
    fake.fail_next("poll", status, retry_after=0.01)

    result = provider.poll(submission.provider_job_id)

    assert result.state == "processing"
    assert fake.count("poll") == 2


def test_poll_failing_past_the_sdk_retries_is_retryable(
    case: ProviderCase, provider: VideoProvider, fake: FakeProviderServer
) -> None:
    submission = provider.submit(case.request())
    fake.fail_next("poll", 503, retry_after=0.01, times=3)

    with pytest.raises(RetryableProviderError):
        provider.poll(submission.provider_job_id)

    assert fake.count("poll") == 3


def test_download_refused_for_the_key_is_permanent_when_streaming_starts(
    case: ProviderCase, provider: VideoProvider, fake: FakeProviderServer
) -> None:
    case.stream_downloads(fake)
    submission = provider.submit(case.request())
    finish(provider, submission.provider_job_id)
    fake.fail_next("content", 401)

    with pytest.raises(PermanentProviderError, match=f"PUT /api/keys/{case.name}"):
        b"".join(provider.download(submission.provider_job_id, "video"))


# --- crash recovery: find_existing ------------------------------------------------------------------


def test_find_existing_recovers_the_lost_job_exactly_when_the_provider_can_list_jobs(
    case: ProviderCase, provider: VideoProvider
) -> None:
    # Given the worker set its submit mark, the provider accepted, and the worker died
    mark = datetime.now(UTC)
    lost = provider.submit(case.request(not_before=mark))

    # When a redelivered message looks the job up instead of resubmitting
    found = provider.find_existing(case.request(not_before=mark))

    # Then a provider that lists jobs finds that one; one that cannot says so with None
    assert (found.provider_job_id if found else None) == (
        lost.provider_job_id if case.finds_existing else None
    )


def test_find_existing_ignores_jobs_before_the_mark_or_with_other_parameters(
    case: ProviderCase, provider: VideoProvider
) -> None:
    provider.submit(case.request())
    later_mark = datetime.now(UTC) + timedelta(minutes=5)
    mark = datetime.now(UTC) - timedelta(seconds=5)

    assert provider.find_existing(case.request(not_before=later_mark)) is None
    assert provider.find_existing(case.request("another prompt", not_before=mark)) is None
    assert provider.find_existing(case.request(duration_seconds=4, not_before=mark)) is None
    assert provider.find_existing(case.request(size="720x1280", not_before=mark)) is None
    assert provider.find_existing(case.request(model=case.other_model, not_before=mark)) is None


def test_find_existing_without_a_submit_mark_finds_nothing(
    case: ProviderCase, provider: VideoProvider
) -> None:
    provider.submit(case.request())

    assert provider.find_existing(case.request(not_before=None)) is None


def test_find_existing_with_two_identical_candidates_finds_nothing(
    case: ProviderCase, provider: VideoProvider
) -> None:
    # Claiming the wrong one would leave another job's video unpaid-for in ours.
    mark = datetime.now(UTC)
    provider.submit(case.request(job_id="job-1"))
    provider.submit(case.request(job_id="job-2"))

    assert provider.find_existing(case.request(not_before=mark)) is None


# --- secrets and construction ---------------------------------------------------------------------


# --- cancel -------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", [c for c in CASES if c.cancels], indirect=True, ids=str)
def test_a_cancelled_job_stops_at_the_provider_and_never_completes(
    case: ProviderCase, provider: VideoProvider, fake: FakeProviderServer
) -> None:
    # Given a running job
    submission = provider.submit(case.request())
    assert provider.poll(submission.provider_job_id).state == "processing"

    # When it is cancelled
    provider.cancel(submission.provider_job_id)

    # Then the provider recorded the cancel, and the job is gone or failed, never completed
    assert fake.cancels == [submission.provider_job_id.rsplit("/", 1)[-1]]
    try:
        after: str = provider.poll(submission.provider_job_id).state
    except PermanentProviderError:
        after = "gone"
    assert after in ("failed", "gone")


@pytest.mark.parametrize("case", [c for c in CASES if c.cancels], indirect=True, ids=str)
def test_cancelling_an_unknown_job_is_permanent(case: ProviderCase, provider: VideoProvider) -> None:
    with pytest.raises(PermanentProviderError, match="no such job"):
        provider.cancel(case.unknown_job_id)


@pytest.mark.parametrize("case", [c for c in CASES if c.cancels], indirect=True, ids=str)
def test_a_refused_cancel_is_permanent_and_a_busy_one_retryable(
    case: ProviderCase, provider: VideoProvider, fake: FakeProviderServer
) -> None:
    submission = provider.submit(case.request())

    fake.fail_next("cancel", 400)
    with pytest.raises(PermanentProviderError):
        provider.cancel(submission.provider_job_id)
    fake.fail_next("cancel", 503, times=5)
    with pytest.raises(RetryableProviderError):
        provider.cancel(submission.provider_job_id)
    assert fake.cancels == []


@pytest.mark.parametrize("case", [c for c in CASES if not c.cancels], indirect=True, ids=str)
def test_a_provider_without_cancel_refuses_it_permanently_without_a_call(
    case: ProviderCase, provider: VideoProvider, fake: FakeProviderServer
) -> None:
    # Given a running job at a provider whose API has no cancel
    submission = provider.submit(case.request())
    calls_before = len(fake.calls)

    # When it is cancelled, the refusal is permanent and nothing reached the provider
    with pytest.raises(PermanentProviderError, match="no cancel"):
        provider.cancel(submission.provider_job_id)
    assert len(fake.calls) == calls_before

    # Then the job runs on to its end
    assert provider.poll(submission.provider_job_id).state == "processing"


def test_the_api_key_never_reaches_logs_records_or_errors(
    case: ProviderCase, provider: VideoProvider, fake: FakeProviderServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    submission = provider.submit(case.request())
    finish(provider, submission.provider_job_id)
    b"".join(provider.download(submission.provider_job_id, "video"))
    with pytest.raises(RetryableProviderError) as raised:
        provider.submit(case.request("busy [429]"))

    assert case.key not in caplog.text
    assert case.key not in repr(fake.creates)
    assert case.key not in str(raised.value)
    assert all(record.key_sent for record in fake.creates)


def test_get_provider_builds_the_adapter_of_the_name(case: ProviderCase) -> None:
    key = case.provider_key(case.key, "http://127.0.0.1:9")
    with closing(get_provider(case.name, key, case.settings("http://127.0.0.1:9"))) as provider:
        assert type(provider) is case.adapter
        assert provider.has_thumbnails is case.thumbnails


def test_get_provider_rejects_unknown_names() -> None:
    settings = CASES[0].settings("http://127.0.0.1:9")
    with pytest.raises(ValueError, match="unknown video provider"):
        get_provider("runway", ProviderKey("key"), settings)
