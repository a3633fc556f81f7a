"""template.yaml against the code it deploys, and `sam validate` / `sam build` on it.

The template is read with a YAML loader that understands CloudFormation's short tags. Every
function's handler is imported the way Lambda does (its folder first on the path, the layer
package installed in the venv); API routes are compared with the Powertools resolver's own.
`sam` comes from .venv-sam, which `make test` creates (requirements/sam.txt).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.integration.template_support import (
    API_FUNCTIONS,
    FUNCTIONS,
    GLOBAL_FUNCTION,
    REPO_ROOT,
    RESOURCES,
    TEMPLATE,
    TEMPLATE_PATH,
    as_list,
    events_of,
    policy_statements,
    timeout_of,
)
from tools.functions import handler_file, import_handler_module
from videogen.runtime.config import Settings

SAM = REPO_ROOT / ".venv-sam" / "bin" / "sam"
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
PROVIDER_SDKS = ("openai", "google/genai")


def handler_of(function: str) -> tuple[Path, str, str]:
    """(CodeUri, module, attribute) of a function's Handler, e.g. (functions/health, app, lambda_handler)."""
    props = FUNCTIONS[function]
    module, _, attribute = props.get("Handler", GLOBAL_FUNCTION.get("Handler", "")).rpartition(".")
    return REPO_ROOT / props["CodeUri"], module, attribute


def normalized(path: str) -> str:
    """``/api/storyboards/{id}`` and ``/api/storyboards/<storyboard_id>`` compare equal."""
    return re.sub(r"\{[^}]+\}|<[^>]+>", "{}", path)


def template_routes(function: str) -> set[tuple[str, str]]:
    return {(event["Method"].upper(), normalized(event["Path"])) for event in events_of(function, "HttpApi")}


def resolver_routes(module: ModuleType) -> set[tuple[str, str]]:
    resolvers = [value for value in vars(module).values() if isinstance(value, ApiGatewayResolver)]
    assert len(resolvers) == 1, f"{module.__name__} should define exactly one resolver"
    routes = resolvers[0]._static_routes + resolvers[0]._dynamic_routes
    return {(route.method.upper(), normalized(route.path)) for route in routes}


# --- the functions and their code ----------------------------------------------------------------


def test_every_function_folder_is_deployed_by_the_template() -> None:
    # Given the function folders that hold a handler
    folders = {p.parent.name for p in (REPO_ROOT / "functions").glob("*/app.py")}
    # Then each is some function's CodeUri, and every CodeUri exists
    code_uris = {Path(props["CodeUri"]).name for props in FUNCTIONS.values()}
    assert folders <= code_uris
    for name, props in FUNCTIONS.items():
        assert (REPO_ROOT / props["CodeUri"]).is_dir(), name


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_function_handler_file_exists_and_imports(function: str) -> None:
    # Given the Handler of the function in the template
    code_uri, module_name, attribute = handler_of(function)
    path = handler_file(code_uri, module_name)
    assert path.is_file(), f"{function}: {path.relative_to(REPO_ROOT)} is missing"
    # When its module is imported the way Lambda imports it
    module = import_handler_module(code_uri, module_name, name=f"_template_check_{function}")
    # Then the entry point is there
    assert callable(getattr(module, attribute, None)), f"{function}: no callable {attribute}"


# Run in a fresh interpreter: a module cached by an earlier test would hide an import.
IMPORT_WITHOUT = """
import sys
from pathlib import Path
from tools.functions import import_handler_module
blocked = tuple(sys.argv[1].split(","))
class Missing:
    def find_spec(self, name, path=None, target=None):
        if name in blocked or name.startswith(tuple(b + "." for b in blocked)):
            raise ImportError(f"{name} is not in this function's package")
sys.meta_path.insert(0, Missing())
for code_uri, module in zip(sys.argv[2::2], sys.argv[3::2], strict=True):
    import_handler_module(Path(code_uri), module)
"""


