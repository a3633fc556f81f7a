"""Each provider's webhook signature, checked as it documents it; what a verified event names.

- Gemini API (``Webhook-Signature``): an RS256 JWT whose key id names one of Google's published
  keys. The algorithm is pinned (a token saying ``none``, ``HS256`` or anything else is refused
  before a key is looked up, and PyJWT is told RS256 alone); ``exp`` and ``iat`` are required,
  ``iat`` at most five minutes old and not in the future, as is ``webhook-timestamp`` when
  sent. Google documents neither the audience nor a claim binding the body, so neither is
  relied on: the job comes from our URL's token and the body is never read for state.
- fal (``X-Fal-Webhook-*``): Ed25519 over ``request_id, user_id, timestamp, sha256(body)``
  joined by newlines; all four headers required, the timestamp within five minutes either way,
  any published key may verify (fal's set names no key ids).

- OpenAI-compatible endpoints (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``):
  Standard Webhooks, checked by its maintained library (``standardwebhooks``: HMAC-SHA256 of
  ``"{id}.{timestamp}.{body}"`` under the key's ``whsec_`` secret, any of the space-separated
  ``v1,`` signatures, the timestamp within five minutes either way).

A refusal is :class:`Refused` (401: no or bad signature; 400: signed but not what the provider
sends; 404: no secret for the key). Sources: docs/webhooks-research.md, sections 1.4, 2.3 and 3.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from standardwebhooks import Webhook, WebhookVerificationError

from videogen.runtime.config import get_settings
from videogen.webhooks import endpoint_secrets
from videogen.webhooks.callbacks import Source
from videogen.webhooks.published_keys import PublishedKeys, SigningKey

TOLERANCE_SECONDS = 300
"""How far a signature's time may be from ours, either way (both providers say five minutes)."""
GEMINI_ALGORITHM = "RS256"
FAL_HEADERS = ("x-fal-webhook-request-id", "x-fal-webhook-user-id", "x-fal-webhook-timestamp")
FAL_SIGNATURE = "x-fal-webhook-signature"


class Refused(Exception):
    """The webhook is not one we accept: ``status`` (400 or 401) and a reason safe to answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Event:
    """A verified event: the provider's event id (for the logs) and the body it signed."""

    event_id: str
    body: Mapping[str, object]


def verify(source: Source, body: bytes, headers: Mapping[str, str], *, now: float | None = None) -> Event:
    """The event if ``source`` signed ``body`` as it documents; :class:`Refused` otherwise.

    ``headers`` with lower-case names (API Gateway's). ``KeysUnavailable`` when the provider's
    keys cannot be fetched and none are held (a 503: the provider retries).
    """
    when = time.time() if now is None else now
    document = _json_object(body)
    event_id = _gemini(headers, when) if source == "gemini" else _fal(body, headers, when, document)
    return Event(event_id, document)


VIDEO_EVENTS = ("video.completed", "video.failed")
"""The events that say a video job finished: they move its poll; any other is acknowledged."""
MAX_VIDEO_ID_CHARS = 256
_STANDARD_REFUSALS = {
    "Missing required headers": "missing the webhook-id, webhook-timestamp or webhook-signature header",
    "Invalid Signature Headers": "webhook-timestamp is not a Unix time in seconds",
    "Message timestamp too old": "webhook-timestamp is more than 5 minutes old",
    "Message timestamp too new": "webhook-timestamp is more than 5 minutes in the future",
}


@dataclass(frozen=True, slots=True)
class EndpointEvent:
    """A verified event of an OpenAI-compatible endpoint: its ``webhook-id``, its ``type``, and
    for a video event the provider's video id (``data.id``)."""

    event_id: str
    type: str
    video_id: str | None


def verify_endpoint(key_id: uuid.UUID, body: bytes, headers: Mapping[str, str]) -> EndpointEvent:
    """The event if the endpoint registered for key ``key_id`` signed ``body`` with the secret
    stored for it; :class:`Refused` otherwise (404 when the key keeps no secret: deleted, or
    saved without one). ``SecretsUnavailable`` when Secrets Manager cannot be read (503)."""
    document = _json_object(body)
    secret = endpoint_secrets.read(key_id) or endpoint_secrets.read(key_id, again=True)
    if secret is None:
        raise Refused(404, "No such callback")
    refusal = _standard(secret, body, headers)
    if refusal == "No matching signature found":
        # A secret pasted since it was read: read it again (at most every 30 s) and retry once.
        fresh = endpoint_secrets.read(key_id, again=True)
        if fresh is not None and fresh != secret:
            refusal = _standard(fresh, body, headers)
    if refusal is not None:
        reason = _STANDARD_REFUSALS.get(refusal, "the signature does not verify with the endpoint's secret")
        raise Refused(401, reason)
    kind = document.get("type")
    if not isinstance(kind, str):
        raise Refused(400, "the event has no type")
    video_id = None
    if kind in VIDEO_EVENTS:
        data = document.get("data")
        video_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(video_id, str) or not 0 < len(video_id) <= MAX_VIDEO_ID_CHARS:
            raise Refused(400, f"a {kind} event names its video in data.id")
    return EndpointEvent(headers.get("webhook-id", ""), kind, video_id)


