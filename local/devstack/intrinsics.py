"""CloudFormation intrinsic functions and pseudo parameters, evaluated with local stand-ins.

:class:`Resolver` evaluates the few intrinsics an environment value uses against local stand-ins
(queue URLs, bucket names, key ARNs). A value that only means something in AWS (``!GetAtt
DBProxy.Endpoint``) is :data:`UNRESOLVED`; the stack drops or replaces it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devstack.template import Template

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
# Values of required parameters (no Default) for the local stack, as `sam deploy` would be given them.
LOCAL_PARAMETERS = {"CorsAllowedOrigins": "http://localhost:3000"}


class _Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


UNRESOLVED: Any = _Sentinel("UNRESOLVED")
"""A value that exists only in AWS (a proxy endpoint, a secret ARN not created locally)."""
NO_VALUE: Any = _Sentinel("NO_VALUE")
"""``!Ref AWS::NoValue``: the property (environment variable) is left out."""


class Resolver:
    """Evaluates ``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, ``Fn::If``, ``Fn::Join``, ``Fn::Select``.

    ``refs`` maps a logical id to what ``!Ref`` gives locally (queue URL, bucket name, key id);
    ``attributes`` maps ``(logical id, attribute)`` to what ``!GetAtt`` gives. Parameters take
    the template's ``parameter_values``, else their defaults (required ones
    :data:`LOCAL_PARAMETERS`); pseudo parameters are the local account and region.
    """

    def __init__(
        self,
        template: Template,
        refs: Mapping[str, str] | None = None,
        attributes: Mapping[tuple[str, str], str] | None = None,
    ) -> None:
        self.template = template
        self.refs = dict(refs or {})
        self.attributes = dict(attributes or {})
        self.parameters: dict[str, Any] = template.raw.get("Parameters") or {}
        self.conditions: dict[str, Any] = template.raw.get("Conditions") or {}

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic evaluated; ``UNRESOLVED`` if one cannot be."""
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return UNRESOLVED if UNRESOLVED in items else [i for i in items if i is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return UNRESOLVED
        [(name, arg)] = value.items()
        handler = {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::If": self._if,
            "Fn::Join": self._join,
            "Fn::Select": self._select,
        }.get(name)
        return UNRESOLVED if handler is None else handler(arg)

    def resolve_string(self, value: Any) -> str | None:
        """An environment value as a string; ``None`` when it is left out or AWS-only."""
        resolved = self.resolve(value)
        if resolved is UNRESOLVED or resolved is NO_VALUE:
            return None
        if isinstance(resolved, bool):
            return "true" if resolved else "false"
        if isinstance(resolved, list):
            return ",".join(str(v) for v in resolved)
        return str(resolved)

    def _ref(self, name: Any) -> Any:
        pseudo = {
            "AWS::NoValue": NO_VALUE,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "videogen-local",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.refs:
            return self.refs[name]
        parameter = self.parameters.get(name)
        if parameter is None:
            return UNRESOLVED
        fallback = parameter.get("Default", LOCAL_PARAMETERS.get(name, UNRESOLVED))
        value = self.template.parameter_values.get(name, fallback)
        if value is UNRESOLVED or value is None:
            return UNRESOLVED
        if str(parameter.get("Type", "")).startswith(("CommaDelimitedList", "List<")):
            return [item.strip() for item in str(value).split(",") if item.strip()]
        return value

    def _get_att(self, arg: Any) -> Any:
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        if isinstance(arg, list) and len(arg) == 2:
            return self.attributes.get((str(arg[0]), str(arg[1])), UNRESOLVED)
        return UNRESOLVED

    def _sub(self, arg: Any) -> Any:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        unresolved = False

        def replace(match: re.Match[str]) -> str:
            nonlocal unresolved
            name = match.group(1)
            if name in variables:
                value = self.resolve(variables[name])
            elif "." in name:
                value = self._get_att(name.split(".", 1))
            else:
                value = self._ref(name)
            if value is UNRESOLVED or value is NO_VALUE:
                unresolved = True
                return ""
            return str(value)

        result = re.sub(r"\${([^}!]+)}", replace, str(text))
        return UNRESOLVED if unresolved else result

    def _if(self, arg: Any) -> Any:
        condition, when_true, when_false = arg
        return self.resolve(when_true if self.condition(condition) else when_false)

    def _join(self, arg: Any) -> Any:
        items = self.resolve(arg[1])
        return UNRESOLVED if items is UNRESOLVED else str(arg[0]).join(str(i) for i in items)

    def _select(self, arg: Any) -> Any:
        items = self.resolve(arg[1])
        if items is UNRESOLVED or not isinstance(items, list):
            return UNRESOLVED
        return items[int(arg[0])]

    def condition(self, value: Any) -> bool:
        """Evaluate a named condition or a condition expression with parameter defaults."""
        if isinstance(value, str):
            return self.condition(self.conditions.get(value, False))
        if not isinstance(value, dict):
            return bool(value)
        [(name, arg)] = value.items()
        evaluate: dict[str, Callable[[Any], bool]] = {
            "Condition": self.condition,
            "Fn::Equals": lambda a: bool(self.resolve(a[0]) == self.resolve(a[1])),
            "Fn::Not": lambda a: not self.condition(a[0]),
            "Fn::And": lambda a: all(self.condition(c) for c in a),
            "Fn::Or": lambda a: any(self.condition(c) for c in a),
        }
        return evaluate[name](arg) if name in evaluate else False
