"""Invoking the functions in-process as Lambda does: their app.py loaded as a module, a sample
event from events/ (tweaked on a copy), and a context with the attributes Powertools reads."""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
EVENTS = REPO / "events"
FUNCTIONS = REPO / "functions"


def load_function(name: str) -> ModuleType:
    """Import ``functions/<name>/app.py`` as its own module (once per process)."""
    module_name = f"function_{name}_app"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, FUNCTIONS / name / "app.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"functions/{name}/app.py not found")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class LambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str = "bench-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:bench-function"
    aws_request_id: str = "6f8e5b2a-0000-4000-8000-000000000000"
    log_group_name: str = "/aws/lambda/bench-function"
    log_stream_name: str = "2026/11/25/[$LATEST]bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


CONTEXT = LambdaContext()


@cache
def _sample(name: str) -> str:
    return (EVENTS / f"{name}.json").read_text()


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
    changed."""
    ev: dict[str, Any] = json.loads(_sample(name))
    if query is not None:
        ev["queryStringParameters"] = query
        ev["rawQueryString"] = urlencode(query)
    if path_parameters:
        ev["pathParameters"] = {**ev.get("pathParameters", {}), **path_parameters}
        path = ev["routeKey"].split(" ", 1)[1]
        for key, value in ev["pathParameters"].items():
            path = path.replace("{" + key + "}", value)
        ev["rawPath"] = ev["requestContext"]["http"]["path"] = path
    if headers:
        ev.setdefault("headers", {}).update({k.lower(): v for k, v in headers.items()})
    if body is not None:
        ev["body"] = json.dumps(body)
    if sub is not None:
        ev["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": sub}, "scopes": None}}
    return ev


def invoke(handler: Any, ev: dict[str, Any], expect: int) -> Any:
    """Run ``handler`` on ``ev``; the decoded JSON body. Anything but ``expect`` stops the run."""
    raw = handler(ev, CONTEXT)
    if raw["statusCode"] != expect:
        raise AssertionError(
            f"{ev['routeKey']} answered {raw['statusCode']}, not {expect}: {raw.get('body')}"
        )
    return json.loads(raw["body"]) if raw.get("body") else None
