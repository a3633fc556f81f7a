"""The callback URL a create gives a provider, and the token that binds it to one job.

``{webhook_base_url}/api/webhooks/{source}?job={job id}&token={token}``: the token is the
first 32 characters of the base64url HMAC-SHA256 of ``"{source}:{job id}"`` under the server's
webhook secret (192 bits), so an event for a job can only come through that job's URL, and a
URL for one provider's webhooks is refused on another's route. The secret comes from Secrets
Manager when deployed (``WEBHOOK_SIGNING_SECRET_ARN``), from ``WEBHOOK_SIGNING_SECRET``
locally; without it, or without ``WEBHOOK_BASE_URL``, no create asks for a webhook.
An OpenAI-compatible endpoint's URL is registered once per stored key instead
(``/api/webhooks/openai?key={key id}&token={token}``, the token of ``"openai:{key id}"``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from typing import Literal, get_args
from urllib.parse import urlencode

from videogen.errors import ServiceUnavailable
from videogen.runtime import aws
from videogen.runtime.config import get_settings

Source = Literal["gemini", "fal"]
"""Who pushes to a URL given with each create: the Gemini API (Veo with a Gemini API key) and
fal's queue. Vertex AI documents no webhook for these operations."""
SOURCES: tuple[Source, ...] = get_args(Source)
ENDPOINT_SOURCE = "openai"
"""Who pushes to a URL registered once per key (:func:`endpoint_url`): OpenAI-compatible
endpoints, signed with the secret each issues for the registration (``endpoint_secrets``)."""
TOKEN_CHARS = 32
MIN_SECRET_BYTES = 32
CALLBACK_PATH = "/api/webhooks"


class WebhookSecretUnavailable(ServiceUnavailable):
    """The webhook secret could not be read: the caller answers 503 (the provider retries)."""


def has_secret() -> bool:
    """Whether a webhook secret is configured (tokens can be made and checked)."""
    settings = get_settings()
    return settings.webhook_signing_secret is not None or bool(settings.webhook_signing_secret_arn)


def enabled() -> bool:
    """Whether creates ask for webhooks: a public base URL and a secret are configured."""
    return bool(get_settings().webhook_base_url) and has_secret()


def callback_url(source: Source | None, job_id: uuid.UUID) -> str | None:
    """The URL ``source`` calls when ``job_id`` finishes; ``None`` when webhooks are off or the
    provider pushes nothing (``source`` ``None``)."""
    if source is None or not enabled():
        return None
    base = (get_settings().webhook_base_url or "").rstrip("/")
    query = urlencode({"job": str(job_id), "token": token(source, job_id)})
    return f"{base}{CALLBACK_PATH}/{source}?{query}"


def endpoint_url(key_id: uuid.UUID) -> str | None:
    """The URL to register at an OpenAI-compatible endpoint for the stored key ``key_id``
    (``?key=<id>&token=<t>``, the token bound to the key as a job's is to the job); ``None``
    without a webhook secret. Relative (path and query) when no public base URL is configured:
    the keys function, behind the same distribution as the web app, cannot name its domain in
    the template without a cycle, and the web app completes it with its own origin."""
    if not has_secret():
        return None
    base = (get_settings().webhook_base_url or "").rstrip("/")
    query = urlencode({"key": str(key_id), "token": token(ENDPOINT_SOURCE, key_id)})
    return f"{base}{CALLBACK_PATH}/{ENDPOINT_SOURCE}?{query}"


def token(source: str, job_id: uuid.UUID, secret: bytes | None = None) -> str:
    """The callback token of a job (a key, on the endpoint route) on ``source``'s route (under
    the configured secret, or ``secret``)."""
    digest = hmac.new(secret or _secret(), f"{source}:{job_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:TOKEN_CHARS]


def token_matches(source: str, job: str | None, given: str | None) -> uuid.UUID | None:
    """The job id (the key id, on the endpoint route) when ``given`` is its token on ``source``'s
    route, else ``None`` (compared in constant time; a malformed id or token is just no match)."""
    if not job or not given or len(given) != TOKEN_CHARS:
        return None
    try:
        job_id = uuid.UUID(job)
    except ValueError:
        return None
    if str(job_id) != job:  # one spelling only: the one callback_url wrote
        return None
    return job_id if hmac.compare_digest(token(source, job_id), given) else None


def _secret() -> bytes:
    settings = get_settings()
    if settings.webhook_signing_secret is not None:
        secret = settings.webhook_signing_secret.get_secret_value().encode()
    elif settings.webhook_signing_secret_arn:
        try:
            value = aws.read_secret(settings.webhook_signing_secret_arn)
        except aws.SecretUnavailable as exc:
            raise WebhookSecretUnavailable("could not read the webhook secret") from exc
        secret = value.encode() if isinstance(value, str) else value
    else:
        raise WebhookSecretUnavailable("set WEBHOOK_SIGNING_SECRET or WEBHOOK_SIGNING_SECRET_ARN")
    if len(secret) < MIN_SECRET_BYTES:
        raise WebhookSecretUnavailable(f"the webhook secret must be at least {MIN_SECRET_BYTES} bytes")
    return secret
