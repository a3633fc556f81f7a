"""What every API function shares: the resolver factory, identity, the checks before routing
(size, media type, the edge rule of videogen.api.input_rule), error mapping, and the decorated Lambda entry
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
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from videogen.api import dispatch, input_rule
from videogen.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    QuotaExceeded,
    ServiceUnavailable,
    StaleVersion,
)
from videogen.runtime import snapstart
from videogen.runtime.config import get_settings
from videogen.runtime.observability import lambda_entry, logger

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
    Raises ``input_rule.Refused``."""
    input_rule.check_strings("header", event.get("headers"))
    input_rule.check_strings("query", event.get("queryStringParameters"))
    input_rule.check_strings("path", event.get("pathParameters"))
    text = input_rule.body_text(event.get("body"), base64_encoded=bool(event.get("isBase64Encoded")))
    return text, input_rule.parse_body(text) if text and _method(event) in BODY_METHODS else None


def _claimed_sub(event: Mapping[str, Any]) -> str | None:
    claims = (((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}).get("claims")
    sub = (claims or {}).get("sub")
    return sub if isinstance(sub, str) and sub else None


class ApiResolver(dispatch.FastPath):
    """HTTP API resolver with validation on and the shared pre-routing checks.

    Unless built with ``require_identity=False`` (health), a request without a verified
    identity is answered 401 before anything else looks at it. The body is parsed once, under
    the edge rule, before routing; Powertools is handed that value and never parses the text.
    A matched route is called through :mod:`videogen.api.dispatch` (Powertools' validation, not
    its middleware chain).
    """

    def __init__(self, *, require_identity: bool = True, **kwargs: Any) -> None:
        super().__init__(json_body_deserializer=self._checked_body, **kwargs)
        self.require_identity = require_identity
        self._parsed: tuple[str | None, Any] = (None, None)

    def _checked_body(self, text: str) -> Any:
        # The very text resolve() parsed: its value; any other text is parsed under the same rule.
        parsed_text, value = self._parsed
        return value if text is parsed_text else input_rule.parse_body(text)

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        if self.require_identity and _claimed_sub(event) is None:
            return _raw_error(HTTPStatus.UNAUTHORIZED, "Authentication required")
        refused = precheck(event)
        if refused is not None:
            return refused
        try:
            self._parsed = checked_body(event)
        except input_rule.Refused as exc:
            return _raw_error(HTTPStatus.BAD_REQUEST, exc.message, exc.details)
        return super().resolve(event, context)


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

    # OperationalError: refused, "too many clients", RDS Proxy's borrow timeout, a connection the
    # deadline watchdog cut (a server that stopped answering); PoolTimeout: no connection free in
    # the process's own pool in time. Retry-After says when to try again.
    @app.exception_handler([ServiceUnavailable, OperationalError, PoolTimeout])
    def _database_down(exc: Exception) -> Response[dict[str, Any]]:
        logger.error("dependency unavailable", extra={"error_type": type(exc).__name__})
        answer = error_response(HTTPStatus.SERVICE_UNAVAILABLE, "Service temporarily unavailable, try again")
        answer.headers["Retry-After"] = str(get_settings().retry_after_seconds)
        return answer

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


_resolvers: weakref.WeakSet[ApiResolver] = weakref.WeakSet()
snapstart.on_prime(lambda: [app.prime() for app in list(_resolvers)])


def api_handler(app: ApiResolver) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The Lambda entry point over ``app`` (logging, tracing and metrics as
    :func:`videogen.runtime.observability.lambda_entry` wires them), its routes primed before a
    SnapStart snapshot (:mod:`videogen.runtime.snapstart`)."""
    _resolvers.add(app)
    snapstart.install()

    def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        # The request id as correlation id, read directly: a JMESPath query per request costs more.
        logger.set_correlation_id((event.get("requestContext") or {}).get("requestId"))
        return app.resolve(event, context)

    return lambda_entry(handle)
