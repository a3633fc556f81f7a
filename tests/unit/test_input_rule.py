"""The edge rule, one class of bad input at a time, and its place in every API resolver: before
routing, the same for body, query, path and headers, the body parsed once for Powertools."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

import pytest
from aws_lambda_powertools.event_handler.openapi.params import Body

from tools.events import http_api_event
from tools.harness import LambdaContext
from videogen.api import input_rule
from videogen.api.resolver import make_resolver

SAFE = input_rule.MAX_SAFE_INTEGER


def refusal(text: str) -> dict[str, str]:
    with pytest.raises(input_rule.Refused) as caught:
        input_rule.parse_json(text)
    [detail] = caught.value.details
    return dict(detail)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "a\x00b"}, "body.name"),
        ({"character": {"a": {"b": "x\x00"}}}, "body.character.a.b"),
        ({"scenes": [{"id": "s1", "prompt": "\x00"}]}, "body.scenes.0.prompt"),
    ],
)
def test_nul_in_a_json_string_is_refused_where_it_is(body, field):
    assert refusal(json.dumps(body)) == {
        "field": field,
        "message": "must not contain U+0000 (NUL)",
        "type": "text_nul",
    }


def test_nul_in_a_json_key_is_refused_naming_the_key_without_the_nul():
    detail = refusal(json.dumps({"character": {"k\x00ey": "v"}}))

    assert detail["field"] == "body.character.k\ufffdey"
    assert detail["type"] == "text_nul"


@pytest.mark.parametrize(
    "text",
    [
        r'{"character": {"a": "\ud800"}}',
        r'{"character": {"a": "x\udc00y"}}',
        r'{"character": {"\ud800": 1}}',
        r'{"scenes": [{"id": "s", "note": "\ude00\ud83d"}]}',
        '{"character": {"a": "\ud800"}}',  # the raw code point, as a JSON event could carry it
    ],
)
def test_a_lone_surrogate_is_refused_in_values_and_keys(text):
    detail = refusal(text)

    assert detail["type"] == "text_surrogate"
    assert detail["field"].startswith(("body.character", "body.scenes.0"))


def test_a_surrogate_pair_is_one_character_and_accepted():
    assert input_rule.parse_json(r'{"a": "\ud83d\ude00", "b": "\\u0000 is text"}') == {
        "a": "\U0001f600",
        "b": "\\u0000 is text",
    }


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1E400"])
def test_numbers_that_are_not_finite_are_refused(literal):
    detail = refusal(f'{{"character": {{"n": [1, {literal}]}}}}')

    assert detail["field"] == "body.character.n.1"
    assert detail["type"] == "number_not_finite"


@pytest.mark.parametrize(
    "literal", [str(SAFE + 1), str(-SAFE - 1), str(2**53 + 1), "1" * 5000, "1e16", "-9.1e15", "1e300"]
)
def test_numbers_beyond_what_clients_keep_exactly_are_refused(literal):
    detail = refusal(f'{{"n": {literal}}}')

    assert detail == {
        "field": "body.n",
        "message": f"numbers must lie between -{SAFE} and {SAFE} (2^53 - 1)",
        "type": "number_out_of_range",
    }


def test_numbers_within_range_keep_their_value_and_type():
    assert input_rule.parse_json(f"[{SAFE}, {-SAFE}, 0, -0.5, 1.0, 1e-300, 3.25e15]") == [
        SAFE,
        -SAFE,
        0,
        -0.5,
        1.0,
        1e-300,
        3.25e15,
    ]


def test_nesting_ten_thousand_deep_is_refused_without_recursion():
    detail = refusal("[" * 10_000 + "]" * 10_000)

    assert detail["type"] == "json_too_deep"
    assert detail["field"] == "body" + ".0" * input_rule.MAX_JSON_DEPTH


def test_a_character_thousands_deep_is_refused_naming_its_path():
    text = '{"character": ' + '{"a": ' * 3000 + "1" + "}" * 3000 + "}"

    detail = refusal(text)

    assert detail["type"] == "json_too_deep"
    assert detail["field"] == "body.character" + ".a" * (input_rule.MAX_JSON_DEPTH - 1)


def test_nesting_up_to_the_limit_is_accepted_and_brackets_inside_strings_do_not_count():
    deepest = "[" * input_rule.MAX_JSON_DEPTH + "]" * input_rule.MAX_JSON_DEPTH
    assert input_rule.parse_json(deepest) is not None
    assert input_rule.parse_json(json.dumps({"a": "[{" * 100})) == {"a": "[{" * 100}
    assert (
        refusal("[" * (input_rule.MAX_JSON_DEPTH + 1) + "]" * (input_rule.MAX_JSON_DEPTH + 1))["type"]
        == "json_too_deep"
    )


def test_malformed_json_is_refused_as_such():
    with pytest.raises(input_rule.Refused) as caught:
        input_rule.parse_json('{"name": "Pilot",')

    assert caught.value.message == "Malformed JSON body"
    assert caught.value.details[0]["type"] == "json_invalid"


def test_a_base64_body_must_be_utf8():
    latin1 = base64.b64encode("café".encode("latin-1")).decode()

    with pytest.raises(input_rule.Refused) as caught:
        input_rule.body_text(latin1, base64_encoded=True)

    assert caught.value.details == [
        {"field": "body", "message": "the body must be UTF-8 encoded", "type": "body_not_utf8"}
    ]
    assert input_rule.body_text(base64.b64encode("café".encode()).decode(), base64_encoded=True) == "café"


@pytest.mark.parametrize("value", ["3", '"3"', 'W/"3"', " 7 ", "0", str(input_rule.MAX_VERSION)])
def test_if_match_takes_a_version_of_ascii_digits(value):
    assert input_rule.parse_version(value) == int(value.strip().removeprefix("W/").strip('"'))


@pytest.mark.parametrize(
    "value", [str(2**70), "9" * 5000, "²", "٣", "3.0", "-1", '"3', "", str(input_rule.MAX_VERSION + 1), "1e3"]
)
def test_if_match_refuses_anything_else_without_echoing_it(value):
    with pytest.raises(input_rule.Refused) as caught:
        input_rule.parse_version(value)

    assert caught.value.details == [
        {
            "field": "header.if-match",
            "message": "must be the storyboard version last read: ASCII digits up to "
            f"{input_rule.MAX_VERSION}, optionally quoted",
            "type": "if_match_invalid",
        }
    ]


# --- in the resolver: before routing, for every part of a request -----------------------------------


def _resolver() -> Any:
    app = make_resolver()
    seen: list[Any] = []

    @app.post("/echo")
    def echo(body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        seen.append(body)
        return body

    return app, seen


def _call(app: Any, method: str = "POST", path: str = "/echo", **kwargs: Any) -> tuple[int, Any]:
    kwargs.setdefault("headers", {})
    kwargs["headers"].setdefault("content-type", "application/json")
    event = http_api_event(method, path, sub="user-1", **kwargs)
    raw = app.resolve(event, LambdaContext())
    return raw["statusCode"], json.loads(raw["body"])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"query": {"q": "a\x00b"}}, "query.q"),
        ({"headers": {"idempotency-key": "k\x00"}}, "header.idempotency-key"),
        ({"headers": {"x-note": "\udc80"}}, "header.x-note"),
        ({"path_parameters": {"id": "\x00"}}, "path.id"),
        ({"body": '{"a": "\\u0000"}'}, "body.a"),
    ],
)
def test_every_part_of_a_request_is_refused_the_same_way_before_the_route_runs(kwargs, field):
    app, seen = _resolver()

    status, body = _call(app, **kwargs)

    assert status == 400
    assert body["error"] == "Invalid input"
    assert [d["field"] for d in body["details"]] == [field]
    assert seen == []


@pytest.mark.parametrize("text", ["[null, null]", '[{"name": "Pilot"}]', "[]", '"Pilot"', "3", "true"])
def test_a_body_that_is_not_an_object_is_refused_before_the_route_runs(text):
    # Powertools would validate an array's first element as if it were the whole body.
    app, seen = _resolver()

    status, body = _call(app, body=text)

    assert status == 400
    assert body["details"] == [
        {"field": "body", "message": "the body must be a JSON object", "type": "body_not_object"}
    ]
    assert seen == []


def test_a_body_that_is_not_utf8_is_400_even_on_an_unknown_path():
    app, _ = _resolver()

    status, body = _call(app, path="/no-such-route", body="café".encode("latin-1"))

    assert status == 400
    assert body["details"][0]["type"] == "body_not_utf8"


def test_powertools_is_handed_the_body_the_rule_parsed():
    app, seen = _resolver()

    status, body = _call(app, body='{"n": 1.5, "s": "\\ud83d\\ude00"}')

    assert status == 200
    assert seen == [{"n": 1.5, "s": "\U0001f600"}]
    assert body == seen[0]


def test_a_base64_body_is_parsed_under_the_same_rule():
    app, seen = _resolver()
    event = http_api_event("POST", "/echo", sub="user-1", headers={"content-type": "application/json"})
    event["isBase64Encoded"] = True

    event["body"] = base64.b64encode('{"café": [1, 2.5]}'.encode()).decode()
    accepted = app.resolve(event, LambdaContext())
    event["body"] = base64.b64encode(b'{"n": 1e999}').decode()
    refused = app.resolve(event, LambdaContext())

    assert (accepted["statusCode"], refused["statusCode"]) == (200, 400)
    assert seen == [{"café": [1, 2.5]}]
    assert json.loads(refused["body"])["details"][0]["field"] == "body.n"
