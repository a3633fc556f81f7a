"""An API Gateway HTTP API emulator: template.yaml's routes in front of the functions' runtimes.

For each request it does what API Gateway does with payload format 2.0:

- route matching on ``METHOD /path/{param}`` from the template's HttpApi events (the most
  specific path wins); no match answers 404 ``{"message":"Not Found"}``;
- the JWT authorizer: locally the ``X-Dev-User: <id>`` header becomes the ``sub`` claim (the
  header itself is not passed on); a protected route without it answers 401
  ``{"message":"Unauthorized"}``; routes with ``Auth: {Authorizer: NONE}`` need nothing;
- the event, built by :func:`tools.events.http_api_event` (the builder of the events/
  samples, so the two cannot drift apart), with the raw query string, cookies and the
  ``x-forwarded-*`` headers API Gateway adds;
- the function's result written back: statusCode, headers, cookies, body (base64 decoded when
  ``isBase64Encoded``); a result without ``statusCode`` is a 200 JSON body; a failed
  invocation is 500 ``{"message":"Internal Server Error"}``, one over the 30 s integration
  timeout 503 ``{"message":"Service Unavailable"}``;
- the edge's per-caller rate limit (AWS WAF deployed, :mod:`devstack.ratelimit` here): past
  ``--rate-limit`` requests a minute from one ``X-Dev-User`` (else one IP), 429 JSON with
  ``Retry-After``;
- CORS from the HttpApi's CorsConfiguration (its parameters as ``--parameter`` sets them, e.g.
  ``CorsAllowedOrigins`` from the stack's ``CORS_ORIGINS``): preflight OPTIONS answered by the gateway, CORS
  headers on every response to an allowed origin (the function's own CORS headers dropped).
  ``x-dev-user`` is added to the allowed headers, since locally it replaces ``authorization``;
- the web app: a GET or HEAD that no route claims, outside ``/api/``, is answered by
  :class:`devstack.webapp.WebApp` (``web/`` and a dev ``config.json``), as CloudFront will.

``python -m devstack.gateway --port 3000 --function StoryboardsFunction=http://127.0.0.1:PORT``
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from devstack.logs import configure_logging, named_values, ready_line, stop_requested
from devstack.ratelimit import DEFAULT_PER_MINUTE, RateLimiter, caller_key, too_many_requests
from devstack.runtime import InvocationFailed, invoke
from devstack.template import Cors, Route, Template, load
from devstack.webapp import WebApp
from tools.events import http_api_event

logger = logging.getLogger("devstack.gateway")

DEV_USER_HEADER = "x-dev-user"
INTEGRATION_TIMEOUT_SECONDS = 30.0
MAX_BODY_BYTES = 10 * 1024 * 1024  # HTTP API payload limit
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


# --- routing ----------------------------------------------------------------------------------------


class Router:
    """The template's routes, most specific first (literal paths before parameters)."""

    def __init__(self, routes: list[Route]) -> None:
        def specificity(route: Route) -> tuple[int, int, int]:
            greedy = int(route.path.endswith("+}"))
            return greedy, len(route.parameters), -len(route.path)

        self._routes = [(route, route.pattern()) for route in sorted(routes, key=specificity)]

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route, pattern in self._routes:
            if route.method not in (method, "ANY"):
                continue
            found = pattern.match(path)
            if found is not None:
                values = [unquote(v) for v in found.groups()]
                return route, dict(zip(route.parameters, values, strict=True))
        return None


# --- events -----------------------------------------------------------------------------------------


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


# --- CORS -------------------------------------------------------------------------------------------


def cors_headers(cors: Cors | None, origin: str | None) -> dict[str, str]:
    """The CORS headers API Gateway adds to a response for ``origin`` (none if not allowed)."""
    if cors is None or not origin:
        return {}
    if "*" in cors.allow_origins:
        allowed = "*"
    elif origin in cors.allow_origins:
        allowed = origin
    else:
        return {}
    headers = {"access-control-allow-origin": allowed}
    if cors.allow_credentials:
        headers["access-control-allow-credentials"] = "true"
    if cors.expose_headers:
        headers["access-control-expose-headers"] = ",".join(cors.expose_headers)
    return headers


def preflight(cors: Cors, origin: str | None) -> Response:
    """API Gateway's answer to a preflight OPTIONS request."""
    headers = cors_headers(cors, origin)
    if headers:
        headers.pop("access-control-expose-headers", None)
        headers["access-control-allow-methods"] = ",".join(cors.allow_methods) or "*"
        headers["access-control-allow-headers"] = ",".join((*cors.allow_headers, DEV_USER_HEADER))
        if cors.max_age is not None:
            headers["access-control-max-age"] = str(cors.max_age)
    return Response(204, headers)


# --- the gateway ------------------------------------------------------------------------------------


