"""template.yaml read once for the template tests: resources, functions, their events and IAM statements.

The template is read with the local stack's loader, which understands CloudFormation's short tags
(``!Ref x`` becomes ``{"Ref": "x"}``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from devstack.template import load_yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"


def load_template() -> dict[str, Any]:
    return load_yaml(TEMPLATE_PATH)


TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
GLOBAL_FUNCTION: dict[str, Any] = TEMPLATE.get("Globals", {}).get("Function", {})
FUNCTIONS = {
    name: resource["Properties"]
    for name, resource in RESOURCES.items()
    if resource["Type"] == "AWS::Serverless::Function"
}


def events_of(function: str, event_type: str) -> list[dict[str, Any]]:
    events = FUNCTIONS[function].get("Events", {}).values()
    return [event["Properties"] for event in events if event["Type"] == event_type]


API_FUNCTIONS = sorted(name for name in FUNCTIONS if events_of(name, "HttpApi"))


def policy_statements(node: Any) -> Iterator[dict[str, Any]]:
    """Every IAM statement anywhere in the template (roles, SAM Policies, key and bucket policies)."""
    if isinstance(node, dict):
        statements = node.get("Statement")
        if isinstance(statements, list):
            yield from (s for s in statements if isinstance(s, dict))
        elif isinstance(statements, dict):
            yield statements
        for value in node.values():
            yield from policy_statements(value)
    elif isinstance(node, list):
        for value in node:
            yield from policy_statements(value)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def timeout_of(function: str) -> int:
    return int(FUNCTIONS[function].get("Timeout", GLOBAL_FUNCTION["Timeout"]))
