"""The Gemini and fal fakes push signed completion webhooks as the providers document them: what a
receiver on loopback gets over real HTTP, verified with the keys each fake publishes."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import jwt
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from devstack.fakes import FakeFalServer, FakeGeminiServer, FakeProviderServer, ManualClock
from devstack.fakes.gemini import ISSUER
from devstack.fakes.loopback import LoopbackServer, Request, Response
from devstack.fakes.records import RECORDS_PATH

GEMINI_KEY = "AIza-test-key"
FAL_KEY = "fal-key-id:fal-key-secret"
VEO = "veo-3.1-generate-preview"
KLING = "fal-ai/kling-video/v2.5-turbo/pro/text-to-video"
SECONDS = 8.0


class Receiver(LoopbackServer):
    """A webhook endpoint on loopback: records every request, answers the statuses in ``answers``
    in turn, then 200."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[int] = []
        self._lock = threading.Lock()
        self._requests: list[Request] = []

    def dispatch(self, request: Request) -> Response:
        with self._lock:
            self._requests.append(request)
            status = self.answers.pop(0) if self.answers else 200
        return Response(status, b"{}")

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def url(self, path: str = "/hook?job=1&token=t") -> str:
        return self.origin + path


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def eventually(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    """Wait for ``condition`` (the fakes deliver from worker threads), failing after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


def settled(fake: FakeProviderServer) -> dict[str, int]:
    """The fake's webhook counts, over HTTP, once no job is being pushed any more."""

    def counts() -> dict[str, int]:
        webhooks: dict[str, int] = httpx2.get(fake.origin + RECORDS_PATH).json()["webhooks"]
        return webhooks

    eventually(lambda: counts()["inFlight"] == 0, "the pushes to end")
    return counts()


def create_veo(
    fake: FakeGeminiServer, prompt: str = "Ada opens the lab door", **extra: Any
) -> httpx2.Response:
    return httpx2.post(
        f"{fake.origin}/v1beta/models/{VEO}:predictLongRunning",
        json={"instances": [{"prompt": prompt}], "parameters": {"aspectRatio": "16:9"}, **extra},
        headers={"x-goog-api-key": GEMINI_KEY},
    )


def create_fal(fake: FakeFalServer, webhook: str | None, **body: Any) -> dict[str, Any]:
    response = httpx2.post(
        f"{fake.origin}/{KLING}",
        params={"fal_webhook": webhook} if webhook else None,
        json={"prompt": "Ada opens the lab door"} | body,
        headers={"authorization": f"Key {FAL_KEY}"},
    )
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def fal_get(url: str) -> httpx2.Response:
    return httpx2.get(url, headers={"authorization": f"Key {FAL_KEY}"})


def verified_gemini_claims(fake: FakeGeminiServer, request: Request, audience: str) -> dict[str, Any]:
    """The JWT's claims, verified as Google's samples do: the key by ``kid`` from the JWKS URL."""
    token = request.headers["webhook-signature"]
    key = jwt.PyJWKClient(fake.jwks_url).get_signing_key_from_jwt(token)
    claims: dict[str, Any] = jwt.decode(
        token, key.key, algorithms=["RS256"], audience=audience, issuer=ISSUER, options={"require": ["exp"]}
    )
    return claims


def fal_signing_kid(fake: FakeFalServer, request: Request) -> str:
    """The ``kid`` of the published key that verifies the request, as fal's docs verify it."""
    headers = request.headers
    message = "\n".join(
        [
            headers["x-fal-webhook-request-id"],
            headers["x-fal-webhook-user-id"],
            headers["x-fal-webhook-timestamp"],
            hashlib.sha256(request.body).hexdigest(),
        ]
    ).encode()
    signature = bytes.fromhex(headers["x-fal-webhook-signature"])
    for jwk in httpx2.get(fake.jwks_url).json()["keys"]:
        x = jwk["x"]
        public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))
        try:
            public.verify(signature, message)
        except InvalidSignature:
            continue
        kid: str = jwk["kid"]
        return kid
    pytest.fail("no published key verifies the signature")


# --- Gemini: the thin payload, signed with an RS256 JWT -----------------------------------------


