"""Each provider as the contract suite sees it: its fake, its adapter, and what it answers.

A new provider joins the contract by adding a ``ProviderCase`` to ``CASES`` (and a fake
server in devstack.fakes); what only it does goes in its own test module beside the contract.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devstack.fakes import FakeProviderServer, FakeSoraServer, FakeVeoServer
from videogen.providers import GenerationRequest, PollResult, VideoProvider
from videogen.providers.sora import SoraProvider
from videogen.providers.veo import VeoProvider
from videogen.runtime.config import Settings


def _use_video_uris(fake: FakeProviderServer) -> None:
    if isinstance(fake, FakeVeoServer):
        fake.video_delivery = "uri"


@dataclass(frozen=True)
class ProviderCase:
    """One provider under the contract."""

    name: str  # as in get_provider() and PUT /api/keys/<name>
    fake_class: type[FakeProviderServer]
    adapter: Callable[[str, Settings], VideoProvider]
    settings: Callable[[str], Settings]  # settings pointing the adapter at a base URL
    key: str
    revoked_key: str  # the fake rejects it
    model: str
    other_model: str  # another model of the same provider
    api_path: str  # the base URL's path after the origin
    unknown_job_id: str  # a well-formed id of a job the provider does not have
    refusal: tuple[str, ...]  # what the provider's reason for refusing a prompt says
    unoffered_duration: tuple[int, str]  # seconds the endpoint refuses, and words of its reason
    reported_duration: float | None  # what a finished 8 s job reports (None: not reported)
    thumbnails: bool
    finds_existing: bool  # it can list jobs, so a lost create is recovered
    fake_options: dict[str, Any] = field(default_factory=dict)
    # Makes the fake deliver videos so that download() fetches them over HTTP.
    stream_downloads: Callable[[FakeProviderServer], None] = lambda fake: None

    def __str__(self) -> str:
        return self.name

    def request(self, prompt: str = "Ada opens the lab door", **overrides: Any) -> GenerationRequest:
        """A request for an 8 s 1280x720 clip of ``prompt`` with this provider's model."""
        values: dict[str, Any] = {
            "job_id": "job-1",
            "model": self.model,
            "prompt": prompt,
            "duration_seconds": 8,
            "size": "1280x720",
        } | overrides
        return GenerationRequest(**values)


SORA = ProviderCase(
    name="sora",
    fake_class=FakeSoraServer,
    adapter=SoraProvider,
    settings=lambda base_url: Settings(
        sora_base_url=base_url, provider_timeout_seconds=5, function_timeout_seconds=180
    ),
    key="sk-test-secret-0123456789",
    revoked_key="sk-revoked",
    model="sora-2",
    other_model="sora-2-pro",
    api_path="/v1",
    unknown_job_id="video_does_not_exist",
    refusal=("blocked by our moderation system", "moderation_blocked"),
    unoffered_duration=(5, "Invalid value for 'seconds'"),
    reported_duration=8.0,
    thumbnails=True,
    finds_existing=True,
    fake_options={"poll_after_ms": 250},
)
VEO = ProviderCase(
    name="veo",
    fake_class=FakeVeoServer,
    adapter=VeoProvider,
    settings=lambda base_url: Settings(
        veo_base_url=base_url, provider_timeout_seconds=5, function_timeout_seconds=180
    ),
    key="AIza-test-secret-0123456789",
    revoked_key="AIza-revoked",
    model="veo-3.1-generate-001",
    other_model="veo-3.1-fast-generate-001",
    api_path="",
    unknown_job_id="projects/p/locations/l/publishers/google/models/veo-3.1-generate-001/operations/0123abc",
    refusal=("violates the usage guidelines",),
    unoffered_duration=(10, "Unsupported duration 10"),
    reported_duration=None,  # Veo does not report it; the worker bills the request
    thumbnails=False,
    finds_existing=False,  # the API cannot list operations
    stream_downloads=_use_video_uris,
)
CASES = (SORA, VEO)
POLLS_TO_FINISH = 3  # the ``fake`` fixture's jobs finish on the third poll


def finish(provider: VideoProvider, job_id: str) -> PollResult:
    """Poll as often as the ``fake`` fixture needs to finish a job; the last result."""
    return [provider.poll(job_id) for _ in range(POLLS_TO_FINISH)][-1]
