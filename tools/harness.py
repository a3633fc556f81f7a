"""Running the functions in-process as Lambda does, for the tests and the benchmarks.

A sample event from events/ tweaked on a copy, a context with the attributes Powertools
reads, a statement counter on the engine, and a reset of the process-wide caches (settings,
engine, AWS clients) after the environment changes; the functions themselves are imported
with :func:`tools.functions.load_function`. One copy of each, so tests and ``make bench``
measure the same thing.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Engine, event

from tools.functions import REPO

EVENTS = REPO / "events"
UNCHANGED: Any = ...
"""Default of ``with_changes`` arguments: leave that part of the event as it is."""


@dataclass
class LambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str = "local-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:local-function"
    aws_request_id: str = "6f8e5b2a-0000-4000-8000-000000000000"
    log_group_name: str = "/aws/lambda/local-function"
    log_stream_name: str = "2026/11/25/[$LATEST]local"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def load_event(name: str) -> dict[str, Any]:
    """A deep copy of ``events/<name>.json``: tweak the copy, never hand-write a new event."""
    return copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))


def with_changes(
    ev: dict[str, Any],
    *,
    sub: str | None = UNCHANGED,
    body: Any = UNCHANGED,
    headers: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A copy of an HTTP API event with the caller (``sub=None``: no identity), JSON body,
    headers, path parameters (the path follows) or query string changed."""
    ev = copy.deepcopy(ev)
    if sub is not UNCHANGED:
        if sub is None:
            ev["requestContext"].pop("authorizer", None)
        else:
            ev["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": sub}, "scopes": None}}
    if body is not UNCHANGED:
        ev["body"] = body if isinstance(body, str) else json.dumps(body)
        ev.setdefault("headers", {})["content-type"] = "application/json"
    if headers:
        ev.setdefault("headers", {}).update({k.lower(): v for k, v in headers.items()})
    if path_parameters:
        ev["pathParameters"] = {**ev.get("pathParameters", {}), **path_parameters}
        path = ev["routeKey"].split(" ", 1)[1]
        for key, value in ev["pathParameters"].items():
            path = path.replace("{" + key + "}", value)
        ev["rawPath"] = ev["requestContext"]["http"]["path"] = path
    if query is not None:
        ev["queryStringParameters"] = query
        ev["rawQueryString"] = urlencode(query)
    return ev


class StatementCounter:
    """Counts SQL statements sent through an engine (``before_cursor_execute``)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    @contextmanager
    def watch(self, engine: Engine) -> Iterator[StatementCounter]:
        self.statements.clear()
        event.listen(engine, "before_cursor_execute", self._record)
        try:
            yield self
        finally:
            event.remove(engine, "before_cursor_execute", self._record)


def reset_process_state() -> None:
    """Forget cached settings, engine and AWS clients so the next use reads the environment."""
    from videogen.data import db  # noqa: PLC0415 (the environment must be set first)
    from videogen.runtime import config  # noqa: PLC0415 (the environment must be set first)

    config.get_settings.cache_clear()
    db.reset_engine()
    for name in (
        "videogen.keys",
        "videogen.messaging.messages",
        "videogen.storage.bucket",
        "videogen.webhooks.endpoint_secrets",
    ):
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "reset_clients"):
            module.reset_clients()
    verify = sys.modules.get("videogen.webhooks.verify")
    if verify is not None:
        verify.forget_keys()