def test_gemini_pushes_one_jwt_signed_event_once_the_operation_is_due_and_polls_see_it_done(
    receiver: Receiver,
) -> None:
    # Given an operation that asked for a webhook and finishes 8 s after its creation
    clock = ManualClock()
    uri = receiver.url()
    with FakeGeminiServer(clock=clock, complete_after_seconds=SECONDS, webhook_retry_delay=0) as fake:
        config = {"uris": [uri], "user_metadata": {"job_id": "video_123"}}
        name = create_veo(fake, webhookConfig=config).json()["name"]

        # When the time has not come yet, nothing is pushed
        clock.advance(SECONDS - 1)
        assert fake.deliver_due() == 0
        assert (receiver.requests, fake.webhook_deliveries) == ([], [])

        # When it has
        clock.advance(1)
        assert fake.deliver_due() == 1
        counts = settled(fake)
        poll = httpx2.get(f"{fake.origin}/v1beta/{name}", headers={"x-goog-api-key": GEMINI_KEY}).json()

        # Then exactly one POST arrived, signed with a key the JWKS URL publishes, for that URI
        [request] = receiver.requests
        claims = verified_gemini_claims(fake, request, audience=uri)
        [delivery] = fake.webhook_deliveries
        origin = fake.origin

    assert (request.method, request.path, request.query) == ("POST", "/hook", {"job": "1", "token": "t"})
    assert request.headers["content-type"] == "application/json"
    assert claims["jti"] == request.headers["webhook-id"]
    assert claims["iat"] == int(request.headers["webhook-timestamp"])
    assert claims["exp"] == claims["iat"] + 300
    # And its body is the thin payload naming the operation and its video
    op_id = name.rpartition("/")[2]
    event = json.loads(request.body)
    assert event == {
        "type": "video.generated",
        "version": "v1",
        "timestamp": clock.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "data": {
            "id": name,
            "output_file_uri": f"{origin}/v1beta/files/{op_id}:download?alt=media",
            "file_name": f"files/{op_id}",
        },
    }
    assert (delivery.url, delivery.body, delivery.status, delivery.attempt) == (uri, request.body, 200, 1)
    assert counts == {"sent": 1, "acknowledged": 1, "inFlight": 0}
    # And the first poll after the push sees the operation done, with the same video
    assert poll["done"] is True
    assert (
        poll["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"]
        == (event["data"]["output_file_uri"])
    )


def test_gemini_pushes_each_uri_with_its_own_audience_and_one_event_id(receiver: Receiver) -> None:
    clock = ManualClock()
    uris = [receiver.url("/a"), receiver.url("/b")]
    with FakeGeminiServer(clock=clock, complete_after_seconds=SECONDS) as fake:
        create_veo(fake, webhookConfig={"uris": uris})
        clock.advance(SECONDS)
        fake.deliver_due()
        settled(fake)
        by_path = {request.path: request for request in receiver.requests}
        audiences = {
            path: verified_gemini_claims(fake, by_path[path], f"{receiver.origin}{path}") for path in by_path
        }

    assert sorted(by_path) == ["/a", "/b"]
    assert len({request.headers["webhook-id"] for request in by_path.values()}) == 1
    assert by_path["/a"].body == by_path["/b"].body
    assert {path: claims["aud"] for path, claims in audiences.items()} == {"/a": uris[0], "/b": uris[1]}


@pytest.mark.parametrize("marker", ["[fail]", "[filtered]"])
def test_a_failed_or_filtered_gemini_operation_pushes_its_name_and_no_video(
    receiver: Receiver, marker: str
) -> None:
    clock = ManualClock()
    with FakeGeminiServer(clock=clock, complete_after_seconds=SECONDS) as fake:
        created = create_veo(fake, f"Ada opens the door {marker}", webhookConfig={"uris": [receiver.url()]})
        clock.advance(SECONDS)
        fake.deliver_due()
        settled(fake)

    [request] = receiver.requests
    event = json.loads(request.body)
    assert (event["type"], event["data"]) == ("video.generated", {"id": created.json()["name"]})


def test_a_gemini_operation_that_never_finishes_pushes_nothing(receiver: Receiver) -> None:
    clock = ManualClock()
    with FakeGeminiServer(clock=clock, complete_after_seconds=SECONDS) as fake:
        create_veo(fake, "Ada waits [never]", webhookConfig={"uris": [receiver.url()]})
        clock.advance(1000 * SECONDS)

        assert fake.deliver_due() == 0
        assert settled(fake)["sent"] == 0


@pytest.mark.parametrize(
    "config",
    [
        "https://app.example/hook",
        {"uris": "https://app.example/hook"},
        {"uris": []},
        {"uris": [42]},
        {"uris": ["ftp://app.example/hook"]},
        {"uris": ["https://app.example/hook"], "user_metadata": ["job_id"]},
    ],
    ids=[
        "not-an-object",
        "uris-not-a-list",
        "no-uris",
        "uri-not-a-string",
        "not-http",
        "metadata-not-an-object",
    ],
)
def test_a_malformed_webhook_config_is_invalid_argument_and_starts_nothing(config: object) -> None:
    with FakeGeminiServer() as fake:
        response = create_veo(fake, webhookConfig=config)

    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert "webhook_config" in response.json()["error"]["message"]
    assert fake.jobs == {}


