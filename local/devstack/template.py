"""template.yaml as the local stack reads it: functions, routes, events, queues, buckets, keys, CORS.

The one list of what runs: nothing here is a second copy of the template. The loader is
tolerant: CloudFormation short tags (``!Ref``, ``!GetAtt``, ``!Sub``, ``!If``, ...) become their
long-form dicts, which :mod:`devstack.intrinsics` evaluates against local stand-ins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from devstack.intrinsics import NO_VALUE, UNRESOLVED, Resolver

FUNCTION_TYPE = "AWS::Serverless::Function"


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns CloudFormation short tags into their long form (``{"Ref": x}``)."""


def _construct_tag(loader: CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _construct_tag)


def load_yaml(path: Path) -> dict[str, Any]:
    """The template as plain dicts (short tags in long form)."""
    with path.open(encoding="utf-8") as f:
        document = yaml.load(f, Loader=CfnLoader)  # noqa: S506 (a SafeLoader subclass)
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise ValueError(f"{path} is not a CloudFormation template (no Resources)")
    return document


# --- the parts the local stack uses -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Route:
    """One HttpApi event: ``GET /api/storyboards/{id}`` served by ``function``."""

    method: str
    path: str
    function: str
    requires_auth: bool

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(name.rstrip("+") for name in re.findall(r"{([^}]+)}", self.path))

    def pattern(self) -> re.Pattern[str]:
        """The path as a regex: ``{name}`` is one segment, ``{name+}`` the rest of the path."""
        parts = re.split(r"({[^}]+})", self.path)
        regex = "".join(
            ("(.+)" if part.endswith("+}") else "([^/]+)") if part.startswith("{") else re.escape(part)
            for part in parts
        )
        return re.compile(f"^{regex}$")


@dataclass(frozen=True, slots=True)
class SqsSource:
    """One SQS event of a function: Lambda's event source mapping settings."""

    function: str
    queue: str
    batch_size: int = 10
    batching_window_seconds: float = 0.0
    report_batch_item_failures: bool = False


@dataclass(frozen=True, slots=True)
class ScheduleSource:
    """One Schedule event (EventBridge rule) of a function."""

    function: str
    name: str
    expression: str


@dataclass(frozen=True, slots=True)
class Function:
    """An ``AWS::Serverless::Function`` with Globals applied."""

    logical_id: str
    code_uri: Path
    handler: str
    timeout: int
    memory_size: int
    environment: Mapping[str, Any]

    @property
    def name(self) -> str:
        """The folder name (``functions/storyboards`` -> ``storyboards``): how logs name it."""
        return self.code_uri.name


@dataclass(frozen=True, slots=True)
class Queue:
    """An ``AWS::SQS::Queue`` and the attributes the local copy keeps."""

    logical_id: str
    visibility_timeout: int = 30
    message_retention_period: int = 345600
    delay_seconds: int = 0
    dead_letter_target: str | None = None
    max_receive_count: int | None = None


@dataclass(frozen=True, slots=True)
class Cors:
    """An HttpApi's CorsConfiguration."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False


@dataclass
class Template:
    """What the local stack needs from template.yaml."""

    root: Path
    raw: dict[str, Any]
    functions: dict[str, Function] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    sqs_sources: list[SqsSource] = field(default_factory=list)
    schedules: list[ScheduleSource] = field(default_factory=list)
    queues: dict[str, Queue] = field(default_factory=dict)
    buckets: list[str] = field(default_factory=list)
    kms_keys: list[str] = field(default_factory=list)
    cors: Cors | None = None
    parameter_values: dict[str, str] = field(default_factory=dict)
    """Values that replace parameters' defaults (as ``sam deploy --parameter-overrides`` would)."""

    def resources_of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.raw["Resources"]
        return {name: r for name, r in resources.items() if r.get("Type") == kind}

    def invoked_functions(self) -> list[Function]:
        """Functions something invokes locally (a route, a queue or a schedule)."""
        used = {r.function for r in self.routes}
        used |= {s.function for s in self.sqs_sources} | {s.function for s in self.schedules}
        return [f for name, f in self.functions.items() if name in used]


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _function(root: Path, logical_id: str, props: dict[str, Any], globals_: dict[str, Any]) -> Function:
    env = dict(globals_.get("Environment", {}).get("Variables", {}))
    env |= props.get("Environment", {}).get("Variables", {})
    return Function(
        logical_id=logical_id,
        code_uri=(root / str(props["CodeUri"])).resolve(),
        handler=str(props.get("Handler", globals_.get("Handler", "app.lambda_handler"))),
        timeout=_int(props.get("Timeout", globals_.get("Timeout")), 3),
        memory_size=_int(props.get("MemorySize", globals_.get("MemorySize")), 128),
        environment=env,
    )