def import_without(blocked: tuple[str, ...], functions: list[str]) -> subprocess.CompletedProcess[str]:
    """Import the functions' handlers in a fresh interpreter where ``blocked`` packages are missing."""
    handlers = [str(part) for name in sorted(functions) for part in handler_of(name)[:2]]
    return subprocess.run(
        [sys.executable, "-c", IMPORT_WITHOUT, ",".join(blocked), *handlers],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def requirements_of(function: str) -> str:
    path = REPO_ROOT / FUNCTIONS[function]["CodeUri"] / "requirements.txt"
    return path.read_text() if path.exists() else ""


def test_functions_packaged_without_provider_sdks_import_without_them() -> None:
    # Given the functions whose folder brings no provider SDK: in Lambda they lack them
    bare = [name for name in FUNCTIONS if "generation_worker" not in requirements_of(name)]
    bare = [name for name in bare if "openai" not in requirements_of(name)]
    assert set(API_FUNCTIONS) | {"FilmCompilerFunction", "GenerationDlqFunction"} <= set(bare)
    # When their handlers are imported where openai and google-genai cannot be found
    result = import_without(("openai", "google.genai"), bare)
    # Then they all import
    assert result.returncode == 0, result.stderr[-3000:]


def test_every_function_but_the_film_compiler_imports_without_pyav() -> None:
    # Given the functions whose folder brings av: the film compiler, and the references function
    # (it decodes uploaded music to check it)
    carriers = {name for name in FUNCTIONS if "av==" in requirements_of(name)}
    assert carriers == {"FilmCompilerFunction", "ReferencesFunction"}
    others = [name for name in FUNCTIONS if name != "FilmCompilerFunction"]
    # When every other handler is imported where av cannot be found
    result = import_without(("av",), others)
    # Then they all import (the API, the sweeper and the DLQ consumer handle films without media
    # code; the references function loads PyAV only when a music reference is completed)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize("function", API_FUNCTIONS)
def test_http_api_routes_match_the_resolver_routes(function: str) -> None:
    # Given the HttpApi routes that the template wires to this function
    wired = template_routes(function)
    # When its resolver is imported
    code_uri, module, _ = handler_of(function)
    declared = resolver_routes(import_handler_module(code_uri, module, name=f"_route_check_{function}"))
    # Then every wired route reaches a resolver route and every resolver route is wired
    assert wired - declared == set(), "routes in template.yaml with no resolver route"
    assert declared - wired == set(), "resolver routes that template.yaml does not wire"


def test_only_liveness_and_provider_webhooks_are_reachable_without_the_jwt_authorizer() -> None:
    api = RESOURCES["HttpApi"]["Properties"]
    assert api["Auth"]["DefaultAuthorizer"] == "JwtAuthorizer"
    open_routes = {
        (name, event["Method"], event["Path"])
        for name in API_FUNCTIONS
        for event in events_of(name, "HttpApi")
        if event.get("Auth", {}).get("Authorizer") == "NONE"
    }
    assert open_routes == {
        ("HealthFunction", "GET", "/api/health"),
        ("WebhooksFunction", "POST", "/api/webhooks/{source}"),
    }
    # Each open route has a throttle of its own: no anonymous caller spends the stage's.
    assert {f"{method} {path}" for _, method, path in open_routes} == set(api["RouteSettings"])


def test_the_webhook_function_holds_no_database_and_is_capped() -> None:
    webhooks = FUNCTIONS["WebhooksFunction"]
    # Out of the VPC, as SAM's transform leaves it: no subnets, no security groups.
    vpc = transformed_resources()["WebhooksFunction"]["Properties"]["VpcConfig"]
    assert vpc == {"SecurityGroupIds": {"Ref": "AWS::NoValue"}, "SubnetIds": {"Ref": "AWS::NoValue"}}
    assert webhooks["ReservedConcurrentExecutions"] == {"Ref": "WebhookReservedConcurrency"}
    statements = [s for p in webhooks["Policies"] for s in p.get("Statement", [])]
    assert {s["Sid"] for s in statements} == {
        "EnqueuePushes",
        "ReadWebhookSecret",
        "ReadEndpointWebhookSecrets",
    }
    assert {"Ref": "AppDbConnectPolicy"} not in webhooks["Policies"]
    secret = RESOURCES["WebhookSigningSecret"]
    assert secret["DeletionPolicy"] == secret["UpdateReplacePolicy"] == "Retain"


def test_endpoint_webhook_secrets_are_written_by_the_keys_function_and_only_read_by_the_webhook_one() -> None:
    prefix = "videogen/${Stage}/openai-webhooks"
    by_function = {}
    for name in ("ApiKeysFunction", "WebhooksFunction"):
        function = FUNCTIONS[name]
        assert function["Environment"]["Variables"]["OPENAI_WEBHOOK_SECRETS_PREFIX"] == {"Fn::Sub": prefix}
        statements = [s for p in function["Policies"] if isinstance(p, dict) for s in p.get("Statement", [])]
        by_function[name] = {
            s["Sid"]: (s["Action"], s["Resource"])
            for s in statements
            if "openai-webhooks" in str(s["Resource"])
        }
    arn = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
    scope = {"Fn::Sub": f"{arn}{prefix}/*"}
    assert by_function["ApiKeysFunction"] == {
        "KeepEndpointWebhookSecrets": (
            ["secretsmanager:CreateSecret", "secretsmanager:PutSecretValue", "secretsmanager:DeleteSecret"],
            scope,
        )
    }
    assert by_function["WebhooksFunction"] == {
        "ReadEndpointWebhookSecrets": ("secretsmanager:GetSecretValue", scope)
    }


def test_http_api_has_cors_and_stage_throttling() -> None:
    api = RESOURCES["HttpApi"]["Properties"]
    assert api["CorsConfiguration"]["AllowOrigins"] == {"Ref": "CorsAllowedOrigins"}
    assert {"ThrottlingRateLimit", "ThrottlingBurstLimit"} <= set(api["DefaultRouteSettings"])


def test_function_environments_use_only_settings_names() -> None:
    # Given the settings videogen.runtime.config reads (field foo_bar = env FOO_BAR)
    settings_names = {name.upper() for name in Settings.model_fields}
    # Then every variable the template sets is one of them, or Powertools' own
    for name, props in FUNCTIONS.items():
        variables = GLOBAL_FUNCTION["Environment"]["Variables"] | props.get("Environment", {}).get(
            "Variables", {}
        )
        unknown = {v for v in variables if v not in settings_names and not v.startswith("POWERTOOLS_")}
        assert unknown == set(), f"{name} sets variables no setting reads"


def test_every_function_logs_to_a_log_group_with_retention() -> None:
    for name, props in FUNCTIONS.items():
        group = props["LoggingConfig"]["LogGroup"]["Ref"]
        assert RESOURCES[group]["Type"] == "AWS::Logs::LogGroup", name
        assert "RetentionInDays" in RESOURCES[group]["Properties"], name


def test_functions_run_python313_on_arm64_with_the_common_layer() -> None:
    assert GLOBAL_FUNCTION["Runtime"] == "python3.13"
    assert GLOBAL_FUNCTION["Architectures"] == ["arm64"]
    assert GLOBAL_FUNCTION["Layers"] == [{"Ref": "CommonLayer"}]
    for name, props in FUNCTIONS.items():
        assert set(props) & {"Runtime", "Architectures", "Layers"} == set(), name


# --- generation queue --------------------------------------------------------------------------


def test_queue_visibility_timeout_is_at_least_six_times_the_worker_timeout() -> None:
    worker_timeout = FUNCTIONS["GenerationWorkerFunction"].get("Timeout", GLOBAL_FUNCTION["Timeout"])
    visibility = RESOURCES["GenerationQueue"]["Properties"]["VisibilityTimeout"]
    assert visibility >= 6 * worker_timeout


def test_a_submit_mark_goes_stale_only_after_any_worker_holding_it_has_timed_out() -> None:
    # Recovery treats a "submitting" job older than submit_stale_after_seconds as abandoned;
    # a worker still inside its provider call must have been stopped by then.
    worker_timeout = FUNCTIONS["GenerationWorkerFunction"].get("Timeout", GLOBAL_FUNCTION["Timeout"])
    assert Settings.model_fields["submit_stale_after_seconds"].default > worker_timeout


def test_generation_queue_redrives_to_the_dlq() -> None:
    redrive = RESOURCES["GenerationQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["GenerationDLQ", "Arn"]}
    assert 3 <= redrive["maxReceiveCount"] <= 10


def test_sqs_consumers_report_batch_item_failures() -> None:
    # Given every SQS trigger in the template
    triggers = {
        (name, event["Queue"]["Fn::GetAtt"][0]): event
        for name in FUNCTIONS
        for event in events_of(name, "SQS")
    }
    # Then each worker reads its queue, the DLQ consumer both DLQs, the storage cleanup consumer its
    # own queue, and all report partial failures
    assert set(triggers) == {
        ("GenerationWorkerFunction", "GenerationQueue"),
        ("GenerationDlqFunction", "GenerationDLQ"),
        ("FilmCompilerFunction", "FilmQueue"),
        ("GenerationDlqFunction", "FilmDLQ"),
        ("StorageCleanupFunction", "StorageCleanupQueue"),
    }
    for event in triggers.values():
        assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert 1 <= event["BatchSize"] <= 10
    # And no SQS consumer relies on a function-level DeadLetterQueue (it only covers async invokes)
    for name, _ in triggers:
        assert "DeadLetterQueue" not in FUNCTIONS[name]


def test_the_generation_worker_runs_a_whole_batch_at_once() -> None:
    # A batch larger than the worker's threads would make its last finished video wait again
    (trigger,) = events_of("GenerationWorkerFunction", "SQS")
    assert trigger["BatchSize"] == Settings.model_fields["worker_record_concurrency"].default


def test_storage_cleanup_queue_outlasts_its_consumer_redrives_to_its_dlq_and_is_capped() -> None:
    consumer = FUNCTIONS["StorageCleanupFunction"]
    queue = RESOURCES["StorageCleanupQueue"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * consumer.get("Timeout", GLOBAL_FUNCTION["Timeout"])
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["StorageCleanupDLQ", "Arn"]}
    (trigger,) = events_of("StorageCleanupFunction", "SQS")
    assert 2 <= trigger["ScalingConfig"]["MaximumConcurrency"] <= 5


@pytest.mark.parametrize("function", ["StorageCleanupFunction", "GenerationWorkerFunction"])
def test_deleting_functions_may_list_and_delete_every_version_of_videos_and_nothing_else(function) -> None:
    statements = list(policy_statements(FUNCTIONS[function]["Policies"]))
    s3 = {action: s for s in statements for action in as_list(s["Action"]) if action.startswith("s3:")}
    deleting = {"s3:ListBucketVersions", "s3:DeleteObject", "s3:DeleteObjectVersion"}
    assert deleting <= set(s3)
    # (the worker also reads the reference images a clip is made from)
    assert set(s3) - deleting <= {"s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"}
    assert s3["s3:ListBucketVersions"]["Condition"] == {"StringLike": {"s3:prefix": "videos/*"}}
    for action in ("s3:DeleteObject", "s3:DeleteObjectVersion"):
        assert s3[action]["Resource"] == {"Fn::Sub": "${VideosBucket.Arn}/videos/*"}


# --- film queue and compiler ------------------------------------------------------------------


def test_film_queue_visibility_is_six_compiler_timeouts_and_it_redrives_to_its_dlq() -> None:
    compiler = FUNCTIONS["FilmCompilerFunction"]
    queue = RESOURCES["FilmQueue"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * compiler["Timeout"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["FilmDLQ", "Arn"]}
    assert 2 <= queue["RedrivePolicy"]["maxReceiveCount"] <= 10


def test_a_film_claim_goes_stale_only_after_any_compiler_holding_it_has_timed_out() -> None:
    compiler_timeout = FUNCTIONS["FilmCompilerFunction"]["Timeout"]
    assert Settings.model_fields["film_step_lease_seconds"].default > compiler_timeout


def test_the_film_compiler_takes_one_step_at_a_time_with_a_concurrency_cap() -> None:
    (trigger,) = events_of("FilmCompilerFunction", "SQS")
    assert trigger["BatchSize"] == 1
    cap = trigger["ScalingConfig"]["MaximumConcurrency"]
    assert cap == {"Ref": "FilmCompilerMaxConcurrency"}
    assert 2 <= TEMPLATE["Parameters"]["FilmCompilerMaxConcurrency"]["Default"] <= 20
    compiler = FUNCTIONS["FilmCompilerFunction"]
    assert compiler["Timeout"] == 900
    assert compiler["EphemeralStorage"]["Size"] >= 10240
    assert compiler["MemorySize"] >= 3008


def test_the_film_compiler_writes_and_deletes_films_and_normalized_clips_only() -> None:
    statements = list(policy_statements(FUNCTIONS["FilmCompilerFunction"]["Policies"]))
    films = ["${VideosBucket.Arn}/videos/*/films/*", "${VideosBucket.Arn}/videos/*/normalized/*"]
    for action in ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"):
        writes = [s for s in statements if action in as_list(s["Action"])]
        # and it writes (never deletes) the last frames of clips it derives for continuing shots
        frames = [["${VideosBucket.Arn}/videos/*/references/*"]] if action == "s3:PutObject" else []
        assert [sorted(str(r["Fn::Sub"]) for r in as_list(s["Resource"])) for s in writes] == [
            films,
            *frames,
        ], action
    (listing,) = [s for s in statements if "s3:ListBucket" in as_list(s["Action"])]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": "videos/*"}}


def test_sweeper_runs_every_five_minutes() -> None:
    (schedule,) = events_of("GenerationSweeperFunction", "Schedule")
    assert schedule["Schedule"] == "rate(5 minutes)"


# --- database ----------------------------------------------------------------------------------


def test_rds_proxy_requires_tls_and_iam_auth() -> None:
    proxy = RESOURCES["DBProxy"]["Properties"]
    assert proxy["EngineFamily"] == "POSTGRESQL"
    assert proxy["RequireTLS"] is True
    assert proxy["Auth"]
    assert all(auth["IAMAuth"] == "REQUIRED" for auth in proxy["Auth"])
    assert proxy["IdleClientTimeout"] == 1800
    target_group = RESOURCES["DBProxyTargetGroup"]["Properties"]
    assert target_group["DBClusterIdentifiers"] == [{"Ref": "DBCluster"}]


def test_aurora_is_serverless_v2_postgresql_in_private_subnets() -> None:
    cluster = RESOURCES["DBCluster"]["Properties"]
    assert cluster["Engine"] == "aurora-postgresql"
    assert "ServerlessV2ScalingConfiguration" in cluster
    assert cluster["StorageEncrypted"] is True
    assert RESOURCES["DBInstance"]["Properties"]["DBInstanceClass"] == "db.serverless"
    assert RESOURCES["DBInstance"]["Properties"]["PubliclyAccessible"] is False
    assert RESOURCES["DBSubnetGroup"]["Properties"]["SubnetIds"] == {"Ref": "PrivateSubnetIds"}


def test_only_functions_reach_the_proxy_and_only_the_proxy_reaches_the_cluster() -> None:
    rules = [r["Properties"] for r in RESOURCES.values() if r["Type"] == "AWS::EC2::SecurityGroupIngress"]
    ingress = {(p["GroupId"]["Ref"], p["SourceSecurityGroupId"]["Ref"], p["FromPort"]) for p in rules}
    assert ingress == {
        ("ProxySecurityGroup", "LambdaSecurityGroup", 5432),
        ("ClusterSecurityGroup", "ProxySecurityGroup", 5432),
    }
    for group in ("ProxySecurityGroup", "ClusterSecurityGroup"):
        assert "SecurityGroupIngress" not in RESOURCES[group]["Properties"]


def test_every_security_group_lists_its_egress_inline_so_no_default_allow_all_remains() -> None:
    # Inline egress replaces AWS's default allow-all; separate egress rules would only add to it
    groups = [name for name, r in RESOURCES.items() if r["Type"] == "AWS::EC2::SecurityGroup"]
    assert [r for r in RESOURCES.values() if r["Type"] == "AWS::EC2::SecurityGroupEgress"] == []
    for name in groups:
        egress = RESOURCES[name]["Properties"]["SecurityGroupEgress"]
        assert egress, name
    # And the proxy talks to the cluster only
    (proxy_out,) = RESOURCES["ProxySecurityGroup"]["Properties"]["SecurityGroupEgress"]
    assert (proxy_out["DestinationSecurityGroupId"], proxy_out["FromPort"]) == (
        {"Ref": "ClusterSecurityGroup"},
        5432,
    )


NO_DATABASE = {"WebhooksFunction"}
"""Functions that verify and enqueue only: no database user at all."""


def test_every_function_connects_with_iam_as_exactly_one_database_user() -> None:
    app_policy = RESOURCES["AppDbConnectPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert [s["Action"] for s in app_policy] == ["rds-db:connect"]
    for name, props in FUNCTIONS.items():
        policies = props["Policies"]
        connects = [s for s in policy_statements(policies) if "rds-db:connect" in as_list(s["Action"])]
        uses_app_policy = {"Ref": "AppDbConnectPolicy"} in policies
        if name in NO_DATABASE:
            assert not uses_app_policy, f"{name} must not reach the database"
            assert not connects, f"{name} must not reach the database"
            continue
        assert uses_app_policy != bool(connects), f"{name}: one database user, app or schema owner"


def test_migrations_run_on_deploy_through_a_custom_resource() -> None:
    migration = RESOURCES["SchemaMigration"]
    props = migration["Properties"]
    assert props["ServiceToken"] == {"Fn::GetAtt": ["MigrateFunction", "Arn"]}
    # A new migrate code version (app.py or migrations/ changed) re-runs it
    assert FUNCTIONS["MigrateFunction"]["AutoPublishAlias"]
    assert props["CodeVersion"] == {"Ref": "MigrateFunction.Version"}
    # CloudFormation stops waiting well before its one-hour default
    assert FUNCTIONS["MigrateFunction"]["Timeout"] < props["ServiceTimeout"] <= 3600
    # The schema is at head before the new code of any other function goes live
    for name in FUNCTIONS.keys() - {"MigrateFunction"}:
        assert RESOURCES[name].get("DependsOn") == "SchemaMigration", name


# --- IAM, keys, storage ------------------------------------------------------------------------


def test_no_iam_statement_allows_every_action_on_every_resource() -> None:
    statements = list(policy_statements(RESOURCES))
    assert statements
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        assert not ("*" in as_list(statement.get("Action")) and "*" in as_list(statement.get("Resource")))


def test_only_the_listed_functions_may_send_to_the_queue_or_use_the_key() -> None:
    def functions_allowed(action: str) -> set[str]:
        return {
            name
            for name, props in FUNCTIONS.items()
            if any(action in as_list(s["Action"]) for s in policy_statements(props["Policies"]))
        }

    assert functions_allowed("sqs:SendMessage") == {
        "GenerateFunction",
        "JobsFunction",
        "GenerationWorkerFunction",
        "GenerationSweeperFunction",
        "StoryboardsFunction",
        "FilmsFunction",
        "FilmCompilerFunction",
        "WebhooksFunction",
    }
    # Sealing (PUT /api/keys) only generates a data key; only the generation functions open keys
    assert functions_allowed("kms:GenerateDataKey") == {"ApiKeysFunction"}
    assert functions_allowed("kms:Decrypt") == {"GenerationWorkerFunction", "GenerationSweeperFunction"}
    assert functions_allowed("s3:PutObject") == {
        "GenerationWorkerFunction",
        "GenerationSweeperFunction",
        "FilmCompilerFunction",
        "ReferencesFunction",
    }
    assert functions_allowed("s3:GetObject") == {
        "ReferencesFunction",
        "GenerationWorkerFunction",
        "StatusFunction",
        "StoryboardsFunction",
        "JobsFunction",
        "FilmsFunction",
        "FilmCompilerFunction",
    }
    deleting = {
        "StorageCleanupFunction",
        "GenerationWorkerFunction",
        "GenerationSweeperFunction",
        "FilmCompilerFunction",
        "ReferencesFunction",
    }
    assert functions_allowed("s3:DeleteObject") == deleting
    assert functions_allowed("s3:DeleteObjectVersion") == deleting


def test_kms_key_rotates() -> None:
    assert RESOURCES["ApiKeysKey"]["Properties"]["EnableKeyRotation"] is True
    assert RESOURCES["ApiKeysKeyAlias"]["Properties"]["TargetKeyId"] == {"Ref": "ApiKeysKey"}


def test_videos_bucket_is_private_encrypted_and_tls_only() -> None:
    bucket = RESOURCES["VideosBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    rules = bucket["LifecycleConfiguration"]["Rules"]
    assert any("AbortIncompleteMultipartUpload" in rule for rule in rules)
    (deny,) = RESOURCES["VideosBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_outputs_name_the_api_queue_bucket_and_proxy() -> None:
    assert {"ApiUrl", "GenerationQueueUrl", "VideosBucketName", "DbProxyEndpoint"} <= set(TEMPLATE["Outputs"])


# --- sam ------------------------------------------------------------------------------------------


def run_sam(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    assert SAM.exists(), f"{SAM.relative_to(REPO_ROOT)} is missing: `make test` installs it"
    # sam's python builder and layers/common/Makefile run `python3.13`: the sam venv's, which has pip.
    env = os.environ | {
        "PATH": f"{SAM.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "SAM_CLI_TELEMETRY": "0",
    }
    return subprocess.run(
        [str(SAM), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_sam_validate_transforms_and_lints_cleanly() -> None:
    translated = run_sam("validate", "--template", str(TEMPLATE_PATH), timeout=120)
    assert translated.returncode == 0, translated.stdout + translated.stderr
    linted = run_sam("validate", "--lint", "--template", str(TEMPLATE_PATH), timeout=120)
    assert linted.returncode == 0, linted.stdout + linted.stderr


# SAM's own transform, in the sam venv: the template as CloudFormation would receive it.
TRANSFORM = """
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class NoManagedPolicies:
    def load(self):
        return {}

template = yaml_parse(open(sys.argv[1]).read())
for resource in template["Resources"].values():
    properties = resource.get("Properties", {})
    for key in ("CodeUri", "ContentUri"):  # sam build would upload these
        if isinstance(properties.get(key), str):
            properties[key] = "s3://bucket/" + properties[key]
print(json.dumps(transform(template, {}, NoManagedPolicies())["Resources"]))
"""


def transformed_resources() -> dict[str, Any]:
    python = SAM.parent / "python"
    assert python.exists(), "the sam venv is missing: `make test` installs it"
    done = subprocess.run(
        [str(python), "-c", TRANSFORM, str(TEMPLATE_PATH)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=os.environ | {"AWS_DEFAULT_REGION": "us-east-1"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    resources: dict[str, Any] = json.loads(done.stdout)
    return resources


def test_api_functions_resume_from_snapstart_snapshots_within_their_limits() -> None:
    for function in API_FUNCTIONS:
        properties = FUNCTIONS[function]
        assert properties.get("SnapStart") == {"ApplyOn": "PublishedVersions"}, function
        assert properties.get("AutoPublishAlias") == "live", function
        # SnapStart allows no EFS and no ephemeral storage above 512 MB; the connection budget stays
        assert "FileSystemConfigs" not in properties, function
        assert int(properties.get("EphemeralStorage", {}).get("Size", 512)) <= 512, function
        assert "ReservedConcurrentExecutions" in properties, function
        assert "ProvisionedConcurrencyConfig" not in properties, function


def test_http_api_integrations_and_permissions_target_the_published_alias() -> None:
    resources = transformed_resources()
    api = next(r for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Api")
    uris = [
        json.dumps(operation["x-amazon-apigateway-integration"]["uri"])
        for operations in api["Properties"]["Body"]["paths"].values()
        for operation in operations.values()
        if isinstance(operation, dict) and "x-amazon-apigateway-integration" in operation
    ]
    called = {re.search(r"\$\{(\w+)\}/invocations", uri).group(1) for uri in uris}  # type: ignore[union-attr]
    assert called == {f"{function}Aliaslive" for function in API_FUNCTIONS}
    permissions = [
        r["Properties"]["FunctionName"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Permission"
        and r["Properties"].get("Principal") == "apigateway.amazonaws.com"
    ]
    assert permissions
    assert {p["Ref"] for p in permissions} <= {f"{function}Aliaslive" for function in API_FUNCTIONS}


def tree_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


EM_AARCH64 = 183
UNCHECKED_HASH_PYC = 0b01  # PEP 552 flags: hash-based, source not checked


def elf_machine(path: Path) -> int:
    """The ``e_machine`` of an ELF shared object (183: arm64)."""
    with path.open("rb") as f:
        head = f.read(20)
    assert head[:4] == b"\x7fELF", path
    return int.from_bytes(head[18:20], "little")


def dist_versions(root: Path) -> dict[str, str]:
    """{normalized project name: version} of the packages installed in ``root``."""
    versions = {}
    for info in root.glob("*.dist-info"):
        name, _, version = info.name.removesuffix(".dist-info").rpartition("-")
        versions[re.sub(r"[-_.]+", "-", name).lower()] = version
    return versions


LAMBDA_MARKERS = {
    "python_version": "3.13",
    "python_full_version": "3.13.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "os_name": "posix",
    "extra": "",
}


def unmet_requirements(paths: list[Path]) -> list[str]:
    """What the packages in ``paths`` require (on Lambda's python3.13, arm64) that none there meets."""
    installed = {
        canonicalize_name(d.metadata["Name"]): d.version
        for d in importlib.metadata.distributions(path=[str(p) for p in paths])
    }
    unmet = []
    for dist in importlib.metadata.distributions(path=[str(p) for p in paths]):
        for text in dist.requires or ():
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate(LAMBDA_MARKERS):
                continue
            version = installed.get(canonicalize_name(requirement.name))
            if version is None or not requirement.specifier.contains(version, prereleases=True):
                unmet.append(f"{dist.metadata['Name']} needs {requirement}")
    return unmet


@pytest.mark.infra
def test_sam_build_packages_the_layer_and_keeps_provider_sdks_out_of_api_functions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # When the whole template is built (arm64 wheels for python3.13)
    build = tmp_path / "build"
    result = run_sam("build", "--template", str(TEMPLATE_PATH), "--build-dir", str(build), timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]

    # Then the layer holds /opt/python/videogen and its dependencies, built for arm64
    layer = build / "CommonLayer" / "python"
    assert (layer / "videogen" / "__init__.py").is_file()
    for package in ("aws_lambda_powertools", "pydantic", "pydantic_settings", "sqlalchemy", "psycopg"):
        assert (layer / package).is_dir(), package
    # And compiled to bytecode that Lambda (read-only /opt) trusts without the sources' timestamps
    header = (layer / "videogen" / "messaging" / "__pycache__" / "messages.cpython-313.pyc").read_bytes()[:8]
    assert header[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(header[4:8], "little") == UNCHECKED_HASH_PYC
    binaries = [p.name for p in layer.rglob("*.so")]
    assert binaries
    assert not [name for name in binaries if "x86_64" in name]
    layer_size = tree_size(build / "CommonLayer")
    with capsys.disabled():
        print(f"\nsam build: common layer {layer_size / 2**20:.1f} MiB unzipped")

    # And the API functions carry no provider SDK, while the worker and sweeper do
    for function in API_FUNCTIONS:
        for sdk in PROVIDER_SDKS:
            assert not (build / function / sdk).exists(), f"{function} carries {sdk}"
    for function in ("GenerationWorkerFunction", "GenerationSweeperFunction"):
        for sdk in PROVIDER_SDKS:
            assert (build / function / sdk).is_dir(), f"{function} lacks {sdk}"

    # And only the film compiler and the references function (music checks) carry PyAV, its
    # wheel's FFmpeg libraries built for arm64
    carriers = {name for name in FUNCTIONS if (build / name / "av").exists()}
    assert carriers == {"FilmCompilerFunction", "ReferencesFunction"}
    av_libraries = [p.name for p in (build / "FilmCompilerFunction" / "av.libs").glob("*.so*")]
    assert any(name.startswith(("libavcodec", "libx264")) for name in av_libraries)
    shared_objects = [p for p in (build / "FilmCompilerFunction").rglob("*.so*") if p.is_file()]
    assert {elf_machine(p) for p in shared_objects} == {EM_AARCH64}

    for function in ("GenerationWorkerFunction", "GenerationSweeperFunction", "FilmCompilerFunction"):
        # A package in both the function and the layer shadows the layer's: same version only
        layer_versions = dist_versions(layer)
        skew = {
            name: (version, layer_versions[name])
            for name, version in dist_versions(build / function).items()
            if layer_versions.get(name, version) != version
        }
        assert skew == {}, f"{function} shadows layer packages with other versions"
        # And nothing one of its packages needs is missing from the function and the layer together
        assert unmet_requirements([build / function, layer]) == [], function

    # And every function with the layer stays under Lambda's 250 MB unzipped limit
    with capsys.disabled():
        for function in sorted(FUNCTIONS):
            total = tree_size(build / function) + layer_size
            print(f"sam build: {function} {total / 2**20:.1f} MiB unzipped with the layer")
    for function in FUNCTIONS:
        assert tree_size(build / function) + layer_size < LAMBDA_UNZIPPED_LIMIT, function

    # And the migrate function is packaged with the Alembic environment
    migrate = build / "MigrateFunction"
    assert (migrate / "app.py").is_file()
    assert (migrate / "migrations" / "alembic.ini").is_file()
    assert (migrate / "migrations" / "env.py").is_file()
    assert (migrate / "migrations" / "deploy.py").is_file()  # the database work the handler imports
    assert sorted(p.name for p in (migrate / "migrations" / "versions").glob("*.py")) == sorted(
        p.name for p in (REPO_ROOT / "migrations" / "versions").glob("*.py")
    )


# --- deadlines -----------------------------------------------------------------------------------


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_deadline_derives_from_the_functions_own_timeout_and_leaves_room_to_answer(
    function: str,
) -> None:
    # Given the function's Timeout and the FUNCTION_TIMEOUT_SECONDS the template gives it
    timeout = timeout_of(function)
    variables = GLOBAL_FUNCTION["Environment"]["Variables"] | (
        FUNCTIONS[function].get("Environment", {}).get("Variables", {})
    )
    assert int(variables["FUNCTION_TIMEOUT_SECONDS"]) == timeout
    # When its settings derive the deadlines from it
    settings = Settings(function_timeout_seconds=timeout)
    # Then a request whose database hangs at every step gives up with time left to answer
    database = settings.db_connect_deadline_seconds + settings.dependency_deadline_seconds
    assert database <= timeout * 0.7, (database, timeout)
    # and so does one whose AWS call hangs through every attempt
    aws = settings.aws_attempts * 2 * settings.aws_timeout_seconds
    assert aws <= timeout * 0.6, (aws, timeout)
    # and one whose provider hangs through its SDK's three attempts
    assert 3 * settings.provider_deadline_seconds <= timeout * 0.5
