"""The local stack's environments: its knobs in, what every child and each function gets out.

A child never inherits an app setting or an AWS identity from the developer's shell (a
``DATABASE_URL`` or AWS profile must never reach a local function): it gets fake credentials,
the region and moto's endpoint. A function gets exactly its template variables, with local
values in place of those only AWS has.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from devstack.intrinsics import REGION, Resolver
from devstack.logs import log_level
from devstack.process import REPO_ROOT, StartupFailed
from devstack.ratelimit import DEFAULT_PER_MINUTE
from devstack.template import Function

DEV_HMAC_SECRET = "devstack-local-hmac-secret-not-for-production"  # noqa: S105 (a local dev value)
DEV_WEBHOOK_SECRET = "devstack-local-webhook-secret-not-for-production"  # noqa: S105 (a local dev value)
JWKS_PATH = "/.well-known/jwks.json"
"""Where each fake serves its webhook signing keys (as Google and fal serve theirs)."""
WEBHOOK_SETTINGS = frozenset({"WEBHOOK_BASE_URL", "WEBHOOK_SIGNING_SECRET_ARN"})
# RDS Proxy settings: locally the functions reach PostgreSQL through DATABASE_URL instead.
RDS_PROXY_SETTINGS = frozenset({"DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_SECRET_ARN"})


@dataclass(frozen=True)
class Options:
    """The stack's knobs, from the environment (docs/local-stack.md lists them)."""

    home: Path
    port: int = 3000
    provider_seconds: float = 5.0
    sweep_interval: float = 60.0
    rate_limit_per_minute: int = DEFAULT_PER_MINUTE
    log_level: str = "INFO"
    template: Path = REPO_ROOT / "template.yaml"
    cors_origins: tuple[str, ...] = ()
    """``CORS_ORIGINS``: origins the gateway allows (the template's CorsAllowedOrigins)."""
    visibility_timeout: int | None = None
    """``VISIBILITY_TIMEOUT_SECONDS``: every local queue's visibility timeout (default: the template's)."""
    deliveries: int = 1
    """``SQS_DELIVERIES``: how many times the poller hands each received message to its function."""
    function_settings: tuple[tuple[str, str], ...] = ()
    """``FUNCTION_SETTINGS``: numeric settings given to every function (``NAME=value,...``)."""
    control: bool = False
    """``DEVSTACK_CONTROL=1``: serve ``$DEVSTACK_HOME/control.sock`` (``python -m devstack.control``)."""
    live_providers: bool = False
    """``LIVE_PROVIDERS=1``: the worker calls the real Gemini API, Vertex AI and fal with the keys
    users save (polling: a laptop has no public address for webhooks); the fakes still run."""
    webhooks: bool = True
    """``WEBHOOKS=0``: creates ask for no webhook, so polls alone follow every job (the fallback);
    by default the fakes push to the gateway, signed with keys only the local stack trusts."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Options:
        def number(name: str, default: float, convert: Callable[[str], Any]) -> Any:
            raw = environ.get(name, "").strip()
            if not raw:
                return default
            try:
                value = convert(raw)
            except ValueError:
                raise StartupFailed(f"{name}={raw!r} is not a number") from None
            if value < 0:
                raise StartupFailed(f"{name} must not be negative")
            return value

        home = environ.get("DEVSTACK_HOME", "").strip()
        return cls(
            home=Path(home).resolve() if home else REPO_ROOT / ".local",
            port=number("PORT", 3000, int),
            provider_seconds=number("FAKE_PROVIDER_SECONDS", 5.0, float),
            sweep_interval=number("SWEEP_INTERVAL_SECONDS", 60.0, float) or 60.0,
            rate_limit_per_minute=number("RATE_LIMIT_PER_MINUTE", DEFAULT_PER_MINUTE, int),
            log_level=log_level(),
            cors_origins=_origins(environ.get("CORS_ORIGINS", "")),
            visibility_timeout=number("VISIBILITY_TIMEOUT_SECONDS", 0, int) or None,
            deliveries=number("SQS_DELIVERIES", 1, int) or 1,
            function_settings=_function_settings(environ.get("FUNCTION_SETTINGS", "")),
            control=_flag(environ, "DEVSTACK_CONTROL"),
            live_providers=_flag(environ, "LIVE_PROVIDERS"),
            webhooks=environ.get("WEBHOOKS", "1").strip().lower() not in ("0", "false", "no"),
        )

    @property
    def parameters(self) -> dict[str, str]:
        """Template parameters the knobs override."""
        return {"CorsAllowedOrigins": ",".join(self.cors_origins)} if self.cors_origins else {}


def _flag(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() in ("1", "true", "yes")


_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    for origin in origins:
        if origin != "*" and not _ORIGIN.fullmatch(origin):
            raise StartupFailed(f"CORS_ORIGINS: {origin!r} is not an origin such as http://localhost:5173")
    return origins


def _function_settings(raw: str) -> tuple[tuple[str, str], ...]:
    from videogen.runtime.config import Settings  # noqa: PLC0415

    numeric = {
        name.upper()
        for name, info in Settings.model_fields.items()
        if info.annotation in (int, float, Decimal)
    }
    pairs = []
    for item in (i.strip() for i in raw.split(",") if i.strip()):
        name, _, value = item.partition("=")
        name = name.strip().upper()
        if name not in numeric:
            raise StartupFailed(
                f"FUNCTION_SETTINGS: {name!r} is not a numeric setting ({', '.join(sorted(numeric))})"
            )
        try:
            Decimal(value.strip())
        except ArithmeticError:
            raise StartupFailed(f"FUNCTION_SETTINGS: {name}={value!r} is not a number") from None
        pairs.append((name, value.strip()))
    return tuple(pairs)


def _settings_names() -> frozenset[str]:
    from videogen.runtime.config import Settings  # noqa: PLC0415

    return frozenset(name.upper() for name in Settings.model_fields)


def base_environment(aws_endpoint: str | None = None) -> dict[str, str]:
    """What every child inherits: our environment without any app setting or AWS identity
    (a developer's DATABASE_URL or AWS profile must never reach a local function), plus fake
    credentials, the region and moto's endpoint."""
    settings = _settings_names()
    env = {
        k: v
        for k, v in os.environ.items()
        if k.upper() not in settings and not k.startswith(("AWS_", "POWERTOOLS_"))
    }
    loopback = "127.0.0.1,localhost"
    env |= {
        "AWS_ACCESS_KEY_ID": "devstack",
        "AWS_SECRET_ACCESS_KEY": "devstack",  # moto accepts anything; never a real account
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": log_level(),
        "NO_PROXY": ",".join(filter(None, (env.get("NO_PROXY"), loopback))),
        "no_proxy": ",".join(filter(None, (env.get("no_proxy"), loopback))),
    }
    if aws_endpoint:
        env["AWS_ENDPOINT_URL"] = aws_endpoint
    return env


FAKE_PROVIDERS = ("openai", "vertex", "gemini", "fal")
"""The fake servers ``python -m devstack.fakes`` runs, by the name each announces itself with."""


@dataclass(frozen=True)
class Endpoints:
    """Where the local stand-ins listen."""

    database_url: str
    aws: str
    providers: Mapping[str, str]
    """Each fake provider's base URL, by its name in ``FAKE_PROVIDERS``."""
    log_level: str
    live_providers: bool = False
    webhook_base_url: str | None = None
    """Where the fakes call back (the gateway's origin); ``None``: webhooks off."""

    def provider_settings(self) -> dict[str, str]:
        """The settings that point every provider at its fake (none with ``live_providers``,
        but the egress guard's: keys naming an OpenAI-compatible endpoint on loopback)."""
        fakes = self.providers
        loopback = {"PROVIDER_ENDPOINT_ALLOWLIST": "127.0.0.1", "ALLOW_HTTP_PROVIDER_ENDPOINTS": "true"}
        if self.live_providers:
            return loopback
        return loopback | {
            "GEMINI_BASE_URL": fakes["gemini"],
            "VERTEX_BASE_URL": fakes["vertex"],
            "FAL_QUEUE_BASE_URL": fakes["fal"],
            "FAL_PLATFORM_BASE_URL": f"{fakes['fal']}/v1",
            "OPENAI_DEFAULT_BASE_URL": fakes["openai"],
            # The fakes' own signing keys, served as the real ones are: only this stack trusts them.
            "GEMINI_JWKS_URL": f"{fakes['gemini']}{JWKS_PATH}",
            "FAL_JWKS_URL": f"{fakes['fal']}{JWKS_PATH}",
        }

    def webhook_settings(self, name: str) -> dict[str, str]:
        """The local values of the template's webhook variable ``name``: the gateway's origin
        for the public base URL (none with webhooks off or live providers: a laptop has no public
        address), a dev secret for the Secrets Manager one."""
        if name == "WEBHOOK_SIGNING_SECRET_ARN":
            return {"WEBHOOK_SIGNING_SECRET": DEV_WEBHOOK_SECRET}
        if self.webhook_base_url and not self.live_providers:
            return {"WEBHOOK_BASE_URL": self.webhook_base_url}
        return {}


def function_environment(
    function: Function, resolver: Resolver, endpoints: Endpoints, settings: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The function's template variables with local values, the providers' fakes
    (``Endpoints.provider_settings``), plus ``settings`` (the ``FUNCTION_SETTINGS`` knob);
    nothing else.

    Two replacements, both with names videogen.runtime.config reads: the RDS Proxy settings
    (``DB_HOST``...) become ``DATABASE_URL``, and ``API_KEY_HMAC_SECRET_ARN`` (a Secrets
    Manager secret) becomes ``API_KEY_HMAC_SECRET`` with a local dev value. Values that exist
    only in AWS are left out.
    """
    overrides = {"POWERTOOLS_LOG_LEVEL": endpoints.log_level}
    env: dict[str, str] = {}
    for name, value in function.environment.items():
        if name in RDS_PROXY_SETTINGS:
            env["DATABASE_URL"] = endpoints.database_url
        elif name == "API_KEY_HMAC_SECRET_ARN":
            env["API_KEY_HMAC_SECRET"] = DEV_HMAC_SECRET
        elif name in WEBHOOK_SETTINGS:
            env |= endpoints.webhook_settings(name)
        elif name in overrides:
            env[name] = overrides[name]
        else:
            resolved = resolver.resolve_string(value)
            if resolved is not None:
                env[name] = resolved
    return env | endpoints.provider_settings() | dict(settings or {})
