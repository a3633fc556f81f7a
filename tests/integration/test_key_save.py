"""Saving a key: the endpoint an openai key names must be public (or the operator's), the provider
is asked once whether it takes the key, and a refusal stores nothing; all over loopback."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx2
import pytest

from devstack.fakes import FakeSoraServer
from tests.integration.generation_support import USER, Pipeline, job_fields, step_body, store_key
from tests.support import invoke, load_event, load_function, with_changes
from videogen.data.db import session_scope
from videogen.data.repositories import api_keys, video_jobs
from videogen.providers.egress import EgressPolicy, EndpointRefused, GuardedTransport

keys_handler = load_function("api_keys").lambda_handler
KEY = "sk-save-test-0123456789abcdefWXYZ"
LOOPBACK = {"provider_endpoint_allowlist": "127.0.0.1", "allow_http_provider_endpoints": True}


def put(provider: str = "openai", **body: Any) -> Any:
    event = with_changes(
        load_event("api_keys.put.200"), body={"apiKey": KEY, **body}, path_parameters={"provider": provider}
    )
    return invoke(keys_handler, event)


def stored(provider: str = "openai") -> Any:
    with session_scope() as s:
        return api_keys.get(s, "user-123", provider)


class _Listener:
    """A port on a loopback address that counts the connections it is offered."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.create_server((host, 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.05)

    def connections(self) -> int:
        count = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                return count
            conn.close()
            count += 1


@pytest.fixture
def listener() -> Iterator[_Listener]:
    found = _Listener()
    yield found
    found.sock.close()


@pytest.mark.parametrize(
    "base_url",
    [
        "http://{port}.example.com/v1",
        "https://127.0.0.1:{port}/v1",
        "https://169.254.169.254/latest",
        "https://[::1]:{port}/v1",
        "https://[::ffff:10.0.0.1]/v1",
        "https://2130706433:{port}/v1",
        "https://0x7f.1:{port}/v1",
        "https://localhost:{port}/v1",
        "https://10.0.0.1/v1",
        "https://100.64.0.1/v1",
        "https://user:secret@1.1.1.1/v1",
    ],
)
def test_a_base_url_reaching_inside_is_400_stores_nothing_and_connects_nowhere(
    aws: Any, listener: _Listener, base_url: str
) -> None:
    result = put(baseUrl=base_url.format(port=listener.port))

    assert result.status == 400
    assert result.body["details"][0]["field"] == "body.baseUrl"
    assert "not allowed" in result.body["error"]
    assert stored() is None
    assert listener.connections() == 0


def test_openais_own_closed_endpoint_is_refused_with_its_date(aws: Any) -> None:
    result = put(baseUrl="https://api.openai.com/v1")

    assert result.status == 400
    assert "shut down its own videos API on 2026-09-24" in result.body["error"]
    assert stored() is None


def test_a_key_the_endpoint_accepts_is_stored_verified(aws: Any, configure: Any) -> None:
    configure(**LOOPBACK)
    with FakeSoraServer() as fake:
        base_url = fake.base_url
        result = put(baseUrl=base_url)

        assert fake.count("models") == 1

    assert result.status == 200
    assert (result.body["baseUrl"], result.body["verified"], result.body["api"]) == (base_url, True, None)
    assert stored().verified_at is not None


def test_a_key_the_endpoint_rejects_is_400_quoting_it_and_nothing_is_stored(aws: Any, configure: Any) -> None:
    configure(**LOOPBACK)
    with FakeSoraServer(rejected_keys=frozenset({KEY})) as fake:
        result = put(baseUrl=fake.base_url)

    assert result.status == 400
    assert result.body["error"].startswith("the provider rejected the key")
    assert "Incorrect API key provided" in result.body["error"]
    assert result.body["details"][0]["field"] == "body.apiKey"
    assert KEY not in json.dumps(result.raw)
    assert stored() is None


def test_an_unreachable_endpoint_stores_the_key_unverified(
    aws: Any, configure: Any, listener: _Listener
) -> None:
    configure(**LOOPBACK)
    listener.sock.close()  # nothing listens there any more

    result = put(baseUrl=f"http://127.0.0.1:{listener.port}/v1")

    assert result.status == 200
    assert result.body["verified"] is False
    assert stored().is_active