def _standard(secret: str, body: bytes, headers: Mapping[str, str]) -> str | None:
    """``None`` when ``body`` verifies under ``secret``, else the library's reason."""
    try:
        Webhook(secret).verify(body, dict(headers), json_parse=False)
    except WebhookVerificationError as exc:
        return str(exc)
    except (ValueError, TypeError):  # a malformed header the library did not foresee
        return "No matching signature found"
    return None


def _gemini(headers: Mapping[str, str], now: float) -> str:
    token = headers.get("webhook-signature", "").strip()
    if not token:
        raise Refused(401, "missing the Webhook-Signature header")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError:
        raise Refused(401, "Webhook-Signature is not a JWT") from None
    algorithm = header.get("alg")
    if algorithm != GEMINI_ALGORITHM:
        raise Refused(401, f"signature algorithm {algorithm!r} refused: only {GEMINI_ALGORITHM}")
    kid = header.get("kid")
    signing = published_keys("gemini").by_kid(kid) if isinstance(kid, str) and kid else None
    if signing is None:
        raise Refused(401, "the signature names no published Gemini API key")
    try:
        claims = jwt.decode(
            token,
            signing.key,
            algorithms=[GEMINI_ALGORITHM],
            # No documented audience: the job is bound by the URL's token (module doc).
            options={"require": ["exp", "iat"], "verify_aud": False},
            leeway=0,
        )
    except jwt.ExpiredSignatureError:
        raise Refused(401, "the signature has expired") from None
    except jwt.ImmatureSignatureError:
        raise Refused(401, "the signature is dated in the future") from None
    except jwt.InvalidTokenError as exc:
        raise Refused(401, f"the signature does not verify ({type(exc).__name__})") from None
    _within_tolerance(claims.get("iat"), now, "the signature")
    if "webhook-timestamp" in headers:
        _within_tolerance(headers["webhook-timestamp"], now, "webhook-timestamp")
    event_id = headers.get("webhook-id") or claims.get("jti")
    return str(event_id) if event_id else hashlib.sha256(token.encode()).hexdigest()[:32]


def _fal(body: bytes, headers: Mapping[str, str], now: float, document: Mapping[str, object]) -> str:
    missing = [name for name in (*FAL_HEADERS, FAL_SIGNATURE) if not headers.get(name)]
    if missing:
        raise Refused(401, f"missing the {', '.join(missing)} header{'s' if len(missing) > 1 else ''}")
    request_id, user_id, timestamp = (headers[name] for name in FAL_HEADERS)
    _within_tolerance(timestamp, now, "X-Fal-Webhook-Timestamp")
    try:
        signature = bytes.fromhex(headers[FAL_SIGNATURE])
    except ValueError:
        raise Refused(401, "X-Fal-Webhook-Signature is not hexadecimal") from None
    message = "\n".join((request_id, user_id, timestamp, hashlib.sha256(body).hexdigest())).encode()
    keys = published_keys("fal")
    if not _any_verifies(keys.current(), signature, message) and not (
        keys.refetch() and _any_verifies(keys.current(), signature, message)
    ):
        raise Refused(401, "the signature does not verify with any published fal key")
    if document.get("request_id", request_id) != request_id:
        raise Refused(400, "the body's request_id is not the signed one")
    return request_id


def _any_verifies(keys: tuple[SigningKey, ...], signature: bytes, message: bytes) -> bool:
    for signing in keys:
        public = signing.key.key
        if not isinstance(public, Ed25519PublicKey):
            continue
        try:
            public.verify(signature, message)
        except InvalidSignature:
            continue
        return True
    return False


def _within_tolerance(value: object, now: float, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise Refused(401, f"{what} carries no time")
    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise Refused(401, f"{what} is not a Unix time in seconds")
    age = now - int(text)
    if age > TOLERANCE_SECONDS:
        raise Refused(401, f"{what} is more than {TOLERANCE_SECONDS // 60} minutes old")
    if age < -TOLERANCE_SECONDS:
        raise Refused(401, f"{what} is more than {TOLERANCE_SECONDS // 60} minutes in the future")


def _json_object(body: bytes) -> Mapping[str, object]:
    try:
        document = json.loads(body)
    except ValueError:
        raise Refused(400, "the body is not JSON") from None
    if not isinstance(document, dict):
        raise Refused(400, "the body is not a JSON object")
    return document


@cache
def _published(url: str, max_age: float, timeout: float) -> PublishedKeys:
    return PublishedKeys(url, max_age=max_age, timeout=timeout)


def published_keys(source: Source) -> PublishedKeys:
    """The process-wide key cache of ``source`` (one per URL and lifetime)."""
    settings = get_settings()
    url = settings.gemini_jwks_url if source == "gemini" else settings.fal_jwks_url
    return _published(url, float(settings.webhook_keys_max_age_seconds), settings.dependency_deadline_seconds)


def forget_keys() -> None:
    """Drop every fetched key set (tests, settings changes)."""
    _published.cache_clear()
