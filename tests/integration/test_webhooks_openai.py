"""Push completion from OpenAI-compatible endpoints: a webhook registered once per key, signed the
Standard Webhooks way under the secret the endpoint issued, moves the job's poll to now.

The user saves the key (its summary names the URL to register), registers it at the fake
endpoint (which issues a ``whsec_`` secret), and saves the key again with the secret; the keys
function keeps it in Secrets Manager (moto). The fake signs its events and sends them to an
address nobody listens on; each test hands the recorded delivery to the webhook function's
handler, so it can also alter, replay or forge one.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
from sqlalchemy import update

from devstack.fakes import FakeSoraServer, ManualClock
from devstack.fakes.records import Delivery
from devstack.fakes.sora_webhooks import signed_headers
from tests.integration.generation_support import Pipeline, job_row
from tests.integration.webhook_support import first_webhook, post_webhook
from tests.support import invoke, load_event, load_function, with_changes
from tools.queues import InMemoryQueueSender
from videogen import catalog
from videogen.data.db import session_scope
from videogen.data.models import VideoJob
from videogen.data.repositories import api_keys
from videogen.messaging.messages import EndpointPushMessage, StepMessage
from videogen.runtime.config import get_settings
from videogen.webhooks import callbacks

NOBODY = "http://127.0.0.1:9"
PREFIX = "videogen/test/openai-webhooks"
USER = "user-123"  # the sample events' caller
KEY = "sk-push-test-0123456789abcdefWXYZ"
SECONDS = 30
keys_handler = load_function("api_keys").lambda_handler


def put_key(provider: str = "openai", *, user: str = USER, **body: Any) -> Any:
    event = load_event("api_keys.put.200")
    event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = user
    event = with_changes(event, body={"apiKey": KEY, **body}, path_parameters={"provider": provider})
    return invoke(keys_handler, event)


def delete_key(provider: str = "openai") -> Any:
    event = with_changes(load_event("api_keys.delete.200"), path_parameters={"provider": provider})
    return invoke(keys_handler, event)


def kept_secrets(moto: str) -> dict[str, str]:
    """Every webhook secret in Secrets Manager, by name."""
    client = boto3.client("secretsmanager", region_name="us-east-1", endpoint_url=moto)
    names = [s["Name"] for s in client.list_secrets()["SecretList"]]
    return {name: client.get_secret_value(SecretId=name)["SecretString"] for name in names}


@dataclass
class Endpoint:
    """The fake endpoint, the worker pipeline, the webhook function and the saved key."""

    sora: FakeSoraServer
    clock: ManualClock
    pipeline: Pipeline
    queue: InMemoryQueueSender
    make_job: Callable[..., Any]
    url: str = ""
    secret: str = ""

    def register(self) -> None:
        """Save the key, register its URL at the endpoint, save the key again with the secret."""
        saved = put_key(baseUrl=self.sora.base_url)
        assert saved.status == 200, saved.body
        self.url = saved.body["webhookUrl"]
        self.secret = self.sora.register_webhook(self.url, KEY)
        again = put_key(baseUrl=self.sora.base_url, webhookSecret=self.secret)
        assert again.status == 200, again.body

    def submit(self, prompt: str = "Ada opens the lab door", user: str = USER) -> uuid.UUID:
        job = self.make_job(user, provider="openai", model="sora-2", prompt=prompt, duration_seconds=4)
        self.pipeline.sender.send(StepMessage(job_id=job.id, step="submit"))
        assert self.pipeline.deliver(self.pipeline.take()[0].body) == []
        return uuid.UUID(str(job.id))

    def finish(self) -> Delivery:
        """Let the endpoint finish every job; the first webhook it sent."""
        return first_webhook(self.clock, self.sora, SECONDS)

    def post(self, delivery: Delivery, **changes: Any) -> Any:
        return post_webhook(self.queue, delivery, **changes)

    def signed(self, body: bytes, *, secret: str | None = None, at: int | None = None) -> dict[str, str]:
        stamp = int(time.time()) if at is None else at
        return signed_headers(secret or self.secret, f"evt_{uuid.uuid4().hex}", body, stamp)


@pytest.fixture
def endpoint(aws: Any, configure: Callable[..., None], make_job: Callable[..., Any]) -> Iterator[Endpoint]:
    clock = ManualClock()
    with FakeSoraServer(complete_after_seconds=SECONDS, clock=clock, webhook_retries=0) as sora:
        configure(
            openai_default_base_url=sora.base_url,
            provider_endpoint_allowlist="127.0.0.1",
            allow_http_provider_endpoints=True,
            provider_timeout_seconds=5,
            webhook_base_url=NOBODY,
            openai_webhook_secrets_prefix=PREFIX,
        )
        yield Endpoint(sora, clock, Pipeline(clock=clock), InMemoryQueueSender(), make_job)


def test_a_key_with_the_endpoints_secret_finishes_its_job_on_the_push_with_one_poll(
    endpoint: Endpoint, aws: Any
):
    # Given a key saved with the secret its endpoint issued for the URL its summary named
    endpoint.register()
    key_id = uuid.UUID(dict(parse_qsl(urlsplit(endpoint.url).query))["key"])
    assert endpoint.url.startswith(f"{NOBODY}/api/webhooks/openai?key=")
    # The secret is kept in Secrets Manager under the key's name, and never answered
    assert kept_secrets(aws.endpoint) == {f"{PREFIX}/{key_id}": endpoint.secret}
    listed = invoke(keys_handler, load_event("api_keys.list.200"))
    assert endpoint.secret not in json.dumps(listed.body)
    [summary] = listed.body["keys"]
    assert summary["webhookUrl"] == endpoint.url
    assert summary["webhookSecretAt"] is not None
    # When a job is submitted, its first poll waits the longest step (the model has no typical
    # time: the endpoint reports progress), the push expected first
    job_id = endpoint.submit()
    job = job_row(job_id)
    assert job.metadata_["push_expected"] is True
    first_poll = endpoint.pipeline.take()
    assert catalog.typical_seconds("sora-2") is None
    assert [m.delay_seconds for m in first_poll] == [get_settings().poll_max_delay_seconds]
    # And the endpoint's signed video.completed reaches the function
    delivery = endpoint.finish()
    assert json.loads(delivery.body)["type"] == "video.completed"
    answer = endpoint.post(delivery)
    # Then the push names the key and the endpoint's video, and goes out at once
    assert answer.status == 200, answer.body
    assert [s.body for s in endpoint.queue.sent] == [
        EndpointPushMessage(key_id=key_id, provider_job_id=str(job.provider_job_id)).to_body()
    ]
    assert endpoint.queue.sent[0].delay_seconds == 0
    assert endpoint.secret not in endpoint.queue.sent[0].body
    # And the worker finds the job and stores its video: one poll in all
    assert endpoint.pipeline.deliver(endpoint.queue.sent[0].body) == []
    done = job_row(job_id)
    assert done.status == "completed"
    assert done.metadata_["polls"] == 1
    calls = endpoint.sora.count("poll")
    assert endpoint.pipeline.deliver(first_poll[0].body) == []
    assert endpoint.sora.count("poll") == calls


def test_a_failed_video_is_pushed_as_video_failed_and_the_poll_fails_the_job(endpoint: Endpoint):
    endpoint.register()
    job_id = endpoint.submit("Ada opens the lab door [fail]")
    delivery = endpoint.finish()
    assert json.loads(delivery.body)["type"] == "video.failed"
    assert endpoint.post(delivery).status == 200
    assert endpoint.pipeline.deliver(endpoint.queue.sent[0].body) == []
    assert job_row(job_id).status == "failed"


def test_the_same_event_twice_asks_the_endpoint_once(endpoint: Endpoint):
    endpoint.register()
    job_id = endpoint.submit()
    delivery = endpoint.finish()
    for _ in range(2):
        assert endpoint.post(delivery).status == 200
    for sent in endpoint.queue.sent:
        assert endpoint.pipeline.deliver(sent.body) == []
    assert endpoint.sora.count("poll") == 1
    assert job_row(job_id).status == "completed"


FORGERIES: dict[str, Callable[[Endpoint, Delivery], dict[str, Any]]] = {
    "no signature": lambda e, d: {
        "headers": {k: v for k, v in d.headers.items() if k != "webhook-signature"}
    },
    "no timestamp": lambda e, d: {
        "headers": {k: v for k, v in d.headers.items() if k != "webhook-timestamp"}
    },
    "a wrong secret": lambda e, d: {
        "headers": e.signed(d.body, secret="whsec_" + "QUJD" * 8)  # 24 bytes, not the endpoint's
    },
    "body altered after signing": lambda e, d: {
        "body": d.body.replace(b"video.completed", b"video.failed"),
    },
    "timestamp 10 minutes old": lambda e, d: {"headers": e.signed(d.body, at=int(time.time()) - 600)},
    "timestamp 10 minutes ahead": lambda e, d: {"headers": e.signed(d.body, at=int(time.time()) + 600)},
    "signature not base64": lambda e, d: {"headers": d.headers | {"webhook-signature": "v1,%%%"}},
}


@pytest.mark.parametrize("forgery", FORGERIES)
def test_an_event_without_a_valid_signature_is_refused_and_changes_nothing(endpoint: Endpoint, forgery: str):
    endpoint.register()
    job_id = endpoint.submit()
    delivery = endpoint.finish()

    answer = endpoint.post(delivery, **FORGERIES[forgery](endpoint, delivery))

    assert answer.status == 401, answer.body
    assert answer.body["error"]
    assert endpoint.queue.sent == []
    assert job_row(job_id).status == "processing"


def test_another_keys_token_an_unknown_key_or_a_removed_key_is_404(endpoint: Endpoint):
    endpoint.register()
    endpoint.submit()
    delivery = endpoint.finish()
    query = dict(parse_qsl(urlsplit(delivery.url).query))
    stranger = uuid.uuid4()
    wrong = {
        "another key's token": f"/api/webhooks/openai?key={stranger}&token={query['token']}",
        "no token": f"/api/webhooks/openai?key={query['key']}",
        "a job's token": f"/api/webhooks/openai?key={query['key']}&token="
        + callbacks.token("fal", uuid.UUID(query["key"])),
        "the key's URL on the fal route": urlsplit(delivery.url)._replace(path="/api/webhooks/fal").geturl(),
    }
    for case, url in wrong.items():
        answer = endpoint.post(delivery, url=f"{NOBODY}{url}" if url.startswith("/") else url)
        assert answer.status == 404, case
    # A key with no secret behind its valid token (never saved with one): 404 as well
    unknown = f"{NOBODY}/api/webhooks/openai?key={stranger}&token={callbacks.token('openai', stranger)}"
    assert endpoint.post(delivery, url=unknown).status == 404
    # A removed key loses its secret with it: its URL then answers 404
    assert delete_key().status == 200
    assert endpoint.post(delivery).status == 404
    assert endpoint.queue.sent == []


def test_a_body_that_is_not_json_or_too_large_is_refused(endpoint: Endpoint):
    endpoint.register()
    endpoint.submit()
    delivery = endpoint.finish()
    assert endpoint.post(delivery, body=b"not json", headers=endpoint.signed(b"not json")).status == 400
    large = json.dumps({"pad": "x" * 300_000}).encode()
    assert endpoint.post(delivery, body=large, headers=endpoint.signed(large)).status == 413
    no_video = json.dumps({"id": "evt_1", "type": "video.completed", "data": {}}).encode()
    assert endpoint.post(delivery, body=no_video, headers=endpoint.signed(no_video)).status == 400
    assert endpoint.queue.sent == []


def test_an_event_of_another_type_is_acknowledged_and_queues_nothing(endpoint: Endpoint):
    endpoint.register()
    body = json.dumps({"id": "evt_2", "object": "event", "type": "response.completed", "data": {"id": "r"}})
    forged = Delivery(endpoint.url, endpoint.signed(body.encode()), body.encode(), None, 1)
    answer = endpoint.post(forged)
    assert answer.status == 200, answer.body
    assert endpoint.queue.sent == []


def test_a_push_never_reaches_another_users_job(endpoint: Endpoint, configure: Callable[..., None]):
    # Given my key with its webhook, and another user's job that their endpoint knows by the same id
    endpoint.register()
    mine = endpoint.submit()
    video_id = job_row(mine).provider_job_id
    theirs = endpoint.make_job("user-other", provider="openai", model="sora-2", status="processing")
    with session_scope() as s:
        s.execute(update(VideoJob).where(VideoJob.id == mine).values(provider_job_id="mine-moved"))
        s.execute(update(VideoJob).where(VideoJob.id == theirs.id).values(provider_job_id=video_id))
    # When my endpoint pushes that id
    delivery = endpoint.finish()
    assert endpoint.post(delivery).status == 200
    # Then the worker looks only among my jobs: nobody's job is polled
    assert endpoint.pipeline.deliver(endpoint.queue.sent[0].body) == []
    assert endpoint.sora.count("poll") == 0
    assert job_row(theirs.id).metadata_ == {}


@pytest.mark.parametrize(
    ("provider", "secret", "why"),
    [
        ("openai", "not-a-whsec-secret-at-all", "must start with whsec_"),
        ("openai", "whsec_***not-base64***", "followed by base64"),
        ("openai", "whsec_QUJDRA==", "24 to 128 bytes"),
        ("fal", "whsec_" + "QUJD" * 8, "openai keys only"),
    ],
)
def test_a_webhook_secret_that_is_not_one_is_refused_naming_the_field_and_nothing_is_stored(
    endpoint: Endpoint, aws: Any, provider: str, secret: str, why: str
):
    answer = put_key(provider, baseUrl=endpoint.sora.base_url, webhookSecret=secret)
    assert answer.status == 400, answer.body
    assert why in json.dumps(answer.body)
    assert "body.webhookSecret" in json.dumps(answer.body)
    assert secret not in json.dumps(answer.body)
    with session_scope() as s:
        assert api_keys.get(s, USER, provider) is None
    assert kept_secrets(aws.endpoint) == {}


def test_saving_the_key_without_its_secret_or_removing_it_deletes_the_secret(endpoint: Endpoint, aws: Any):
    endpoint.register()
    assert len(kept_secrets(aws.endpoint)) == 1
    # Saved again without the secret: polls alone follow its jobs
    again = put_key(baseUrl=endpoint.sora.base_url)
    assert again.status == 200
    assert again.body["webhookSecretAt"] is None
    assert again.body["webhookUrl"] == endpoint.url  # the registration's URL stays the same
    assert kept_secrets(aws.endpoint) == {}
    assert job_row(endpoint.submit()).metadata_["push_expected"] is False
    # Saved with it and then removed: gone again
    assert put_key(baseUrl=endpoint.sora.base_url, webhookSecret=endpoint.secret).status == 200
    assert delete_key().status == 200
    assert kept_secrets(aws.endpoint) == {}
