"""Helpers shared by tests: the in-process Lambda harness (tools.harness, tools.functions) and ``invoke``,
which runs a handler on an HTTP API event and decodes its JSON answer."""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tools.events import http_api_event
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
    "emf_metric_names",
    "invoke",
    "load_event",
    "load_function",
    "route_event",
    "sqs_event",
    "sqs_record",
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


def route_event(route: str, *, user: str, body: Any = None, **params: str) -> dict[str, Any]:
    """The HTTP API event of ``route`` (``"GET /api/storyboards/{id}"``) with its path parameters
    filled in, as ``user`` (the verified JWT's subject), with ``body`` sent as JSON."""
    method, template = route.split(" ", 1)
    return http_api_event(
        method,
        template.format(**params),
        route_key=route,
        path_parameters=params,
        headers={"content-type": "application/json"} if body is not None else None,
        body=None if body is None else json.dumps(body),
        sub=user,
    )


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


def emf_metric_names(output: str) -> list[str]:
    """The metric names of the EMF documents among the lines a function printed, in order."""
    return [
        metric["Name"]
        for document in emf_documents(output)
        for directive in document["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
    ]


def sqs_record(
    body: str, *, receive_count: int = 1, template: str = "generation_worker.sqs-batch"
) -> dict[str, Any]:
    """A copy of the sample record of ``events/<template>.json`` carrying ``body``."""
    record: dict[str, Any] = copy.deepcopy(load_event(template)["Records"][0])
    record["messageId"] = str(uuid.uuid4())
    record["receiptHandle"] = f"AQEB{uuid.uuid4().hex}"
    record["body"] = body
    record["md5OfBody"] = hashlib.md5(body.encode()).hexdigest()  # noqa: S324 (SQS's own checksum)
    record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return record


def sqs_event(bodies: Iterable[str], **kwargs: Any) -> dict[str, Any]:
    """An SQS event as Lambda's trigger delivers it, one record per body."""
    return {"Records": [sqs_record(body, **kwargs) for body in bodies]}
