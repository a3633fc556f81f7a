"""Push completion: a create gives the provider a callback URL, the provider's signed webhook
moves the job's poll to now, and nothing else a webhook can say changes a job.

The fakes sign and send their webhooks as Google and fal document them; here they send to an
address nobody listens on, and each test hands the recorded delivery (URL, headers, body) to the
webhook function's handler as API Gateway would, so a test can also alter, replay or forge one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from devstack.fakes import FakeFalServer, FakeGeminiServer, ManualClock
from devstack.fakes.records import Delivery
from tests.integration.generation_support import USER, Pipeline, job_row, store_key
from tests.integration.webhook_support import first_webhook, post_webhook
from tools.queues import InMemoryQueueSender
from videogen import catalog
from videogen.generation.pacing import P95_OVER_TYPICAL
from videogen.messaging.messages import StepMessage
from videogen.webhooks import callbacks, verify
from videogen.webhooks.published_keys import REFETCH_COOLDOWN_SECONDS

NOBODY = "http://127.0.0.1:9"
"""The callback origin in these tests: deliveries fail there but are recorded with what they sent."""
GEMINI_MODEL = "veo-3.1-fast-generate-preview"
FAL_MODEL = catalog.DEFAULTS["fal"].model
SECONDS = 30


@dataclass
class Push:
    """The fakes, the worker pipeline and the webhook function, wired in settings."""

    gemini: FakeGeminiServer
    fal: FakeFalServer
    clock: ManualClock
    pipeline: Pipeline
    queue: InMemoryQueueSender
    new_job: Callable[..., uuid.UUID]

    def fake(self, source: str) -> FakeGeminiServer | FakeFalServer:
        return self.gemini if source == "gemini" else self.fal

    def submit(self, source: str, prompt: str = "Ada opens the lab door") -> uuid.UUID:
        """A job of ``source``'s provider, submitted (its create carried the callback URL)."""
        job_id = self.new_job(source, prompt)
        self.pipeline.deliver(self.pipeline.take()[0].body)
        return job_id

    def finish(self, source: str) -> Delivery:
        """Let the provider finish every job; the first webhook it sent."""
        return first_webhook(self.clock, self.fake(source), SECONDS)

    def post(self, delivery: Delivery, **changes: Any) -> Any:
        """The webhook function's answer to ``delivery`` (``url``, ``headers``, ``body`` replaced)."""
        return post_webhook(self.queue, delivery, **changes)

    def pushes(self) -> list[StepMessage]:
        return [sent.message for sent in self.queue.sent]


@pytest.fixture
def push(aws: Any, configure: Callable[..., None], make_job: Callable[..., Any]) -> Iterator[Push]:
    clock = ManualClock()
    fakes: dict[str, Any] = {"complete_after_seconds": SECONDS, "clock": clock, "webhook_retries": 0}
    with FakeGeminiServer(**fakes) as gemini, FakeFalServer(**fakes) as fal:
        configure(
            gemini_base_url=gemini.base_url,
            fal_queue_base_url=fal.base_url,
            gemini_jwks_url=gemini.jwks_url,
            fal_jwks_url=fal.jwks_url,
            webhook_base_url=NOBODY,
            provider_timeout_seconds=5,
        )
        store_key(USER, "veo", "AIza-push-test-0123456789abcdef", api="gemini")
        store_key(USER, "fal", "fal-push-test-0123456789abcdef")
        pipeline = Pipeline(clock=clock)

        def new_job(source: str, prompt: str) -> uuid.UUID:
            provider, model, seconds = (
                ("veo", GEMINI_MODEL, 8) if source == "gemini" else ("fal", FAL_MODEL, 5)
            )
            job = make_job(USER, provider=provider, model=model, prompt=prompt, duration_seconds=seconds)
            pipeline.sender.send(StepMessage(job_id=job.id, step="submit"))
            return uuid.UUID(str(job.id))

        yield Push(gemini, fal, clock, pipeline, InMemoryQueueSender(), new_job)


