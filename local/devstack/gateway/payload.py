"""API Gateway's payload format 2.0: a request as a function's event, the function's result as a response.

The event comes from :func:`tools.events.http_api_event` (the builder of the events/ samples, so
the two cannot drift apart), with the raw query string, cookies and the ``x-forwarded-*``
headers API Gateway adds. A result's statusCode, headers, cookies and body (base64 decoded when
``isBase64Encoded``) are written back; a result without ``statusCode`` is a 200 JSON body.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from devstack.template import Route
from tools.events import http_api_event

DEV_USER_HEADER = "x-dev-user"
_HOP_BY_HOP = frozenset({"connection", "content-length", "transfer-encoding", "keep-alive"})


@dataclass(frozen=True, slots=True)
class Request:
    """An HTTP request as the gateway received it."""

    method: str
    path: str
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    source_ip: str = "127.0.0.1"

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name]
        return ",".join(values) if values else None


@dataclass
class Response:
    """What the gateway writes back."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    cookies: list[str] = field(default_factory=list)


def gateway_error(status: int, message: str) -> Response:
    """API Gateway's own answers: ``{"message": ...}``."""
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    return Response(status, {"content-type": "application/json"}, body)


def event_headers(request: Request, request_id: str) -> tuple[dict[str, str], list[str]]:
    """Lower-case headers joined by commas as API Gateway sends them, and the cookies apart."""
    headers: dict[str, str] = {}
    for name, value in request.headers:
        key = name.lower()
        if key == DEV_USER_HEADER:
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
    port = (headers.get("host", "").rpartition(":")[2]) or "80"
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-port", port if port.isdigit() else "80")
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{request_id.replace('-', '')[:24]}")
    return headers, cookies


def build_event(
    request: Request, route: Route, path_parameters: Mapping[str, str], sub: str | None, request_id: str
) -> dict[str, Any]:
    """The payload 2.0 event API Gateway would send the route's function."""
    headers, cookies = event_headers(request, request_id)
    query: dict[str, str] = {}
    for name, value in parse_qsl(request.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    event = http_api_event(
        request.method,
        request.path,
        route_key=route.route_key,
        path_parameters=dict(path_parameters),
        query=query,
        headers=headers,
        body=request.body or None,
        sub=sub,
        source_ip=request.source_ip,
        request_id=request_id,
    )
    event["rawQueryString"] = request.query
    if cookies:
        event["cookies"] = cookies
    return event


def http_response(payload: Any) -> Response:
    """A function's payload 2.0 result as an HTTP response."""
    if not (isinstance(payload, dict) and "statusCode" in payload):
        # No statusCode: API Gateway assumes a 200 with the result as the JSON body.
        text = payload if isinstance(payload, str) else json.dumps(payload)
        return Response(200, {"content-type": "application/json"}, text.encode())
    raw_body = payload.get("body") or ""
    body = base64.b64decode(raw_body) if payload.get("isBase64Encoded") else str(raw_body).encode()
    headers = {
        str(k).lower(): str(v)
        for k, v in (payload.get("headers") or {}).items()
        if str(k).lower() not in _HOP_BY_HOP
    }
    for name, values in (payload.get("multiValueHeaders") or {}).items():
        headers[str(name).lower()] = ",".join(str(v) for v in values)
    cookies = [str(c) for c in payload.get("cookies") or []]
    return Response(int(payload["statusCode"]), headers, body, cookies)
