"""The local stack's gateway and poller build the same events as the samples in events/ (the
shape `sam local invoke -e` and Lambda use), and answer as API Gateway does before a function
runs: 401 without an identity, 404 without a route, CORS preflight. No sockets here."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from devstack.environment import Options
from devstack.gateway import Gateway, Request, Router, build_event, http_response
from devstack.poller import scheduled_event, sqs_record
from devstack.ratelimit import DEFAULT_PER_MINUTE, ERROR_BODY, RateLimiter
from devstack.template import load
from tests.support import REPO, load_event
from tools import samples

TEMPLATE = load(REPO / "template.yaml")
# Maps whose keys are data (header names, parameter names), not part of the event's shape.
DATA_MAPS = frozenset({"headers", "queryStringParameters", "pathParameters", "claims"})


def key_paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON value (``requestContext.http.method``); list items share ``[]``."""
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            paths.add(path)
            if key not in DATA_MAPS:
                paths |= key_paths(item, path)
    elif isinstance(value, list):
        for item in value:
            paths |= key_paths(item, f"{prefix}[]")
    return paths


def gateway_event(
    method: str, path: str, *, query: str = "", body: bytes = b"", headers: dict[str, str] | None = None
) -> dict[str, Any]:
    request = Request(
        method,
        path,
        query,
        headers=tuple({"Host": "127.0.0.1:3000", "User-Agent": "curl/8", **(headers or {})}.items()),
        body=body,
    )
    matched = Router(TEMPLATE.routes).match(method, path)
    assert matched is not None
    route, parameters = matched
    return build_event(request, route, parameters, sub=request.header("x-dev-user"), request_id="r-1")


@pytest.mark.parametrize(
    ("sample", "method", "path", "query", "body"),
    [
        ("storyboards.get.200", "GET", f"/api/storyboards/{samples.SAMPLE_STORYBOARD_ID}", "", b""),
        ("storyboards.list.200", "GET", "/api/storyboards", "limit=10", b""),
        ("storyboards.create.201", "POST", "/api/storyboards", "", b'{"name": "Pilot"}'),
        ("status_and_models.get.200", "GET", f"/api/video/status/{samples.SAMPLE_JOB_ID}", "", b""),
        ("api_keys.put.200", "PUT", "/api/keys/openai", "", b'{"apiKey": "sk-x"}'),
    ],
)
def test_gateway_event_has_the_shape_of_the_sample(sample, method, path, query, body):
    expected = load_event(sample)

    event = gateway_event(method, path, query=query, body=body, headers={"X-Dev-User": "alice"})

    assert key_paths(event) == key_paths(expected)
    assert event["routeKey"] == expected["routeKey"]
    assert set(event.get("pathParameters", {})) == set(expected.get("pathParameters", {}))


def test_health_event_has_no_authorizer_like_the_sample():
    expected = load_event("health.get.200")

    event = gateway_event("GET", "/api/health")

    assert key_paths(event) == key_paths(expected)
    assert "authorizer" not in event["requestContext"]


def test_dev_user_header_becomes_the_jwt_sub_and_is_not_passed_on():
    event = gateway_event("GET", "/api/storyboards", headers={"X-Dev-User": "alice"})

    assert event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] == "alice"
    assert "x-dev-user" not in event["headers"]


