"""What every API function shares: the resolver factory, identity, the checks before routing
(size, media type, the edge rule of videogen.edge), error mapping, and the decorated Lambda entry
point (Logger with the request id as correlation id, Tracer, Metrics).

Errors are JSON ``{error, details?}`` and never carry a stack trace, SQL or a secret; a 400's
details are field errors ``[{field, message, type}]``, the field named by where it is
(``body.name``, ``query.limit``, ``path.id``, ``header.if-match``).
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import ResponseBuilder, Route
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from videogen import dispatch, edge, snapstart
from videogen.config import get_settings
from videogen.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    QuotaExceeded,
    ServiceUnavailable,
    StaleVersion,
)
from videogen.observability import lambda_entry, logger, metrics, tracer

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_DOMAIN_STATUS: dict[type[DomainError], HTTPStatus] = {
    NotFound: HTTPStatus.NOT_FOUND,
    StaleVersion: HTTPStatus.PRECONDITION_FAILED,
    Conflict: HTTPStatus.CONFLICT,
    QuotaExceeded: HTTPStatus.TOO_MANY_REQUESTS,
    InvalidInput: HTTPStatus.BAD_REQUEST,
}


class Unauthenticated(Exception):
    """No verified identity on the request."""


def _error_body(error: str, details: Any) -> dict[str, Any]:
    """The one error shape: ``{"error": ..., "details": ...}`` (details only when present)."""
    return {"error": error} if details is None else {"error": error, "details": details}


def error_response(status: HTTPStatus | int, error: str, details: Any = None) -> Response[dict[str, Any]]:
    """An error answer from inside the resolver (exception handlers)."""
    body = _error_body(error, details)
    return Response(status_code=int(status), content_type=content_types.APPLICATION_JSON, body=body)


def _raw_error(status: HTTPStatus, error: str, details: Any = None) -> dict[str, Any]:
    """An API Gateway v2 result built before the resolver runs (size and media-type checks)."""
    return {
        "statusCode": int(status),
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps(_error_body(error, details), separators=(",", ":")),
        "isBase64Encoded": False,
    }


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Field errors without the rejected input (it may hold a secret such as an API key)."""
    return [
        {
            "field": ".".join(str(part) for part in err.get("loc", ())) or "body",
            "message": err.get("msg", "invalid"),
            "type": err.get("type", "invalid"),
        }
        for err in exc.errors()
    ]


def _method(event: Mapping[str, Any]) -> str:
    return str(event.get("requestContext", {}).get("http", {}).get("method", "")).upper()


