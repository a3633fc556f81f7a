"""The edge rule through the real handlers and PostgreSQL: every input PostgreSQL or a JSON client
cannot hold is a 400 naming where, stores nothing, and leaves the user's list working."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.integration.generation_support import store_key
from tests.support import invoke, load_event, load_function, with_changes
from tools.queues import InMemoryQueueSender
from videogen.api.input_rule import MAX_JSON_DEPTH
from videogen.api.resolver import api_handler
from videogen.data.db import session_scope
from videogen.data.models import Storyboard, UserApiKey, VideoJob

USER = "user-123"  # the sample events' caller
storyboards = load_function("storyboards").lambda_handler
api_keys = load_function("api_keys").lambda_handler
generate_module = load_function("generate")


@pytest.fixture
def board(aws: Any) -> dict[str, Any]:
    """The caller's storyboard (created through the handler) and a stored Sora key."""
    result = invoke(storyboards, load_event("storyboards.create.201"))
    assert result.status == 201, result.body
    store_key(USER, "openai")
    return dict(result.body["storyboard"])


@pytest.fixture
def generate() -> Any:
    return api_handler(generate_module.build_app(sender=InMemoryQueueSender()))


def _state() -> tuple[Any, ...]:
    """Everything stored: storyboards (every column that changes), jobs, keys."""
    with session_scope() as s:
        boards = s.execute(
            select(
                Storyboard.id, Storyboard.name, Storyboard.character, Storyboard.scenes, Storyboard.version
            )
        ).all()
        jobs = s.execute(select(func.count()).select_from(VideoJob)).scalar_one()
        keys = s.execute(select(UserApiKey.provider, UserApiKey.key_hash, UserApiKey.is_active)).all()
    return tuple(sorted(map(tuple, boards))), jobs, tuple(sorted(map(tuple, keys)))


def assert_refused_and_nothing_stored(handler: Any, event: dict[str, Any], field: str) -> None:
    before = _state()

    result = invoke(handler, event)

    assert result.status == 400, result.body
    assert set(result.body) == {"error", "details"}
    assert field in [d["field"] for d in result.body["details"]], result.body
    assert all(set(d) == {"field", "message", "type"} for d in result.body["details"])
    assert _state() == before
    listed = invoke(storyboards, load_event("storyboards.list.200"))
    assert listed.status == 200
    assert len(listed.body["storyboards"]) == len(before[0])


def _create(body_changes: dict[str, Any]) -> dict[str, Any]:
    event = load_event("storyboards.create.201")
    return with_changes(event, body=json.loads(event["body"]) | body_changes)


def _on(name: str, board_id: str, **changes: Any) -> dict[str, Any]:
    return with_changes(load_event(name), path_parameters={"id": board_id}, **changes)


def _patch(board_id: str, body: Any, **changes: Any) -> dict[str, Any]:
    return with_changes(
        load_event("storyboards.patch.200"), path_parameters={"id": board_id}, body=body, **changes
    )


def _generate(board: dict[str, Any], **body_changes: Any) -> dict[str, Any]:
    event = load_event("generate.openai.202")
    body = json.loads(event["body"]) | {"storyboardId": board["id"]} | body_changes
    return with_changes(event, body=body)


NUL_IN_A_STORYBOARD = [
    ({"name": "Pilot\x00"}, "body.name"),
    ({"presetKey": "cine\x00matic"}, "body.presetKey"),
    ({"character": {"name\x00": "Ada"}}, "body.character.name\ufffd"),
    ({"character": {"name": "Ada", "traits": {"mood": "calm\x00"}}}, "body.character.traits.mood"),
    ({"scenes": [{"id": "s1", "prompt": "dawn\x00"}]}, "body.scenes.0.prompt"),
    ({"scenes": [{"id": "s\x00"}]}, "body.scenes.0.id"),
    ({"scenes": [{"id": "s1", "n\x00te": 1}]}, "body.scenes.0.n\ufffdte"),
]
SURROGATE_IN_A_STORYBOARD = [
    ('{"name": "x", "presetKey": "p", "character": {"a": "\\ud800"}}', "body.character.a"),
    ('{"name": "x", "presetKey": "p", "character": {"\\udfff": 1}}', "body.character.\ufffd"),
    (
        '{"name": "x", "presetKey": "p", "scenes": [{"id": "s", "prompt": "\\ud800x"}]}',
        "body.scenes.0.prompt",
    ),
]
NUMBERS = [
    ('{"name": "x", "presetKey": "p", "character": {"n": NaN}}', "body.character.n"),
    ('{"name": "x", "presetKey": "p", "character": {"n": Infinity}}', "body.character.n"),
    ('{"name": "x", "presetKey": "p", "character": {"n": -Infinity}}', "body.character.n"),
    ('{"name": "x", "presetKey": "p", "character": {"n": [1e999]}}', "body.character.n.0"),
    ('{"name": "x", "presetKey": "p", "character": {"n": 9007199254740993}}', "body.character.n"),
    ('{"name": "x", "presetKey": "p", "scenes": [{"id": "s", "n": -9007199254740993}]}', "body.scenes.0.n"),
]
DEEP_CHARACTER = '{"name": "x", "presetKey": "p", "character": ' + '{"a": ' * 3000 + "1" + "}" * 3000 + "}"
DEEP_BODY = "[" * 10_000 + "]" * 10_000


