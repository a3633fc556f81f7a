"""The Veo adapter (real ``google-genai`` SDK) against the fake Veo operations API over loopback."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from devstack.fakes import FakeVeoServer, Script
from videogen.config import Settings
from videogen.providers import GenerationRequest, PermanentProviderError, RetryableProviderError
from videogen.providers.veo import VeoProvider, veo_format

KEY = "AIza-test-secret-0123456789"
MODEL = "veo-3.1-generate-001"


@pytest.fixture(autouse=True)
def _clean_database() -> None:
    """Providers touch no database: override the integration suite's PostgreSQL cleaner."""


@pytest.fixture
def fake() -> Iterator[FakeVeoServer]:
    with FakeVeoServer(complete_after_polls=1, rejected_keys={"AIza-revoked"}) as server:
        yield server


def settings_for(base_url: str) -> Settings:
    return Settings(veo_base_url=base_url, provider_timeout_seconds=5)


@pytest.fixture
def veo(fake: FakeVeoServer) -> Iterator[VeoProvider]:
    with VeoProvider(KEY, settings_for(fake.base_url)) as provider:
        yield provider


def request_for(prompt: str = "Ada opens the lab door", **overrides: object) -> GenerationRequest:
    values: dict[str, object] = {
        "job_id": "job-1",
        "model": MODEL,
        "prompt": prompt,
        "duration_seconds": 8,
        "size": "1280x720",
    } | overrides
    return GenerationRequest(**values)  # type: ignore[arg-type]


def finish(veo: VeoProvider, operation: str, polls: int = 2) -> str:
    state = ""
    for _ in range(polls):
        state = veo.poll(operation).state
    return state


def test_submitted_operation_is_polled_to_completion_and_downloads_a_real_mp4(
    veo: VeoProvider, fake: FakeVeoServer
) -> None:
    # Given an operation the provider finishes on the second poll
    submission = veo.submit(request_for(negative_prompt="text overlays"))

    # When the worker polls until done and downloads
    running = veo.poll(submission.provider_job_id)
    done = veo.poll(submission.provider_job_id)
    video = b"".join(veo.download(submission.provider_job_id, "video"))

    # Then the job id is the operation name and the bytes are a real MP4
    assert "/operations/" in submission.provider_job_id
    assert (running.state, done.state, done.progress) == ("processing", "completed", 100)
    assert done.duration_seconds is None  # Veo does not report it; the worker bills the request
    assert video[4:8] == b"ftyp"
    assert len(video) > 1000
    assert fake.creates[0].params == {
        "model": MODEL,
        "sampleCount": 1,
        "durationSeconds": 8,
        "aspectRatio": "16:9",
        "resolution": "720p",
        "negativePrompt": "text overlays",
    }


def test_video_behind_a_uri_is_streamed_with_the_key(fake: FakeVeoServer) -> None:
    fake.video_delivery = "uri"
    with VeoProvider(KEY, settings_for(fake.base_url)) as veo:
        submission = veo.submit(request_for())
        assert finish(veo, submission.provider_job_id) == "completed"

        video = b"".join(veo.download(submission.provider_job_id, "video"))

    assert video[4:8] == b"ftyp"
    assert fake.count("content") == 1


def test_key_is_not_sent_to_a_video_uri_on_another_host(fake: FakeVeoServer) -> None:
    # Given a uri on a host other than the API's (same server, other name)
    fake.video_delivery = "uri"
    fake.uri_origin = fake.origin.replace("127.0.0.1", "localhost")
    with VeoProvider(KEY, settings_for(fake.base_url)) as veo:
        submission = veo.submit(request_for())
        finish(veo, submission.provider_job_id)

        # When the adapter fetches it, the key stays behind, so the (key-checking) fake refuses
        with pytest.raises(PermanentProviderError):
            b"".join(veo.download(submission.provider_job_id, "video"))

    assert [call.status for call in fake.calls if call.route == "content"] == [403]


def test_veo_makes_no_thumbnail(veo: VeoProvider) -> None:
    submission = veo.submit(request_for())
    finish(veo, submission.provider_job_id)

    assert veo.has_thumbnails is False
    with pytest.raises(PermanentProviderError, match="no thumbnail"):
        b"".join(veo.download(submission.provider_job_id, "thumbnail"))


@pytest.mark.parametrize(
    ("size", "aspect_ratio", "resolution"),
    [
        ("1280x720", "16:9", "720p"),
        ("720x1280", "9:16", "720p"),
        ("1920x1080", "16:9", "1080p"),
        ("1080x1920", "9:16", "1080p"),
        ("9:16@1080p", "9:16", "1080p"),
    ],
)
def test_catalog_sizes_become_aspect_ratio_and_resolution(
    veo: VeoProvider, fake: FakeVeoServer, size: str, aspect_ratio: str, resolution: str
) -> None:
    veo.submit(request_for(size=size, duration_seconds=4))

    params = fake.creates[0].params
    assert (params["aspectRatio"], params["resolution"], params["durationSeconds"]) == (
        aspect_ratio,
        resolution,
        4,
    )


def test_size_veo_cannot_make_fails_before_any_create(veo: VeoProvider, fake: FakeVeoServer) -> None:
    with pytest.raises(PermanentProviderError, match="cannot make size"):
        veo.submit(request_for(size="1024x1792"))

    assert fake.create_count() == 0
    assert veo_format("1080x1920") == ("9:16", "1080p")


