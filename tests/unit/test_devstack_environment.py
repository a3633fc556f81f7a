"""The local stack reads template.yaml, not a second list: routes, queues, event sources, and
each function's environment (the template's names, local values). No sockets here."""

from __future__ import annotations

import dataclasses

import pytest

from devstack.environment import DEV_HMAC_SECRET, Endpoints, Options, base_environment, function_environment
from devstack.gateway import Gateway, Request
from devstack.intrinsics import Resolver
from devstack.poller import failed_message_ids
from devstack.process import StartupFailed
from devstack.template import load
from tests.support import REPO
from videogen.runtime.config import Settings

TEMPLATE = load(REPO / "template.yaml")
ENDPOINTS = Endpoints(
    database_url="postgresql+psycopg://postgres@127.0.0.1:5999/videogen",
    aws="http://127.0.0.1:5000",
    providers={
        "openai": "http://127.0.0.1:5001/v1",
        "vertex": "http://127.0.0.1:5002",
        "gemini": "http://127.0.0.1:5003",
        "fal": "http://127.0.0.1:5004",
    },
    log_level="DEBUG",
)
RESOLVER = Resolver(
    TEMPLATE,
    refs={"GenerationQueue": "http://127.0.0.1:5000/123456789012/GenerationQueue", "VideosBucket": "videos"},
    attributes={("ApiKeysKey", "Arn"): "arn:aws:kms:us-east-1:123456789012:key/k-1"},
)
SETTINGS_NAMES = {name.upper() for name in Settings.model_fields}


def env_of(name: str) -> dict[str, str]:
    function = next(f for f in TEMPLATE.functions.values() if f.name == name)
    return function_environment(function, RESOLVER, ENDPOINTS)


def test_every_api_route_and_event_source_comes_from_the_template():
    keys = {r.route_key for r in TEMPLATE.routes}

    assert {"GET /api/health", "GET /api/storyboards/{id}", "PUT /api/keys/{provider}"} <= keys
    open_paths = {"/api/health", "/api/webhooks/{source}"}
    assert {r.path for r in TEMPLATE.routes if not r.requires_auth} == open_paths
    worker = next(s for s in TEMPLATE.sqs_sources if s.queue == "GenerationQueue")
    assert worker.report_batch_item_failures
    assert 1 <= worker.batch_size <= 10
    queue = TEMPLATE.queues["GenerationQueue"]
    assert queue.dead_letter_target in TEMPLATE.queues
    assert queue.max_receive_count
    assert TEMPLATE.schedules


def test_functions_get_only_settings_names_with_local_values():
    for function in TEMPLATE.invoked_functions():
        env = function_environment(function, RESOLVER, ENDPOINTS)

        invented = {n for n in env if n not in SETTINGS_NAMES and not n.startswith("POWERTOOLS_")}
        assert not invented, f"{function.name}: {invented}"
        assert env["DATABASE_URL"] == ENDPOINTS.database_url
        assert not {"DB_HOST", "DB_PORT", "DB_NAME", "DB_USER"} & set(env)
        assert env["POWERTOOLS_LOG_LEVEL"] == "DEBUG"


def test_function_environment_resolves_template_references_to_local_resources():
    generate, status, keys = env_of("generate"), env_of("status_and_models"), env_of("api_keys")

    assert generate["GENERATION_QUEUE_URL"] == "http://127.0.0.1:5000/123456789012/GenerationQueue"
    assert "VIDEOS_BUCKET" not in generate  # the template does not give it one
    assert status["VIDEOS_BUCKET"] == "videos"
    assert keys["API_KEYS_KMS_KEY_ID"] == "arn:aws:kms:us-east-1:123456789012:key/k-1"


def test_hmac_secret_arn_becomes_a_local_dev_secret():
    keys = env_of("api_keys")

    assert keys["API_KEY_HMAC_SECRET"] == DEV_HMAC_SECRET
    assert "API_KEY_HMAC_SECRET_ARN" not in keys


