"""What only the fal adapter does, beyond the provider contract: each catalog model's body in its
endpoint's own spelling, request URLs under the app id, the CDN fetched without the key, fal's
422 reasons as failed jobs, its cancel answers, the queue's statuses, and the key check."""

from __future__ import annotations

import socket
from contextlib import closing
from typing import Any

import pytest

from devstack.fakes import FakeFalServer, Script
from tests.integration.providers.cases import FAL, ProviderCase, finish
from videogen.catalog import MODELS
from videogen.catalog.fal_models import FAL_WIRE
from videogen.providers import PermanentProviderError, ProviderKey, RetryableProviderError, VideoProvider
from videogen.providers.fal import FalProvider, app_id

pytestmark = pytest.mark.parametrize("case", [FAL], indirect=True, ids=str)

FAL_MODELS = [spec for spec in MODELS if spec.provider == "fal"]


def _submit_and_finish(case: ProviderCase, provider: VideoProvider, **request: Any) -> str:
    submission = provider.submit(case.request(**request))
    result = finish(provider, submission.provider_job_id)
    assert (result.state, result.error) == ("completed", None)
    return submission.provider_job_id


def test_every_catalog_size_and_duration_of_every_fal_model_is_accepted_by_its_endpoint(
    case: ProviderCase, provider: VideoProvider, fake: FakeFalServer
) -> None:
    # Given every size and duration the catalog offers for each fal model
    offered = [(s.id, size, d) for s in FAL_MODELS for size in s.sizes for d in s.durations_for(size)]

    # When each is generated, the endpoint's own schema checks the body fal receives
    refused = []
    for model, size, seconds in offered:
        submission = provider.submit(case.request(model=model, size=size, duration_seconds=seconds))
        result = finish(provider, submission.provider_job_id)
        if result.state != "completed":
            refused.append((model, size, seconds, result.error))

    # Then none is refused: the catalog offers only what each endpoint takes, in its spelling
    assert refused == []
    assert {record.params["endpoint"] for record in fake.creates} == {s.provider_model for s in FAL_MODELS}
    assert set(FAL_WIRE) == {s.id for s in FAL_MODELS}


@pytest.mark.parametrize(
    ("model", "size", "seconds", "body"),
    [
        (
            "kling-2.5-turbo-pro",
            "1080x1920",
            10,
            {"duration": "10", "aspect_ratio": "9:16", "negative_prompt": "text overlays"},
        ),
        (
            "kling-3.0-pro",
            "1920x1080",
            7,
            {
                "duration": "7",
                "aspect_ratio": "16:9",
                "generate_audio": True,
                "negative_prompt": "text overlays",
            },
        ),
        (
            "seedance-2.0-fast",
            "720x1280",
            8,
            {"duration": "8", "aspect_ratio": "9:16", "resolution": "720p", "generate_audio": True},
        ),
        ("hailuo-02-pro", "1920x1080", 6, {}),
        (
            "ltx-2.3",
            "3840x2160",
            10,
            {"duration": 10, "aspect_ratio": "16:9", "resolution": "2160p", "generate_audio": True},
        ),
    ],
)
def test_the_create_spells_the_request_as_the_models_endpoint_takes_it(
    case: ProviderCase,
    provider: VideoProvider,
    fake: FakeFalServer,
    *,
    model: str,
    size: str,
    seconds: int,
    body: dict[str, Any],
) -> None:
    # A negative prompt goes only to models that take one
    _submit_and_finish(
        case, provider, model=model, size=size, duration_seconds=seconds, negative_prompt="text overlays"
    )

    endpoint = next(s.provider_model for s in FAL_MODELS if s.id == model)
    assert fake.creates[0].params == {"endpoint": endpoint, **body}
    assert fake.creates[0].prompt == case.request().prompt


@pytest.mark.parametrize("omit_urls", [False, True], ids=["response-url", "built-from-app-id"])
def test_status_and_result_are_read_under_the_app_id_not_the_endpoint_path(
    case: ProviderCase, provider: VideoProvider, fake: FakeFalServer, omit_urls: bool
) -> None:
    # Given an endpoint with sub-paths, and a queue that may or may not answer the request's URLs
    fake.omit_urls = omit_urls

    # When a job is polled to completion (the fake finds requests under the app id only)
    job_id = _submit_and_finish(
        case, provider, model="kling-2.5-turbo-pro", size="1920x1080", duration_seconds=5
    )

    # Then its id is the app's request path
    assert job_id.startswith("fal-ai/kling-video/requests/")
    assert [app_id(s.provider_model) for s in FAL_MODELS] == [
        "fal-ai/kling-video",
        "fal-ai/kling-video",
        "bytedance/seedance-2.0",
        "fal-ai/minimax",
        "fal-ai/ltx-2.3",
    ]
    assert app_id("workflows/someone/my-flow/run") == "workflows/someone/my-flow"


