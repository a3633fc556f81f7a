"""The edge rule: what a request's text must be before any of it may reach the database or a client.

One rule for body, query, path and headers: no U+0000 (PostgreSQL text and JSONB refuse it),
no lone UTF-16 surrogate (it has no UTF-8 form), a body that is UTF-8 (base64 bodies too), JSON
nested at most ``MAX_JSON_DEPTH`` deep (checked without recursion), and numbers that are finite
and within +-``MAX_SAFE_INTEGER``, the range JSON clients (JavaScript) and a JSONB round trip keep
exactly. A refusal names where (``body.character.a.b``, ``query.q``, ``header.if-match``) and
never echoes the value. The common case costs a few C-level scans: the slower walks that find
*where* run only when something is refused or when the text holds an escape that may hide one.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Iterator, Mapping
from itertools import accumulate
from typing import Any

from videogen.errors import InvalidInput, field_errors

MAX_JSON_DEPTH = 32
"""Nesting levels of a JSON body, the body itself being the first."""
MAX_SAFE_INTEGER = 2**53 - 1
"""The largest integer a JSON client that reads numbers as doubles (JavaScript) keeps exactly."""
MAX_VERSION = 2**31 - 1
"""The largest storyboard version (an int4 column)."""

_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# A JSON escape that may decode to U+0000 or to half of a surrogate pair.
_RISKY_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_BRACKET_OUTSIDE_STRINGS = re.compile(rf"{_STRING}|([\[\]{{}}])")
_PATH_TOKEN = re.compile(rf"({_STRING})(\s*:)?|([\[\]{{}},])")
_DEPTH_STEP = {"": 0, "[": 1, "{": 1, "]": -1, "}": -1}


def digits_up_to(limit: int) -> str:
    """A regex of the ASCII-digit strings whose value is at most ``limit`` (leading zeros allowed
    up to ``limit``'s length): the same rule for the code and for the document."""
    top = str(limit)
    shorter = [f"[0-9]{{1,{len(top) - 1}}}"] if len(top) > 1 else []
    same_length = [
        f"{top[:i]}[0-{int(digit) - 1}][0-9]{{{len(top) - i - 1}}}"
        for i, digit in enumerate(top)
        if digit != "0"
    ]
    return "(?:" + "|".join([*shorter, *same_length, top]) + ")"


_VERSION_DIGITS = digits_up_to(MAX_VERSION)
IF_MATCH_PATTERN = rf'^(?:W/)?(?:"{_VERSION_DIGITS}"|{_VERSION_DIGITS})$'
"""A version as ``If-Match`` carries it: ``3``, ``"3"`` or ``W/"3"``, at most ``MAX_VERSION``.
ASCII digits only: ``[0-9]``, never ``\\d``, which also matches digits such as "²" or "٣"."""
_IF_MATCH = re.compile(IF_MATCH_PATTERN)
_MAX_FIELD_CHARS = 200


class Refused(InvalidInput):
    """Input the edge rule refuses (400 ``{error, details: [{field, message, type}]}``)."""

    def __init__(self, field: str, message: str, type_: str, error: str = "Invalid input") -> None:
        super().__init__(error, field_errors(_printable(field), message, type_))
        self.field = field
        self.type = type_


class _Marker:
    """Stands for a refused number while the body is parsed again to find where it is."""

    def __init__(self, message: str, type_: str) -> None:
        self.message = message
        self.type = type_


_NOT_FINITE = _Marker(
    "numbers must be finite: no NaN, Infinity or overflow such as 1e999", "number_not_finite"
)
_OUT_OF_RANGE = _Marker(
    f"numbers must lie between -{MAX_SAFE_INTEGER} and {MAX_SAFE_INTEGER} (2^53 - 1)", "number_out_of_range"
)
_TEXT_PROBLEMS = {
    "\x00": ("must not contain U+0000 (NUL)", "text_nul"),
    "surrogate": ("must not contain a lone UTF-16 surrogate (text must be valid Unicode)", "text_surrogate"),
}


class _NumberRefused(ValueError):
    """Raised by the parse hooks: the body holds a number the rule refuses."""


def _printable(field: str) -> str:
    """A field name safe to answer with: bad characters replaced, bounded length."""
    clean = _BAD_CHAR.sub("\ufffd", field)
    return clean if len(clean) <= _MAX_FIELD_CHARS else clean[: _MAX_FIELD_CHARS - 1] + "\u2026"


def _has_bad_char(text: str) -> bool:
    # The fast answer first: a NUL search is a memchr, and an ASCII-only str (a flag CPython
    # keeps on the object) cannot hold a surrogate.
    return "\x00" in text or (not text.isascii() and _SURROGATE.search(text) is not None)


def _text_problem(text: str) -> tuple[str, str] | None:
    found = _BAD_CHAR.search(text)
    if found is None:
        return None
    return _TEXT_PROBLEMS["\x00" if found.group() == "\x00" else "surrogate"]


def check_text(field: str, text: str) -> None:
    """Refuse ``text`` (at ``field``) when it holds U+0000 or a lone surrogate."""
    problem = _text_problem(text)
    if problem is not None:
        raise Refused(field, *problem)


def check_strings(location: str, values: Mapping[str, str] | None) -> None:
    """The text rule over a map of names to strings (query string, path parameters, headers)."""
    if not values or not (_has_bad_char("".join(values)) or _has_bad_char("".join(values.values()))):
        return
    for name, value in values.items():
        check_text(f"{location}.{name}", name)
        check_text(f"{location}.{name}", value)


def body_text(body: str | None, *, base64_encoded: bool) -> str | None:
    """The request body as text: base64 decoded when it is, and refused unless it is UTF-8."""
    if not body or not base64_encoded:
        return body
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Refused("body", "the body is not valid base64", "body_not_base64") from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused("body", "the body must be UTF-8 encoded", "body_not_utf8") from exc


# --- JSON --------------------------------------------------------------------------------------------


def _refuse_constant(_name: str) -> Any:
    raise _NumberRefused


def _checked_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value) or abs(value) > MAX_SAFE_INTEGER:
        raise _NumberRefused
    return value


