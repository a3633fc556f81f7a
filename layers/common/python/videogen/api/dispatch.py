"""The API's fast path: a matched route called without Powertools' per-request middleware chain,
same answers. The one module that touches Powertools' private names.

Powertools runs every request through a chain of middleware frames (request validation,
response validation, an adapter), rebuilds case-insensitive header maps and re-inspects each
query parameter's annotation, validates the returned model again, turns it into a dict and
then into JSON. On a warm container that costs about as much as a one-row query. For a route
with no middlewares of its own, :func:`call_route` validates the request with Powertools' own
functions (so the same values and the same 400s), skipping the parts of the request the route
declares no parameter in and deciding once per route which query parameters are scalar; then
it calls the function and dumps a returned model of the declared type straight to JSON with
pydantic (``by_alias``, as Powertools serializes it). Anything else goes through Powertools'
response validation as before; errors go to the resolver's exception handlers.

Those private names can change in any Powertools release, so the equivalence is a test, not a
hope: ``tests/integration/test_fast_path_equivalence.py`` runs every sample of ``events/`` and a
generated corpus of bad requests through this path and through Powertools' own (``FastPath``
with ``fast_path = False``) and asserts the same status, headers and body. It was last run
against :data:`CHECKED_POWERTOOLS`; a test fails, naming it, when the installed version differs.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import ResponseBuilder, Route, _find_request_param_name
from aws_lambda_powertools.event_handler.middlewares import openapi_validation as checks
from aws_lambda_powertools.event_handler.openapi.compat import (
    _normalize_errors,
    is_scalar_field,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.data_classes.common import CaseInsensitiveDict
from pydantic import BaseModel

CHECKED_POWERTOOLS = "3.37.0"
"""The aws-lambda-powertools version the equivalence test last passed against."""


class DirectRoute:
    """One route's parameters, function and declared return model, and how to answer with them."""

    def __init__(self, route: Route) -> None:
        self.route = route
        dependant = route.dependant
        self.scalar_queries = [(p, is_scalar_field(p)) for p in dependant.query_params]
        self.scalar_headers = [(p, is_scalar_field(p)) for p in dependant.header_params]
        field = dependant.return_param
        returns = getattr(field, "type_", None) if field is not None else None
        self.returns: type[BaseModel] | None = (
            returns if isinstance(returns, type) and issubclass(returns, BaseModel) else None
        )

    def arguments(self, app: APIGatewayHttpResolver, path_values: dict[str, str]) -> dict[str, Any]:
        """The route's validated arguments, or ``RequestValidationError`` as Powertools raises it."""
        dependant, event = self.route.dependant, app.current_event
        values, errors = checks._request_params_to_args(dependant.path_params, path_values)
        parts = []
        if self.scalar_queries:
            multi = checks._get_multi_value_query_params(event)
            query = _normalized(event.resolved_query_string_parameters, self.scalar_queries, multi)
            parts.append(checks._request_params_to_args(dependant.query_params, query))
        if self.scalar_headers:
            multi = CaseInsensitiveDict(event.get("multiValueHeaders"))  # type: ignore[no-untyped-call]
            headers = _normalized(event.resolved_headers_field, self.scalar_headers, multi)
            parts.append(checks._request_params_to_args(dependant.header_params, headers))
        if dependant.cookie_params:
            parts.append(
                checks._request_params_to_args(dependant.cookie_params, event.resolved_cookies_field)
            )
        if dependant.body_params:
            body = app._request_validation_middleware._get_body(app)
            parts.append(
                checks._request_body_to_args(required_params=dependant.body_params, received_body=body)
            )
        for part_values, part_errors in parts:
            values.update(part_values)
            errors += part_errors
        if errors:
            raise RequestValidationError(_normalize_errors(errors))
        return values

    def respond(self, app: APIGatewayHttpResolver, arguments: dict[str, Any]) -> Response[Any]:
        result = self.route.func(**arguments)
        if self.returns is not None and type(result) is self.returns:
            body = result.model_dump_json(by_alias=True)
            return Response(self.route.status_code, content_types.APPLICATION_JSON, body)
        if isinstance(result, Response) and self.returns is not None and type(result.body) is self.returns:
            result.body = result.body.model_dump_json(by_alias=True)
            return result
        validation: Any = app._response_validation_middleware
        return validation._handle_response(route=self.route, response=app._to_response(result))  # type: ignore[no-any-return]


def _normalized(received: Any, params: list[tuple[Any, bool]], multi: Any) -> Any:
    """Powertools' ``_normalize_multi_params`` with each parameter's kind decided once."""
    for param, scalar in params:
        if scalar:
            checks._process_scalar_param(received, param, multi)
        elif isinstance(annotation := param.field_info.annotation, type) and issubclass(
            annotation, BaseModel
        ):
            checks._process_model_param(received, param, multi)
    return received


def all_routes(app: APIGatewayHttpResolver) -> list[Route]:
    """Every route registered on ``app``."""
    return [*getattr(app, "_static_routes", []), *getattr(app, "_dynamic_routes", [])]


def direct_routes(app: APIGatewayHttpResolver) -> dict[int, DirectRoute]:
    """The app's registered routes that need nothing of Powertools' chain (no middlewares,
    validation on, no ``Depends`` or ``Request`` parameter), by ``id`` of their ``Route``."""
    if app._router_middlewares or not hasattr(app, "_request_validation_middleware"):
        return {}
    return {id(route): DirectRoute(route) for route in all_routes(app) if _plain(route)}


def _plain(route: Route) -> bool:
    return (
        not route.middlewares
        and route.enable_validation is not False
        and not route.has_dependencies
        and _find_request_param_name(route.func) is None
    )


def call_route(
    app: APIGatewayHttpResolver, direct: DirectRoute, path_values: dict[str, str]
) -> ResponseBuilder[Any]:
    """Validate the request, call the route, build the answer; errors to the exception handlers."""
    try:
        response = direct.respond(app, direct.arguments(app, path_values))
        return app._response_builder_class(response=response, serializer=app._serializer, route=direct.route)
    except Exception as exc:
        handled = app._call_exception_handler(exc, direct.route)
        if handled is None:
            raise
        return handled


class LeanResponseBuilder(ResponseBuilder[Any]):
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


class FastPath(APIGatewayHttpResolver):
    """A resolver whose matched routes take the fast path; ``fast_path = False`` turns it off
    (Powertools' own path, as the equivalence test compares)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._direct: dict[int, DirectRoute] | None = None
        self.fast_path = True

    @property
    def fast_path(self) -> bool:
        return self._response_builder_class is LeanResponseBuilder

    @fast_path.setter
    def fast_path(self, enabled: bool) -> None:
        self._response_builder_class = LeanResponseBuilder if enabled else ResponseBuilder

    def prime(self) -> int:
        """Build what Powertools builds on a route's first request (its parameters' and body's
        validation models) and the fast path's table; returns how many routes."""
        routes = all_routes(self)
        for route in routes:
            _ = route.dependant, route.body_field
        self._direct = direct_routes(self)
        return len(routes)

    def _call_route(self, route: Route, route_arguments: dict[str, str]) -> ResponseBuilder[Any]:
        # Routes are all registered at import, before the first request: the table is built once.
        if self._direct is None:
            self._direct = direct_routes(self)
        direct = self._direct.get(id(route)) if self.fast_path else None
        if direct is None or direct.route is not route:
            return super()._call_route(route, route_arguments)
        return call_route(self, direct, route_arguments)
