"""A matched route called without Powertools' per-request middleware chain, same answers.

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

Written against aws-lambda-powertools 3.37 (pinned): the API tests, the contract drift test
and the schemathesis fuzz test run through this path.
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


def direct_routes(app: APIGatewayHttpResolver) -> dict[int, DirectRoute]:
    """The app's registered routes that need nothing of Powertools' chain (no middlewares,
    validation on, no ``Depends`` or ``Request`` parameter), by ``id`` of their ``Route``."""
    if app._router_middlewares or not hasattr(app, "_request_validation_middleware"):
        return {}
    routes = [*app._static_routes, *app._dynamic_routes]
    return {id(route): DirectRoute(route) for route in routes if _plain(route)}


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
