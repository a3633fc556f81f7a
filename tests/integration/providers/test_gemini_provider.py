"""What only the Gemini API's Veo adapter does, beyond the provider contract: the create's URL and
body, operation names as job ids, downloads that follow Google's redirect (the key only to
Google's API hosts, nothing outside Google), safety-filter reasons, and the key check."""

from __future__ import annotations

import base64
import io
import socket
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import httpx2
import pytest
from PIL import Image

from devstack.fakes import FakeGeminiServer, Script
from tests.integration.providers.cases import GEMINI, ProviderCase, finish
from videogen.providers import PermanentProviderError, RetryableProviderError, VideoProvider
from videogen.providers.gemini import GeminiVeoProvider

pytestmark = pytest.mark.parametrize("case", [GEMINI], indirect=True, ids=str)


class _GoogleHostsToFake(httpx2.BaseTransport):
    """Sends requests for Google's hosts to the fake, as DNS would send them to Google."""

    def __init__(self, fake_origin: str) -> None:
        self._fake = httpx2.URL(fake_origin)
        self._inner = httpx2.HTTPTransport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.host.endswith((".googleusercontent.com", ".googleapis.com")):
            request.url = request.url.copy_with(scheme="http", host=self._fake.host, port=self._fake.port)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


@pytest.fixture
def routed(case: ProviderCase, fake: FakeGeminiServer) -> Iterator[GeminiVeoProvider]:
    """The adapter with Google's download hosts routed to the fake."""
    key = case.provider_key(case.key, fake.base_url)
    transport = _GoogleHostsToFake(fake.origin)
    with closing(GeminiVeoProvider(key, case.settings(fake.base_url), transport=transport)) as adapter:
        yield adapter


# --- the create -------------------------------------------------------------------------------


def test_the_create_is_one_post_with_the_documented_body_and_the_operation_name_is_the_job_id(
    case: ProviderCase, provider: VideoProvider, fake: FakeGeminiServer
) -> None:
    submission = provider.submit(case.request(negative_prompt="text overlays"))

    assert submission.provider_job_id.startswith(f"models/{case.model}/operations/")
    assert [call.route for call in fake.calls] == ["create"]
    # No personGeneration: Google's default is the only value every region accepts for text.
    assert fake.creates[0].params == {
        "model": case.model,
        "aspectRatio": "16:9",
        "resolution": "720p",
        "durationSeconds": 8,
        "negativePrompt": "text overlays",
    }


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("720x1280", ("9:16", "720p")),
        ("1920x1080", ("16:9", "1080p")),
        ("1080x1920", ("9:16", "1080p")),
        ("3840x2160", ("16:9", "4k")),
        ("2160x3840", ("9:16", "4k")),
    ],
)
def test_catalog_sizes_become_aspect_ratio_and_resolution(
    case: ProviderCase, provider: VideoProvider, fake: FakeGeminiServer, size: str, expected: tuple[str, str]
) -> None:
    provider.submit(case.request(size=size))

    params = fake.creates[0].params
    assert (params["aspectRatio"], params["resolution"], params["durationSeconds"]) == (*expected, 8)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        (
            {"model": "veo-3.1-lite-generate-preview", "size": "3840x2160"},
            "Unsupported resolution '4k'",
        ),
        ({"size": "1920x1080", "duration_seconds": 4}, "Resolution 1080p takes durationSeconds 8 only"),
        (
            {"model": "veo-3.1-fast-generate-preview", "size": "2160x3840", "duration_seconds": 6},
            "Resolution 4k takes durationSeconds 8 only",
        ),
    ],
)
def test_what_the_api_does_not_offer_is_refused_permanently_with_its_reason(
    case: ProviderCase, provider: VideoProvider, overrides: dict[str, Any], reason: str
) -> None:
    with pytest.raises(PermanentProviderError, match="refused the request") as raised:
        provider.submit(case.request(**overrides))

    assert reason in str(raised.value)
    assert "(INVALID_ARGUMENT)" in str(raised.value)


def test_a_model_the_api_does_not_serve_is_permanent_naming_it(
    case: ProviderCase, provider: VideoProvider, fake: FakeGeminiServer
) -> None:
    with pytest.raises(PermanentProviderError, match="veo has no model 'veo-9-generate-preview'"):
        provider.submit(case.request(model="veo-9-generate-preview"))

    assert fake.create_count() == 1


def test_size_veo_cannot_make_fails_before_any_create(
    case: ProviderCase, provider: VideoProvider, fake: FakeGeminiServer
) -> None:
    with pytest.raises(PermanentProviderError, match="cannot make size"):
        provider.submit(case.request(size="1000x1000"))

    assert fake.calls == []


def test_a_job_id_that_is_no_operation_name_is_refused_without_a_call(
    provider: VideoProvider, fake: FakeGeminiServer
) -> None:
    with pytest.raises(PermanentProviderError, match="no such job"):
        provider.poll("files/../../v1beta/models")

    assert fake.calls == []


# --- finished operations ----------------------------------------------------------------------


def test_filtered_video_fails_with_googles_reasons_and_is_not_downloadable(
    case: ProviderCase, provider: VideoProvider
) -> None:
    submission = provider.submit(case.request("a crowd scene [filtered]"))

    result = finish(provider, submission.provider_job_id)

    assert result.state == "failed"
    assert result.error is not None
    assert result.error.startswith("veo's safety filter blocked the video: ")
    assert "You will not be charged for blocked videos" in result.error
    with pytest.raises(PermanentProviderError, match="safety filter"):
        b"".join(provider.download(submission.provider_job_id, "video"))


