"""Deployed sign-in in Chromium: Cognito's managed login with the authorization code and PKCE
(S256), against a fake login and API on loopback. The app is served by the gateway's web app
with a "cognito" config.json, as CloudFront will serve it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from devstack.gateway import Gateway, serve
from devstack.template import load
from devstack.webapp import WebApp
from tests.e2e.browser.fake_cognito import FakeCognito
from tests.e2e.conftest import REPO_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CLIENT_ID = "web-client-123"


@pytest.fixture
def login(browser: Browser) -> Iterator[tuple[Page, FakeCognito]]:
    gateway = Gateway(load(REPO_ROOT / "template.yaml"), function_urls={})
    server = serve(gateway, 0)
    app_url = f"http://127.0.0.1:{server.server_address[1]}"
    fake = FakeCognito(CLIENT_ID, f"{app_url}/", {"sub": "user-42", "email": "ada@example.com"}).start()
    config: dict[str, Any] = {
        "apiBaseUrl": fake.url,
        "auth": {
            "mode": "cognito",
            "domain": fake.url,
            "clientId": CLIENT_ID,
            "redirectUri": f"{app_url}/",
            "scopes": ["openid", "email"],
        },
    }
    gateway.web = WebApp(REPO_ROOT / "web", config)
    context = browser.new_context(base_url=app_url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page, fake
    finally:
        context.close()
        fake.stop()
        server.shutdown()
        server.server_close()
    assert not errors


def session_storage(page: Page) -> dict[str, str]:
    stored: dict[str, str] = page.evaluate("() => ({...sessionStorage})")
    return stored


def test_sign_in_with_code_and_pkce_then_sign_out(login):
    page, fake = login
    page.goto("/")

    # When the user signs in
    page.get_by_role("button", name="Sign in").click()

    # Then the login was asked for a code with an S256 challenge, and the app came back signed in
    expect(page.get_by_text("Signed in as ada@example.com")).to_be_visible()
    expect(page.get_by_role("link", name="Cloud storyboard")).to_be_visible()
    [authorize] = fake.authorize_requests
    assert authorize["code_challenge_method"] == "S256"
    assert authorize["scope"] == "openid email"
    assert len(authorize["state"]) >= 16

    # and exchanged the code with the verifier the fake checked against the challenge
    [token_request] = fake.token_requests
    assert 43 <= len(token_request["code_verifier"]) <= 128
    # and calls the API with the access token as a Bearer token
    [access_token] = fake.access_tokens
    assert fake.api_authorizations[-1] == f"Bearer {access_token}"
    # and the code is gone from the address bar; the token lives in this tab's session storage
    assert page.url == fake.redirect_uri
    assert access_token in "".join(session_storage(page).values())
    assert page.evaluate("() => localStorage.length") == 0

    # A reload keeps the session (no new sign-in)
    page.reload()
    expect(page.get_by_role("link", name="Cloud storyboard")).to_be_visible()
    assert len(fake.token_requests) == 1

    # When the user signs out: the managed login's session ends too, and the token is gone
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert fake.logouts == [{"client_id": CLIENT_ID, "logout_uri": fake.redirect_uri}]
    assert access_token not in "".join(session_storage(page).values())


def test_a_callback_with_a_state_this_tab_did_not_issue_is_refused(login):
    page, fake = login

    # When the app is reached with a code and a state it never issued (a forged callback)
    page.goto("/?code=stolen-code&state=forged-state")

    # Then it refuses without exchanging the code, and offers to sign in again
    expect(page.get_by_role("alert")).to_contain_text("Sign-in failed")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert fake.token_requests == []
    assert "code=" not in page.url


def test_a_login_error_is_shown(login):
    page, fake = login

    page.goto("/?error=access_denied&error_description=User+cancelled&state=x")

    expect(page.get_by_role("alert")).to_have_text("Sign-in failed: User cancelled")
    assert fake.token_requests == []
