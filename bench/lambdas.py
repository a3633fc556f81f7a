"""Invoking the functions in-process as Lambda does (tools.functions and tools.harness: their app.py
loaded as a module, a sample event from events/ tweaked on a copy, a context with the attributes Powertools
reads), with the bench's stricter ``invoke``: anything but the expected status stops the run."""

from __future__ import annotations

import json
from typing import Any

from tools.functions import load_function
from tools.harness import LambdaContext, load_event, with_changes

__all__ = ["CONTEXT", "event", "invoke", "load_function"]

CONTEXT = LambdaContext(function_name="bench-function")


def event(
    name: str,
    *,
    path_parameters: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: Any = None,
    sub: str | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A copy of ``events/<name>.json`` with path parameters, query, headers, JSON body or caller
    changed (``None``: unchanged)."""
    changes: dict[str, Any] = {"path_parameters": path_parameters, "headers": headers, "query": query}
    if body is not None:
        changes["body"] = body
    if sub is not None:
        changes["sub"] = sub
    return with_changes(load_event(name), **changes)


def invoke(handler: Any, ev: dict[str, Any], expect: int) -> Any:
    """Run ``handler`` on ``ev``; the decoded JSON body. Anything but ``expect`` stops the run."""
    raw = handler(ev, CONTEXT)
    if raw["statusCode"] != expect:
        raise AssertionError(
            f"{ev['routeKey']} answered {raw['statusCode']}, not {expect}: {raw.get('body')}"
        )
    return json.loads(raw["body"]) if raw.get("body") else None