def test_event_keeps_raw_query_joins_repeated_values_and_lifts_cookies():
    event = gateway_event(
        "GET",
        "/api/storyboards",
        query="q=pilot%20one&tag=a&tag=b",
        headers={"Cookie": "a=1; b=2", "X-Dev-User": "u"},
    )

    assert event["rawQueryString"] == "q=pilot%20one&tag=a&tag=b"
    assert event["queryStringParameters"] == {"q": "pilot one", "tag": "a,b"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-forwarded-proto"] == "http"


def test_binary_body_is_base64_encoded():
    event = gateway_event("PUT", "/api/keys/openai", body=b"\xff\x00\xfe", headers={"X-Dev-User": "u"})

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\x00\xfe"


def test_literal_route_wins_over_a_parameter_and_path_parameters_are_decoded():
    router = Router(TEMPLATE.routes)

    list_route = router.match("GET", "/api/storyboards")
    one = router.match("GET", "/api/storyboards/a%20b")

    assert list_route is not None
    assert list_route[0].path == "/api/storyboards"
    assert one is not None
    assert one[1] == {"id": "a b"}
    assert router.match("PUT", "/api/storyboards") is None
    assert router.match("GET", "/api/storyboards/") is None


# --- answers the gateway gives without invoking a function ----------------------------------------


def gateway() -> Gateway:
    return Gateway(TEMPLATE, function_urls={})


def test_protected_route_without_dev_user_is_401_like_the_jwt_authorizer():
    response = gateway().handle(Request("GET", "/api/storyboards"))

    assert response.status == 401
    assert json.loads(response.body) == {"message": "Unauthorized"}


def test_unknown_route_is_404_like_api_gateway():
    response = gateway().handle(Request("GET", "/api/nothing-here", headers=(("X-Dev-User", "alice"),)))

    assert response.status == 404
    assert json.loads(response.body) == {"message": "Not Found"}


def test_preflight_is_answered_by_the_gateway_from_the_cors_configuration():
    headers = (("Origin", "http://localhost:3000"), ("Access-Control-Request-Method", "PATCH"))

    response = gateway().handle(Request("OPTIONS", "/api/storyboards/x", headers=headers))

    assert response.status == 204
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "PATCH" in response.headers["access-control-allow-methods"].split(",")
    allowed = response.headers["access-control-allow-headers"].split(",")
    assert {"if-match", "idempotency-key", "x-dev-user"} <= set(allowed)


def test_preflight_from_another_origin_gets_no_cors_headers():
    headers = (("Origin", "https://evil.example"), ("Access-Control-Request-Method", "GET"))

    response = gateway().handle(Request("OPTIONS", "/api/storyboards", headers=headers))

    assert not [h for h in response.headers if h.startswith("access-control-")]


def test_gateway_errors_carry_cors_headers_for_an_allowed_origin():
    response = gateway().handle(
        Request("GET", "/api/storyboards", headers=(("Origin", "http://localhost:3000"),))
    )

    assert response.status == 401
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert response.headers["access-control-expose-headers"] == "etag"


# --- function results ---------------------------------------------------------------------------------


def test_function_result_is_written_back_with_headers_cookies_and_base64_body():
    response = http_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "video/mp4", "Content-Length": "999"},
            "cookies": ["a=1; Path=/"],
            "body": base64.b64encode(b"\x00mp4").decode(),
            "isBase64Encoded": True,
        }
    )

    assert response.status == 201
    assert response.headers == {"content-type": "video/mp4"}
    assert response.cookies == ["a=1; Path=/"]
    assert response.body == b"\x00mp4"


def test_result_without_status_code_is_a_200_json_body():
    response = http_response({"ok": True})

    assert response.status == 200
    assert json.loads(response.body) == {"ok": True}


# --- poller events --------------------------------------------------------------------------------------


def test_sqs_record_has_the_shape_of_the_worker_sample():
    expected = load_event("generation_worker.sqs-batch")
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "r-1",
        "Body": '{"jobId": "x", "step": "submit"}',
        "MD5OfBody": "d41d8cd98f00b204e9800998ecf8427e",
        "Attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1",
            "SenderId": "AIDA",
            "ApproximateFirstReceiveTimestamp": "2",
        },
    }

    event = {"Records": [sqs_record(message, "arn:aws:sqs:us-east-1:123456789012:GenerationQueue")]}

    assert key_paths(event) == key_paths(expected)
    assert event["Records"][0]["eventSource"] == "aws:sqs"


