"""The HTTP API itself: API Gateway's answer to a request, from the rate limit to the function's result.

- routes are template.yaml's HttpApi events (``METHOD /path/{param}``, the most specific path
  wins); no match answers 404 ``{"message":"Not Found"}``;
- the JWT authorizer: locally the ``X-Dev-User: <id>`` header becomes the ``sub`` claim (the
  header itself is not passed on); a protected route without it answers 401
  ``{"message":"Unauthorized"}``; routes with ``Auth: {Authorizer: NONE}`` need nothing;
- a failed invocation is 500 ``{"message":"Internal Server Error"}``, one over the 30 s
  integration timeout 503 ``{"message":"Service Unavailable"}``;
- the edge's per-caller rate limit (AWS WAF deployed, :mod:`devstack.ratelimit` here): past
  ``--rate-limit`` requests a minute from one ``X-Dev-User`` (else one IP), 429 JSON with
  ``Retry-After``; requests to ``/api/webhooks/`` count per IP in their own bucket
  (``WEBHOOK_PER_MINUTE``);
- CORS headers (:mod:`devstack.gateway.cors`) on every response to an allowed origin, the
  function's own dropped;
- a GET or HEAD that no route claims, outside ``/api/``, is answered by
  :class:`devstack.webapp.WebApp` (``web/`` and a dev ``config.json``), as CloudFront will.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from devstack.gateway.cors import cors_headers, preflight
from devstack.gateway.payload import (
    DEV_USER_HEADER,
    Request,
    Response,
    build_event,
    gateway_error,
    http_response,
)
from devstack.ratelimit import RateLimiter, caller_key, too_many_requests
from devstack.runtime import InvocationFailed, invoke
from devstack.template import Route, Template
from devstack.webapp import WebApp

logger = logging.getLogger("devstack.gateway")

INTEGRATION_TIMEOUT_SECONDS = 30.0
MAX_BODY_BYTES = 10 * 1024 * 1024  # HTTP API payload limit
WEBHOOK_PREFIX = "/api/webhooks/"
WEBHOOK_PER_MINUTE = 600
"""Webhook requests a minute per address: the template's RateLimitWebhooksPerIpPerMinute default."""


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


class Gateway:
    """Routes requests to function runtimes (``function_urls``: logical id -> runtime URL)."""

    def __init__(
        self,
        template: Template,
        function_urls: Mapping[str, str],
        integration_timeout: float = INTEGRATION_TIMEOUT_SECONDS,
        *,
        web: WebApp | None = None,
        limiter: RateLimiter | None = None,
        webhook_limiter: RateLimiter | None = None,
    ) -> None:
        self.template = template
        self.web = web
        self.router = Router(template.routes)
        self.function_urls = dict(function_urls)
        self.integration_timeout = integration_timeout
        self.limiter = limiter or RateLimiter()
        self.webhook_limiter = webhook_limiter or RateLimiter(per_minute=WEBHOOK_PER_MINUTE)

    def handle(self, request: Request) -> Response:
        """Answer one request; CORS headers added to whatever the answer is."""
        response = self._limit(request) or self._route(request)
        if request.method != "OPTIONS" or response.status != 204:
            response.headers = {
                k: v for k, v in response.headers.items() if not k.startswith("access-control-")
            } | cors_headers(self.template.cors, request.header("origin"))
        return response

    def _limit(self, request: Request) -> Response | None:
        """The edge's 429 when this caller is over the limit, else None (providers' webhooks
        count per address in a bucket of their own, as the web ACL's webhooks-per-ip rule does)."""
        if request.path.startswith(WEBHOOK_PREFIX):
            wait = self.webhook_limiter.retry_after(f"ip:{request.source_ip}")
        else:
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