def test_rate_limited_create_is_retryable_with_retry_after_and_sent_only_once(
    veo: VeoProvider, fake: FakeVeoServer
) -> None:
    prompt = "a crowded market [429]"

    with pytest.raises(RetryableProviderError) as raised:
        veo.submit(request_for(prompt))

    assert raised.value.retry_after == 2.0
    assert raised.value.answered  # the provider replied: this create was refused, not accepted
    assert fake.create_count(prompt) == 1


def test_server_error_on_create_is_retryable_and_sent_only_once(
    veo: VeoProvider, fake: FakeVeoServer
) -> None:
    prompt = "a stormy harbour [500]"

    with pytest.raises(RetryableProviderError) as raised:
        veo.submit(request_for(prompt))

    assert raised.value.answered
    assert fake.create_count(prompt) == 1


def test_scripted_server_errors_on_create_are_not_retried_by_the_sdk(
    veo: VeoProvider, fake: FakeVeoServer
) -> None:
    fake.script("[flaky]", Script(create_status=503, create_status_times=2))

    with pytest.raises(RetryableProviderError):
        veo.submit(request_for("a flaky scene [flaky]"))

    assert fake.create_count() == 1


def test_rejected_key_is_permanent_with_a_message_the_user_can_act_on(fake: FakeVeoServer) -> None:
    # Google answers a bad key with 400 API_KEY_INVALID, not 401.
    with (
        VeoProvider("AIza-revoked", settings_for(fake.base_url)) as veo,
        pytest.raises(PermanentProviderError) as raised,
    ):
        veo.submit(request_for())

    assert "PUT /api/keys/veo" in str(raised.value)
    assert "AIza-revoked" not in str(raised.value)


def test_refused_prompt_is_permanent_with_the_providers_reason(veo: VeoProvider) -> None:
    with pytest.raises(PermanentProviderError, match="violates the usage guidelines"):
        veo.submit(request_for("something forbidden [refused]"))


def test_filtered_video_fails_with_the_providers_reasons(veo: VeoProvider) -> None:
    submission = veo.submit(request_for("a scene [filtered]"))

    result = veo.poll(submission.provider_job_id)
    result = veo.poll(submission.provider_job_id)

    assert result.state == "failed"
    assert result.error is not None
    assert "safety filter" in result.error
    assert "person generation blocked 1 video" in result.error


def test_failed_operation_reports_its_error_message(veo: VeoProvider, fake: FakeVeoServer) -> None:
    fake.script("[broken]", Script(outcome="failed", message="Generation backend unavailable."))
    submission = veo.submit(request_for("a scene [broken]"))

    finish(veo, submission.provider_job_id)
    result = veo.poll(submission.provider_job_id)

    assert result.state == "failed"
    assert result.error is not None
    assert "Generation backend unavailable." in result.error


def test_completed_operation_with_an_empty_video_downloads_no_bytes(veo: VeoProvider) -> None:
    # The adapter reports what it got; the worker judges a zero-byte video a failure.
    submission = veo.submit(request_for("an empty scene [empty]"))

    assert finish(veo, submission.provider_job_id) == "completed"
    assert b"".join(veo.download(submission.provider_job_id, "video")) == b""


def test_operation_that_never_finishes_stays_processing(veo: VeoProvider) -> None:
    submission = veo.submit(request_for("an endless scene [never]"))

    states = {veo.poll(submission.provider_job_id).state for _ in range(5)}

    assert states == {"processing"}


def test_unknown_operation_is_permanent(veo: VeoProvider) -> None:
    name = f"projects/p/locations/l/publishers/google/models/{MODEL}/operations/0123abc"

    with pytest.raises(PermanentProviderError, match="no such job"):
        veo.poll(name)


def test_transient_poll_failure_is_retried_inside_the_sdk(veo: VeoProvider, fake: FakeVeoServer) -> None:
    submission = veo.submit(request_for())
    fake.fail_next("poll", 503)

    result = veo.poll(submission.provider_job_id)

    assert result.state == "processing"
    assert fake.count("poll") == 2


def test_unreachable_provider_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with (
        VeoProvider(KEY, settings_for(f"http://127.0.0.1:{closed_port}")) as veo,
        pytest.raises(RetryableProviderError, match="could not reach") as raised,
    ):
        veo.submit(request_for())
    assert not raised.value.answered  # no reply: the create may or may not have started


def test_find_existing_is_none_because_veo_cannot_list_operations(veo: VeoProvider) -> None:
    mark = datetime.now(UTC)
    veo.submit(request_for(not_before=mark))

    assert veo.find_existing(request_for(not_before=mark)) is None


def test_the_api_key_never_reaches_logs_or_records(
    veo: VeoProvider, fake: FakeVeoServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    submission = veo.submit(request_for())
    finish(veo, submission.provider_job_id)
    b"".join(veo.download(submission.provider_job_id, "video"))
    with pytest.raises(RetryableProviderError) as raised:
        veo.submit(request_for("busy [429]"))

    assert KEY not in caplog.text
    assert KEY not in repr(fake.creates)
    assert KEY not in str(raised.value)
    assert all(record.key_sent for record in fake.creates)
