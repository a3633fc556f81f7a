"""Helpers shared by tests: load a function's handler in isolation, invoke it with events/."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EVENTS = REPO / "events"
FUNCTIONS = REPO / "functions"


def load_function(name: str) -> ModuleType:
    """Import ``functions/<name>/app.py`` as its own module (every function has an app.py)."""
    module_name = f"function_{name}_app"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, FUNCTIONS / name / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class FakeLambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str = "test-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "6f8e5b2a-0000-4000-8000-000000000000"
    log_group_name: str = "/aws/lambda/test-function"
    log_stream_name: str = "2026/11/25/[$LATEST]abc"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass
class HttpResult:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


def load_event(name: str) -> dict[str, Any]:
    """A deep copy of ``events/<name>.json``; tests tweak the copy, never hand-write a new one."""
    return copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))


def with_changes(
    event: dict[str, Any],
    *,
    sub: Any = ...,
    body: Any = ...,
    headers: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Tweak an event: caller identity, JSON body, headers, path parameters, query string."""
    event = copy.deepcopy(event)
    if sub is not ...:
        if sub is None:
            event["requestContext"].pop("authorizer", None)
        else:
            event["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": sub}, "scopes": None}}
    if body is not ...:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
        event.setdefault("headers", {})["content-type"] = "application/json"
    if headers:
        event.setdefault("headers", {}).update({k.lower(): v for k, v in headers.items()})
    if path_parameters:
        event["pathParameters"] = {**event.get("pathParameters", {}), **path_parameters}
        path = event["routeKey"].split(" ", 1)[1]
        for key, value in event["pathParameters"].items():
            path = path.replace("{" + key + "}", value)
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
    if query is not None:
        event["queryStringParameters"] = query
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    return event


def invoke(handler: Any, event: dict[str, Any]) -> HttpResult:
    """Run a Lambda handler on an HTTP API event and decode its JSON answer."""
    raw = handler(event, FakeLambdaContext())
    body = raw.get("body")
    try:
        decoded = json.loads(body) if body else None
    except json.JSONDecodeError:
        decoded = body
    headers = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
    return HttpResult(raw["statusCode"], decoded, headers, raw)
