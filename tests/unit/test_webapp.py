"""The gateway serves the web app (web/) at / as CloudFront will: content types, SPA fallback,
a path join that cannot leave web/, cache and security headers, the dev config.json; and
/api/* answers exactly as before. No sockets here."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from devstack.gateway import Gateway, Request
from devstack.template import load
from devstack.webapp import WebApp, content_security_policy
from tests.support import REPO

WEB = REPO / "web"
MEDIA = "http://127.0.0.1:4566"


@pytest.fixture(scope="module")
def gateway() -> Gateway:
    return Gateway(load(REPO / "template.yaml"), function_urls={}, web=WebApp(WEB, media_origins=[MEDIA]))


def get(gateway: Gateway, path: str, method: str = "GET", headers: dict[str, str] | None = None):
    return gateway.handle(Request(method, path, headers=tuple((headers or {}).items())))


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/", "text/html; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/js/main.js", "text/javascript; charset=utf-8"),
        ("/js/views/editor.js", "text/javascript; charset=utf-8"),
        ("/app.css", "text/css; charset=utf-8"),
        ("/favicon.svg", "image/svg+xml"),
    ],
)
def test_files_are_served_with_their_content_type(gateway, path, content_type):
    response = get(gateway, path)

    assert response.status == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["x-content-type-options"] == "nosniff"
    expected = WEB / ("index.html" if path == "/" else path.lstrip("/"))
    assert response.body == expected.read_bytes()


def test_every_module_the_app_imports_is_served_as_javascript(gateway):
    # Browsers refuse a module served with any other type: follow the imports from main.js.
    pending, seen = ["/js/main.js"], set()
    while pending:
        path = pending.pop()
        seen.add(path)
        response = get(gateway, path)
        assert response.status == 200, path
        assert response.headers["content-type"].startswith("text/javascript"), path
        for spec in re.findall(r'from "(\.{1,2}/[^"]+)"', response.body.decode()):
            target = str(Path(path).parent.joinpath(spec).resolve())
            if target not in seen:
                pending.append(target)
    assert len(seen) >= 10


@pytest.mark.parametrize("path", ["/storyboards/0b7e6a52-7c57-4c6d-9a43-3f1fb1f0a2b1", "/keys", "/a/b/c"])
def test_app_routes_fall_back_to_index_html(gateway, path):
    response = get(gateway, path)

    assert response.status == 200
    assert response.body == (WEB / "index.html").read_bytes()
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    "path",
    [
        "/missing.js",
        "/js/nothing.css",
        "/../template.yaml",
        "/js/../../template.yaml",
        "/js/%2e%2e/%2e%2e/template.yaml",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/..%2f..%2ftemplate.yaml",
        "/js/main.js%00.html",
        "/.git/config",
        "/js\\..\\..\\template.yaml",
    ],
)
def test_missing_files_and_escapes_are_404(gateway, path):
    response = get(gateway, path)

    assert response.status == 404
    assert b"AWSTemplateFormatVersion" not in response.body


def test_a_symlink_out_of_the_root_is_not_followed(tmp_path):
    root = tmp_path / "web"
    root.mkdir()
    (root / "index.html").write_text("<!doctype html>")
    (tmp_path / "secret.txt").write_text("secret")
    (root / "leak.txt").symlink_to(tmp_path / "secret.txt")

    page = WebApp(root).answer("GET", "/leak.txt")

    assert page is not None
    assert page.status == 404
    assert b"secret" not in page.body


def test_config_json_says_dev_sign_in_on_this_origin_and_is_never_cached(gateway):
    response = get(gateway, "/config.json")

    assert response.status == 200
    assert json.loads(response.body) == {"apiBaseUrl": "", "auth": {"mode": "dev"}}
    assert response.headers["cache-control"] == "no-store"


def test_unchanged_files_answer_304_to_their_etag(gateway):
    first = get(gateway, "/js/main.js")

    again = get(gateway, "/js/main.js", headers={"If-None-Match": first.headers["etag"]})

    assert again.status == 304
    assert again.body == b""


def test_head_answers_like_get(gateway):
    response = get(gateway, "/js/api.js", method="HEAD")

    assert response.status == 200
    assert response.headers["content-type"].startswith("text/javascript")


def test_security_headers_allow_only_this_origin_and_the_media_origin(gateway):
    headers = get(gateway, "/").headers
    csp = dict(part.split(" ", 1) for part in headers["content-security-policy"].split("; "))

    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == "'self'"
    assert csp["connect-src"] == f"'self' {MEDIA}"  # reference images are uploaded there
    assert csp["media-src"] == f"'self' {MEDIA}"
    assert csp["frame-ancestors"] == "'none'"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"


def test_csp_lets_the_app_reach_a_separate_api_and_the_sign_in_domain():
    config = {
        "apiBaseUrl": "https://api.example.com/prod",
        "auth": {"mode": "cognito", "domain": "https://login.example.com", "clientId": "c"},
    }

    csp = content_security_policy(config, [])

    assert "connect-src 'self' https://api.example.com https://login.example.com;" in csp


# --- the API answers exactly as before ------------------------------------------------------------


def test_api_paths_are_never_served_as_files(gateway):
    unknown = get(gateway, "/api/nothing-here", headers={"X-Dev-User": "alice"})
    bare = get(gateway, "/api")

    assert (unknown.status, json.loads(unknown.body)) == (404, {"message": "Not Found"})
    assert (bare.status, json.loads(bare.body)) == (404, {"message": "Not Found"})


def test_api_routes_still_need_an_identity(gateway):
    response = get(gateway, "/api/storyboards")

    assert (response.status, json.loads(response.body)) == (401, {"message": "Unauthorized"})


def test_other_methods_on_app_paths_answer_like_api_gateway(gateway):
    response = get(gateway, "/", method="POST")

    assert (response.status, json.loads(response.body)) == (404, {"message": "Not Found"})
