"""The OpenAI fake's registered webhooks: endpoints with their secrets, and the signed events.

OpenAI (and the endpoints copying its videos API) sends ``video.completed`` / ``video.failed``
to endpoints registered per project in its dashboard, each with a ``whsec_`` secret shown once,
signed the Standard Webhooks way (docs/webhooks-research.md 3). The fake's dashboard is
``POST /__fake__/webhooks`` with ``{"url"}`` and the project's key as ``Authorization: Bearer``,
answered ``{"id", "url", "secret"}`` (or ``register_webhook`` in tests); a key stands for its
project. An event ``{"id": "evt_...", "object": "event", "created_at", "type", "data": {"id":
<video id>}}`` goes to every endpoint the job's project had when it was created, with
``webhook-id`` (the event id, the same on every attempt), ``webhook-timestamp`` and
``webhook-signature`` (``v1,`` and the base64 HMAC-SHA256 of ``"{id}.{timestamp}.{body}"`` under
the secret's bytes), signed here by hand rather than with the library the webhook function
verifies with, so each checks the other. A failed or filtered job sends ``video.failed``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from devstack.fakes.jobs import FakeJob
from devstack.fakes.webhooks import Outgoing

WEBHOOKS_PATH = "/__fake__/webhooks"
"""Where a test or a developer registers a webhook endpoint (the fake's dashboard)."""
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A registered webhook endpoint: its id, URL, signing secret and project."""

    id: str
    url: str
    secret: str
    project: str


def project_of(api_key: str) -> str:
    """The project a key stands for (keys are compared, never kept)."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


class Registrations:
    """The endpoints registered so far, by project; registering a URL again gives a new secret."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._endpoints: list[Endpoint] = []

    def register(self, api_key: str, url: str) -> Endpoint:
        """Register ``url`` for ``api_key``'s project with a new secret (32 random bytes)."""
        secret = SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()
        endpoint = Endpoint(f"we_{secrets.token_hex(8)}", url, secret, project_of(api_key))
        with self._lock:
            self._endpoints = [e for e in self._endpoints if (e.project, e.url) != (endpoint.project, url)]
            self._endpoints.append(endpoint)
        return endpoint

    def urls(self, api_key: str) -> tuple[str, ...]:
        """The URLs registered for ``api_key``'s project."""
        project = project_of(api_key)
        with self._lock:
            return tuple(e.url for e in self._endpoints if e.project == project)

    def secret(self, url: str) -> str | None:
        """The secret of the newest registration of ``url``."""
        with self._lock:
            return next((e.secret for e in reversed(self._endpoints) if e.url == url), None)


def outgoing(
    job: FakeJob, registrations: Registrations, failed: bool, finished_at: datetime, event_id: str
) -> list[Outgoing]:
    """The finished ``job``'s event to each endpoint it was created under, signed with its secret."""
    event = {
        "id": event_id,
        "object": "event",
        "created_at": int(finished_at.timestamp()),
        "type": "video.failed" if failed else "video.completed",
        "data": {"id": job.id},
    }
    body = json.dumps(event).encode()
    messages = []
    for url in job.callbacks:
        secret = registrations.secret(url)
        if secret is not None:
            messages.append(Outgoing(url, body, partial(signed_headers, secret, event_id, body)))
    return messages


def signed_headers(secret: str, event_id: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt, signed for that attempt's second."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{event_id}.{timestamp}.".encode() + body
    signature = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": f"v1,{signature}",
    }
