"""The fast path (``videogen.api.dispatch``) answers exactly as Powertools' own path does.

Every HTTP sample of events/ and a corpus of bad requests generated from them (path ids that are
not ids, query values of the wrong type, bodies with a field dropped, of the wrong type or null,
bodies that are not objects, If-Match values that are not versions) go through each API function's
handler twice: with the fast path, and with ``fast_path = False``. Each pair of answers must match
in status, headers and body; ids, timestamps, cursors and presigned query strings, which each run
makes anew, are compared by shape. An answer of 4xx stores nothing, so the second run sees the same
data; after any other answer the data is seeded again first.
"""

from __future__ import annotations

import ast
import copy
import importlib.metadata
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import text

from tests.conftest import TABLES
from tests.integration.sample_support import seed_samples
from tests.integration.test_events import HTTP_EVENTS, HTTP_SAMPLE
from tests.support import load_event, load_function
from tools.harness import LambdaContext
from videogen.api import dispatch
from videogen.data.db import get_engine

Variant = tuple[str, dict[str, Any]]

MADE_ANEW = (
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<id>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"), "<time>"),
    (re.compile(r"(https?://[^\s\"?]+)\?\S*"), r"\1?<signed>"),
)
CURSORS = frozenset({"nextCursor", "cursor"})
SIGNED_FIELDS = frozenset({"policy", "x-amz-signature", "x-amz-date"})
"""A presigned upload form's fields made anew on every signing."""
WRONG_TYPES: dict[type, Any] = {str: 12345, int: "twelve", float: "twelve", bool: "yes", list: {}, dict: []}


