"""What only the Veo adapter does, beyond the provider contract: operation names as job ids,
catalog sizes as aspect ratio and resolution, video uris (the key only to trusted hosts), and
Google's safety-filter reasons."""

from __future__ import annotations

import pytest

from devstack.fakes import FakeVeoServer
from tests.integration.providers.cases import VERTEX, ProviderCase, finish
from videogen.providers import PermanentProviderError, VideoProvider
from videogen.providers.vertex import veo_format

pytestmark = pytest.mark.parametrize("case", [VERTEX], indirect=True, ids=str)


def test_the_job_id_is_the_operation_name_and_the_create_carries_the_negative_prompt(
    case: ProviderCase, provider: VideoProvider, fake: FakeVeoServer
) -> None:
    submission = provider.submit(case.request(negative_prompt="text overlays"))

    assert "/operations/" in submission.provider_job_id
    assert fake.creates[0].params == {
        "model": case.model,
        "sampleCount": 1,
        "durationSeconds": 8,
        "aspectRatio": "16:9",
        "resolution": "720p",
        "negativePrompt": "text overlays",
    }


def test_video_behind_a_uri_is_streamed_with_the_key(
    case: ProviderCase, provider: VideoProvider, fake: FakeVeoServer
) -> None:
    fake.video_delivery = "uri"
    submission = provider.submit(case.request())
    assert finish(provider, submission.provider_job_id).state == "completed"

    video = b"".join(provider.download(submission.provider_job_id, "video"))

    assert video[4:8] == b"ftyp"
    assert fake.count("content") == 1


def test_key_is_not_sent_to_a_video_uri_on_another_host(
    case: ProviderCase, provider: VideoProvider, fake: FakeVeoServer
) -> None:
    # Given a uri on a host other than the API's (same server, other name)
    fake.video_delivery = "uri"
    fake.uri_origin = fake.origin.replace("127.0.0.1", "localhost")
    submission = provider.submit(case.request())
    finish(provider, submission.provider_job_id)

    # When the adapter fetches it, the key stays behind, so the (key-checking) fake refuses
    with pytest.raises(PermanentProviderError):
        b"".join(provider.download(submission.provider_job_id, "video"))

    assert [call.status for call in fake.calls if call.route == "content"] == [403]


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("1280x720", ("16:9", "720p")),
        ("720x1280", ("9:16", "720p")),
        ("1920x1080", ("16:9", "1080p")),
        ("1080x1920", ("9:16", "1080p")),
    ],
)
def test_catalog_sizes_become_aspect_ratio_and_resolution(
    case: ProviderCase, provider: VideoProvider, fake: FakeVeoServer, size: str, expected: tuple[str, str]
) -> None:
    provider.submit(case.request(size=size, duration_seconds=4))

    params = fake.creates[0].params
    assert (params["aspectRatio"], params["resolution"], params["durationSeconds"]) == (*expected, 4)


def test_size_veo_cannot_make_fails_before_any_create(
    case: ProviderCase, provider: VideoProvider, fake: FakeVeoServer
) -> None:
    with pytest.raises(PermanentProviderError, match="cannot make size"):
        provider.submit(case.request(size="1000x1000"))

    assert fake.create_count() == 0
    assert veo_format("1080x1920") == ("9:16", "1080p")


def test_filtered_video_fails_with_googles_filter_reasons(
    case: ProviderCase, provider: VideoProvider
) -> None:
    submission = provider.submit(case.request("a scene [filtered]"))

    result = finish(provider, submission.provider_job_id)

    assert result.state == "failed"
    assert result.error is not None
    assert "safety filter" in result.error
    assert "person generation blocked 1 video" in result.error
