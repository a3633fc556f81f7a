"""Each provider as the contract suite sees it: its fake, its adapter, and what it answers.

A new provider joins the contract by adding a ``ProviderCase`` to ``CASES`` (and a fake
server in devstack.fakes); what only it does goes in its own test module beside the contract.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from devstack.fakes import FakeFalServer, FakeGeminiServer, FakeProviderServer, FakeSoraServer, FakeVeoServer
from videogen.providers import (
    GenerationRequest,
    PermanentProviderError,
    PollResult,
    ProviderKey,
    VideoProvider,
)
from videogen.providers.fal import FalProvider
from videogen.providers.gemini import GeminiVeoProvider
from videogen.providers.openai_compatible import OpenAICompatibleProvider
from videogen.providers.vertex import VertexVeoProvider
from videogen.runtime.config import Settings

LOOPBACK_ENDPOINTS: dict[str, Any] = {
    "provider_endpoint_allowlist": "127.0.0.1",
    "allow_http_provider_endpoints": True,
}
"""Settings letting an OpenAI-compatible key name a fake on loopback (refused otherwise)."""


def _use_video_uris(fake: FakeProviderServer) -> None:
    if isinstance(fake, FakeVeoServer):
        fake.video_delivery = "uri"


@dataclass(frozen=True)
class ProviderCase:
    """One provider under the contract."""

    name: str  # as in get_provider() and PUT /api/keys/<name>
    fake_class: type[FakeProviderServer]
    adapter: Callable[[ProviderKey, Settings], VideoProvider]
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
    cancels: bool = True  # the API has a cancel; without one, cancel() refuses and calls nothing
    # The create accepts any input and the model refuses it when the job runs (fal's queue): the
    # refusal is then the finished job's failure, not the create's error.
    refuses_when_run: bool = False
    fake_options: dict[str, Any] = field(default_factory=dict)
    api: str | None = None  # which Google API a veo key is for
    key_carries_base_url: bool = False  # the stored key names the endpoint (OpenAI-compatible)
    # Makes the fake deliver videos so that download() fetches them over HTTP.
    stream_downloads: Callable[[FakeProviderServer], None] = lambda fake: None

    def __str__(self) -> str:
        return self.api or self.name

    def provider_key(self, secret: str, base_url: str) -> ProviderKey:
        """``secret`` as the worker holds it, with the endpoint ``base_url`` when the key carries one."""
        return ProviderKey(secret, api=self.api, base_url=base_url if self.key_carries_base_url else None)

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


OPENAI = ProviderCase(
    name="openai",
    fake_class=FakeSoraServer,
    adapter=OpenAICompatibleProvider,
    settings=lambda base_url: Settings(
        provider_timeout_seconds=5, function_timeout_seconds=180, **LOOPBACK_ENDPOINTS
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
    key_carries_base_url=True,
)
VERTEX = ProviderCase(
    name="veo",
    api="vertex",
    fake_class=FakeVeoServer,
    adapter=VertexVeoProvider,
    settings=lambda base_url: Settings(
        vertex_base_url=base_url, provider_timeout_seconds=5, function_timeout_seconds=180
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
GEMINI = ProviderCase(
    name="veo",
    api="gemini",
    fake_class=FakeGeminiServer,
    adapter=GeminiVeoProvider,
    settings=lambda base_url: Settings(
        gemini_base_url=base_url, provider_timeout_seconds=5, function_timeout_seconds=180
    ),
    key="AIza-gemini-test-secret-0123456789",
    revoked_key="AIza-gemini-revoked",
    model="veo-3.1-generate-preview",
    other_model="veo-3.1-fast-generate-preview",
    api_path="",
    unknown_job_id="models/veo-3.1-generate-preview/operations/0123abc",
    refusal=("violates the usage guidelines", "INVALID_ARGUMENT"),
    unoffered_duration=(10, "durationSeconds takes 4, 6 or 8"),
    reported_duration=None,  # the operation does not report it; the worker bills the request
    thumbnails=False,
    finds_existing=False,  # listed operations carry nothing to tell ours apart
    cancels=False,  # the Gemini API has no cancel for Veo operations
)
FAL = ProviderCase(
    name="fal",
    fake_class=FakeFalServer,
    adapter=FalProvider,
    settings=lambda base_url: Settings(
        fal_queue_base_url=base_url,
        fal_platform_base_url=f"{base_url}/v1",
        provider_timeout_seconds=5,
        function_timeout_seconds=180,
    ),
    key="fal-key-id:fal-test-secret-0123456789",
    revoked_key="fal-key-id:revoked-secret",
    model="seedance-2.0-fast",
    other_model="kling-3.0-pro",
    api_path="",
    unknown_job_id="bytedance/seedance-2.0/requests/00000000-0000-4000-8000-000000000000",
    refusal=("flagged by a content checker", "content_policy_violation"),
    unoffered_duration=(16, "duration: Input should be 'auto', '4'"),
    reported_duration=None,  # Seedance's output is a plain file (LTX-2.3's reports it)
    thumbnails=False,
    finds_existing=False,  # fal lists finished requests only, not the queued one a lost create left
    refuses_when_run=True,
)
CASES = (OPENAI, VERTEX, GEMINI, FAL)
POLLS_TO_FINISH = 3  # the ``fake`` fixture's jobs finish on the third poll


def finish(provider: VideoProvider, job_id: str) -> PollResult:
    """Poll as often as the ``fake`` fixture needs to finish a job; the last result."""
    return [provider.poll(job_id) for _ in range(POLLS_TO_FINISH)][-1]


def refusal_reason(case: ProviderCase, provider: VideoProvider, request: GenerationRequest) -> str:
    """Why the provider refuses ``request``: the create's permanent error, or the finished job's
    failure when ``case.refuses_when_run``."""
    if not case.refuses_when_run:
        with pytest.raises(PermanentProviderError) as raised:
            provider.submit(request)
        return str(raised.value)
    result = finish(provider, provider.submit(request).provider_job_id)
    assert result.state == "failed"
    return result.error or ""