class Gateway:
    """Routes requests to function runtimes (``function_urls``: logical id -> runtime URL)."""

    def __init__(
        self,
        template: Template,
        function_urls: Mapping[str, str],
        integration_timeout: float = INTEGRATION_TIMEOUT_SECONDS,
        web: WebApp | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.template = template
        self.web = web
        self.router = Router(template.routes)
        self.function_urls = dict(function_urls)
        self.integration_timeout = integration_timeout
        self.limiter = limiter or RateLimiter()

    def handle(self, request: Request) -> Response:
        """Answer one request; CORS headers added to whatever the answer is."""
        response = self._limit(request) or self._route(request)
        if request.method != "OPTIONS" or response.status != 204:
            response.headers = {
                k: v for k, v in response.headers.items() if not k.startswith("access-control-")
            } | cors_headers(self.template.cors, request.header("origin"))
        return response

    def _limit(self, request: Request) -> Response | None:
        """The edge's 429 when this caller is over the limit, else None."""
        wait = self.limiter.retry_after(caller_key(request.header(DEV_USER_HEADER), request.source_ip))
        if wait is None:
            return None
        status, headers, body = too_many_requests(wait)
        return Response(status, headers, body)

    def _route(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        matched = self.router.match(request.method, request.path)
        if matched is None:
            page = None
            if self.web is not None:
                page = self.web.answer(request.method, request.path, request.header("if-none-match"))
            if page is not None:
                return Response(page.status, page.headers, page.body)
            if request.method == "OPTIONS" and self.template.cors is not None:
                return preflight(self.template.cors, request.header("origin"))
            return gateway_error(404, "Not Found")
        route, parameters = matched
        sub = (request.header(DEV_USER_HEADER) or "").strip() or None
        if route.requires_auth and sub is None:
            return gateway_error(401, "Unauthorized")
        if len(request.body) > MAX_BODY_BYTES:
            return gateway_error(413, "Request Entity Too Large")
        event = build_event(request, route, parameters, sub if route.requires_auth else None, request_id)
        response = self._invoke(route, event)
        response.headers["apigw-requestid"] = request_id
        return response

    def _invoke(self, route: Route, event: dict[str, Any]) -> Response:
        function = self.template.functions[route.function]
        url = self.function_urls.get(route.function)
        if url is None:
            logger.error("no runtime for %s (%s)", function.name, route.route_key)
            return gateway_error(500, "Internal Server Error")
        try:
            result = invoke(url, event, timeout=self.integration_timeout)
        except InvocationFailed as exc:
            if exc.timed_out:
                logger.error("%s: no answer within %.0f s", function.name, self.integration_timeout)
                return gateway_error(503, "Service Unavailable")
            logger.error("%s: invocation failed (%s)", function.name, exc)
            return gateway_error(500, "Internal Server Error")
        if result.function_error:
            logger.error(
                "%s: %s", function.name, (result.payload or {}).get("errorMessage", "function error")
            )
            return gateway_error(500, "Internal Server Error")
        try:
            return http_response(result.payload)
        except (TypeError, ValueError) as exc:
            logger.error("%s: malformed result (%s)", function.name, exc)
            return gateway_error(500, "Internal Server Error")

    def function_name(self, request: Request) -> str:
        matched = self.router.match(request.method, request.path)
        return self.template.functions[matched[0].function].name if matched else "-"


# --- HTTP server ------------------------------------------------------------------------------------


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def _request_handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class GatewayHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "devstack-gateway"

        def _serve(self) -> None:
            started = time.monotonic()
            path, _, query = self.path.partition("?")
            request = Request(
                method=self.command,
                path=path,
                query=query,
                headers=tuple((k, v) for k, v in self.headers.items()),
                body=_read_body(self),
                source_ip=self.client_address[0],
            )
            response = gateway.handle(request)
            self._write(response, head_only=self.command == "HEAD")
            logger.info(
                "%s %s -> %s %d (%.0f ms)",
                request.method,
                self.path,
                gateway.function_name(request),
                response.status,
                (time.monotonic() - started) * 1000,
            )

        def _write(self, response: Response, *, head_only: bool) -> None:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            for cookie in response.cookies:
                self.send_header("set-cookie", cookie)
            self.send_header("content-length", str(len(response.body)))
            self.end_headers()
            if not head_only:
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

        def __getattr__(self, name: str) -> Any:
            # Any other method (TRACE, PROPFIND...) is routed too, so it meets API Gateway's own
            # 404 instead of http.server's 501 page.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return GatewayHandler


def serve(gateway: Gateway, port: int) -> ThreadingHTTPServer:
    """Serve ``gateway`` on 127.0.0.1:``port`` (0: any free port) in a background thread."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _request_handler(gateway))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> int:
    """Serve the API on 127.0.0.1:PORT until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m devstack.gateway", description=__doc__)
    parser.add_argument("--template", type=Path, default=Path("template.yaml"))
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--function", action="append", default=[], help="LogicalId=runtime URL")
    parser.add_argument(
        "--web-root", type=Path, help="the web app's files (default: web/ beside the template)"
    )
    parser.add_argument("--media-origin", action="append", default=[], help="where clips play from (CSP)")
    parser.add_argument(
        "--rate-limit", type=int, default=DEFAULT_PER_MINUTE, help="requests a minute per caller (0: off)"
    )
    parser.add_argument("--parameter", action="append", default=[], help="template Parameter=value")
    args = parser.parse_args(argv)
    configure_logging()

    web_root = args.web_root or args.template.resolve().parent / "web"
    web = WebApp(web_root, media_origins=args.media_origin) if web_root.is_dir() else None
    limiter = RateLimiter(per_minute=args.rate_limit)
    gateway = Gateway(
        load(args.template, named_values(args.parameter)),
        named_values(args.function),
        web=web,
        limiter=limiter,
    )
    try:
        server = serve(gateway, args.port)
    except OSError as exc:
        logger.error("cannot listen on 127.0.0.1:%d (%s); set PORT to a free port", args.port, exc.strerror)
        return 2
    stopped = stop_requested()
    ready_line({"url": f"http://127.0.0.1:{server.server_address[1]}"})
    stopped.wait()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
