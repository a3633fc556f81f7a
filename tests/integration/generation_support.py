"""What the generation worker tests share: a clock the test moves,
stored provider keys, fake provider servers configured in settings, and a pipeline that feeds
queued steps back to the worker's handler the way Lambda's SQS trigger does."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update

from devstack.fakes import FakeSoraServer, FakeVeoServer, ManualClock
from tests.support import FakeLambdaContext, load_function, sqs_event
from tools.queues import InMemoryQueueSender, SentMessage
from videogen import keys
from videogen.data.db import session_scope
from videogen.data.models import VideoJob
from videogen.data.repositories import api_keys, video_jobs
from videogen.generation.worker import GenerationWorker
from videogen.messaging.messages import StepMessage
from videogen.providers import (
    GenerationRequest,
    ProviderKey,
    RetryableProviderError,
    Submission,
    VideoProvider,
    get_provider,
)
from videogen.runtime.config import get_settings

USER = "user-a"
"""The user of the ``env`` and ``new_job`` fixtures (conftest), with a key for each provider."""
SORA_KEY = "sk-worker-test-0123456789abcdef"
VEO_KEY = "AIza-worker-test-0123456789abcdef"
KEYS = {"openai": SORA_KEY, "veo": VEO_KEY}
MODELS = {"openai": "sora-2", "veo": "veo-3.1-fast-generate-001"}
DURATIONS = {"openai": 4, "veo": 8}
NOTHING_SWEPT = {
    "expired": 0,
    "recovered": 0,
    "repolled": 0,
    "resubmitted": 0,
    "recancelled": 0,
    "errors": 0,
    "films_expired": 0,
    "films_resent": 0,
    "cleanups_resent": 0,
    "references_swept": 0,
}
"""The sweeper's report when nothing was stuck."""


def step_body(job_id: uuid.UUID | str, step: str) -> str:
    return StepMessage.model_validate({"jobId": str(job_id), "step": step}).to_body()


KEY_APIS = {"veo": "vertex"}
"""The Google API of the tests' veo key: Vertex AI, whose fake the worker tests run against."""


def store_key(user_id: str, provider: str, plaintext: str | None = None, *, api: str | None = None) -> str:
    """Seal and store a provider key for ``user_id`` (KMS in moto); returns the plaintext.

    An openai key names the settings' default endpoint (``settings_for``: the fake's), a veo key
    is for ``api`` (default ``KEY_APIS["veo"]``).
    """
    plaintext = plaintext or KEYS[provider]
    base_url = get_settings().openai_default_base_url if provider == "openai" else None
    destination = keys.Destination(api=api or KEY_APIS.get(provider), base_url=base_url)
    sealed = keys.seal(user_id, provider, plaintext, destination)
    with session_scope() as s:
        api_keys.store(
            s,
            user_id,
            provider,
            encrypted_key=sealed.encrypted_key,
            key_hash=sealed.key_hash,
            last4=sealed.last4,
            api=destination.api,
            base_url=destination.base_url,
        )
    return plaintext


def job_fields(provider: str, prompt: str = "Ada opens the lab door") -> dict[str, Any]:
    """The columns of a job for ``provider`` as the generate route would fill them."""
    return {
        "provider": provider,
        "model": MODELS[provider],
        "prompt": prompt,
        "duration_seconds": DURATIONS[provider],
        "size": "1280x720",
    }


def set_status(job_id: uuid.UUID, status: str) -> None:
    """Put a job in ``status`` directly, as if earlier steps had run."""
    with session_scope() as s:
        s.execute(update(VideoJob).where(VideoJob.id == job_id).values(status=status))


def job_row(job_id: uuid.UUID | str) -> VideoJob:
    with session_scope() as s:
        job = video_jobs.get_by_id(s, uuid.UUID(str(job_id)))
    assert job is not None
    return job


@dataclass
class Fakes:
    sora: FakeSoraServer
    veo: FakeVeoServer

    def __getitem__(self, provider: str) -> FakeSoraServer | FakeVeoServer:
        return self.sora if provider == "openai" else self.veo


def start_fakes(*, poll_after_ms: int | None = None, complete_after_polls: int = 2) -> Iterator[Fakes]:
    """Both fake providers on loopback for one test."""
    with (
        FakeSoraServer(complete_after_polls=complete_after_polls, poll_after_ms=poll_after_ms) as sora,
        FakeVeoServer(complete_after_polls=complete_after_polls) as veo,
    ):
        yield Fakes(sora, veo)


