"""Property: any JSON value put into a storyboard's ``character`` either comes back exactly from
create, get and list, or is refused with a 400 and nothing is stored."""

from __future__ import annotations

import json
import uuid
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.support import invoke, load_event, load_function, with_changes

storyboards = load_function("storyboards").lambda_handler

# Every code point, surrogates and U+0000 included: the JSON text carries them as escapes.
TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=True, allow_infinity=True)
    | TEXT
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


def _nested(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = {"deeper": value}
    return value


# Some values wrapped deep enough to cross the nesting limit, on either side of it.
CHARACTERS = JSON_VALUES | st.builds(_nested, JSON_VALUES, st.integers(min_value=25, max_value=40))


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values, types included (``True`` is not ``1``, ``1.0`` is not ``1``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _list(user: str) -> list[dict[str, Any]]:
    result = invoke(storyboards, with_changes(load_event("storyboards.list.200"), sub=user))
    assert result.status == 200, result.body
    return list(result.body["storyboards"])


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(character=CHARACTERS)
def test_any_json_character_round_trips_exactly_or_is_refused_with_nothing_stored(character):
    user = f"prop-{uuid.uuid4()}"
    body = {"name": "Round trip", "presetKey": "cinematic", "character": character}
    event_ = with_changes(load_event("storyboards.create.201"), sub=user, body=json.dumps(body))

    created = invoke(storyboards, event_)

    event(f"create answered {created.status}")
    if created.status == 400:
        assert set(created.body) == {"error", "details"}
        assert _list(user) == []
        return
    assert created.status == 201, created.body
    board_id = created.body["storyboard"]["id"]
    assert same_json(created.body["storyboard"]["character"], character)
    got = invoke(
        storyboards,
        with_changes(load_event("storyboards.get.200"), sub=user, path_parameters={"id": board_id}),
    )
    assert same_json(got.body["storyboard"]["character"], character)
    [listed] = _list(user)
    assert same_json(listed["character"], character)
