"""template.yaml's production guards: the connection budget, keys, alarms, edge limits, data protection.

Each test reads the template (and samconfig.toml's environments) and checks a rule that a
deploy would otherwise break silently: more Lambda concurrency than the proxy has connections,
a KMS condition that no longer matches what videogen/keys.py sends, a dead-letter queue nobody
is told about.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from typing import Any

import pytest

from tests.integration.template_support import (
    API_FUNCTIONS,
    FUNCTIONS,
    GLOBAL_FUNCTION,
    REPO_ROOT,
    RESOURCES,
    TEMPLATE,
    as_list,
    events_of,
    policy_statements,
    timeout_of,
)
from videogen import keys

PARAMETERS: dict[str, Any] = TEMPLATE["Parameters"]
BUDGET: dict[str, Any] = TEMPLATE["Metadata"]["ConnectionBudget"]
CRYPTO_ACTIONS = {"kms:*", "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncrypt*"}


def samconfig_environments() -> dict[str, dict[str, str]]:
    """{environment: its parameter_overrides}, plus "template defaults" with none."""
    config = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text())
    environments: dict[str, dict[str, str]] = {"template defaults": {}}
    for env, commands in config.items():
        if isinstance(commands, dict) and "deploy" in commands:
            pairs = shlex.split(commands["deploy"]["parameters"].get("parameter_overrides", ""))
            environments[env] = dict(pair.split("=", 1) for pair in pairs)
    return environments


ENVIRONMENTS = samconfig_environments()


def value_of(node: Any, overrides: dict[str, str]) -> float:
    """A literal, or a ``Ref`` to a parameter (its override, else its default)."""
    if isinstance(node, dict) and set(node) == {"Ref"}:
        return float(overrides.get(node["Ref"], PARAMETERS[node["Ref"]]["Default"]))
    return float(node)


def connects_to_the_database(function: str) -> bool:
    policies = FUNCTIONS[function].get("Policies", [])
    direct = any("rds-db:connect" in as_list(s.get("Action")) for s in policy_statements(policies))
    return direct or {"Ref": "AppDbConnectPolicy"} in policies


def concurrency_cap(function: str, overrides: dict[str, str]) -> float | None:
    """Reserved concurrency, else the SQS event sources' MaximumConcurrency, else None (no cap)."""
    props = FUNCTIONS[function]
    if "ReservedConcurrentExecutions" in props:
        return value_of(props["ReservedConcurrentExecutions"], overrides)
    sqs_caps = [e.get("ScalingConfig", {}).get("MaximumConcurrency") for e in events_of(function, "SQS")]
    if sqs_caps and all(cap is not None for cap in sqs_caps):
        return sum(value_of(cap, overrides) for cap in sqs_caps)
    return None