WORKER_TIMEOUT_SECONDS = 180
"""The generation worker's Timeout in template.yaml: its deadlines derive from it."""


def settings_for(fakes: Fakes, **overrides: object) -> dict[str, object]:
    """Settings pointing both providers at the fakes (for the ``configure`` fixture)."""
    return {
        "openai_default_base_url": fakes.sora.base_url,
        "vertex_base_url": fakes.veo.base_url,
        "provider_endpoint_allowlist": "127.0.0.1",
        "allow_http_provider_endpoints": True,
        "provider_timeout_seconds": 5,
        "function_timeout_seconds": WORKER_TIMEOUT_SECONDS,  # as deployed: the worker's own Timeout
    } | overrides


@dataclass
class Pipeline:
    """The worker's handler fed from an in-memory queue, with a clock the test moves.

    ``drain()`` delivers every queued step, advancing the clock by each message's delay first
    (SQS would have held it that long), until the queue is empty.
    """

    clock: ManualClock = field(default_factory=ManualClock)
    sender: InMemoryQueueSender = field(default_factory=InMemoryQueueSender)
    providers: Callable[[str, ProviderKey], Any] | None = None
    delivered: int = 0

    @property
    def worker(self) -> GenerationWorker:
        if self.providers is None:
            return GenerationWorker(sender=self.sender, clock=self.clock)
        return GenerationWorker(providers=self.providers, sender=self.sender, clock=self.clock)

    def handler(self) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
        return load_function("generation_worker").build_handler(self.worker)  # type: ignore[no-any-return]

    def deliver(self, *bodies: str) -> list[str]:
        """Run one SQS batch through the worker's handler; returns the failed bodies."""
        event = sqs_event(bodies)
        result = self.handler()(event, FakeLambdaContext())
        failed = {item["itemIdentifier"] for item in result["batchItemFailures"]}
        return [r["body"] for r in event["Records"] if r["messageId"] in failed]

    def queued(self) -> list[SentMessage]:
        """Messages sent since the last ``take``."""
        return self.sender.sent[self.delivered :]

    def take(self) -> list[SentMessage]:
        messages = self.queued()
        self.delivered = len(self.sender.sent)
        return messages

    def drain(self, *, times: int = 1, reverse: bool = False, rounds: int = 40) -> None:
        """Deliver queued steps (each ``times`` times, optionally newest first) until none are left."""
        for _ in range(rounds):
            messages = self.take()
            if not messages:
                return
            self.clock.advance(max(m.delay_seconds for m in messages))
            bodies = [m.body for m in messages for _ in range(times)]
            assert self.deliver(*(reversed(bodies) if reverse else bodies)) == []
        raise AssertionError(f"the queue did not drain in {rounds} rounds")


class WorkerCrash(BaseException):
    """The Lambda dying mid-call (not an Exception: nothing in the worker may swallow it)."""


class WrappedProvider:
    """A real provider, every call passed through: subclasses change the calls they test."""

    def __init__(self, inner: VideoProvider) -> None:
        self._inner = inner
        self.name = inner.name
        self.has_thumbnails = inner.has_thumbnails
        self.webhook_source = inner.webhook_source
        self.image_transport = inner.image_transport

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class CrashAfterCreate(WrappedProvider):
    """A real provider whose ``submit`` reaches the provider and then kills the worker."""

    def submit(self, request: GenerationRequest) -> Submission:
        self._inner.submit(request)
        raise WorkerCrash


class TimeoutAfterCreate(CrashAfterCreate):
    """The provider accepts the create but the answer never arrives (a read timeout)."""

    def submit(self, request: GenerationRequest) -> Submission:
        self._inner.submit(request)
        raise RetryableProviderError("the video provider did not answer in time")


def wrapped_providers(wrapper: type[WrappedProvider]) -> Callable[[str, ProviderKey], VideoProvider]:
    """A provider factory handing out real providers inside ``wrapper``."""

    def build(name: str, key: ProviderKey) -> VideoProvider:
        return wrapper(get_provider(name, key, get_settings()))

    return build


def bodies(messages: Iterable[SentMessage]) -> list[dict[str, Any]]:
    return [json.loads(m.body) for m in messages]