def test_provider_base_urls_point_at_the_fakes():
    worker = env_of("generation_worker")

    assert worker["GEMINI_BASE_URL"] == "http://127.0.0.1:5003"
    assert worker["VERTEX_BASE_URL"] == "http://127.0.0.1:5002"
    assert (worker["FAL_QUEUE_BASE_URL"], worker["FAL_PLATFORM_BASE_URL"]) == (
        "http://127.0.0.1:5004",
        "http://127.0.0.1:5004/v1",
    )
    # keys saved without an endpoint name the OpenAI fake, on loopback, which the guard lets through
    assert env_of("api_keys")["OPENAI_DEFAULT_BASE_URL"] == "http://127.0.0.1:5001/v1"
    assert env_of("api_keys")["PROVIDER_ENDPOINT_ALLOWLIST"] == "127.0.0.1"


def test_live_providers_leave_the_real_services_in_place():
    function = next(f for f in TEMPLATE.functions.values() if f.name == "generation_worker")
    live = Endpoints(**{**ENDPOINTS.__dict__, "live_providers": True})

    worker = function_environment(function, RESOLVER, live)

    assert not {"GEMINI_BASE_URL", "VERTEX_BASE_URL", "FAL_QUEUE_BASE_URL", "OPENAI_DEFAULT_BASE_URL"} & set(
        worker
    )
    assert Options.from_env({"LIVE_PROVIDERS": "1"}).live_providers


def test_children_never_inherit_app_settings_or_aws_identity(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://prod")
    monkeypatch.setenv("AWS_PROFILE", "prod")
    monkeypatch.setenv("GENERATION_QUEUE_URL", "https://sqs.prod")

    env = base_environment("http://127.0.0.1:5000")

    assert "DATABASE_URL" not in env
    assert "GENERATION_QUEUE_URL" not in env
    assert "AWS_PROFILE" not in env
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"


def test_resolver_evaluates_conditions_with_parameter_defaults():
    # DefaultOpenAICompatibleBaseUrl defaults to "": the condition is false, the variable left out.
    default = TEMPLATE.functions["ApiKeysFunction"].environment["OPENAI_DEFAULT_BASE_URL"]

    assert RESOLVER.resolve_string(default) is None
    assert RESOLVER.resolve_string({"Fn::Sub": "${AWS::Region}-${VideosBucket}"}) == "us-east-1-videos"
    assert RESOLVER.resolve_string({"Fn::GetAtt": ["DBProxy", "Endpoint"]}) is None


# --- knobs -------------------------------------------------------------------------------------------


def test_knobs_default_to_the_plain_stack():
    options = Options.from_env({})

    assert (options.cors_origins, options.deliveries, options.visibility_timeout) == ((), 1, None)
    assert (options.function_settings, options.control, options.parameters) == ((), False, {})


def test_cors_origins_knob_replaces_the_templates_allowed_origins():
    # Given CORS_ORIGINS naming the web dev server's origin too
    options = Options.from_env({"CORS_ORIGINS": "http://localhost:3000, http://localhost:5173/"})
    template = load(REPO / "template.yaml", options.parameters)
    headers = (("Origin", "http://localhost:5173"), ("Access-Control-Request-Method", "PATCH"))

    # When a browser on that origin asks
    response = Gateway(template, function_urls={}).handle(
        Request("OPTIONS", "/api/storyboards/x", headers=headers)
    )

    # Then it is allowed, as is the default origin, and nothing else
    assert options.cors_origins == ("http://localhost:3000", "http://localhost:5173")
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert template.cors is not None
    assert template.cors.allow_origins == options.cors_origins


@pytest.mark.parametrize("raw", ["localhost:5173", "http://localhost:5173/app", "ftp://x", "http://a b"])
def test_cors_origins_knob_refuses_what_is_not_an_origin(raw):
    with pytest.raises(StartupFailed, match="CORS_ORIGINS"):
        Options.from_env({"CORS_ORIGINS": raw})


def test_a_parameter_the_template_does_not_declare_is_refused():
    with pytest.raises(ValueError, match="NoSuchParameter"):
        load(REPO / "template.yaml", {"NoSuchParameter": "x"})


def test_function_settings_knob_reaches_every_function_and_takes_numbers_only():
    options = Options.from_env(
        {"FUNCTION_SETTINGS": "poll_max_delay_seconds=3, CLEANUP_STALE_AFTER_SECONDS=5"}
    )
    worker = next(f for f in TEMPLATE.functions.values() if f.name == "generation_worker")

    env = function_environment(worker, RESOLVER, ENDPOINTS, dict(options.function_settings))

    assert (env["POLL_MAX_DELAY_SECONDS"], env["CLEANUP_STALE_AFTER_SECONDS"]) == ("3", "5")
    for refused in (
        "DATABASE_URL=postgresql://prod",
        "VIDEOS_BUCKET=x",
        "NOT_A_SETTING=1",
        "POLL_MAX_DELAY_SECONDS=x",
    ):
        with pytest.raises(StartupFailed, match="FUNCTION_SETTINGS"):
            Options.from_env({"FUNCTION_SETTINGS": refused})


def test_fault_knobs_are_read_from_the_environment():
    options = Options.from_env(
        {"SQS_DELIVERIES": "3", "VISIBILITY_TIMEOUT_SECONDS": "8", "DEVSTACK_CONTROL": "1"}
    )

    assert (options.deliveries, options.visibility_timeout, options.control) == (3, 8, True)


@pytest.mark.parametrize(
    ("payload", "failed"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": None}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b"}),
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, {"a", "b"}),
        ({"batchItemFailures": [{"id": "a"}]}, {"a", "b"}),
        ("not an object", {"a", "b"}),
    ],
)
def test_batch_item_failures_are_read_as_lambda_reads_them(payload, failed):
    assert failed_message_ids(payload, ["a", "b"]) == failed


