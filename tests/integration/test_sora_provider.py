"""The Sora adapter (real ``openai`` SDK) against the fake OpenAI videos API over loopback."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pytest

from devstack.fakes import FakeSoraServer
from videogen.config import Settings
from videogen.providers import (
    GenerationRequest,
    PermanentProviderError,
    RetryableProviderError,
    get_provider,
)
from videogen.providers.sora import SoraProvider
from videogen.providers.veo import VeoProvider

# The SDK flags every videos method deprecated (OpenAI's own endpoint closes); irrelevant here.
pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")

KEY = "sk-test-secret-0123456789"


@pytest.fixture(autouse=True)
def _clean_database() -> None:
    """Providers touch no database: override the integration suite's PostgreSQL cleaner."""


@pytest.fixture
def fake() -> Iterator[FakeSoraServer]:
    with FakeSoraServer(complete_after_polls=2, poll_after_ms=250, rejected_keys={"sk-revoked"}) as server:
        yield server


def settings_for(base_url: str) -> Settings:
    return Settings(sora_base_url=base_url, provider_timeout_seconds=5)


@pytest.fixture
def sora(fake: FakeSoraServer) -> Iterator[SoraProvider]:
    with SoraProvider(KEY, settings_for(fake.base_url)) as provider:
        yield provider


def request_for(prompt: str = "Ada opens the lab door", **overrides: object) -> GenerationRequest:
    values: dict[str, object] = {
        "job_id": "job-1",
        "model": "sora-2",
        "prompt": prompt,
        "duration_seconds": 8,
        "size": "1280x720",
    } | overrides
    return GenerationRequest(**values)  # type: ignore[arg-type]


def test_submitted_job_is_polled_to_completion_and_downloads_a_real_mp4_and_thumbnail(
    sora: SoraProvider, fake: FakeSoraServer
) -> None:
    # Given a job the provider finishes after two polls
    submission = sora.submit(request_for())

    # When the worker polls until it completes
    first = sora.poll(submission.provider_job_id)
    second = sora.poll(submission.provider_job_id)
    done = sora.poll(submission.provider_job_id)
    video = b"".join(sora.download(submission.provider_job_id, "video"))
    thumbnail = b"".join(sora.download(submission.provider_job_id, "thumbnail"))

    # Then progress is reported, the duration comes from the provider, the assets are real
    assert (first.state, second.state) == ("processing", "processing")
    assert 0 < first.progress < second.progress < 100
    assert (done.state, done.progress, done.duration_seconds) == ("completed", 100, 8.0)
    assert "expires_at" in done.extra
    assert video[4:8] == b"ftyp"
    assert len(video) > 1000
    assert thumbnail.startswith(b"\x89PNG\r\n\x1a\n")
    assert fake.creates[0].params == {"model": "sora-2", "seconds": "8", "size": "1280x720"}


def test_poll_after_hint_is_passed_on_while_the_job_runs(sora: SoraProvider) -> None:
    submission = sora.submit(request_for())

    running = sora.poll(submission.provider_job_id)

    assert submission.poll_after_seconds == 0.25
    assert running.poll_after_seconds == 0.25


def test_create_sends_an_idempotency_key_derived_from_the_job(
    sora: SoraProvider, fake: FakeSoraServer
) -> None:
    sora.submit(request_for(job_id="job-42"))

    assert fake.creates[0].idempotency_key == "videogen-job-42"


def test_rate_limited_create_is_retryable_with_retry_after_and_sent_only_once(
    sora: SoraProvider, fake: FakeSoraServer
) -> None:
    # Given a provider answering the first create with 429 and Retry-After: 2
    prompt = "a crowded market [429]"

    # When the worker submits
    with pytest.raises(RetryableProviderError) as raised:
        sora.submit(request_for(prompt))

    # Then our worker, not the SDK, decides when to retry: one create reached the provider
    assert raised.value.retry_after == 2.0
    assert raised.value.answered  # the provider replied: this create was refused, not accepted
    assert fake.create_count(prompt) == 1


