"""`make deploy`'s last step: publish web/ and its config.json to the stack's bucket, then invalidate.

After ``sam deploy`` it reads the stack's outputs and:

1. points the Cognito app client's managed login at the distribution (authorization code +
   PKCE, callback and logout URL = ``WebUrl``/): the URL is the distribution's, which the
   template cannot give the client without a dependency cycle (distribution -> HTTP API ->
   JWT audience = this client), so it is set here after every deploy;
2. builds ``config.json`` (the web app's runtime settings, as web/js/config.js reads them);
3. uploads every file of web/, then config.json, then index.html last (a new page never
   names a file that is not there yet), each with its content type and cache policy, and
   deletes objects no longer in web/ (the bucket keeps their versions a week);
4. invalidates the distribution (``/*``).

``python -m tools.webdeploy --config-env default`` (``--dry-run`` prints the plan only).
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import re
import sys
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SCOPES = ("openid", "email")
NO_CACHE = "no-cache"  # revalidate every time (ETag): the page and anything it must match
ONE_WEEK = "public, max-age=604800"
IMMUTABLE = "public, max-age=31536000, immutable"
# Code has no content hash in its name (no build step), so it revalidates like the page:
# a cached old module beside a new index.html would break the app until it expired.
_REVALIDATED_SUFFIXES = frozenset({".html", ".json", ".js", ".mjs", ".css", ".map", ".webmanifest"})
_HASHED_NAME = re.compile(r"\.[0-9a-f]{8,}\.[a-z0-9]+$")
_FIRST_CLASS_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json"}
# UpdateUserPoolClient resets every field it is not given: these are carried over from Describe.
_CLIENT_FIELDS = (
    "ClientName",
    "RefreshTokenValidity",
    "AccessTokenValidity",
    "IdTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
    "ExplicitAuthFlows",
    "SupportedIdentityProviders",
    "DefaultRedirectURI",
    "AnalyticsConfiguration",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "EnablePropagateAdditionalUserContextData",
    "AuthSessionValidity",
    "RefreshTokenRotation",
)


class DeployError(Exception):
    """Something the stack or web/ lacks; the message says what to do."""


@dataclass(frozen=True)
class Upload:
    """One object to put: its key, bytes, content type and Cache-Control."""

    key: str
    body: bytes
    content_type: str
    cache_control: str


# --- what to publish ------------------------------------------------------------------------------


def build_config(outputs: Mapping[str, str], scopes: Sequence[str] = SCOPES) -> dict[str, Any]:
    """config.json from the stack's outputs: the API at the distribution, Cognito managed login."""
    web_url = _required(outputs, "WebUrl").rstrip("/")
    if "UserPoolClientId" not in outputs:
        raise DeployError(
            "the stack has no Cognito user pool (JwtIssuer is set): write web/config.json's auth "
            "for your identity provider by hand"
        )
    redirect = f"{web_url}/"
    return {
        "apiBaseUrl": web_url,
        "auth": {
            "mode": "cognito",
            "domain": _required(outputs, "UserPoolDomainUrl").rstrip("/"),
            "clientId": outputs["UserPoolClientId"],
            "redirectUri": redirect,
            "logoutUri": redirect,
            "scopes": list(scopes),
        },
    }


def _required(outputs: Mapping[str, str], name: str) -> str:
    value = outputs.get(name)
    if not value:
        raise DeployError(f"the stack has no {name} output: deploy the current template.yaml first")
    return value


def cache_control(key: str) -> str:
    """No-cache for the page, config.json and code; a year for hashed names; a week otherwise."""
    suffix = Path(key).suffix.lower()
    if suffix in _REVALIDATED_SUFFIXES:
        return NO_CACHE
    return IMMUTABLE if _HASHED_NAME.search(key) else ONE_WEEK


def content_type(key: str) -> str:
    suffix = Path(key).suffix.lower()
    guessed = _FIRST_CLASS_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


DEV_ONLY = ("js.mk", "types/")
"""What web/ holds for development only (its make targets, the API's types and their generator)."""


def publish_plan(web_root: Path, config: Mapping[str, Any]) -> list[Upload]:
    """Every file of ``web_root`` (hidden ones, the development-only ones and a local config.json
    excepted), then config.json, then index.html: the order the uploads must happen in."""
    if not (web_root / "index.html").is_file():
        raise DeployError(f"{web_root} has no index.html: nothing to publish")
    files = sorted(
        p
        for p in web_root.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(web_root).parts)
        and not p.relative_to(web_root).as_posix().startswith(DEV_ONLY)
    )
    keys = {p.relative_to(web_root).as_posix(): p for p in files}
    keys.pop("config.json", None)  # a local one never ships: the stack's is built here
    index = keys.pop("index.html")
    uploads = [
        Upload(key, path.read_bytes(), content_type(key), cache_control(key)) for key, path in keys.items()
    ]
    config_body = json.dumps(config, indent=2).encode() + b"\n"
    uploads.append(Upload("config.json", config_body, content_type("config.json"), NO_CACHE))
    uploads.append(Upload("index.html", index.read_bytes(), content_type("index.html"), NO_CACHE))
    return uploads