def anew(value: Any, key: str = "") -> Any:
    """``value`` with what each run makes anew (ids, times, cursors, signatures) as placeholders."""
    if isinstance(value, dict):
        return {k: anew(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [anew(v) for v in value]
    if isinstance(value, str):
        if key in CURSORS:
            return "<cursor>"
        if key in SIGNED_FIELDS:
            return "<signed>"
        for pattern, placeholder in MADE_ANEW:
            value = pattern.sub(placeholder, value)
    return value


def shape(raw: dict[str, Any]) -> dict[str, Any]:
    """An answer as compared: its body decoded when it is JSON, then what is made anew replaced."""
    shaped = dict(raw)
    try:
        shaped["body"] = json.loads(raw.get("body") or "null")
    except json.JSONDecodeError:
        shaped["body"] = raw.get("body")
    return dict(anew(shaped))


def with_query(event: dict[str, Any], **query: str) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    changed["queryStringParameters"] = (changed.get("queryStringParameters") or {}) | query
    changed["rawQueryString"] = "&".join(f"{k}={v}" for k, v in changed["queryStringParameters"].items())
    return changed


def with_body(event: dict[str, Any], body: Any) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    changed["body"] = json.dumps(body)
    return changed


def bad_variants(event: dict[str, Any]) -> Iterator[Variant]:
    """Requests a client could send wrong, made from one good sample."""
    for name in event.get("pathParameters") or {}:
        for value in ("not-an-id", "0" * 40):
            changed = copy.deepcopy(event)
            old = changed["pathParameters"][name]
            changed["pathParameters"][name] = value
            changed["rawPath"] = changed["rawPath"].replace(f"/{old}", f"/{value}")  # what routing reads
            yield f"path {name}={value}", changed
    for name, value in {"limit": "many", "days": "-3", "status": "sleeping", "cursor": "%%%"}.items():
        yield f"query {name}={value}", with_query(event, **{name: value})
    if event.get("body"):
        yield from bad_bodies(event, json.loads(event["body"]))
    if event["requestContext"]["http"]["method"] == "PATCH":
        for value in ("W/1", "v1", "-1", "99999999999999999999"):
            changed = copy.deepcopy(event)
            changed["headers"] = changed.get("headers", {}) | {"if-match": value}
            yield f"if-match {value}", changed


def bad_bodies(event: dict[str, Any], body: Any) -> Iterator[Variant]:
    wholes: tuple[Any, ...] = ([], None, "text", 7)
    for whole in wholes:
        yield f"body {whole!r}", with_body(event, whole)
    if not isinstance(body, dict):
        return
    yield "body with an unknown field", with_body(event, body | {"userId": "someone-else"})
    for key, value in body.items():
        yield f"body without {key}", with_body(event, {k: v for k, v in body.items() if k != key})
        yield f"body {key}=null", with_body(event, body | {key: None})
        if type(value) in WRONG_TYPES:
            yield f"body {key} of another type", with_body(event, body | {key: WRONG_TYPES[type(value)]})
        if isinstance(value, str):
            yield f"body {key} too long", with_body(event, body | {key: "x" * 5000})


def corpus() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(function, case, event): every sample, then the bad variants of each 2xx sample."""
    for name in HTTP_EVENTS:
        match = HTTP_SAMPLE.match(name)
        assert match is not None
        event = load_event(name)
        yield match["function"], name, event
        if match["status"].startswith("2"):
            for case, variant in bad_variants(event):
                yield match["function"], f"{name}: {case}", variant


def reseed(make_job: Callable[..., Any]) -> None:
    with get_engine().begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
    seed_samples(make_job)


def answer(function: str, event: dict[str, Any], *, fast: bool) -> dict[str, Any]:
    module = load_function(function)
    module.app.fast_path = fast
    try:
        return dict(module.lambda_handler(copy.deepcopy(event), LambdaContext()))
    finally:
        module.app.fast_path = True


def test_every_sample_and_bad_request_is_answered_alike_by_both_paths(seeded, make_job):
    compared, differences = 0, []
    for function, case, event in corpus():
        fast = answer(function, event, fast=True)
        if not 400 <= fast["statusCode"] < 500:
            reseed(make_job)
        own = answer(function, event, fast=False)
        if shape(fast) != shape(own):
            differences.append(f"{case}:\n  fast path: {fast}\n  Powertools: {own}")
        if not 400 <= own["statusCode"] < 500:
            reseed(make_job)
        compared += 1
    assert differences == [], "\n".join(differences)
    # And the corpus is what it claims: every sample and several hundred bad requests
    assert compared > len(HTTP_EVENTS) + 200


def test_the_fast_path_serves_the_routes_it_can():
    # Given every API function's resolver, primed as before a SnapStart snapshot
    for name in ("storyboards", "generate", "status_and_models", "jobs", "api_keys", "health", "films"):
        app = load_function(name).app
        routes = app.prime()
        # Then every route is on the fast path (none has middlewares or dependencies of its own)
        assert len(app._direct) == routes, name


def test_installed_powertools_is_the_version_the_fast_path_was_checked_against():
    installed = importlib.metadata.version("aws-lambda-powertools")
    assert installed == dispatch.CHECKED_POWERTOOLS, (
        f"aws-lambda-powertools is {installed}, but the fast path (videogen/api/dispatch.py) calls its "
        f"private names as of {dispatch.CHECKED_POWERTOOLS}: run "
        "tests/integration/test_fast_path_equivalence.py::"
        "test_every_sample_and_bad_request_is_answered_alike_by_both_paths, and once it passes set "
        f"CHECKED_POWERTOOLS to {installed!r}"
    )


def test_only_the_fast_path_module_imports_private_powertools_names():
    layer = Path(dispatch.__file__).parents[1]
    for module in layer.rglob("*.py"):
        if module != Path(dispatch.__file__):
            assert private_powertools_imports(module) == [], module
    assert private_powertools_imports(Path(dispatch.__file__))  # the check sees what it looks for


def private_powertools_imports(module: Path) -> list[str]:
    tree = ast.parse(module.read_text())
    return [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("aws_lambda_powertools")
        for alias in node.names
        if alias.name.startswith("_")
    ]