# --- fal: the result, signed with Ed25519 ---------------------------------------------------------


def test_fal_pushes_the_result_signed_with_ed25519_when_a_poll_finds_it_finished(receiver: Receiver) -> None:
    # Given a request that asked for a webhook and finishes on its second status poll
    with FakeFalServer(complete_after_polls=1, webhook_user_id="user-42") as fake:
        created = create_fal(fake, receiver.url())
        first = fal_get(created["status_url"]).json()["status"]
        assert settled(fake)["sent"] == 0

        # When the poll that finds it finished comes
        second = fal_get(created["status_url"]).json()["status"]
        counts = settled(fake)
        result = fal_get(created["response_url"]).json()

        # Then one POST arrived, signed by a key the JWKS URL publishes
        [request] = receiver.requests
        kid = fal_signing_kid(fake, request)

    assert (first, second) == ("IN_QUEUE", "COMPLETED")
    assert kid == fake.signing_keys.jwks()["keys"][0]["kid"]
    request_id = created["request_id"]
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-fal-webhook-request-id"] == request_id
    assert request.headers["x-fal-webhook-user-id"] == "user-42"
    assert abs(int(request.headers["x-fal-webhook-timestamp"]) - time.time()) < 60
    assert json.loads(request.body) == {
        "request_id": request_id,
        "gateway_request_id": request_id,
        "status": "OK",
        "payload": result,
    }
    assert counts == {"sent": 1, "acknowledged": 1, "inFlight": 0}


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"prompt": "Ada opens the lab door [fail]"}, 500, "Video generation failed."),
        ({"duration": "7"}, 422, [{"loc": ["body", "duration"]}]),
    ],
    ids=["generation-failed", "input-refused"],
)
def test_a_failed_fal_request_pushes_status_error_with_the_result_routes_error_body(
    receiver: Receiver, body: dict[str, Any], status: int, detail: Any
) -> None:
    clock = ManualClock()
    with FakeFalServer(clock=clock, complete_after_seconds=SECONDS) as fake:
        created = create_fal(fake, receiver.url(), **body)
        clock.advance(SECONDS)
        fake.deliver_due()
        settled(fake)
        polled = fal_get(created["status_url"]).json()["status"]
        result = fal_get(created["response_url"])
        [request] = receiver.requests
        fal_signing_kid(fake, request)

    event = json.loads(request.body)
    assert (event["status"], event["error"]) == ("ERROR", f"Invalid status code: {status}")
    assert (result.status_code, event["payload"]) == (status, result.json())
    if isinstance(detail, list):
        assert event["payload"]["detail"][0]["loc"] == detail[0]["loc"]
    else:
        assert event["payload"]["detail"] == detail
    assert polled == "COMPLETED"


def test_a_cancelled_fal_request_pushes_nothing(receiver: Receiver) -> None:
    clock = ManualClock()
    with FakeFalServer(clock=clock, complete_after_seconds=SECONDS) as fake:
        created = create_fal(fake, receiver.url())
        cancel = httpx2.put(created["cancel_url"], headers={"authorization": f"Key {FAL_KEY}"})
        clock.advance(SECONDS)

        assert (cancel.status_code, fake.deliver_due()) == (202, 0)
        assert settled(fake)["sent"] == 0


def test_fal_stamps_and_signs_each_attempt_with_the_webhook_clock(receiver: Receiver) -> None:
    with FakeFalServer(complete_after_polls=0, webhook_clock=lambda: 1_700_000_000.9) as fake:
        created = create_fal(fake, receiver.url())
        fal_get(created["status_url"])
        settled(fake)
        [request] = receiver.requests
        fal_signing_kid(fake, request)

    assert request.headers["x-fal-webhook-timestamp"] == "1700000000"


# --- both: retries, records, keys, and no webhooks at all -----------------------------------------


