"""Helpers shared by tests: the in-process Lambda harness (tools.harness, tools.functions) and ``invoke``,
which runs a handler on an HTTP API event and decodes its JSON answer."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tools.functions import FUNCTIONS, REPO, load_function
from tools.harness import EVENTS, load_event, with_changes
from tools.harness import LambdaContext as FakeLambdaContext

__all__ = [
    "EVENTS",
    "FUNCTIONS",
    "REPO",
    "FakeLambdaContext",
    "HttpResult",
    "emf_documents",
    "invoke",
    "load_event",
    "load_function",
    "with_changes",
]


@dataclass
class HttpResult:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


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


def emf_documents(output: str) -> list[dict[str, Any]]:
    """The CloudWatch EMF documents (metrics) among the lines a function printed."""
    documents = []
    for line in output.splitlines():
        try:
            document = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(document, dict) and "_aws" in document:
            documents.append(document)
    return documents
