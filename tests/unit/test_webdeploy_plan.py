"""What `make deploy` publishes: config.json from the stack's outputs, and the upload plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.webdeploy import NO_CACHE, DeployError, build_config, cache_control, content_type, publish_plan

OUTPUTS = {
    "WebUrl": "https://d111111abcdef8.cloudfront.net",
    "UserPoolDomainUrl": "https://videogen-dev-123456789012.auth.us-east-1.amazoncognito.com",
    "UserPoolClientId": "client-123",
    "UserPoolId": "us-east-1_abc",
    "WebBucketName": "web-bucket",
    "WebDistributionId": "E123",
}


def test_config_points_the_app_at_the_distribution_and_the_managed_login():
    assert build_config(OUTPUTS) == {
        "apiBaseUrl": "https://d111111abcdef8.cloudfront.net",
        "auth": {
            "mode": "cognito",
            "domain": "https://videogen-dev-123456789012.auth.us-east-1.amazoncognito.com",
            "clientId": "client-123",
            "redirectUri": "https://d111111abcdef8.cloudfront.net/",
            "logoutUri": "https://d111111abcdef8.cloudfront.net/",
            "scopes": ["openid", "email"],
        },
    }


def test_a_stack_without_its_web_outputs_or_user_pool_is_refused_with_a_reason():
    with pytest.raises(DeployError, match="WebUrl"):
        build_config({k: v for k, v in OUTPUTS.items() if k != "WebUrl"})
    with pytest.raises(DeployError, match="JwtIssuer"):
        build_config({k: v for k, v in OUTPUTS.items() if not k.startswith("UserPool")})


def test_the_page_config_and_code_revalidate_hashed_files_are_immutable_and_images_last_a_week():
    assert cache_control("index.html") == cache_control("config.json") == NO_CACHE
    assert cache_control("js/main.js") == cache_control("app.css") == NO_CACHE
    assert cache_control("img/logo.3f9a1c2b.png").endswith("immutable")
    assert cache_control("favicon.svg") == "public, max-age=604800"
    assert content_type("js/main.js") == "text/javascript; charset=utf-8"
    assert content_type("favicon.svg") == "image/svg+xml"


def make_web(root: Path) -> Path:
    (root / "js").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><script type=module src=/js/main.js></script>")
    (root / "js" / "main.js").write_text("export {};")
    (root / "app.css").write_text("body{}")
    (root / "config.json").write_text('{"auth": {"mode": "dev"}}')  # a local one: never published
    (root / ".DS_Store").write_bytes(b"\0")
    return root


def test_the_plan_uploads_every_file_then_config_then_index_last(tmp_path):
    plan = publish_plan(make_web(tmp_path / "web"), build_config(OUTPUTS))

    assert [u.key for u in plan] == ["app.css", "js/main.js", "config.json", "index.html"]
    config = next(u for u in plan if u.key == "config.json")
    assert json.loads(config.body)["auth"]["clientId"] == "client-123"
    assert (config.content_type, config.cache_control) == ("application/json", NO_CACHE)


def test_a_web_root_without_index_html_is_refused(tmp_path):
    with pytest.raises(DeployError, match=r"index\.html"):
        publish_plan(tmp_path, build_config(OUTPUTS))


def test_the_repositorys_web_root_publishes_the_app_and_none_of_its_development_files():
    plan = publish_plan(Path(__file__).resolve().parents[2] / "web", build_config(OUTPUTS))

    keys = [u.key for u in plan]
    assert "js/main.js" in keys
    assert [k for k in keys if k == "js.mk" or k.startswith("types/")] == []
