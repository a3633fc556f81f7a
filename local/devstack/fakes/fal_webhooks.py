"""The fal fake's completion webhooks: the body and its Ed25519-signed headers.

Webhooks, as fal documents them (docs/webhooks-research.md 2): a create with
``?fal_webhook=<url>`` is POSTed ``{"request_id", "gateway_request_id", "status": "OK",
"payload": <the result route's JSON>}`` when it finishes, or ``"status": "ERROR", "error":
"Invalid status code: <code>", "payload": <the error body>`` when it fails (a cancelled request
sends nothing), with the headers ``X-Fal-Webhook-Request-Id``, ``-User-Id``, ``-Timestamp``
(unix seconds) and ``-Signature``: the hex Ed25519 signature of ``request_id, user_id,
timestamp, sha256(body) hex`` joined by newlines. ``gateway_request_id`` is the request id (one
try), and the JWKS entries carry ``kid``, ``kty`` and ``crv`` (fal's docs name only ``x``).
"""

from __future__ import annotations

import hashlib
import json
from functools import partial
from typing import Any

from devstack.fakes.jobs import FakeJob
from devstack.fakes.webhooks import Ed25519SigningKeys, Outgoing


def outgoing(
    job: FakeJob, status: int, payload: dict[str, Any], keys: Ed25519SigningKeys, user_id: str
) -> list[Outgoing]:
    """fal's webhook body for the finished request ``job``, whose result route answers ``status``
    and ``payload``, to its ``fal_webhook`` URL, signed by ``keys`` for the account ``user_id``."""
    ids = {"request_id": job.id, "gateway_request_id": job.id}
    if status == 200:
        event = ids | {"status": "OK", "payload": payload}
    else:
        event = ids | {"status": "ERROR", "error": f"Invalid status code: {status}", "payload": payload}
    body = json.dumps(event).encode()
    headers = partial(_signed_headers, keys, user_id, job.id, body)
    return [Outgoing(url, body, headers) for url in job.callbacks]


def _signed_headers(
    keys: Ed25519SigningKeys, user_id: str, request_id: str, body: bytes, timestamp: int
) -> dict[str, str]:
    """The headers of one attempt, signed now for that attempt's second."""
    signed = [request_id, user_id, str(timestamp), hashlib.sha256(body).hexdigest()]
    signature = keys.sign("\n".join(signed).encode())
    return {
        "content-type": "application/json",
        "X-Fal-Webhook-Request-Id": request_id,
        "X-Fal-Webhook-User-Id": user_id,
        "X-Fal-Webhook-Timestamp": str(timestamp),
        "X-Fal-Webhook-Signature": signature.hex(),
    }
