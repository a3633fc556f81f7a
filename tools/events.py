"""API Gateway HTTP API (payload format 2.0) events, built the way API Gateway builds them.

The gateway emulator of the local stack (``devstack.gateway``) builds every request's event
with ``http_api_event``; the sample files in events/ are written by the same function
(``python -m tools.samples``), so the samples and the emulator cannot drift apart.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ACCOUNT_ID = "123456789012"
API_ID = "localapi01"
STAGE = "$default"
SAMPLE_TIME = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def http_api_event(
    method: str,
    path: str,
    *,
    route_key: str | None = None,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | str | None = None,
    sub: str | None = None,
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """One HTTP API v2 event. ``sub`` becomes the JWT claim a JWT authorizer would have verified."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    now = now or datetime.now(UTC)
    request_context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": headers.get("host", "127.0.0.1"),
        "domainPrefix": headers.get("host", "127.0.0.1").split(".")[0],
        "http": {
            "method": method.upper(),
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id or str(uuid.uuid4()),
        "routeKey": route_key or f"{method.upper()} {path}",
        "stage": STAGE,
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if sub is not None:
        request_context["authorizer"] = {
            "jwt": {"claims": {"sub": sub, "iss": "local", "token_use": "access"}, "scopes": None}
        }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": request_context["routeKey"],
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": headers,
        "requestContext": request_context,
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if body is not None:
        if isinstance(body, bytes):
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(body).decode()
                event["isBase64Encoded"] = True
        else:
            event["body"] = body
    return event


def json_request(
    method: str,
    path: str,
    route_key: str,
    *,
    body: Any = None,
    sub: str | None = "user-123",
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An event for a JSON API call, as the front end makes it."""
    all_headers = {
        "host": "api.example.com",
        "user-agent": "storyboard-web/1.0",
        "accept": "application/json",
    }
    if body is not None:
        all_headers["content-type"] = "application/json"
    all_headers |= headers or {}
    raw = body if isinstance(body, str) or body is None else json.dumps(body)
    return http_api_event(
        method,
        path,
        route_key=route_key,
        path_parameters=path_parameters,
        query=query,
        headers=all_headers,
        body=raw,
        sub=sub,
        request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        now=SAMPLE_TIME,
    )


def write_event(directory: Path, name: str, event: dict[str, Any]) -> Path:
    """Write one sample (stable formatting, so regenerating shows real diffs only)."""
    path = directory / f"{name}.json"
    path.write_text(json.dumps(event, indent=2, sort_keys=True) + "\n")
    return path