def test_server_error_on_create_is_retryable_and_sent_only_once(
    sora: SoraProvider, fake: FakeSoraServer
) -> None:
    prompt = "a stormy harbour [500]"

    with pytest.raises(RetryableProviderError) as raised:
        sora.submit(request_for(prompt))

    assert raised.value.answered
    assert fake.create_count(prompt) == 1


def test_create_after_a_rate_limit_succeeds_when_the_worker_retries(
    sora: SoraProvider, fake: FakeSoraServer
) -> None:
    prompt = "a crowded market [429]"
    with pytest.raises(RetryableProviderError):
        sora.submit(request_for(prompt))

    submission = sora.submit(request_for(prompt))

    assert submission.provider_job_id.startswith("video_")
    assert [record.status for record in fake.creates] == [429, 200]


def test_rejected_key_is_permanent_with_a_message_the_user_can_act_on(fake: FakeSoraServer) -> None:
    with (
        SoraProvider("sk-revoked", settings_for(fake.base_url)) as sora,
        pytest.raises(PermanentProviderError) as raised,
    ):
        sora.submit(request_for())

    assert "PUT /api/keys/sora" in str(raised.value)
    assert "sk-revoked" not in str(raised.value)
    assert fake.create_count() == 1


def test_refused_prompt_is_permanent_with_the_providers_reason(sora: SoraProvider) -> None:
    with pytest.raises(PermanentProviderError) as raised:
        sora.submit(request_for("something forbidden [refused]"))

    assert "blocked by our moderation system" in str(raised.value)
    assert "moderation_blocked" in str(raised.value)


def test_duration_the_endpoint_does_not_offer_is_refused_permanently(sora: SoraProvider) -> None:
    with pytest.raises(PermanentProviderError, match="seconds"):
        sora.submit(request_for(duration_seconds=5))


@pytest.mark.parametrize(
    ("marker", "expected"),
    [("[fail]", "video_generation_failed: "), ("[filtered]", "moderation_blocked: ")],
)
def test_failed_job_reports_the_providers_code_and_message(
    sora: SoraProvider, marker: str, expected: str
) -> None:
    submission = sora.submit(request_for(f"a scene {marker}"))

    results = [sora.poll(submission.provider_job_id) for _ in range(3)]

    assert results[-1].state == "failed"
    assert results[-1].error is not None
    assert results[-1].error.startswith(expected)


def test_completed_job_with_an_empty_file_downloads_no_bytes(sora: SoraProvider) -> None:
    # The adapter reports what it got; the worker judges a zero-byte video a failure.
    submission = sora.submit(request_for("an empty scene [empty]"))
    for _ in range(3):
        result = sora.poll(submission.provider_job_id)

    assert result.state == "completed"
    assert b"".join(sora.download(submission.provider_job_id, "video")) == b""


def test_job_that_never_finishes_stays_processing(sora: SoraProvider) -> None:
    submission = sora.submit(request_for("an endless scene [never]"))

    states = {sora.poll(submission.provider_job_id).state for _ in range(5)}

    assert states == {"processing"}


def test_job_completes_after_the_configured_seconds() -> None:
    with (
        FakeSoraServer(complete_after_seconds=0.3) as fake,
        SoraProvider(KEY, settings_for(fake.base_url)) as sora,
    ):
        submission = sora.submit(request_for())
        early = sora.poll(submission.provider_job_id)
        time.sleep(0.35)
        late = sora.poll(submission.provider_job_id)

    assert (early.state, late.state) == ("processing", "completed")


def test_unknown_job_is_permanent(sora: SoraProvider) -> None:
    with pytest.raises(PermanentProviderError, match="no such job"):
        sora.poll("video_does_not_exist")


def test_transient_poll_failure_is_retried_inside_the_sdk(sora: SoraProvider, fake: FakeSoraServer) -> None:
    submission = sora.submit(request_for())
    fake.fail_next("poll", 500, retry_after=0.01)

    result = sora.poll(submission.provider_job_id)

    assert result.state == "processing"
    assert fake.count("poll") == 2


def test_poll_failing_past_the_sdk_retries_is_retryable(sora: SoraProvider, fake: FakeSoraServer) -> None:
    submission = sora.submit(request_for())
    fake.fail_next("poll", 503, retry_after=0.01, times=3)

    with pytest.raises(RetryableProviderError):
        sora.poll(submission.provider_job_id)

    assert fake.count("poll") == 3