def _checked_int(literal: str) -> int:
    # Length first: int() of thousands of digits is slow, and past 4,300 it raises.
    if len(literal) > 17 or abs(value := int(literal)) > MAX_SAFE_INTEGER:
        raise _NumberRefused
    return value


def _marked_float(literal: str) -> Any:
    value = float(literal)
    if not math.isfinite(value):
        return _NOT_FINITE
    return _OUT_OF_RANGE if abs(value) > MAX_SAFE_INTEGER else value


def _marked_int(literal: str) -> Any:
    return _OUT_OF_RANGE if len(literal) > 17 or abs(int(literal)) > MAX_SAFE_INTEGER else int(literal)


_DECODER = json.JSONDecoder(
    parse_constant=_refuse_constant, parse_float=_checked_float, parse_int=_checked_int
)
_MARKING_DECODER = json.JSONDecoder(
    parse_constant=lambda _: _NOT_FINITE, parse_float=_marked_float, parse_int=_marked_int
)


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every key and scalar below ``value`` with its path, in document order, without recursion."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        here, node = stack.pop()
        if isinstance(node, dict):
            for key, child in reversed(node.items()):
                where = f"{here}.{key}"
                stack.append((where, child))
                stack.append((where, key))  # popped first: a key is checked before its value
        elif isinstance(node, list):
            stack.extend((f"{here}.{i}", child) for i, child in reversed(list(enumerate(node))))
        else:
            yield here, node


def _first_problem(value: Any, path: str) -> Refused | None:
    for where, item in _walk(value, path):
        if isinstance(item, _Marker):
            return Refused(where, item.message, item.type)
        if isinstance(item, str) and (problem := _text_problem(item)) is not None:
            return Refused(where, *problem)
    return None


def _key(token: str) -> str:
    try:
        return str(json.loads(token))
    except json.JSONDecodeError:
        return token.strip('"')


def _deepest_path(text: str, path: str) -> str:
    """Where a JSON text first goes deeper than ``MAX_JSON_DEPTH``: its keys and indexes so far."""
    parts: list[str | int] = []
    depth = 0
    for found in _PATH_TOKEN.finditer(text):
        string, colon, mark = found.groups()
        if string is not None:
            if colon and parts:
                parts[-1] = _key(string)
        elif mark in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                break
            parts.append(0 if mark == "[" else "")
        elif mark in "]}":
            depth -= 1
            parts.pop()
        elif parts and isinstance(parts[-1], int):
            parts[-1] += 1
    return ".".join([path, *(str(p) for p in parts)])


def _too_deep(text: str) -> bool:
    # At most as deep as it has brackets: the exact count (outside strings) only for big bodies.
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return False
    steps = map(_DEPTH_STEP.__getitem__, _BRACKET_OUTSIDE_STRINGS.findall(text))
    return max(accumulate(steps), default=0) > MAX_JSON_DEPTH


def parse_json(text: str, path: str = "body") -> Any:
    """``text`` parsed as JSON under the edge rule, or ``Refused`` naming the first offence."""
    if _too_deep(text):
        raise Refused(
            _deepest_path(text, path),
            f"JSON must not be nested deeper than {MAX_JSON_DEPTH} levels",
            "json_too_deep",
        )
    try:
        value = _DECODER.decode(text)
    except _NumberRefused:
        marked = _MARKING_DECODER.decode(text)
        raise _first_problem(marked, path) or Refused(
            path, _OUT_OF_RANGE.message, _OUT_OF_RANGE.type
        ) from None
    except json.JSONDecodeError as exc:
        raise Refused(
            path, "the body is not valid JSON", "json_invalid", error="Malformed JSON body"
        ) from exc
    # Only an escape or a raw surrogate can put a bad character in a string that parsed (JSON
    # refuses a raw NUL): the walk that finds where runs only then.
    if ("\\u" in text and _RISKY_ESCAPE.search(text)) or _has_bad_char(text):
        problem = _first_problem(value, path)
        if problem is not None:
            raise problem
    return value


def parse_body(text: str) -> Any:
    """A request body parsed under the rule: every body this API takes is a JSON object (or
    ``null`` where the body is optional). Anything else is refused here, because Powertools
    would otherwise validate the first element of an array as if it were the whole body."""
    value = parse_json(text)
    if value is not None and not isinstance(value, dict):
        raise Refused("body", "the body must be a JSON object", "body_not_object")
    return value


def parse_version(if_match: str | None, field: str = "header.if-match") -> int | None:
    """``If-Match: 3``, ``"3"`` or ``W/"3"`` as a version; ``Refused`` unless 0 to ``MAX_VERSION``."""
    if if_match is None:
        return None
    raw = if_match.strip()
    if _IF_MATCH.match(raw) is None:
        raise Refused(
            field,
            f"must be the storyboard version last read: ASCII digits up to {MAX_VERSION}, optionally quoted",
            "if_match_invalid",
        )
    return int(raw.removeprefix("W/").strip('"'))
