"""The API's contract beyond its resource models: the error bodies, the statuses each route can
answer, its security schemes and links. Routes declare them where they are (Powertools
``responses=``, ``security=``); ``make openapi`` turns them into docs/openapi.json.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import ConfigDict, Field, RootModel
from pydantic.json_schema import SkipJsonSchema

from videogen.api.input_rule import MAX_JSON_DEPTH, MAX_SAFE_INTEGER
from videogen.api.schemas.storyboards import WireModel
from videogen.runtime.config import Settings

JSON = "application/json"
BEARER = "bearerJwt"
DEV_USER = "devUser"


IdempotencyKey = Annotated[
    str | SkipJsonSchema[None],
    Header(
        alias="idempotency-key",
        min_length=1,
        max_length=255,
        description="Makes a retry safe: the same key with the same request answers what the first "
        "request made, again; with a different request (another body or resource), 409. Keys are "
        "the caller's own.",
    ),
]
"""The optional ``Idempotency-Key`` header of the routes that create (generate, compile)."""


class FieldError(WireModel):
    """Where a request is wrong: `field` is its location (`body.name`, `body.character.a.b`,
    `query.q`, `path.id`, `header.if-match`); the value itself is never repeated."""

    field: str
    message: str
    type: str


class ValidationFailed(WireModel):
    """A 400: what is wrong, and where."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": "Invalid input",
                    "details": [
                        {"field": "body.name", "message": "must not contain U+0000 (NUL)", "type": "text_nul"}
                    ],
                }
            ]
        }
    )

    error: str
    details: list[FieldError] = Field(min_length=1)


class ErrorBody(WireModel):
    """Any other error of the API's functions: a message safe to show, and for some errors an
    object with context (`currentVersion` on a 412, the cap on a 429, ...)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"error": "Storyboard not found"}]})

    error: str
    details: dict[str, Any] | None = None


class GatewayMessage(WireModel):
    """An answer of API Gateway itself, before any function runs (`Unauthorized`, `Not Found`,
    `Too Many Requests`, `Request Entity Too Large`, `Internal Server Error`, `Service Unavailable`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"message": "Unauthorized"}]})

    message: str


class ApiError(RootModel[ErrorBody | GatewayMessage]):
    """An error answered by the API's functions (`{error, details?}`) or by API Gateway (`{message}`)."""


def security_schemes() -> dict[str, Any]:
    """The document's security schemes (for ``make openapi`` only)."""
    # Imported here: Powertools' OpenAPI models take ~90 ms to import, which no cold start needs.
    from aws_lambda_powertools.event_handler.openapi.models import (  # noqa: PLC0415
        APIKey,
        APIKeyIn,
        HTTPBearer,
    )

    return {
        BEARER: HTTPBearer(
            bearerFormat="JWT",
            description="Deployed: `Authorization: Bearer <access token>` from the user pool. API "
            "Gateway's JWT authorizer verifies it (401 `{message}` otherwise) and the functions read "
            "only its `sub`.",
        ),
        DEV_USER: APIKey(
            in_=APIKeyIn.header,
            name="X-Dev-User",
            description="The local stack's stand-in for the JWT (`make dev` only): its gateway turns "
            "`X-Dev-User: <user id>` into the `sub` claim. A deployed API ignores it.",
        ),
    }


AUTHENTICATED: list[dict[str, list[str]]] = [{BEARER: []}, {DEV_USER: []}]
"""Every route but /api/health: either scheme (deployed, the JWT; locally, X-Dev-User)."""

EDGE_RULE = (
    "Refused wherever it is (body, query, path or a header): U+0000, a lone UTF-16 surrogate, a body "
    f"that is not UTF-8, JSON nested deeper than {MAX_JSON_DEPTH} levels, a number that is not finite "
    f"or lies beyond +-{MAX_SAFE_INTEGER}."
)


def answer(description: str, model: Any, example: Mapping[str, Any]) -> OpenAPIResponse:
    """One documented answer: its description, its body's model and an example of it."""
    return {
        "description": description,
        "content": {JSON: {"model": model, "examples": {"error": {"value": example}}}},
    }


def _standard_errors(*, body: bool) -> dict[int, tuple[str, Mapping[str, Any]]]:
    max_bytes = Settings.model_fields["max_body_bytes"].default  # the document states the default
    errors: dict[int, tuple[str, Mapping[str, Any]]] = {
        401: ("No verified identity.", {"message": "Unauthorized"}),
        413: (
            f"The body is over {max_bytes} bytes.",
            {"error": "Request body too large", "details": {"maxBytes": max_bytes}},
        ),
        429: ("Too many requests: API Gateway's throttling.", {"message": "Too Many Requests"}),
        500: ("An unexpected error; the answer says nothing more.", {"error": "Internal server error"}),
        503: (
            "The database or another dependency is out of reach: retry later.",
            {"error": "Service temporarily unavailable, try again"},
        ),
    }
    if body:
        errors[415] = (
            "The body is not `application/json`.",
            {"error": "Content-Type must be application/json"},
        )
    return errors