def test_webhooks_reach_the_gateway_locally_and_the_knob_turns_them_off():
    worker = TEMPLATE.functions["GenerationWorkerFunction"]
    receiver = TEMPLATE.functions["WebhooksFunction"]
    on = dataclasses.replace(ENDPOINTS, webhook_base_url="http://127.0.0.1:3000")
    # The worker's creates name the gateway; both sign and check tokens with the dev secret
    worker_env = function_environment(worker, RESOLVER, on)
    assert worker_env["WEBHOOK_BASE_URL"] == "http://127.0.0.1:3000"
    assert (
        worker_env["WEBHOOK_SIGNING_SECRET"]
        == function_environment(receiver, RESOLVER, on)["WEBHOOK_SIGNING_SECRET"]
    )
    assert "WEBHOOK_SIGNING_SECRET_ARN" not in worker_env
    # and only the fakes' keys are trusted
    assert worker_env["GEMINI_JWKS_URL"].startswith(ENDPOINTS.providers["gemini"])
    # WEBHOOKS=0: no base URL, so no create asks for a webhook
    assert Options.from_env({"WEBHOOKS": "0"}).webhooks is False
    assert "WEBHOOK_BASE_URL" not in function_environment(worker, RESOLVER, ENDPOINTS)


def test_openai_keys_webhook_secrets_are_kept_where_the_webhook_function_reads_them():
    keys = TEMPLATE.functions["ApiKeysFunction"]
    receiver = TEMPLATE.functions["WebhooksFunction"]
    on = dataclasses.replace(ENDPOINTS, webhook_base_url="http://127.0.0.1:3000")
    keys_env = function_environment(keys, RESOLVER, on)
    receiver_env = function_environment(receiver, RESOLVER, on)
    # The keys function writes each key's secret under the prefix the webhook function reads
    assert keys_env["OPENAI_WEBHOOK_SECRETS_PREFIX"] == receiver_env["OPENAI_WEBHOOK_SECRETS_PREFIX"]
    assert keys_env["OPENAI_WEBHOOK_SECRETS_PREFIX"].endswith("/openai-webhooks")
    # and names the URL to register with the gateway's origin and the token secret both share
    assert keys_env["WEBHOOK_BASE_URL"] == "http://127.0.0.1:3000"
    assert keys_env["WEBHOOK_SIGNING_SECRET"] == receiver_env["WEBHOOK_SIGNING_SECRET"]