def _ref_target(value: Any) -> str | None:
    """The logical id a ``!Ref X`` or ``!GetAtt X.Arn`` points at."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    return None


def _events(
    template: Template, logical_id: str, props: dict[str, Any], auth_by_default: dict[str, bool]
) -> None:
    for event_name, event in (props.get("Events") or {}).items():
        kind, ev = event.get("Type"), event.get("Properties", {})
        if kind == "HttpApi":
            api = _ref_target(ev.get("ApiId")) or ""
            authorizer = (ev.get("Auth") or {}).get("Authorizer")
            requires_auth = auth_by_default.get(api, False) if authorizer is None else authorizer != "NONE"
            method = str(ev.get("Method", "ANY")).upper()
            template.routes.append(Route(method, str(ev["Path"]), logical_id, requires_auth))
        elif kind == "SQS":
            template.sqs_sources.append(
                SqsSource(
                    function=logical_id,
                    queue=_ref_target(ev.get("Queue")) or str(ev.get("Queue")),
                    batch_size=_int(ev.get("BatchSize"), 10),
                    batching_window_seconds=float(ev.get("MaximumBatchingWindowInSeconds", 0)),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in (ev.get("FunctionResponseTypes") or []),
                )
            )
        elif kind == "Schedule":
            template.schedules.append(ScheduleSource(logical_id, event_name, str(ev.get("Schedule"))))


def _queue(logical_id: str, props: dict[str, Any]) -> Queue:
    redrive = props.get("RedrivePolicy") or {}
    max_receive = redrive.get("maxReceiveCount")
    return Queue(
        logical_id=logical_id,
        visibility_timeout=_int(props.get("VisibilityTimeout"), 30),
        message_retention_period=_int(props.get("MessageRetentionPeriod"), 345600),
        delay_seconds=_int(props.get("DelaySeconds"), 0),
        dead_letter_target=_ref_target(redrive.get("deadLetterTargetArn")),
        max_receive_count=None if max_receive is None else _int(max_receive, 0),
    )


def _strings(value: Any, resolver: Resolver) -> tuple[str, ...]:
    resolved = resolver.resolve(value) if value is not None else []
    if resolved is UNRESOLVED or resolved is NO_VALUE:
        return ()
    items = resolved if isinstance(resolved, list) else [resolved]
    return tuple(str(item) for item in items)


def _cors(props: dict[str, Any], resolver: Resolver) -> Cors | None:
    config = props.get("CorsConfiguration")
    if not isinstance(config, dict):
        return None
    max_age = config.get("MaxAge")
    return Cors(
        allow_origins=_strings(config.get("AllowOrigins"), resolver),
        allow_methods=tuple(m.upper() for m in _strings(config.get("AllowMethods"), resolver)),
        allow_headers=tuple(h.lower() for h in _strings(config.get("AllowHeaders"), resolver)),
        expose_headers=tuple(h.lower() for h in _strings(config.get("ExposeHeaders"), resolver)),
        max_age=None if max_age is None else _int(max_age, 0),
        allow_credentials=bool(config.get("AllowCredentials", False)),
    )


def load(path: Path, parameters: Mapping[str, str] | None = None) -> Template:
    """Read ``path`` (template.yaml); relative CodeUri paths resolve against its folder.

    ``parameters`` replace the defaults of the template's parameters of those names (a
    ``ValueError`` names one the template does not declare).
    """
    raw = load_yaml(path)
    declared = raw.get("Parameters") or {}
    unknown = sorted(set(parameters or {}) - set(declared))
    if unknown:
        raise ValueError(f"{path.name} declares no parameter {', '.join(unknown)}")
    template = Template(root=path.parent.resolve(), raw=raw, parameter_values=dict(parameters or {}))
    globals_ = (raw.get("Globals") or {}).get("Function") or {}
    apis = template.resources_of_type("AWS::Serverless::HttpApi")
    auth_by_default = {
        name: bool(((api.get("Properties") or {}).get("Auth") or {}).get("DefaultAuthorizer"))
        for name, api in apis.items()
    }
    for logical_id, resource in template.resources_of_type(FUNCTION_TYPE).items():
        props = resource.get("Properties") or {}
        template.functions[logical_id] = _function(template.root, logical_id, props, globals_)
        _events(template, logical_id, props, auth_by_default)
    for logical_id, resource in template.resources_of_type("AWS::SQS::Queue").items():
        template.queues[logical_id] = _queue(logical_id, resource.get("Properties") or {})
    template.buckets.extend(template.resources_of_type("AWS::S3::Bucket"))
    template.kms_keys.extend(template.resources_of_type("AWS::KMS::Key"))
    resolver = Resolver(template)
    for api in apis.values():
        cors = _cors(api.get("Properties") or {}, resolver)
        if cors is not None:
            template.cors = cors
    return template
