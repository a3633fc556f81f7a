"""The signing secrets of OpenAI-compatible endpoints' registered webhooks, one per stored key.

Such an endpoint pushes ``video.completed`` / ``video.failed`` to a URL registered once in its
dashboard, signed the Standard Webhooks way under a ``whsec_...`` secret it issues for that
registration; the user pastes the secret beside their key. The webhook function has no database,
so the secret lives in Secrets Manager, named from the key's id
(``{openai_webhook_secrets_prefix}/{key id}``; IAM scopes both functions to that prefix): the
keys function writes it when a key is saved with one and deletes it (at once, no recovery window)
when the key is saved without one or removed; the webhook function reads it, kept in memory for
``CACHE_SECONDS`` and read again sooner, at most once per ``REFETCH_COOLDOWN_SECONDS``, when it
is missing or no longer verifies (a new secret pasted). Never returned, logged or queued.
"""

from __future__ import annotations

import base64
import binascii
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import SecretStr

from videogen.errors import InvalidInput, ServiceUnavailable, field_errors
from videogen.runtime import aws
from videogen.runtime.config import get_settings

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

PREFIX = "whsec_"
MIN_SECRET_BYTES = 24  # the Standard Webhooks spec: 24 to 64 random bytes
MAX_SECRET_BYTES = 128
CACHE_SECONDS = 60.0
REFETCH_COOLDOWN_SECONDS = 30.0
FIELD = "body.webhookSecret"


class SecretsUnavailable(ServiceUnavailable):
    """Secrets Manager could not be reached or refused the call (503: try again)."""


class InvalidWebhookSecret(InvalidInput):
    """The pasted secret is not a Standard Webhooks ``whsec_`` secret (400); never quoted."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field_errors(FIELD, message, "webhook_secret_invalid"))


def validate(secret: SecretStr) -> str:
    """The secret if it is ``whsec_`` and base64 of 24 to 128 bytes, else ``InvalidWebhookSecret``."""
    value = secret.get_secret_value().strip()
    if not value.startswith(PREFIX):
        raise InvalidWebhookSecret(
            f"webhookSecret must start with {PREFIX} (copy it whole from the endpoint)"
        )
    body = value.removeprefix(PREFIX)
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidWebhookSecret(f"webhookSecret must be {PREFIX} followed by base64") from None
    if not MIN_SECRET_BYTES <= len(raw) <= MAX_SECRET_BYTES:
        raise InvalidWebhookSecret(
            f"webhookSecret must encode {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes (got {len(raw)})"
        )
    return value


def configured() -> bool:
    """Whether this deployment keeps webhook secrets (a name prefix is set)."""
    return bool(get_settings().openai_webhook_secrets_prefix)


def name(key_id: uuid.UUID) -> str:
    """The secret's name in Secrets Manager."""
    prefix = (get_settings().openai_webhook_secrets_prefix or "").rstrip("/")
    if not prefix:
        raise SecretsUnavailable("set OPENAI_WEBHOOK_SECRETS_PREFIX")
    return f"{prefix}/{key_id}"


@lru_cache(maxsize=1)
def _client() -> SecretsManagerClient:
    return aws.client("secretsmanager")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def store(key_id: uuid.UUID, secret: str) -> None:
    """Write ``secret`` as key ``key_id``'s webhook secret (a new version, or a new secret)."""
    secret_name = name(key_id)
    try:
        try:
            _client().put_secret_value(SecretId=secret_name, SecretString=secret)
        except ClientError as exc:
            if _code(exc) != "ResourceNotFoundException":
                raise
            _client().create_secret(
                Name=secret_name,
                SecretString=secret,
                Description="Standard Webhooks signing secret of an OpenAI-compatible endpoint (videogen)",
            )
    except (BotoCoreError, ClientError) as exc:
        raise SecretsUnavailable("could not store the webhook secret; save the key again") from exc
    _cache().forget(key_id)


def remove(key_id: uuid.UUID) -> None:
    """Delete key ``key_id``'s webhook secret now (no recovery window: a saved key may make it
    again at once); nothing to do when it has none."""
    try:
        _client().delete_secret(SecretId=name(key_id), ForceDeleteWithoutRecovery=True)
    except ClientError as exc:
        if _code(exc) != "ResourceNotFoundException":
            raise SecretsUnavailable("could not delete the webhook secret; try again") from exc
    except BotoCoreError as exc:
        raise SecretsUnavailable("could not delete the webhook secret; try again") from exc
    _cache().forget(key_id)


def _fetch(key_id: uuid.UUID) -> str | None:
    if not configured():
        return None  # this deployment keeps no webhook secrets: no key has one
    try:
        value = _client().get_secret_value(SecretId=name(key_id)).get("SecretString")
    except ClientError as exc:
        if _code(exc) == "ResourceNotFoundException":
            return None
        raise SecretsUnavailable("could not read the endpoint's webhook secret") from exc
    except BotoCoreError as exc:
        raise SecretsUnavailable("could not read the endpoint's webhook secret") from exc
    return value or None


@dataclass
class _Cached:
    """Secrets read, by key id: ``(secret or None, read at)`` on ``clock`` (monotonic seconds)."""

    fetch: Callable[[uuid.UUID], str | None]
    clock: Callable[[], float] = time.monotonic
    _entries: dict[uuid.UUID, tuple[str | None, float]] = field(default_factory=dict, repr=False)

    def read(self, key_id: uuid.UUID, *, again: bool = False) -> str | None:
        """The secret, read when not held or older than ``CACHE_SECONDS``; ``again``: read now
        unless the last read is under ``REFETCH_COOLDOWN_SECONDS`` old."""
        held = self._entries.get(key_id)
        age = None if held is None else self.clock() - held[1]
        limit = REFETCH_COOLDOWN_SECONDS if again else CACHE_SECONDS
        if held is not None and age is not None and age < limit:
            return held[0]
        secret = self.fetch(key_id)
        self._entries[key_id] = (secret, self.clock())
        return secret

    def forget(self, key_id: uuid.UUID) -> None:
        self._entries.pop(key_id, None)


@lru_cache(maxsize=1)
def _cache() -> _Cached:
    return _Cached(_fetch)


def read(key_id: uuid.UUID, *, again: bool = False) -> str | None:
    """Key ``key_id``'s webhook secret, ``None`` when it has none (the webhook function's read;
    ``again`` after a miss or a signature it did not verify)."""
    return _cache().read(key_id, again=again)


def reset_clients() -> None:
    """Forget the client and every secret held (tests, settings changes, SnapStart)."""
    _client.cache_clear()
    _cache.cache_clear()