def test_failed_operation_reports_googles_message_and_code(
    case: ProviderCase, provider: VideoProvider, fake: FakeGeminiServer
) -> None:
    fake.script("[boom]", Script(outcome="failed", message="Internal rendering error."))
    submission = provider.submit(case.request("a scene [boom]"))

    result = finish(provider, submission.provider_job_id)

    assert result.error == "veo failed the operation: Internal rendering error. (code 13)"


# --- downloads: the redirect, the key, Google's hosts -------------------------------------------


def test_download_follows_the_redirect_from_the_files_uri_to_storage(
    case: ProviderCase, provider: VideoProvider, fake: FakeGeminiServer
) -> None:
    submission = provider.submit(case.request())
    finish(provider, submission.provider_job_id)

    video = b"".join(provider.download(submission.provider_job_id, "video"))

    assert video[4:8] == b"ftyp"
    assert (fake.count("content"), fake.count("storage")) == (1, 1)
    assert fake.storage_calls == [True]  # storage on the API's own host: the key may go there


@pytest.mark.parametrize(
    ("storage_origin", "key_sent"),
    [("https://video-downloads.googleusercontent.com", False), ("https://storage.googleapis.com", True)],
)
def test_the_key_goes_to_googles_api_hosts_only(
    case: ProviderCase,
    routed: GeminiVeoProvider,
    fake: FakeGeminiServer,
    storage_origin: str,
    key_sent: bool,
) -> None:
    # Given a files uri that redirects to another Google host
    fake.storage_origin = storage_origin
    submission = routed.submit(case.request())
    finish(routed, submission.provider_job_id)

    # When the video is fetched
    video = b"".join(routed.download(submission.provider_job_id, "video"))

    # Then the redirect was followed, with the key only on *.googleapis.com
    assert video[4:8] == b"ftyp"
    assert fake.storage_calls == [key_sent]


def test_a_redirect_outside_google_is_refused_before_it_connects(
    case: ProviderCase, provider: VideoProvider, fake: FakeGeminiServer
) -> None:
    # Given a files uri that redirects to a host that is not Google's (same server, other name)
    fake.storage_origin = fake.origin.replace("127.0.0.1", "localhost")
    submission = provider.submit(case.request())
    finish(provider, submission.provider_job_id)

    with pytest.raises(PermanentProviderError, match="outside Google") as raised:
        b"".join(provider.download(submission.provider_job_id, "video"))

    assert "localhost" in str(raised.value)
    assert fake.storage_calls == []


# --- the key check ----------------------------------------------------------------------------


def test_check_key_accepts_a_key_google_accepts_with_one_cheap_read(
    provider: VideoProvider, fake: FakeGeminiServer
) -> None:
    provider.check_key()

    assert [(call.route, call.status) for call in fake.calls] == [("list", 200)]
    assert fake.creates == []


def test_check_key_rejection_quotes_google_and_never_the_key(
    case: ProviderCase, fake: FakeGeminiServer
) -> None:
    key = case.provider_key(case.revoked_key, fake.base_url)
    with (
        closing(case.adapter(key, case.settings(fake.base_url))) as provider,
        pytest.raises(PermanentProviderError) as raised,
    ):
        provider.check_key()

    assert "API key not valid. Please pass a valid API key." in str(raised.value)
    assert case.revoked_key not in str(raised.value)
    assert fake.count("list") == 1  # a rejection is not retried


def test_check_key_when_google_is_busy_is_retryable(provider: VideoProvider, fake: FakeGeminiServer) -> None:
    fake.fail_next("list", 503, retry_after=0.01, times=3)

    with pytest.raises(RetryableProviderError, match="busy") as raised:
        provider.check_key()

    assert raised.value.answered
    assert fake.count("list") == 3


def test_check_key_when_google_is_unreachable_is_retryable(case: ProviderCase) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        base_url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with (
        closing(case.adapter(case.provider_key(case.key, base_url), case.settings(base_url))) as provider,
        pytest.raises(RetryableProviderError, match="could not reach"),
    ):
        provider.check_key()


# --- the fake keeps Google's rules ------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "region", "allowed"),
    [(False, "us", "allow_all"), (False, "eu", "allow_adult"), (True, "us", "allow_adult")],
    ids=["text", "text-in-the-eu", "image"],
)
def test_the_fake_allows_person_generation_as_google_documents(
    case: ProviderCase, fake: FakeGeminiServer, image: bool, region: str, allowed: str
) -> None:
    fake.region = region
    instance: dict[str, object] = {"prompt": "two people talk"}
    if image:
        frame = io.BytesIO()
        Image.new("RGB", (16, 9), (200, 30, 30)).save(frame, "PNG")
        instance["image"] = {
            "inlineData": {"mimeType": "image/png", "data": base64.b64encode(frame.getvalue()).decode()}
        }

    statuses = {
        person: httpx2.post(
            f"{fake.origin}/v1beta/models/{case.model}:predictLongRunning",
            json={"instances": [instance], "parameters": {"personGeneration": person}},
            headers={"x-goog-api-key": case.key},
        ).status_code
        for person in ("allow_all", "allow_adult")
    }

    assert statuses == {person: 200 if person == allowed else 400 for person in statuses}