def test_sqs_record_carries_message_attributes_as_lambda_does():
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "r-1",
        "Body": "{}",
        "MD5OfBody": "x",
        "MessageAttributes": {
            "kind": {"DataType": "String", "StringValue": "poll"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x01"},
        },
    }

    record = sqs_record(message, "arn")

    assert record["messageAttributes"]["kind"] == {
        "stringValue": "poll",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["messageAttributes"]["blob"]["binaryValue"] == "AQ=="


def test_scheduled_event_has_the_shape_of_the_sweeper_sample():
    expected = load_event("sweeper.scheduled")

    event = scheduled_event("Sweep", now=datetime(2026, 11, 1, 12, 5, tzinfo=UTC))

    assert key_paths(event) == key_paths(expected)
    assert event["time"] == "2026-11-01T12:05:00Z"


# --- the per-caller rate limit (WAF's, emulated) ------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limited_gateway(per_minute: int, clock: FakeClock) -> Gateway:
    return Gateway(load(REPO / "template.yaml"), {}, limiter=RateLimiter(per_minute=per_minute, clock=clock))


def call_as(gw: Gateway, user: str | None, ip: str = "127.0.0.1") -> Any:
    headers = (("X-Dev-User", user),) if user else ()
    return gw.handle(Request("GET", "/api/nothing-here", headers=headers, source_ip=ip))


def test_a_caller_over_the_limit_gets_429_json_with_retry_after_and_others_do_not():
    # Given a limit of 3 requests a minute per caller
    clock = FakeClock()
    gw = limited_gateway(3, clock)
    # When alice spends her 3 and asks once more
    assert [call_as(gw, "alice").status for _ in range(3)] == [404, 404, 404]
    refused = call_as(gw, "alice")
    # Then she is told to wait, in the edge's JSON shape
    assert refused.status == 429
    assert refused.headers["retry-after"] == "20"
    assert json.loads(refused.body) == {"error": ERROR_BODY["error"]}
    # And bob, and an anonymous caller, still pass
    assert call_as(gw, "bob").status == 404
    assert call_as(gw, None, ip="10.0.0.7").status == 404
    # And alice passes again once the bucket has refilled one request
    clock.now += 20
    assert call_as(gw, "alice").status == 404
    assert call_as(gw, "alice").status == 429


def test_anonymous_callers_are_counted_by_ip():
    clock = FakeClock()
    gw = limited_gateway(1, clock)
    assert call_as(gw, None, ip="10.0.0.1").status == 404
    assert call_as(gw, None, ip="10.0.0.1").status == 429
    assert call_as(gw, None, ip="10.0.0.2").status == 404


def test_a_zero_limit_turns_the_emulation_off():
    gw = limited_gateway(0, FakeClock())
    assert {call_as(gw, "alice").status for _ in range(50)} == {404}


def test_the_default_limit_is_generous_and_set_by_rate_limit_per_minute():
    assert Options.from_env({}).rate_limit_per_minute == DEFAULT_PER_MINUTE >= 1000
    assert Options.from_env({"RATE_LIMIT_PER_MINUTE": "30"}).rate_limit_per_minute == 30


def test_thousands_of_webhooks_a_minute_from_one_address_get_429_without_spending_the_api_limit():
    # Given the edge's limits: 3 API requests a minute per caller, 600 webhooks per address
    clock = FakeClock()
    gw = Gateway(
        load(REPO / "template.yaml"),
        {},
        limiter=RateLimiter(per_minute=3, clock=clock),
        webhook_limiter=RateLimiter(per_minute=600, clock=clock),
    )

    def webhook(ip: str) -> int:
        return gw.handle(Request("POST", "/api/webhooks/fal", body=b"{}", source_ip=ip)).status

    # When one address sends 2,000 webhooks within the same second
    statuses = [webhook("203.0.113.9") for _ in range(2000)]
    # Then the first 600 reach the route and every one after is refused with 429
    assert 429 not in statuses[:600]
    assert set(statuses[600:]) == {429}
    # And another address, and the API's own callers, still pass
    assert webhook("198.51.100.4") != 429
    assert call_as(gw, None, ip="203.0.113.9").status == 404