@pytest.mark.parametrize("source", ["gemini", "fal"])
def test_a_signed_webhook_moves_the_poll_to_now_and_the_job_completes_with_one_poll(push: Push, source: str):
    # Given a job whose create asked the provider for a webhook
    job_id = push.submit(source)
    fake = push.fake(source)
    create = fake.creates[-1]
    job = job_row(job_id)
    assert job.metadata_["push_expected"] is True
    # And whose first poll waits for the model's 95th-percentile time, the webhook coming first
    first_poll = push.pipeline.take()
    typical = catalog.typical_seconds(job.model) or 0
    assert [m.delay_seconds for m in first_poll] == [min(900, -(-typical * P95_OVER_TYPICAL // 1))]
    assert create.status == 200
    # When the provider finishes and its signed webhook reaches the function
    answer = push.post(push.finish(source))
    # Then it is acknowledged and the job's poll is queued at once
    assert answer.status == 200, answer.body
    assert answer.body == {"received": True}
    assert push.pushes() == [StepMessage(job_id=job_id, step="push")]
    assert push.queue.sent[0].delay_seconds == 0
    # And that poll finds the video and stores it: one poll in all
    assert push.pipeline.deliver(push.queue.sent[0].body) == []
    done = job_row(job_id)
    assert done.status == "completed"
    assert done.metadata_["polls"] == 1
    calls = fake.count("poll")
    # And the first poll's message, when it comes, finds nothing left to do
    assert push.pipeline.deliver(first_poll[0].body) == []
    assert fake.count("poll") == calls


def test_the_same_event_twice_asks_the_provider_once(push: Push):
    job_id = push.submit("fal")
    delivery = push.finish("fal")
    # When the provider's webhook arrives twice (a retry, or a replay)
    for _ in range(2):
        assert push.post(delivery).status == 200
    # Then the second push is acknowledged without another call to the provider
    for sent in push.queue.sent:
        push.pipeline.deliver(sent.body)
    assert push.fal.count("poll") == 1
    assert job_row(job_id).status == "completed"


def test_a_pushed_poll_that_finds_the_job_running_keeps_the_fallback_schedule(push: Push):
    # Given a job that will never finish, and a webhook forged for it with the provider's key
    job_id = push.submit("gemini", "Ada waits [never]")
    url = callbacks.callback_url("gemini", job_id)
    assert url is not None
    token = push.gemini.signing_keys.jwt({"iat": int(time.time()), "exp": int(time.time()) + 300})
    body = json.dumps({"type": "video.generated", "data": {"id": "models/x/operations/forged"}}).encode()
    # When it arrives, three times
    forged = Delivery(url, {"Webhook-Signature": token}, body, None, 1)
    assert [push.post(forged).status for _ in range(3)] == [200, 200, 200]
    # Then one extra poll asks the provider, which says "running", and polls carry on
    assert push.pipeline.deliver(*(sent.body for sent in push.queue.sent)) == []
    assert push.gemini.count("poll") == 1
    job = job_row(job_id)
    assert job.status == "processing"
    assert job.metadata_["pushed_at"]
    assert [m.message.step for m in push.pipeline.take()] == ["poll", "poll"]


def _gemini_claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": "https://generativelanguage.googleapis.com", "iat": now, "exp": now + 300} | changes


def _forged_rsa(kid: str) -> str:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(_gemini_claims(), stranger, algorithm="RS256", headers={"kid": kid})


def _unsigned() -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    claims = base64.urlsafe_b64encode(json.dumps(_gemini_claims()).encode()).rstrip(b"=").decode()
    return f"{header}.{claims}."


def _hs256_with_public_key(fake: FakeGeminiServer) -> str:
    public = json.dumps(fake.signing_keys.jwks()["keys"][0]).encode()
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
    claims = base64.urlsafe_b64encode(json.dumps(_gemini_claims()).encode()).rstrip(b"=")
    signature = hmac.new(public, header + b"." + claims, hashlib.sha256).digest()
    return b".".join((header, claims, base64.urlsafe_b64encode(signature).rstrip(b"="))).decode()


GEMINI_FORGERIES: dict[str, Callable[[FakeGeminiServer, Delivery], dict[str, str]]] = {
    "no signature": lambda fake, d: {"content-type": "application/json"},
    "not a JWT": lambda fake, d: {"Webhook-Signature": "v1,c2lnbmF0dXJl"},
    "a key not published": lambda fake, d: {
        "Webhook-Signature": _forged_rsa(jwt.get_unverified_header(d.headers["Webhook-Signature"])["kid"])
    },
    "alg none": lambda fake, d: {"Webhook-Signature": _unsigned()},
    "HS256 with the public key": lambda fake, d: {"Webhook-Signature": _hs256_with_public_key(fake)},
    "expired": lambda fake, d: {
        "Webhook-Signature": fake.signing_keys.jwt(
            _gemini_claims(iat=int(time.time()) - 900, exp=int(time.time()) - 600)
        )
    },
    "issued 10 minutes ago": lambda fake, d: {
        "Webhook-Signature": fake.signing_keys.jwt(_gemini_claims(iat=int(time.time()) - 600))
    },
    "issued in the future": lambda fake, d: {
        "Webhook-Signature": fake.signing_keys.jwt(
            _gemini_claims(iat=int(time.time()) + 600, exp=int(time.time()) + 900)
        )
    },
    "an old webhook-timestamp": lambda fake, d: (
        d.headers | {"webhook-timestamp": str(int(time.time()) - 600)}
    ),
}


@pytest.mark.parametrize("forgery", GEMINI_FORGERIES)
def test_a_gemini_webhook_without_a_valid_signature_is_refused_and_changes_nothing(push: Push, forgery: str):
    job_id = push.submit("gemini")
    delivery = push.finish("gemini")
    headers = GEMINI_FORGERIES[forgery](push.gemini, delivery)

    answer = push.post(delivery, headers=headers)

    assert answer.status == 401, answer.body
    assert answer.body["error"]
    assert push.pushes() == []
    assert job_row(job_id).status == "processing"


def _fal_headers(delivery: Delivery, **changes: str) -> dict[str, str]:
    return dict(delivery.headers) | changes


FAL_FORGERIES: dict[str, Callable[[Delivery], dict[str, Any]]] = {
    "no signature": lambda d: {
        "headers": {k: v for k, v in d.headers.items() if "signature" not in k.lower()}
    },
    "signature not hex": lambda d: {"headers": _fal_headers(d, **{"X-Fal-Webhook-Signature": "zz" * 64})},
    "a key not published": lambda d: {
        "headers": _fal_headers(
            d,
            **{"X-Fal-Webhook-Signature": ed25519.Ed25519PrivateKey.generate().sign(b"anything").hex()},
        )
    },
    "body altered after signing": lambda d: {
        "body": d.body.replace(b'"status": "OK"', b'"status": "ERROR"').replace(
            b'"status":"OK"', b'"status":"ERROR"'
        )
        + b" "
    },
    "timestamp too old": lambda d: {
        "headers": _fal_headers(d, **{"X-Fal-Webhook-Timestamp": str(int(time.time()) - 600)})
    },
    "timestamp in the future": lambda d: {
        "headers": _fal_headers(d, **{"X-Fal-Webhook-Timestamp": str(int(time.time()) + 600)})
    },
}


@pytest.mark.parametrize("forgery", FAL_FORGERIES)
def test_a_fal_webhook_without_a_valid_signature_is_refused_and_changes_nothing(push: Push, forgery: str):
    job_id = push.submit("fal")
    delivery = push.finish("fal")

    answer = push.post(delivery, **FAL_FORGERIES[forgery](delivery))

    assert answer.status == 401, answer.body
    assert push.pushes() == []
    assert job_row(job_id).status == "processing"


def test_another_jobs_token_an_unknown_job_or_source_is_404_before_any_signature_is_read(push: Push):
    mine = push.submit("fal")
    other = push.submit("fal", "Ada closes the door")
    delivery = push.finish("fal")
    token_of = dict(parse_qsl(urlsplit(callbacks.callback_url("fal", other) or "").query))["token"]
    wrong = {
        "another job's token": f"/api/webhooks/fal?job={mine}&token={token_of}",
        "an unknown job": f"/api/webhooks/fal?job={uuid.uuid4()}&token={token_of}",
        "no token": f"/api/webhooks/fal?job={mine}",
        "the fal token on the gemini route": urlsplit(delivery.url)
        ._replace(path="/api/webhooks/gemini")
        .geturl(),
        "an unknown source": urlsplit(delivery.url)._replace(path="/api/webhooks/openai").geturl(),
    }
    for case, url in wrong.items():
        answer = push.post(delivery, url=f"{NOBODY}{url}" if url.startswith("/") else url)
        assert answer.status == 404, case
        assert answer.body == {"error": "No such callback", "details": answer.body["details"]}
    assert push.pushes() == []
    assert push.fal.count("jwks") == 0  # refused before the provider's keys were needed


def test_a_body_that_is_not_json_or_too_large_is_refused(push: Push):
    push.submit("fal")
    delivery = push.finish("fal")
    assert push.post(delivery, body=b"not json").status == 400
    assert push.post(delivery, body=json.dumps({"pad": "x" * 300_000}).encode()).status == 413
    assert push.pushes() == []


def test_a_webhook_for_a_deleted_job_is_acknowledged_and_changes_nothing(push: Push, make_storyboard: Any):
    job_id = push.submit("fal")
    delivery = push.finish("fal")
    from videogen.data.db import session_scope  # noqa: PLC0415
    from videogen.data.repositories import video_jobs  # noqa: PLC0415

    with session_scope() as s:
        job = video_jobs.get_by_id(s, job_id)
        assert job is not None
        s.delete(job)
    # The function holds no database: a verified event is acknowledged (ending the provider's
    # retries), and the worker finds no job to poll.
    assert push.post(delivery).status == 200
    assert push.pipeline.deliver(push.queue.sent[0].body) == []
    assert push.fal.count("poll") == 0


def test_without_webhooks_configured_creates_ask_for_none_and_polls_keep_todays_schedule(
    push: Push, configure: Callable[..., None]
):
    configure(webhook_base_url="")
    job_id = push.submit("fal")
    assert push.fal.creates[-1].params.get("fal_webhook") is None
    assert "fal_webhook" not in (push.fal.webhook_deliveries[-1].url if push.fal.webhook_deliveries else "")
    assert job_row(job_id).metadata_["push_expected"] is False
    push.clock.advance(SECONDS)
    assert push.fal.deliver_due() == 0
    assert push.fal.webhook_deliveries == []
    push.pipeline.drain()
    assert job_row(job_id).status == "completed"


def test_rotated_provider_keys_are_fetched_again_once_and_cached_otherwise(push: Push):
    push.submit("gemini")
    first = push.finish("gemini")
    assert push.post(first).status == 200
    assert push.post(first).status == 200
    assert push.gemini.count("jwks") == 1  # cached
    # When Google rotates its key, a token naming the new key id fetches the set again, but not
    # within 30 s of the last fetch: a flood of unknown key ids cannot make us hammer Google
    keys = verify.published_keys("gemini")
    now = [keys.clock()]
    keys.clock = lambda: now[0]
    push.gemini.rotate_signing_key()
    token = push.gemini.signing_keys.jwt(_gemini_claims())
    assert push.post(first, headers={"Webhook-Signature": token}).status == 401
    assert push.gemini.count("jwks") == 1
    now[0] += REFETCH_COOLDOWN_SECONDS + 1
    assert push.post(first, headers={"Webhook-Signature": token}).status == 200
    assert push.gemini.count("jwks") == 2
    # And after the keys' lifetime they are fetched again whatever the token names
    now[0] += 3600 + 1  # past the lifetime (floats: exactly 3600 later may compare just under)
    assert push.post(first, headers={"Webhook-Signature": token}).status == 200
    assert push.gemini.count("jwks") == 3