class _Redirect(BaseHTTPRequestHandler):
    target = ""
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).seen.append(f"{self.headers['Host']} {self.headers.get('Authorization', '')}")
        if self.path.endswith("/models") and type(self).target:
            self.send_response(302)
            self.send_header("Location", type(self).target)
        else:
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:  # a create, sent on (307 keeps the method and the body)
        type(self).seen.append(f"{self.headers['Host']} POST")
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(307)
        self.send_header("Location", type(self).target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def redirector() -> Iterator[ThreadingHTTPServer]:
    _Redirect.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_an_endpoint_redirecting_inside_is_400_and_the_redirect_is_never_followed(
    aws: Any, configure: Any, redirector: ThreadingHTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    # The operator allowlists the endpoint's own address; the hop it redirects to is not
    caplog.set_level(logging.DEBUG)
    configure(**LOOPBACK)
    inside = _Listener("127.0.0.2")
    _Redirect.target = f"http://127.0.0.2:{inside.port}/v1/models"

    result = put(baseUrl=f"http://127.0.0.1:{redirector.server_address[1]}/v1")

    assert result.status == 400
    assert "127.0.0.2, which is a loopback address" in result.body["error"]
    assert result.body["details"][0]["field"] == "body.baseUrl"
    assert stored() is None
    assert inside.connections() == 0
    assert len(_Redirect.seen) == 1
    assert KEY not in json.dumps(result.raw)
    assert KEY not in caplog.text


@pytest.mark.parametrize(
    ("provider", "body", "field"),
    [("fal", {"api": "gemini"}, "body.api"), ("veo", {"baseUrl": "https://1.1.1.1/v1"}, "body.baseUrl")],
)
def test_a_field_the_provider_does_not_take_is_400(
    aws: Any, provider: str, body: dict[str, str], field: str
) -> None:
    result = put(provider, **body)

    assert result.status == 400
    assert result.body["details"][0]["field"] == field
    assert stored(provider) is None


# --- the guard's transport, as the worker's adapter uses it -------------------------------------------


def test_a_job_whose_endpoint_redirects_inside_fails_and_is_never_resubmitted(
    aws: Any, configure: Any, redirector: ThreadingHTTPServer, make_job: Any
) -> None:
    # Given a key saved for an endpoint that later redirects its creates inside the network
    inside = _Listener("127.0.0.2")
    _Redirect.target = f"http://127.0.0.2:{inside.port}/v1/videos"
    configure(
        openai_default_base_url=f"http://127.0.0.1:{redirector.server_address[1]}/v1",
        provider_timeout_seconds=5,
        function_timeout_seconds=180,
        **LOOPBACK,
    )
    store_key(USER, "openai")
    job = make_job(USER, **job_fields("openai"))

    # When the worker submits it
    pipeline = Pipeline()
    pipeline.deliver(step_body(job.id, "submit"))

    # Then the job failed naming the refused address, nothing reached it, nothing is queued
    with session_scope() as s:
        failed = video_jobs.get_by_id(s, job.id)
        assert failed is not None
        assert (failed.status, failed.attempts) == ("failed", 1)
        assert "127.0.0.2, which is a loopback address" in (failed.error_message or "")
    assert inside.connections() == 0
    assert pipeline.take() == []


def test_a_request_goes_to_the_address_checked_with_one_lookup(redirector: ThreadingHTTPServer) -> None:
    # A name no DNS knows: only the guard's own lookup can have found the server.
    lookups: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    policy = EgressPolicy.from_allowlist("svc.test", allow_http=True, resolver=resolver)
    port = redirector.server_address[1]
    _Redirect.target = ""
    with httpx2.Client(transport=GuardedTransport(policy)) as http:
        response = http.get(f"http://svc.test:{port}/ok")

    assert response.status_code == 200
    assert lookups == ["svc.test"]
    assert _Redirect.seen == [f"svc.test:{port} "]  # the name, not the address, in Host


def test_the_guard_refuses_before_connecting() -> None:
    inside = _Listener("127.0.0.2")
    policy = EgressPolicy.from_allowlist("127.0.0.1", allow_http=True)

    with httpx2.Client(transport=GuardedTransport(policy)) as http, pytest.raises(EndpointRefused):
        http.get(f"http://127.0.0.2:{inside.port}/v1/models")

    assert inside.connections() == 0
