"""`make deploy`'s publish step against moto: login URLs, objects with cache headers, invalidation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.unit.test_webdeploy_plan import make_web
from tools.webdeploy import NO_CACHE, deploy

STACK_TEMPLATE = {
    "Parameters": {name: {"Type": "String"} for name in ("PoolId", "ClientId", "DistributionId", "Domain")},
    "Resources": {"WebBucket": {"Type": "AWS::S3::Bucket"}},
    "Outputs": {
        "WebUrl": {"Value": {"Fn::Sub": "https://${Domain}"}},
        "WebBucketName": {"Value": {"Ref": "WebBucket"}},
        "WebDistributionId": {"Value": {"Ref": "DistributionId"}},
        "UserPoolId": {"Value": {"Ref": "PoolId"}},
        "UserPoolClientId": {"Value": {"Ref": "ClientId"}},
        "UserPoolDomainUrl": {"Value": "https://videogen-test.auth.us-east-1.amazoncognito.com"},
    },
}


def a_deployed_stack(aws: Any) -> dict[str, Any]:
    """A user pool and client, a distribution, and a stack whose outputs name them and a bucket."""
    cognito = aws.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName="videogen-test")["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool,
        ClientName="videogen-test-web",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        PreventUserExistenceErrors="ENABLED",
    )["UserPoolClient"]["ClientId"]
    distribution = aws.client("cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": "webdeploy-test",
            "Comment": "test",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{"Id": "web", "DomainName": "web.s3.amazonaws.com"}]},
            "DefaultCacheBehavior": {"TargetOriginId": "web", "ViewerProtocolPolicy": "redirect-to-https"},
        }
    )["Distribution"]
    aws.client("cloudformation").create_stack(
        StackName="videogen-test",
        TemplateBody=json.dumps(STACK_TEMPLATE),
        Parameters=[
            {"ParameterKey": "PoolId", "ParameterValue": pool},
            {"ParameterKey": "ClientId", "ParameterValue": client},
            {"ParameterKey": "DistributionId", "ParameterValue": distribution["Id"]},
            {"ParameterKey": "Domain", "ParameterValue": distribution["DomainName"]},
        ],
    )
    return {"pool": pool, "client": client, "distribution": distribution}


def test_deploy_points_login_at_the_distribution_publishes_web_and_invalidates(aws, tmp_path: Path) -> None:
    # Given a deployed stack, an earlier release's leftover object, and web/
    stack = a_deployed_stack(aws)
    clients = {name: aws.client(name) for name in ("cloudformation", "cognito-idp", "s3", "cloudfront")}
    outputs = clients["cloudformation"].describe_stacks(StackName="videogen-test")["Stacks"][0]["Outputs"]
    bucket = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "WebBucketName")
    clients["s3"].put_object(Bucket=bucket, Key="js/old.js", Body=b"old")
    web = make_web(tmp_path / "web")

    # When the publish step runs
    result = deploy(clients, "videogen-test", web)

    # Then the managed login sends users back to the distribution with code + PKCE, other settings kept
    url = f"https://{stack['distribution']['DomainName']}/"
    client = clients["cognito-idp"].describe_user_pool_client(
        UserPoolId=stack["pool"], ClientId=stack["client"]
    )
    settings = client["UserPoolClient"]
    assert (settings["CallbackURLs"], settings["LogoutURLs"]) == ([url], [url])
    assert settings["AllowedOAuthFlows"] == ["code"]
    assert settings["AllowedOAuthFlowsUserPoolClient"] is True
    assert settings["ExplicitAuthFlows"] == ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert "ClientSecret" not in settings
    # And the bucket holds exactly web/ and config.json, with their content types and cache headers
    s3 = clients["s3"]
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["app.css", "config.json", "index.html", "js/main.js"]
    page = s3.get_object(Bucket=bucket, Key="index.html")
    assert (page["ContentType"], page["CacheControl"]) == ("text/html; charset=utf-8", NO_CACHE)
    config = json.loads(s3.get_object(Bucket=bucket, Key="config.json")["Body"].read())
    assert config["apiBaseUrl"] == url.rstrip("/")
    assert config["auth"]["clientId"] == stack["client"]
    # And the distribution was invalidated
    invalidations = clients["cloudfront"].list_invalidations(DistributionId=stack["distribution"]["Id"])
    assert [i["Id"] for i in invalidations["InvalidationList"]["Items"]] == [result["invalidation"]]
    assert result == {
        "url": url.rstrip("/"),
        "uploaded": 4,
        "deleted": 1,
        "invalidation": result["invalidation"],
    }
