"""``python -m tools.openapi``: the API's OpenAPI document, generated from the resolvers.

Each API function has its own resolver; their documents are merged into one (paths and
component schemas). ``make openapi`` writes it to docs/openapi.json, and a test fails when
the committed file differs from what the code generates.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from tools.functions import load_function
from videogen.api import contract

API_FUNCTIONS = (
    "storyboards",
    "generate",
    "status_and_models",
    "jobs",
    "api_keys",
    "health",
    "films",
    "references",
    "webhooks",
)
TITLE = "Storyboard video API"
VERSION = "1.0.0"
DESCRIPTION = (
    "The storyboard-to-video API. Every route but /api/health needs a JWT (API Gateway's "
    "authorizer; the local stack takes `X-Dev-User` instead) and sees only the caller's data: "
    "another user's resource answers 404 like a missing one. Errors are "
    '`{"error": ..., "details": ...}` from the functions (a 400 lists field errors '
    '`{field, message, type}`), or `{"message": ...}` from API Gateway itself. ' + contract.EDGE_RULE
)


def build_document() -> dict[str, Any]:
    """The merged OpenAPI document of every API function, as a JSON-ready dict."""
    document: dict[str, Any] = {}
    for name in API_FUNCTIONS:
        app = load_function(name).app
        part = json.loads(
            app.get_openapi_json_schema(
                title=TITLE, version=VERSION, security_schemes=contract.security_schemes()
            )
        )
        if not document:
            document = part
            continue
        document["paths"].update(part.get("paths", {}))
        schemas = part.get("components", {}).get("schemas", {})
        document.setdefault("components", {}).setdefault("schemas", {}).update(schemas)
        document["components"]["securitySchemes"] = part["components"]["securitySchemes"]
    document["info"]["description"] = DESCRIPTION
    document["paths"] = dict(sorted(document["paths"].items()))
    return contract.with_edge_rule(_without_powertools_422(document))


def _without_powertools_422(document: dict[str, Any]) -> dict[str, Any]:
    """Powertools documents a 422 ``HTTPValidationError`` on every route of a validating
    resolver and has no option to leave it out; this API never answers it (validation failures
    are 400 with field errors), so it is taken out here."""
    for operations in document["paths"].values():
        for operation in operations.values():
            operation["responses"].pop("422", None)
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        document["components"]["schemas"].pop(name, None)
    return document


def render() -> str:
    """The document as written to docs/openapi.json (stable formatting)."""
    return json.dumps(build_document(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