def test_queue_statuses_map_to_processing_without_progress_then_completed_with_the_reported_length(
    case: ProviderCase, provider: VideoProvider
) -> None:
    submission = provider.submit(case.request(model="ltx-2.3", size="1920x1080", duration_seconds=8))

    queued, running, done = (provider.poll(submission.provider_job_id) for _ in range(3))

    assert (queued.state, queued.progress) == ("processing", 0)  # IN_QUEUE
    assert (running.state, running.progress) == ("processing", 0)  # IN_PROGRESS
    assert (done.state, done.progress, done.duration_seconds) == ("completed", 100, 8.0)


def test_the_video_comes_from_the_cdn_without_the_key_through_a_redirect(
    case: ProviderCase, provider: VideoProvider, fake: FakeFalServer
) -> None:
    # Given a result whose video URL is on another host and redirects once
    fake.cdn_redirect = True
    fake.cdn_origin = fake.origin.replace("127.0.0.1", "localhost")
    job_id = _submit_and_finish(case, provider)

    video = b"".join(provider.download(job_id, "video"))

    assert video[4:8] == b"ftyp"
    assert fake.cdn_keys_sent == [False, False]  # the redirect, then the file: no Authorization


def test_an_input_the_endpoint_refuses_fails_the_job_with_fals_reason(
    case: ProviderCase, provider: VideoProvider
) -> None:
    # Given a length LTX-2.3 does not make (the catalog would refuse it; fal's model does too)
    submission = provider.submit(case.request(model="ltx-2.3", size="1920x1080", duration_seconds=7))

    result = provider.poll(submission.provider_job_id)

    # Then the job fails quoting the field and what it allows, and no video can be fetched
    assert result.state == "failed"
    assert result.error == "fal refused the request: duration: Input should be 6, 8 or 10 (literal_error)"
    with pytest.raises(PermanentProviderError, match="Input should be 6, 8 or 10"):
        b"".join(provider.download(submission.provider_job_id, "video"))


def test_a_failed_generation_is_read_once_not_retried_as_a_busy_server(
    case: ProviderCase, provider: VideoProvider, fake: FakeFalServer
) -> None:
    fake.script("[broken]", Script(outcome="failed", message="CUDA out of memory."))
    submission = provider.submit(case.request("a scene [broken]"))

    result = finish(provider, submission.provider_job_id)

    assert (result.state, result.error) == (
        "failed",
        "fal failed the request: CUDA out of memory. (runner_server_error)",
    )
    assert fake.count("result") == 1  # its stored 500 is the outcome, not a transient fault


def test_a_model_that_makes_one_length_refuses_another_before_any_create(
    case: ProviderCase, provider: VideoProvider, fake: FakeFalServer
) -> None:
    with pytest.raises(PermanentProviderError, match="hailuo-02-pro makes 6 s clips only, not 8 s"):
        provider.submit(case.request(model="hailuo-02-pro", size="1920x1080", duration_seconds=8))

    assert fake.create_count() == 0


def test_cancelling_a_finished_request_is_refused_as_already_completed(
    case: ProviderCase, provider: VideoProvider, fake: FakeFalServer
) -> None:
    job_id = _submit_and_finish(case, provider)

    with pytest.raises(PermanentProviderError, match="already finished"):
        provider.cancel(job_id)

    assert fake.cancels == []
    assert [call.status for call in fake.calls if call.route == "cancel"] == [400]


def _checker(case: ProviderCase, secret: str, platform_url: str) -> FalProvider:
    settings = case.settings("http://127.0.0.1:9").model_copy(update={"fal_platform_base_url": platform_url})
    return FalProvider(ProviderKey(secret), settings)


def test_a_key_is_checked_with_the_platform_apis_pricing_read(
    case: ProviderCase, fake: FakeFalServer
) -> None:
    platform = f"{fake.base_url}/v1"
    with closing(_checker(case, case.key, platform)) as provider:
        provider.check_key()
    with (
        closing(_checker(case, case.revoked_key, platform)) as provider,
        pytest.raises(PermanentProviderError) as raised,
    ):
        provider.check_key()

    assert "PUT /api/keys/fal" in str(raised.value)
    assert case.revoked_key not in str(raised.value)
    assert [call.status for call in fake.calls if call.route == "pricing"] == [200, 401]
    assert fake.create_count() == 0  # nothing queued, nothing billed


def test_a_key_check_that_cannot_reach_fal_leaves_the_key_unverified(
    case: ProviderCase, fake: FakeFalServer
) -> None:
    fake.fail_next("list", 503)
    with (
        closing(_checker(case, case.key, f"{fake.base_url}/v1")) as provider,
        pytest.raises(RetryableProviderError),
    ):
        provider.check_key()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"
    with (
        closing(_checker(case, case.key, closed)) as provider,
        pytest.raises(RetryableProviderError, match="could not reach"),
    ):
        provider.check_key()
