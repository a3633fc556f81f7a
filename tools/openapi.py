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

API_FUNCTIONS = ("storyboards", "generate", "status", "api_keys", "health", "films")
TITLE = "Storyboard video API"
VERSION = "1.0.0"


def build_document() -> dict[str, Any]:
    """The merged OpenAPI document of every API function, as a JSON-ready dict."""
    document: dict[str, Any] = {}
    for name in API_FUNCTIONS:
        part = json.loads(load_function(name).app.get_openapi_json_schema(title=TITLE, version=VERSION))
        if not document:
            document = part
            continue
        document["paths"].update(part.get("paths", {}))
        schemas = part.get("components", {}).get("schemas", {})
        document.setdefault("components", {}).setdefault("schemas", {}).update(schemas)
    document["info"]["description"] = (
        "Every route but /api/health needs a JWT (API Gateway's authorizer); errors are "
        '{"error": ..., "details": ...}.'
    )
    document["paths"] = dict(sorted(document["paths"].items()))
    return document


def render() -> str:
    """The document as written to docs/openapi.json (stable formatting)."""
    return json.dumps(build_document(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
