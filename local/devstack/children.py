"""The local stack's child processes: the command line and environment each one starts with.

moto and the fake providers first; then one runtime per function, with the template's
environment for it pointed at the local endpoints; then the queue poller and the gateway,
which reach the runtimes at the URLs they announced.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from devstack.environment import FAKE_PROVIDERS, Endpoints, Options, base_environment, function_environment
from devstack.intrinsics import Resolver
from devstack.process import Child, python_module
from devstack.template import Function, Template


def aws_child(options: Options) -> Child:
    """moto with the template's queues, dead-letter queue, bucket and KMS key, kept in ``aws/``."""
    args = ["--template", str(options.template), "--state-dir", str(options.home / "aws")]
    if options.visibility_timeout:
        args += ["--visibility-timeout", str(options.visibility_timeout)]
    return Child("aws", python_module("devstack.aws", *args), base_environment())


def fakes_child(options: Options) -> Child:
    """The fake providers; a video finishes ``provider_seconds`` after its creation."""
    args = ["--complete-after-seconds", str(options.provider_seconds)]
    args += ["--port-file", str(options.home / "fake-ports.json")]  # keys saved for a fake keep working
    if options.log_level == "DEBUG":
        args.append("--verbose")
    return Child(
        "fakes", python_module("devstack.fakes", *args), base_environment(), ready_keys=FAKE_PROVIDERS
    )


def runtime_child(options: Options, function: Function, resolver: Resolver, endpoints: Endpoints) -> Child:
    """One function's runtime, restarted when it exits."""
    settings = dict(options.function_settings)
    env = base_environment(endpoints.aws) | function_environment(function, resolver, endpoints, settings)
    argv = python_module(
        "devstack.runtime",
        "--name", function.name,
        "--code-uri", str(function.code_uri),
        "--handler", function.handler,
        "--timeout", str(function.timeout),
        "--memory-size", str(function.memory_size),
    )  # fmt: skip
    return Child(function.name, argv, env, cwd=function.code_uri, restartable=True)


def poller_child(
    options: Options, template: Template, function_urls: Mapping[str, str], aws_info: Mapping[str, Any]
) -> Child:
    """The queue poller and scheduler, invoking the runtimes at ``function_urls``."""
    queues = [f"--queue={name}={aws_info['refs'][name]}" for name in template.queues]
    argv = python_module(
        "devstack.poller",
        "--template", str(options.template),
        *_function_args(function_urls),
        *queues,
        "--schedule-interval", str(options.sweep_interval),
        "--deliveries", str(options.deliveries),
    )  # fmt: skip
    return Child("poller", argv, base_environment(aws_info["endpoint"]))


def gateway_child(options: Options, function_urls: Mapping[str, str], media_origin: str) -> Child:
    """The API gateway on ``$PORT``; clips play from ``media_origin`` (the web app's CSP)."""
    parameters = [f"--parameter={name}={value}" for name, value in options.parameters.items()]
    argv = python_module(
        "devstack.gateway",
        "--template", str(options.template),
        "--port", str(options.port),
        "--rate-limit", str(options.rate_limit_per_minute),
        *_function_args(function_urls),
        "--media-origin", media_origin,
        *parameters,
    )  # fmt: skip
    return Child("gateway", argv, base_environment())


def _function_args(function_urls: Mapping[str, str]) -> list[str]:
    return [f"--function={name}={url}" for name, url in function_urls.items()]