@pytest.mark.parametrize(
    ("answers", "statuses"),
    [([500, 503], [500, 503, 200]), ([500, 500, 500, 500], [500, 500, 500])],
    ids=["acknowledged-on-the-third", "retries-run-out"],
)
def test_a_receiver_that_fails_is_retried_with_the_same_event_signed_anew(
    receiver: Receiver, answers: list[int], statuses: list[int]
) -> None:
    # Given a receiver that answers errors first, and a fake that retries twice at once
    receiver.answers = list(answers)
    clock = ManualClock()
    with FakeGeminiServer(
        clock=clock, complete_after_seconds=SECONDS, webhook_retries=2, webhook_retry_delay=0
    ) as fake:
        create_veo(fake, webhookConfig={"uris": [receiver.url()]})

        # When the operation finishes
        clock.advance(SECONDS)
        fake.deliver_due()
        counts = settled(fake)
        requests = receiver.requests
        for request in requests:
            verified_gemini_claims(fake, request, audience=receiver.url())

    # Then every attempt is recorded, with the same event id and body, until a 2xx or the last retry
    deliveries = fake.webhook_deliveries
    assert [(d.attempt, d.status) for d in deliveries] == list(enumerate(statuses, start=1))
    assert len(requests) == len(statuses)
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    assert len({r.body for r in requests}) == 1
    acknowledged = statuses.count(200)
    assert counts == {"sent": len(statuses), "acknowledged": acknowledged, "inFlight": 0}


def test_an_unreachable_receiver_is_recorded_without_a_status_and_retried() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the push: nothing listens there
    with FakeFalServer(complete_after_polls=0, webhook_retries=1, webhook_retry_delay=0) as fake:
        created = create_fal(fake, f"http://127.0.0.1:{port}/hook")
        fal_get(created["status_url"])
        counts = settled(fake)

    assert [(d.status, d.attempt) for d in fake.webhook_deliveries] == [(None, 1), (None, 2)]
    assert counts == {"sent": 2, "acknowledged": 0, "inFlight": 0}


def test_the_ticker_pushes_a_job_due_by_time_with_no_poll_and_no_tick_by_hand(receiver: Receiver) -> None:
    with FakeGeminiServer(complete_after_seconds=0.05) as fake:
        create_veo(fake, webhookConfig={"uris": [receiver.url()]})

        eventually(lambda: len(receiver.requests) == 1, "the ticker's push")

    assert fake.count("poll") == 0


@pytest.mark.parametrize("fake_class", [FakeGeminiServer, FakeFalServer])
def test_send_webhooks_false_ignores_callback_urls(
    receiver: Receiver, fake_class: type[FakeGeminiServer | FakeFalServer]
) -> None:
    with fake_class(complete_after_polls=0, send_webhooks=False) as fake:
        if isinstance(fake, FakeGeminiServer):
            name = create_veo(fake, webhookConfig={"uris": "not even a list"}).json()["name"]
            polled = httpx2.get(f"{fake.origin}/v1beta/{name}", headers={"x-goog-api-key": GEMINI_KEY})
            assert polled.json()["done"] is True
        else:
            created = create_fal(fake, receiver.url())
            assert fal_get(created["status_url"]).json()["status"] == "COMPLETED"

        assert [job.callbacks for job in fake.jobs.values()] == [()]
        assert fake.deliver_due() == 0
        assert settled(fake)["sent"] == 0
    assert receiver.requests == []


def test_gemini_rotation_publishes_both_keys_and_signs_with_the_new_one(receiver: Receiver) -> None:
    clock = ManualClock()
    with FakeGeminiServer(clock=clock, complete_after_seconds=SECONDS) as fake:
        old = jwt.PyJWKClient(fake.jwks_url).get_signing_keys()[0].key_id
        new = fake.rotate_signing_key()
        published = [key["kid"] for key in httpx2.get(fake.jwks_url).json()["keys"]]
        create_veo(fake, webhookConfig={"uris": [receiver.url()]})
        clock.advance(SECONDS)
        fake.deliver_due()
        settled(fake)
        [request] = receiver.requests
        verified_gemini_claims(fake, request, audience=receiver.url())

    assert set(published) == {old, new}
    assert jwt.get_unverified_header(request.headers["webhook-signature"])["kid"] == new


def test_fal_rotation_publishes_both_keys_and_signs_with_the_new_one(receiver: Receiver) -> None:
    with FakeFalServer(complete_after_polls=0) as fake:
        old = httpx2.get(fake.jwks_url).json()["keys"][0]["kid"]
        new = fake.rotate_signing_key()
        published = httpx2.get(fake.jwks_url).json()["keys"]
        created = create_fal(fake, receiver.url())
        fal_get(created["status_url"])
        settled(fake)
        [request] = receiver.requests
        kid = fal_signing_kid(fake, request)

    assert sorted(key["kid"] for key in published) == sorted([old, new])
    assert all(key.keys() == {"kty", "crv", "x", "kid", "use"} for key in published)
    assert all(len(key["x"]) == 43 and not key["x"].endswith("=") for key in published)
    assert kid == new