def test_download_failure_is_classified_when_streaming_starts(
    sora: SoraProvider, fake: FakeSoraServer
) -> None:
    submission = sora.submit(request_for())
    fake.fail_next("content", 401)

    with pytest.raises(PermanentProviderError, match="PUT /api/keys/sora"):
        b"".join(sora.download(submission.provider_job_id, "video"))


def test_unreachable_provider_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with (
        SoraProvider(KEY, settings_for(f"http://127.0.0.1:{closed_port}/v1")) as sora,
        pytest.raises(RetryableProviderError, match="could not reach") as raised,
    ):
        sora.submit(request_for())
    assert not raised.value.answered  # no reply: the create may or may not have started


def test_find_existing_recovers_the_job_a_crashed_submit_started(sora: SoraProvider) -> None:
    # Given the worker set its submit mark, the provider accepted, and the worker died
    mark = datetime.now(UTC)
    lost = sora.submit(request_for(not_before=mark))

    # When a redelivered message looks the job up instead of resubmitting
    found = sora.find_existing(request_for(not_before=mark))

    # Then it finds the provider's job
    assert found is not None
    assert found.provider_job_id == lost.provider_job_id


def test_find_existing_ignores_jobs_before_the_mark_or_with_other_parameters(sora: SoraProvider) -> None:
    sora.submit(request_for())
    later_mark = datetime.now(UTC) + timedelta(minutes=5)
    mark = datetime.now(UTC) - timedelta(seconds=5)

    assert sora.find_existing(request_for(not_before=later_mark)) is None
    assert sora.find_existing(request_for("another prompt", not_before=mark)) is None
    assert sora.find_existing(request_for(duration_seconds=4, not_before=mark)) is None
    assert sora.find_existing(request_for(size="720x1280", not_before=mark)) is None
    assert sora.find_existing(request_for(model="sora-2-pro", not_before=mark)) is None


def test_find_existing_without_a_submit_mark_finds_nothing(sora: SoraProvider) -> None:
    sora.submit(request_for())

    assert sora.find_existing(request_for(not_before=None)) is None


def test_find_existing_with_two_identical_candidates_finds_nothing(sora: SoraProvider) -> None:
    # Claiming the wrong one would leave another job's video unpaid-for in ours.
    mark = datetime.now(UTC)
    sora.submit(request_for(job_id="job-1"))
    sora.submit(request_for(job_id="job-2"))

    assert sora.find_existing(request_for(not_before=mark)) is None


def test_find_existing_walks_past_the_first_page(sora: SoraProvider, fake: FakeSoraServer) -> None:
    mark = datetime.now(UTC)
    lost = sora.submit(request_for())
    for index in range(105):
        sora.submit(request_for(f"a later scene {index}"))

    found = sora.find_existing(request_for(not_before=mark))

    assert found is not None
    assert found.provider_job_id == lost.provider_job_id
    assert fake.count("list") == 2


def test_the_api_key_never_reaches_logs_or_records(
    sora: SoraProvider, fake: FakeSoraServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    submission = sora.submit(request_for())
    for _ in range(3):
        sora.poll(submission.provider_job_id)
    b"".join(sora.download(submission.provider_job_id, "video"))
    with pytest.raises(RetryableProviderError) as raised:
        sora.submit(request_for("busy [429]"))

    assert KEY not in caplog.text
    assert KEY not in repr(fake.creates)
    assert KEY not in str(raised.value)
    assert all(record.key_sent for record in fake.creates)


def test_get_provider_builds_each_provider_and_rejects_unknown_names() -> None:
    settings = settings_for("http://127.0.0.1:9/v1")

    with (
        closing(get_provider("sora", KEY, settings)) as sora,
        closing(get_provider("veo", KEY, settings)) as veo,
    ):
        assert isinstance(sora, SoraProvider)
        assert sora.has_thumbnails
        assert isinstance(veo, VeoProvider)
        assert not veo.has_thumbnails
    with pytest.raises(ValueError, match="unknown video provider"):
        get_provider("runway", KEY, settings)