def precheck(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """Refuse, before routing, what no route accepts: bodies too large (413), non-JSON (415)."""
    method = _method(event)
    body = event.get("body") or ""
    max_bytes = get_settings().max_body_bytes
    if len(body) > max_bytes * (4 / 3 if event.get("isBase64Encoded") else 1):
        return _raw_error(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Request body too large", {"maxBytes": max_bytes}
        )
    if method in BODY_METHODS and body:
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != content_types.APPLICATION_JSON:
            return _raw_error(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                "Content-Type must be application/json",
                {"contentType": content_type or None},
            )
    return None


def checked_body(event: Mapping[str, Any]) -> tuple[str | None, Any]:
    """The edge rule over a whole request (headers, query, path, body): the body as text, and
    the JSON body of a POST, PUT or PATCH parsed under the rule (``None`` without one).
    Raises ``edge.Refused``."""
    edge.check_strings("header", event.get("headers"))
    edge.check_strings("query", event.get("queryStringParameters"))
    edge.check_strings("path", event.get("pathParameters"))
    text = edge.body_text(event.get("body"), base64_encoded=bool(event.get("isBase64Encoded")))
    return text, edge.parse_body(text) if text and _method(event) in BODY_METHODS else None


def _claimed_sub(event: Mapping[str, Any]) -> str | None:
    claims = (((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}).get("claims")
    sub = (claims or {}).get("sub")
    return sub if isinstance(sub, str) and sub else None


class _ResponseBuilder(ResponseBuilder[Any]):
    """Powertools' builder, without reading the request's headers when nothing can be gzipped."""

    @staticmethod
    def _has_compression_enabled(
        route_compression: bool, response_compression: bool | None, event: Any
    ) -> bool:
        # Powertools answers False here too, after building a case-insensitive copy of the headers
        # to look for Accept-Encoding: gzip is only on when the route or the response asks for it.
        if not route_compression and not response_compression:
            return False
        return ResponseBuilder._has_compression_enabled(route_compression, response_compression, event)


class ApiResolver(APIGatewayHttpResolver):
    """HTTP API resolver with validation on and the shared pre-routing checks.

    Unless built with ``require_identity=False`` (health), a request without a verified
    identity is answered 401 before anything else looks at it. The body is parsed once, under
    the edge rule, before routing; Powertools is handed that value and never parses the text.
    A matched route is called through :mod:`videogen.dispatch` (Powertools' validation, not
    its middleware chain).
    """

    def __init__(self, *, require_identity: bool = True, **kwargs: Any) -> None:
        super().__init__(json_body_deserializer=self._checked_body, **kwargs)
        self.require_identity = require_identity
        self._parsed: tuple[str | None, Any] = (None, None)
        self._direct: dict[int, dispatch.DirectRoute] | None = None
        self._response_builder_class = _ResponseBuilder

    def _checked_body(self, text: str) -> Any:
        # The very text resolve() parsed: its value; any other text is parsed under the same rule.
        parsed_text, value = self._parsed
        return value if text is parsed_text else edge.parse_body(text)

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        if self.require_identity and _claimed_sub(event) is None:
            return _raw_error(HTTPStatus.UNAUTHORIZED, "Authentication required")
        refused = precheck(event)
        if refused is not None:
            return refused
        try:
            self._parsed = checked_body(event)
        except edge.Refused as exc:
            return _raw_error(HTTPStatus.BAD_REQUEST, exc.message, exc.details)
        return super().resolve(event, context)

    def _call_route(self, route: Route, route_arguments: dict[str, str]) -> ResponseBuilder[Any]:
        # Routes are all registered at import, before the first request: the table is built once.
        if self._direct is None:
            self._direct = dispatch.direct_routes(self)
        direct = self._direct.get(id(route))
        if direct is None or direct.route is not route:
            return super()._call_route(route, route_arguments)
        return dispatch.call_route(self, direct, route_arguments)


def current_user(app: APIGatewayHttpResolver) -> str:
    """The caller's id: the JWT ``sub`` claim verified by API Gateway's authorizer, nothing else."""
    sub = _claimed_sub(app.current_event.raw_event)
    if sub is None:
        raise Unauthenticated
    return sub


def _register_error_handlers(app: ApiResolver) -> None:
    @app.exception_handler(RequestValidationError)
    def _validation(exc: RequestValidationError) -> Response[dict[str, Any]]:
        return error_response(HTTPStatus.BAD_REQUEST, "Validation failed", _field_errors(exc))

    @app.exception_handler(RequestUnsupportedContentType)
    def _media_type(exc: RequestUnsupportedContentType) -> Response[dict[str, Any]]:
        return error_response(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json")

    @app.exception_handler(Unauthenticated)
    def _unauthenticated(exc: Unauthenticated) -> Response[dict[str, Any]]:
        return error_response(HTTPStatus.UNAUTHORIZED, "Authentication required")

    @app.exception_handler(DomainError)
    def _domain(exc: DomainError) -> Response[dict[str, Any]]:
        status = next(
            (code for cls, code in _DOMAIN_STATUS.items() if isinstance(exc, cls)), HTTPStatus.BAD_REQUEST
        )
        return error_response(status, exc.message, exc.details)

    # OperationalError: refused, "too many clients", RDS Proxy's borrow timeout; PoolTimeout: no
    # connection free in the process's own pool within db_connect_timeout_seconds.
    @app.exception_handler([ServiceUnavailable, OperationalError, PoolTimeout])
    def _database_down(exc: Exception) -> Response[dict[str, Any]]:
        logger.error("dependency unavailable", extra={"error_type": type(exc).__name__})
        return error_response(HTTPStatus.SERVICE_UNAVAILABLE, "Service temporarily unavailable, try again")

    @app.not_found
    def _no_route(exc: NotFoundError) -> Response[dict[str, Any]]:
        return error_response(HTTPStatus.NOT_FOUND, "Not found")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[dict[str, Any]]:
        # DBAPIError text can hold SQL and parameters: log the class only, answer a generic 500.
        if isinstance(exc, DBAPIError):
            logger.error("database error", extra={"error_type": type(exc.orig).__name__})
        else:
            logger.exception("unhandled error")
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error")


def make_resolver(*, require_identity: bool = True) -> ApiResolver:
    """The resolver every API function uses: validation on, errors mapped once."""
    app = ApiResolver(require_identity=require_identity, enable_validation=True)
    _register_error_handlers(app)
    return app


def prime_routes(app: ApiResolver) -> int:
    """Build what Powertools builds on a route's first request (its parameters' and body's
    validation models); returns how many routes. Run before a SnapStart snapshot."""
    routes = [*getattr(app, "_static_routes", []), *getattr(app, "_dynamic_routes", [])]
    for route in routes:
        _ = route.dependant, route.body_field
    app._direct = dispatch.direct_routes(app)
    return len(routes)


_resolvers: weakref.WeakSet[ApiResolver] = weakref.WeakSet()
snapstart.on_prime(lambda: [prime_routes(app) for app in list(_resolvers)])


def api_handler(app: ApiResolver) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The Lambda entry point over ``app`` (logging, tracing and metrics as
    :func:`videogen.observability.lambda_entry` wires them), its routes primed before a
    SnapStart snapshot (:mod:`videogen.snapstart`)."""
    _resolvers.add(app)
    snapstart.install()

    def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        # The request id as correlation id, read directly: a JMESPath query per request costs more.
        logger.set_correlation_id((event.get("requestContext") or {}).get("requestId"))
        return app.resolve(event, context)

    return lambda_entry(handle)


# logger, metrics and tracer live in videogen.observability; API functions keep importing them here.
__all__ = [
    "BODY_METHODS",
    "ApiResolver",
    "Unauthenticated",
    "api_handler",
    "checked_body",
    "current_user",
    "error_response",
    "logger",
    "make_resolver",
    "metrics",
    "precheck",
    "prime_routes",
    "tracer",
]
