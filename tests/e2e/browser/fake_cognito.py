"""A tiny stand-in for Cognito's managed login and a JWT-protected API, over real HTTP on
loopback: /oauth2/authorize (redirects back with a code), /oauth2/token (checks the PKCE
verifier against the S256 challenge), /logout, and GET /api/storyboards (Bearer token only)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_jwt(claims: dict[str, Any]) -> str:
    header = b64url(json.dumps({"alg": "none"}).encode())
    return f"{header}.{b64url(json.dumps(claims).encode())}.sig"


@dataclass
class FakeCognito:
    """What the fake saw and issued; ``url`` once started."""

    client_id: str
    redirect_uri: str
    claims: dict[str, Any]
    url: str = ""
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    api_authorizations: list[str | None] = field(default_factory=list)
    logouts: list[dict[str, str]] = field(default_factory=list)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    access_tokens: set[str] = field(default_factory=set)
    server: ThreadingHTTPServer | None = None

    @property
    def app_origin(self) -> str:
        parts = urlsplit(self.redirect_uri)
        return f"{parts.scheme}://{parts.netloc}"

    def start(self) -> FakeCognito:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    # --- the endpoints --------------------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        self.authorize_requests.append(query)
        valid = (
            query.get("response_type") == "code"
            and query.get("client_id") == self.client_id
            and query.get("redirect_uri") == self.redirect_uri
            and query.get("code_challenge_method") == "S256"
            and len(query.get("code_challenge", "")) == 43
        )
        if not valid:
            return 400, {}, {"error": "invalid_request"}
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"challenge": query["code_challenge"], "redirect_uri": query["redirect_uri"]}
        location = f"{self.redirect_uri}?{urlencode({'code': code, 'state': query['state']})}"
        return 302, {"Location": location}, None

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        self.token_requests.append(form)
        issued = self.codes.pop(form.get("code", ""), None)  # a code works once
        verifier = form.get("code_verifier", "")
        valid = (
            issued is not None
            and form.get("grant_type") == "authorization_code"
            and form.get("client_id") == self.client_id
            and form.get("redirect_uri") == issued["redirect_uri"]
            and b64url(hashlib.sha256(verifier.encode()).digest()) == issued["challenge"]
        )
        if not valid:
            return 400, {}, {"error": "invalid_grant"}
        access_token = secrets.token_urlsafe(24)
        self.access_tokens.add(access_token)
        body = {
            "access_token": access_token,
            "id_token": unsigned_jwt(self.claims),
            "token_type": "Bearer",
            "expires_in": 3600,
        }
        return 200, {}, body

    def storyboards(self, authorization: str | None) -> tuple[int, dict[str, str], Any]:
        self.api_authorizations.append(authorization)
        token = (authorization or "").removeprefix("Bearer ")
        if token not in self.access_tokens:
            return 401, {}, {"message": "Unauthorized"}
        board = {"id": "5f0e2f4c-8d7e-4a43-9a55-7c1e1b4c2d10", "name": "Cloud storyboard", "scenes": []}
        board["updatedAt"] = "2026-11-30T12:00:00Z"
        return 200, {}, {"storyboards": [board], "nextCursor": None}

    def logout(self, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        self.logouts.append(query)
        return 302, {"Location": query.get("logout_uri", "/")}, None


def _handler(fake: FakeCognito) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, headers: dict[str, str], body: Any) -> None:
            payload = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            cors = {
                "Access-Control-Allow-Origin": fake.app_origin,
                "Access-Control-Allow-Headers": "authorization, content-type",
                "Access-Control-Allow-Methods": "GET, POST",
            }
            for name, value in (cors | headers).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_OPTIONS(self) -> None:
            self._answer(204, {}, None)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            routes = {
                "/oauth2/authorize": lambda: fake.authorize(query),
                "/logout": lambda: fake.logout(query),
                "/api/storyboards": lambda: fake.storyboards(self.headers.get("Authorization")),
            }
            route = routes.get(parts.path)
            self._answer(*(route() if route else (404, {}, {"message": "Not Found"})))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if urlsplit(self.path).path == "/oauth2/token":
                self._answer(*fake.token(form))
            else:
                self._answer(404, {}, {"message": "Not Found"})

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