@pytest.mark.parametrize(("change", "field"), NUL_IN_A_STORYBOARD)
def test_nul_anywhere_in_a_new_storyboard_is_400(board, change, field):
    assert_refused_and_nothing_stored(storyboards, _create(change), field)


@pytest.mark.parametrize(("change", "field"), NUL_IN_A_STORYBOARD)
def test_nul_anywhere_in_a_patch_is_400(board, change, field):
    assert_refused_and_nothing_stored(
        storyboards, _patch(board["id"], change, headers={"If-Match": "1"}), field
    )


@pytest.mark.parametrize(("text", "field"), SURROGATE_IN_A_STORYBOARD + NUMBERS)
def test_lone_surrogates_and_numbers_json_cannot_hold_are_400_on_create_and_patch(board, text, field):
    assert_refused_and_nothing_stored(storyboards, _create({}) | {"body": text}, field)
    assert_refused_and_nothing_stored(storyboards, _patch(board["id"], text), field)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (DEEP_BODY, "body" + ".0" * MAX_JSON_DEPTH),
        (DEEP_CHARACTER, "body.character" + ".a" * (MAX_JSON_DEPTH - 1)),
    ],
)
def test_json_nested_too_deep_is_400_and_the_users_list_keeps_working(board, text, field):
    assert_refused_and_nothing_stored(storyboards, _create({}) | {"body": text}, field)
    assert_refused_and_nothing_stored(storyboards, _patch(board["id"], text), field)


def test_nesting_within_the_limit_round_trips(board):
    nested: Any = "bottom"
    for _ in range(MAX_JSON_DEPTH - 2):  # the body and character are the first two levels
        nested = {"a": nested}

    created = invoke(storyboards, _create({"character": nested}))

    assert created.status == 201, created.body
    got = invoke(storyboards, _on("storyboards.get.200", created.body["storyboard"]["id"]))
    assert got.body["storyboard"]["character"] == nested
    assert invoke(storyboards, load_event("storyboards.list.200")).status == 200


@pytest.mark.parametrize(
    "change",
    [{"prompt": "Ada\x00 at dawn"}, {"sceneId": "scene-1\x00"}, {"size": "1280x720\x00"}],
)
def test_nul_in_a_generate_request_is_400_and_queues_nothing(board, generate, change):
    [(name, _)] = change.items()

    assert_refused_and_nothing_stored(generate, _generate(board, **change), f"body.{name}")


def test_nul_in_the_query_string_is_400(board):
    event = with_changes(load_event("storyboards.list.200"), query={"q": "a\x00b"})

    assert_refused_and_nothing_stored(storyboards, event, "query.q")


def test_nul_in_the_idempotency_key_is_400(board, generate):
    event = with_changes(_generate(board), headers={"Idempotency-Key": "retry-\x00"})

    assert_refused_and_nothing_stored(generate, event, "header.idempotency-key")


def _latin1(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its body encoded as latin-1, as API Gateway passes bytes that are not UTF-8."""
    event["body"] = base64.b64encode(event["body"].replace("Pilot", "Café").encode("latin-1")).decode()
    event["isBase64Encoded"] = True
    return event


LATIN1_ROUTES = [
    ("storyboards", lambda board: _create({"name": "Pilot"})),
    ("storyboards", lambda board: _patch(board["id"], {"name": "Pilot"})),
    ("storyboards", lambda board: _patch(str(uuid.uuid4()), {"name": "Pilot"})),
    ("generate", lambda board: _generate(board, prompt="Pilot")),
    ("generate", lambda board: _generate({"id": str(uuid.uuid4())}, prompt="Pilot")),
    (
        "api_keys",
        lambda board: with_changes(load_event("api_keys.put.200"), body={"apiKey": "sk-Pilot-0000"}),
    ),
    (
        "api_keys",
        lambda board: with_changes(
            load_event("api_keys.put.200"),
            path_parameters={"provider": "nope"},
            body={"apiKey": "sk-Pilot-0"},
        ),
    ),
]


@pytest.mark.parametrize(("function", "make_event"), LATIN1_ROUTES)
def test_a_body_that_is_not_utf8_is_400_on_every_route_that_takes_one(board, generate, function, make_event):
    handler = {"storyboards": storyboards, "generate": generate, "api_keys": api_keys}[function]

    assert_refused_and_nothing_stored(handler, _latin1(make_event(board)), "body")


@pytest.mark.parametrize("if_match", [str(2**70), "9" * 5000, "\u00b2", "\u0663", "1.0", "-1", "0x1"])
def test_if_match_that_is_not_a_version_is_400_without_echoing_it(board, if_match):
    event = _patch(board["id"], {"name": "Renamed"}, headers={"If-Match": if_match})

    assert_refused_and_nothing_stored(storyboards, event, "header.if-match")
    result = invoke(storyboards, event)
    assert if_match not in json.dumps(result.body, ensure_ascii=False)


def test_if_match_at_the_top_of_the_version_range_is_a_stale_version(board):
    event = _patch(board["id"], {"name": "Renamed"}, headers={"If-Match": '"2147483647"'})

    result = invoke(storyboards, event)

    assert result.status == 412