def proxy_connections(overrides: dict[str, str]) -> int:
    """max_connections at DbMaxCapacity (the table's lower bound) x MaxConnectionsPercent."""
    max_acu = value_of({"Ref": "DbMaxCapacity"}, overrides)
    table = {float(acu): count for acu, count in BUDGET["MaxConnectionsByMaxAcu"].items()}
    max_connections = table[max(acu for acu in table if acu <= max_acu)]
    return int(max_connections * BUDGET["MaxConnectionsPercent"] // 100)


# --- connection budget ---------------------------------------------------------------------------


def test_every_function_that_connects_has_a_concurrency_cap() -> None:
    uncapped = [f for f in FUNCTIONS if connects_to_the_database(f) and concurrency_cap(f, {}) is None]
    assert uncapped == []


@pytest.mark.parametrize("environment", sorted(ENVIRONMENTS))
def test_the_connection_budget_fits_the_proxy_in_every_environment(environment: str) -> None:
    # Given an environment's parameters
    overrides = ENVIRONMENTS[environment]
    # When every connecting function runs at its cap, and the planned functions at theirs
    caps = {f: concurrency_cap(f, overrides) or 0 for f in FUNCTIONS if connects_to_the_database(f)}
    planned = {name: n for name, n in BUDGET["Planned"].items() if name not in FUNCTIONS}
    total = sum(caps.values()) + sum(planned.values())
    # Then each holds one connection at most, and all of them fit in the proxy's share
    assert total <= proxy_connections(overrides), (environment, caps, planned)


def test_the_budget_uses_the_proxys_own_percentage_and_borrow_timeout_beats_the_api_timeout() -> None:
    pool = RESOURCES["DBProxyTargetGroup"]["Properties"]["ConnectionPoolConfigurationInfo"]
    assert pool["MaxConnectionsPercent"] == BUDGET["MaxConnectionsPercent"]
    assert all(pool["ConnectionBorrowTimeout"] < timeout_of(f) for f in API_FUNCTIONS)


# --- health ----------------------------------------------------------------------------------------


def test_the_anonymous_health_route_has_its_own_low_throttle() -> None:
    api = RESOURCES["HttpApi"]["Properties"]
    health = api["RouteSettings"]["GET /api/health"]
    default = api["DefaultRouteSettings"]
    assert value_of(health["ThrottlingRateLimit"], {}) < value_of(default["ThrottlingRateLimit"], {})
    assert value_of(health["ThrottlingBurstLimit"], {}) < value_of(default["ThrottlingBurstLimit"], {})


# --- KMS -------------------------------------------------------------------------------------------


def kms_use_statements() -> list[dict[str, Any]]:
    """Every Allow statement anywhere that grants a cryptographic operation."""
    return [
        s
        for s in policy_statements(RESOURCES)
        if s.get("Effect") == "Allow" and CRYPTO_ACTIONS & set(as_list(s["Action"]))
    ]


def test_every_kms_grant_is_bound_to_exactly_the_encryption_context_keys_py_sends() -> None:
    # Given the encryption context videogen/keys.py sends with every KMS call
    context = keys._encryption_context("some-user")
    variable = {name for name, value in context.items() if value == "some-user"}
    fixed = {name: value for name, value in context.items() if name not in variable}
    # Then every grant of a cryptographic operation requires that context and no other keys
    statements = kms_use_statements()
    assert len(statements) == 5  # 2 in the key policy, 3 in the functions' policies
    for statement in statements:
        condition = statement["Condition"]
        assert "kms:*" not in as_list(statement["Action"])
        assert condition["StringEquals"] == {f"kms:EncryptionContext:{k}": v for k, v in fixed.items()}
        assert sorted(condition["ForAllValues:StringEquals"]["kms:EncryptionContextKeys"]) == sorted(context)
        assert condition["Null"] == {f"kms:EncryptionContext:{k}": "false" for k in variable}


def test_the_key_policy_lets_the_account_administer_but_only_the_function_roles_use_the_key() -> None:
    key = RESOURCES["ApiKeysKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    admin, *uses = key["KeyPolicy"]["Statement"]
    assert not CRYPTO_ACTIONS & set(admin["Action"])
    assert "Condition" not in admin
    # Each use statement names the role path that the right functions' roles have
    granted = {}
    for statement in uses:
        path = statement["Condition"]["ArnLike"]["aws:PrincipalArn"]["Fn::Sub"]
        role_path = "/" + path.split(":role/", 1)[1].removesuffix("*")
        users = {f for f, props in FUNCTIONS.items() if props.get("RolePath", {}).get("Fn::Sub") == role_path}
        granted[statement["Action"]] = users
    assert granted == {
        "kms:GenerateDataKey": {"ApiKeysFunction"},
        "kms:Decrypt": {"GenerationWorkerFunction", "GenerationSweeperFunction"},
    }


# --- alarms and dashboard ---------------------------------------------------------------------------


def alarms() -> dict[str, dict[str, Any]]:
    return {n: r["Properties"] for n, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def test_every_alarm_notifies_the_topic() -> None:
    assert alarms()
    for name, alarm in alarms().items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
    subscription = RESOURCES["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}


def test_every_dead_letter_queue_has_an_alarm_on_its_first_message() -> None:
    dlqs = {
        r["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for r in RESOURCES.values()
        if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in r["Properties"]
    }
    watched = {
        alarm["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for alarm in alarms().values()
        if alarm.get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and alarm["Threshold"] == 0
        and alarm["ComparisonOperator"] == "GreaterThanThreshold"
    }
    assert dlqs
    assert dlqs <= watched


def functions_in_alarm(metric_name: str) -> set[str]:
    names = set()
    for alarm in alarms().values():
        stats = [m["MetricStat"]["Metric"] for m in alarm.get("Metrics", []) if "MetricStat" in m]
        for metric in [alarm, *stats]:
            if metric.get("MetricName") == metric_name:
                names |= {d["Value"]["Ref"] for d in metric["Dimensions"] if d["Name"] == "FunctionName"}
    return names


def test_worker_and_api_function_errors_queue_age_5xx_and_aurora_capacity_raise_alarms() -> None:
    assert {"GenerationWorkerFunction", *API_FUNCTIONS} <= functions_in_alarm("Errors")
    by_metric = {a.get("MetricName"): a for a in alarms().values()}
    assert by_metric["ApproximateAgeOfOldestMessage"]["Threshold"] == {"Ref": "GenerationQueueMaxAgeSeconds"}
    capacity = by_metric["ServerlessDatabaseCapacity"]
    assert (capacity["Threshold"], capacity["ComparisonOperator"]) == (
        {"Ref": "DbMaxCapacity"},
        "GreaterThanOrEqualToThreshold",
    )
    five_xx = alarms()["Api5xxRateAlarm"]
    assert {m["MetricStat"]["Metric"]["MetricName"] for m in five_xx["Metrics"] if "MetricStat" in m} == {
        "5xx",
        "Count",
    }


def test_the_dashboard_shows_every_business_metric_the_code_emits() -> None:
    # Given the metric names the layer and the functions emit
    sources = [
        *(REPO_ROOT / "layers/common/python/videogen").rglob("*.py"),
        *(REPO_ROOT / "functions").rglob("*.py"),
    ]
    pattern = re.compile(r'(?:count|emit_metric)\(\s*"(\w+)"|add_metric\(name="(\w+)"')
    emitted = {a or b for path in sources for a, b in pattern.findall(path.read_text())}
    generation = {"JobsSubmitted", "JobsCompleted", "JobsFailed", "GenerationLatency", "JobsQueued"}
    assert generation <= emitted
    # Then the dashboard charts each, in the namespace the functions publish to
    body, variables = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert (
        variables["Namespace"] == GLOBAL_FUNCTION["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    )
    for name in generation:
        assert f'MetricName=\\"{name}\\"' in body, name
    json.loads(re.sub(r"\$\{[^}]+\}", "x", body))  # valid JSON once substituted


# --- edge: CloudFront, WAF, web bucket -----------------------------------------------------------------


def test_waf_limits_every_caller_by_token_or_ip_with_a_429_json_and_retry_after() -> None:
    acl = RESOURCES["WebAcl"]["Properties"]
    assert acl["Scope"] == "CLOUDFRONT"
    assert RESOURCES["WebAcl"]["Condition"] == "CreateWebAcl"
    body = acl["CustomResponseBodies"]["rate-limited"]
    assert body["ContentType"] == "APPLICATION_JSON"
    assert "error" in json.loads(body["Content"])
    rate_rules = {r["Name"]: r for r in acl["Rules"] if "RateBasedStatement" in r["Statement"]}
    limits = {name: r["Statement"]["RateBasedStatement"] for name, r in rate_rules.items()}
    assert limits["per-caller-token"]["CustomKeys"] == [
        {"Header": {"Name": "authorization", "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}}
    ]
    assert limits["anonymous-per-ip"]["AggregateKeyType"] == "IP"
    assert limits["per-ip-ceiling"]["AggregateKeyType"] == "IP"
    for name, rule in rate_rules.items():
        assert limits[name]["Limit"]["Ref"] in PARAMETERS, name
        response = rule["Action"]["Block"]["CustomResponse"]
        assert response["ResponseCode"] == 429
        assert response["CustomResponseBodyKey"] == "rate-limited"
        assert [h["Name"] for h in response["ResponseHeaders"]] == ["Retry-After"]


def test_outside_us_east_1_the_stack_refuses_to_deploy_without_a_web_acl() -> None:
    rule = TEMPLATE["Rules"]["WebAclOutsideUsEast1"]
    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "WebAclArn"}, ""]}]}
    acl_id = RESOURCES["WebDistribution"]["Properties"]["DistributionConfig"]["WebACLId"]
    assert acl_id["Fn::If"][0] == "CreateWebAcl"


def test_the_distribution_serves_the_app_privately_and_the_api_uncached() -> None:
    config = RESOURCES["WebDistribution"]["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]}
    assert origins["web"]["OriginAccessControlId"] == {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]}
    assert origins["api"]["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert config["DefaultRootObject"] == "index.html"
    # The SPA fallback is a viewer-request function on the app's behavior only: API 404s stay 404s
    assert "CustomErrorResponses" not in config
    (fallback,) = config["DefaultCacheBehavior"]["FunctionAssociations"]
    assert fallback["FunctionARN"]["Fn::GetAtt"][0] == "WebSpaFallbackFunction"
    (api,) = config["CacheBehaviors"]
    assert api["PathPattern"] == "/api/*"
    assert "FunctionAssociations" not in api
    assert api["CachePolicyId"].startswith("4135ea2d")  # Managed-CachingDisabled
    for behavior in (config["DefaultCacheBehavior"], api):
        assert behavior["ViewerProtocolPolicy"] in ("redirect-to-https", "https-only")
        assert behavior["ResponseHeadersPolicyId"] == {"Ref": "WebSecurityHeadersPolicy"}


def test_the_csp_allows_self_the_sign_in_origin_and_the_videos_bucket_only() -> None:
    headers = RESOURCES["WebSecurityHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    csp, variables = headers["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"][
        "Fn::Sub"
    ]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    # (reference images go up to the bucket with a presigned POST)
    bucket = "https://${VideosBucket.RegionalDomainName} https://${VideosBucket.DomainName}"
    assert directives["connect-src"] == f"'self' https://${{AuthHost}} {bucket}"
    assert "${VideosBucket.RegionalDomainName}" in directives["media-src"]
    assert directives["frame-ancestors"] == "'none'"
    assert "AuthHost" in variables


def test_the_web_bucket_is_private_and_readable_by_this_distribution_only() -> None:
    bucket = RESOURCES["WebBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    allow, deny = RESOURCES["WebBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert "${WebDistribution}" in allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_user_pool_has_a_managed_login_domain() -> None:
    assert RESOURCES["UserPoolDomain"]["Properties"]["UserPoolId"] == {"Ref": "UserPool"}
    assert RESOURCES["UserPoolClient"]["Properties"]["GenerateSecret"] is False  # a public client (PKCE)


# --- data protection -------------------------------------------------------------------------------------


def test_videos_are_versioned_and_old_versions_and_delete_markers_expire() -> None:
    bucket = RESOURCES["VideosBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = bucket["LifecycleConfiguration"]["Rules"]
    noncurrent = [r for r in rules if "NoncurrentVersionExpiration" in r and "Prefix" not in r]
    assert noncurrent[0]["NoncurrentVersionExpiration"]["NoncurrentDays"] == {
        "Ref": "NoncurrentVersionExpiryDays"
    }
    assert any(r.get("ExpiredObjectDeleteMarker") is True for r in rules)


def test_the_hmac_secret_and_the_kms_key_outlive_the_stack() -> None:
    for name in ("ApiKeyHmacSecret", "ApiKeysKey"):
        assert RESOURCES[name]["DeletionPolicy"] == "Retain", name
        assert RESOURCES[name]["UpdateReplacePolicy"] == "Retain", name


def test_the_cluster_forces_tls_and_prod_runs_a_second_instance() -> None:
    cluster = RESOURCES["DBCluster"]["Properties"]
    assert cluster["DBClusterParameterGroupName"] == {"Ref": "DBClusterParameterGroup"}
    assert RESOURCES["DBClusterParameterGroup"]["Properties"]["Parameters"] == {"rds.force_ssl": 1}
    standby = RESOURCES["DBInstanceStandby"]
    assert standby["Condition"] == "IsProd"
    assert standby["Properties"]["DBInstanceClass"] == "db.serverless"
    assert standby["Properties"]["DBClusterIdentifier"] == {"Ref": "DBCluster"}


def test_http_api_access_logs_are_json_with_retention() -> None:
    settings = RESOURCES["HttpApi"]["Properties"]["AccessLogSettings"]
    assert settings["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    fields = json.loads(settings["Format"])
    assert {"requestId", "ip", "routeKey", "status"} <= set(fields)
    assert RESOURCES["ApiAccessLogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_cors_origins_are_a_required_parameter_and_no_environment_uses_a_placeholder() -> None:
    assert "Default" not in PARAMETERS["CorsAllowedOrigins"]
    for environment, overrides in ENVIRONMENTS.items():
        assert "example.com" not in overrides.get("CorsAllowedOrigins", ""), environment
