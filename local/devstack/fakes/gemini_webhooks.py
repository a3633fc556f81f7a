"""The Gemini fake's completion webhooks: a create's ``webhookConfig``, the event, its signed headers.

Webhooks (docs/webhooks-research.md 1.3, 1.4). Google documents: the per-request
``webhookConfig {"uris", "user_metadata"}`` at the top of the create's body, the thin payload
``{"type": "video.generated", "version": "v1", "timestamp", "data": {"id", "output_file_uri",
"file_name"}}`` POSTed to each URI, an RS256 JWT in ``Webhook-Signature`` whose ``kid`` names a
key of the published JWKS, and retries. Our guesses, as Google leaves them open: the claims
(``iss`` the API's origin, ``aud`` the URI, ``exp`` five minutes after ``iat``, ``jti`` the
``webhook-id``), the ``webhook-id``/``webhook-timestamp`` headers, ``data.id`` as the operation
name, the files URI and name, and a ``video.generated`` with ``data.id`` alone for a failed or
filtered operation (Google lists no failure event). Where ``user_metadata`` comes back is not
documented, so it is checked and not sent; ``webhook_config`` (snake case) is ignored. URIs may
be http (the local stack's receivers), which Google would hardly take.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from devstack.fakes.jobs import FakeJob
from devstack.fakes.webhooks import Outgoing, RsaSigningKeys

ISSUER = "https://generativelanguage.googleapis.com"
"""The ``iss`` of the webhooks' JWTs (a guess: Google documents no claims)."""
TOKEN_SECONDS = 300


def callbacks(body: dict[str, Any]) -> tuple[tuple[str, ...], str | None]:
    """The webhook URIs of a create's ``webhookConfig`` (none without one), or why it is malformed."""
    if "webhookConfig" not in body:
        return (), None
    config = body["webhookConfig"]
    if not isinstance(config, dict):
        return (), "Invalid value at 'webhook_config': expected an object."
    uris = config.get("uris")
    if not isinstance(uris, list) or not uris or not all(isinstance(uri, str) for uri in uris):
        return (), "Invalid value at 'webhook_config.uris': expected a non-empty list of strings."
    if not all(urlsplit(uri).scheme in ("http", "https") and urlsplit(uri).netloc for uri in uris):
        return (), "Invalid value at 'webhook_config.uris': each must be an http(s) URL."
    if not isinstance(config.get("user_metadata", {}), dict):
        return (), "Invalid value at 'webhook_config.user_metadata': expected an object."
    return tuple(uris), None


def outgoing(
    job: FakeJob, keys: RsaSigningKeys, file_uri: str | None, finished_at: datetime, webhook_id: str
) -> list[Outgoing]:
    """The thin ``video.generated`` event of the finished ``job``, to each of its callback URIs:
    with ``file_uri`` (``None`` for a failed or filtered operation), stamped ``finished_at``, and
    ``webhook_id`` the same on every attempt and to every URI."""
    data = {"id": job.params["name"]}
    if file_uri is not None:
        data |= {"output_file_uri": file_uri, "file_name": f"files/{job.id}"}
    event = {"type": "video.generated", "version": "v1", "timestamp": _rfc3339(finished_at), "data": data}
    body = json.dumps(event).encode()
    return [Outgoing(uri, body, partial(_signed_headers, keys, uri, webhook_id)) for uri in job.callbacks]


def _signed_headers(keys: RsaSigningKeys, uri: str, webhook_id: str, timestamp: int) -> dict[str, str]:
    """The headers of one attempt to ``uri``, its JWT made now for that attempt's second."""
    claims = {"iss": ISSUER, "aud": uri, "iat": timestamp, "exp": timestamp + TOKEN_SECONDS}
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "Webhook-Signature": keys.jwt(claims | {"jti": webhook_id}),
    }


def _rfc3339(moment: datetime) -> str:
    """``2026-01-22T12:00:00Z``, as Google's payloads write times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
