"""What only the Sora adapter does, beyond the provider contract: progress and the OpenAI
poll-after hint, idempotency keys, OpenAI's error codes, and a list-based find_existing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devstack.fakes import FakeSoraServer
from tests.integration.providers.cases import OPENAI, ProviderCase
from videogen.providers import VideoProvider

pytestmark = [
    pytest.mark.parametrize("case", [OPENAI], indirect=True, ids=str),
    # The SDK flags every videos method deprecated (OpenAI's own endpoint closes); irrelevant here.
    pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning"),
]


def test_polls_report_growing_progress_and_the_finished_videos_expiry(
    case: ProviderCase, provider: VideoProvider, fake: FakeSoraServer
) -> None:
    # Given a job the provider finishes after two polls
    submission = provider.submit(case.request())

    # When the worker polls until it completes
    first, second, done = (provider.poll(submission.provider_job_id) for _ in range(3))

    # Then progress grows while it runs, the expiry is passed on, and the create said what we asked
    assert 0 < first.progress < second.progress < 100
    assert (done.state, done.progress) == ("completed", 100)
    assert "expires_at" in done.extra
    assert fake.creates[0].params == {"model": "sora-2", "seconds": "8", "size": "1280x720"}


def test_poll_after_hint_is_passed_on_while_the_job_runs(case: ProviderCase, provider: VideoProvider) -> None:
    submission = provider.submit(case.request())

    running = provider.poll(submission.provider_job_id)

    assert submission.poll_after_seconds == 0.25
    assert running.poll_after_seconds == 0.25


def test_create_sends_an_idempotency_key_derived_from_the_job(
    case: ProviderCase, provider: VideoProvider, fake: FakeSoraServer
) -> None:
    provider.submit(case.request(job_id="job-42"))

    assert fake.creates[0].idempotency_key == "videogen-job-42"


@pytest.mark.parametrize(
    ("marker", "expected"),
    [("[fail]", "video_generation_failed: "), ("[filtered]", "moderation_blocked: ")],
)
def test_failed_job_reports_openais_error_code_before_the_message(
    case: ProviderCase, provider: VideoProvider, marker: str, expected: str
) -> None:
    submission = provider.submit(case.request(f"a scene {marker}"))

    results = [provider.poll(submission.provider_job_id) for _ in range(3)]

    assert results[-1].state == "failed"
    assert results[-1].error is not None
    assert results[-1].error.startswith(expected)


def test_find_existing_walks_past_the_first_page(
    case: ProviderCase, provider: VideoProvider, fake: FakeSoraServer
) -> None:
    # Given the lost job and 105 newer ones: the list answers 100 per page
    mark = datetime.now(UTC)
    lost = provider.submit(case.request())
    for index in range(105):
        provider.submit(case.request(f"a later scene {index}"))

    # When the worker looks the lost job up
    found = provider.find_existing(case.request(not_before=mark))

    # Then it is found on the second page
    assert found is not None
    assert found.provider_job_id == lost.provider_job_id
    assert fake.count("list") == 2