def _responses(
    ok_status: int,
    ok_description: str,
    *,
    invalid: str = "",
    body: bool = False,
    authenticated: bool = True,
    errors: Mapping[int, tuple[str, Mapping[str, Any]]] | None = None,
    links: Mapping[str, Any] | None = None,
) -> dict[int, OpenAPIResponse]:
    """Every answer of a route: its success (the body from the route's return type), 400 (field
    errors; ``invalid`` adds the route's own refusals), the standard errors, and ``errors``
    (status: description, example) of the route's rules. A route's 429 description is appended."""
    ok: OpenAPIResponse = {"description": ok_description}
    if links:
        ok["links"] = dict(links)
    answers: dict[int, OpenAPIResponse] = {
        ok_status: ok,
        400: answer(
            f"Invalid input: `details` names each field. {EDGE_RULE} {invalid}".strip(),
            ValidationFailed,
            {
                "error": "Invalid input",
                "details": [
                    {"field": "body.name", "message": "must not contain U+0000 (NUL)", "type": "text_nul"}
                ],
            },
        ),
    }
    standard = _standard_errors(body=body)
    if not authenticated:
        standard.pop(401)
    for status, (text, example) in (errors or {}).items():
        standard[status] = (f"{standard[status][0]} {text}" if status in standard else text, example)
    for status, (description, example) in sorted(standard.items()):
        answers[status] = answer(description, ApiError, example)
    answers[503]["headers"] = {
        "Retry-After": {
            "description": "Seconds to wait before trying again (the retry_after_seconds setting).",
            "schema": {"type": "integer", "minimum": 1},
        }
    }
    return answers


def operation(
    operation_id: str,
    summary: str,
    ok: tuple[int, str],
    *,
    tags: list[str],
    description: str | None = None,
    authenticated: bool = True,
    body: bool = False,
    invalid: str = "",
    errors: Mapping[int, tuple[str, Mapping[str, Any]]] | None = None,
    links: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A route's documentation as its decorator's keywords, ``@app.get(path, **operation(...))``:
    a stable id, summary, tags, the security every route but health has, and ``responses``."""
    keywords: dict[str, Any] = {
        "operation_id": operation_id,
        "summary": summary,
        "tags": tags,
        "responses": _responses(
            *ok, invalid=invalid, body=body, authenticated=authenticated, errors=errors, links=links
        ),
    }
    if authenticated:
        keywords["security"] = AUTHENTICATED
    if description:
        keywords["description"] = description
    return keywords


def links(operations: Mapping[str, str], parameter: str, expression: str) -> dict[str, Any]:
    """OpenAPI links from a success to the ``operations`` (link name: operationId) it leads to,
    each taking ``parameter`` from the runtime ``expression`` (``$response.body#/storyboard/id``)."""
    return {
        name: {"operationId": operation_id, "parameters": {parameter: expression}}
        for name, operation_id in operations.items()
    }


NO_NUL = "^[^\\u0000]*$"
"""Text without U+0000, as a JSON Schema pattern."""
JSON_VALUE = {
    "description": f"Any JSON value the edge rule keeps: text without U+0000 or lone surrogates, numbers "
    f"within +-{MAX_SAFE_INTEGER}, nested at most {MAX_JSON_DEPTH} levels in the whole body.",
    "anyOf": [
        {"type": "null"},
        {"type": "boolean"},
        {"type": "number", "minimum": -MAX_SAFE_INTEGER, "maximum": MAX_SAFE_INTEGER},
        {"type": "string", "pattern": NO_NUL},
        {"type": "array", "items": {"$ref": "#/components/schemas/JsonValue"}},
        {
            "type": "object",
            "propertyNames": {"pattern": NO_NUL},
            "additionalProperties": {"$ref": "#/components/schemas/JsonValue"},
        },
    ],
}


def with_edge_rule(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with the edge rule stated in every schema it applies to: text without U+0000,
    numbers within +-``MAX_SAFE_INTEGER``, free-form JSON as ``JsonValue``. The rule holds for
    every string and number of every request, which no one model or route declares, so it is
    added here, once, from the module that enforces it."""
    document["components"]["schemas"]["JsonValue"] = JSON_VALUE
    pending: list[Any] = [document["paths"], *document["components"]["schemas"].values()]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict) and node is not JSON_VALUE:
            _state_rule(node)
            pending.extend(v for k, v in node.items() if k not in ("examples", "example"))
    return document


def _state_rule(schema: dict[str, Any]) -> None:
    kind = schema.get("type")
    if kind == "string" and not {"format", "enum", "const"} & schema.keys():
        if "pattern" in schema:
            schema.setdefault("allOf", []).append({"pattern": NO_NUL})
        else:
            schema["pattern"] = NO_NUL
    elif kind in ("integer", "number") and not {"enum", "const"} & schema.keys():
        schema.setdefault("minimum", -MAX_SAFE_INTEGER)
        schema.setdefault("maximum", MAX_SAFE_INTEGER)
    elif kind == "object" and schema.get("additionalProperties") is True:
        schema["additionalProperties"] = {"$ref": "#/components/schemas/JsonValue"}
        schema["propertyNames"] = {"pattern": NO_NUL}