# --- AWS ---------------------------------------------------------------------------------------------


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def point_login_at(cognito: Any, user_pool_id: str, client_id: str, url: str) -> dict[str, Any]:
    """Set the app client's managed login to code + PKCE with ``url`` as callback and logout URL,
    keeping every other setting; returns the UpdateUserPoolClient request."""
    client = cognito.describe_user_pool_client(UserPoolId=user_pool_id, ClientId=client_id)["UserPoolClient"]
    request = {name: client[name] for name in _CLIENT_FIELDS if name in client}
    request |= {
        "UserPoolId": user_pool_id,
        "ClientId": client_id,
        "AllowedOAuthFlowsUserPoolClient": True,
        "AllowedOAuthFlows": ["code"],
        "AllowedOAuthScopes": list(SCOPES),
        "CallbackURLs": [url],
        "LogoutURLs": [url],
        "SupportedIdentityProviders": client.get("SupportedIdentityProviders") or ["COGNITO"],
    }
    request.pop("DefaultRedirectURI", None)
    cognito.update_user_pool_client(**request)
    return request


def publish(s3: Any, bucket: str, uploads: Sequence[Upload]) -> list[str]:
    """Put every upload in order, then delete what is no longer published; returns deleted keys."""
    for upload in uploads:
        s3.put_object(
            Bucket=bucket,
            Key=upload.key,
            Body=upload.body,
            ContentType=upload.content_type,
            CacheControl=upload.cache_control,
        )
    published = {u.key for u in uploads}
    stale = [
        obj["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for obj in page.get("Contents", [])
        if obj["Key"] not in published
    ]
    for start in range(0, len(stale), 1000):
        chunk = stale[start : start + 1000]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True})
    return stale


def invalidate(cloudfront: Any, distribution_id: str) -> str:
    """Invalidate every path (one path, one charge); returns the invalidation id."""
    batch = {"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": f"webdeploy-{time.time_ns()}"}
    result = cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch=batch)
    return str(result["Invalidation"]["Id"])


def deploy(clients: Mapping[str, Any], stack_name: str, web_root: Path) -> dict[str, Any]:
    """The whole step against ``clients`` (cloudformation, cognito-idp, s3, cloudfront)."""
    outputs = stack_outputs(clients["cloudformation"], stack_name)
    config = build_config(outputs)
    point_login_at(
        clients["cognito-idp"],
        _required(outputs, "UserPoolId"),
        outputs["UserPoolClientId"],
        config["auth"]["redirectUri"],
    )
    uploads = publish_plan(web_root, config)
    bucket = _required(outputs, "WebBucketName")
    deleted = publish(clients["s3"], bucket, uploads)
    invalidation = invalidate(clients["cloudfront"], _required(outputs, "WebDistributionId"))
    return {
        "url": config["apiBaseUrl"],
        "uploaded": len(uploads),
        "deleted": len(deleted),
        "invalidation": invalidation,
    }


# --- command line -------------------------------------------------------------------------------------


def samconfig_target(config_env: str, path: Path = REPO / "samconfig.toml") -> tuple[str, str]:
    """(stack name, region) of a samconfig.toml environment."""
    config = tomllib.loads(path.read_text())
    params = config.get(config_env, {}).get("global", {}).get("parameters", {})
    if "stack_name" not in params:
        raise DeployError(f"samconfig.toml has no [{config_env}.global.parameters] stack_name")
    return str(params["stack_name"]), str(params.get("region", "us-east-1"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.webdeploy", description=__doc__.splitlines()[0])
    parser.add_argument("--config-env", default="default", help="samconfig.toml environment (default, prod)")
    parser.add_argument("--web-root", type=Path, default=REPO / "web")
    parser.add_argument(
        "--dry-run", action="store_true", help="print config.json and the plan; change nothing"
    )
    args = parser.parse_args(argv)
    import boto3  # noqa: PLC0415 (only the command needs AWS)

    try:
        stack_name, region = samconfig_target(args.config_env)
        names = ("cloudformation", "cognito-idp", "s3", "cloudfront")
        clients = {name: boto3.client(name, region_name=region) for name in names}  # type: ignore[call-overload]
        if args.dry_run:
            config = build_config(stack_outputs(clients["cloudformation"], stack_name))
            plan = [(u.key, u.content_type, u.cache_control) for u in publish_plan(args.web_root, config)]
            print(json.dumps({"config": config, "plan": plan}, indent=2))
            return 0
        print(json.dumps(deploy(clients, stack_name, args.web_root)))
    except DeployError as exc:
        print(f"webdeploy: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
