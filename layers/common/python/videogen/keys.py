"""Envelope encryption of users' provider API keys (KMS data key + AES-256-GCM).

Sealing a key:

1. KMS ``GenerateDataKey`` (AES_256) under ``settings.api_keys_kms_key_id`` with the
   encryption context ``{"user_id": <user>, "purpose": "provider-api-key"}``;
2. AES-256-GCM with that data key, a random 12-byte nonce, and as associated data the user id,
   the provider, and what is stored beside the key and says where it goes: the Google API of a
   ``veo`` key and the endpoint of an ``openai`` key;
3. one versioned string for ``user_api_keys.encrypted_key``:
   ``"v2.<wrapped data key>.<nonce>.<ciphertext+tag>"``, each part base64url without padding
   (``v1`` blobs, sealed before keys had an API or endpoint, bound the user and provider only).

A row copied to another user (or to another provider) fails twice over: KMS refuses to unwrap
the data key under a different encryption context, and GCM rejects different associated data.
A row whose endpoint was edited (to send the key to someone else's server) no longer opens.

Beside it the row stores ``key_hash``, a keyed HMAC-SHA256 of the key (secret from
``API_KEY_HMAC_SECRET`` locally, from Secrets Manager ``API_KEY_HMAC_SECRET_ARN`` when
deployed; never a bare hash, which would let anyone holding the table test guesses), and
``last4`` for display.

The plaintext key never goes into a log record, an exception message or a repr: errors say
what is wrong with it, never what it is.

Opening a key unwraps its data key through KMS. A job's submit and each of its polls open the
same stored key, so the worker keeps unwrapped data keys in memory for ``DATA_KEY_TTL_SECONDS``
(at most ``DATA_KEY_CACHE_SIZE``), keyed by user, provider and a SHA-256 of the whole stored
blob. That is safe: the row is read on every use, and a replaced key is a new blob (a new data
key and nonce) and a removed one has no blob, so neither can be served from the cache; the
GCM decryption of the key itself still runs on every use; the cache lives in one container's
memory only, is never logged (no repr), dropped by :func:`reset_clients` (and before a SnapStart
snapshot), and a data key opens only the one blob it was made for.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

from videogen.catalog import check_provider
from videogen.errors import Conflict, DomainError, InvalidInput, ServiceUnavailable, field_errors
from videogen.key_cache import DataKeyCache
from videogen.providers.base import ProviderKey
from videogen.runtime import aws
from videogen.runtime.config import get_settings

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient
    from sqlalchemy.orm import Session

BLOB_VERSION = "v2"
_V1 = "v1"
PURPOSE = "provider-api-key"
MIN_KEY_LENGTH = 8
MAX_KEY_LENGTH = 512
MIN_HMAC_SECRET_LENGTH = 16
_NONCE_BYTES = 12
# KMS answers these when the blob or its encryption context (the user) does not match.
_UNREADABLE_KMS_ERRORS = ("InvalidCiphertextException", "IncorrectKeyException")


@dataclass(frozen=True, slots=True)
class SealedKey:
    """What ``user_api_keys`` stores for a key: nothing here reveals the key itself."""

    encrypted_key: str
    key_hash: str
    last4: str


class InvalidApiKey(InvalidInput, ValueError):
    """The submitted key is not plausible (answers 400); the message never contains the key."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field_errors("body.apiKey", message, "api_key_invalid"))


class SealedKeyUnreadable(DomainError):
    """A stored key cannot be decrypted for this user and provider (tampered, copied, or malformed).

    Permanent: the user must store the key again. The message is safe to show.
    """


class KeyServiceUnavailable(ServiceUnavailable):
    """KMS or Secrets Manager could not be reached or refused the call; retry later (503)."""


class KeyConfigurationError(RuntimeError):
    """The deployment lacks what key encryption needs (KMS key id, HMAC secret)."""


# --- the KMS client and the HMAC secret, once per container ---------------------------------


@lru_cache(maxsize=1)
def _kms() -> KMSClient:
    return aws.client("kms")


_data_keys = DataKeyCache()


def reset_clients() -> None:
    """Forget the cached KMS client, the unwrapped data keys and the fetched HMAC secret (tests,
    settings changes, a SnapStart snapshot)."""
    _kms.cache_clear()
    _data_keys.clear()
    aws.reset_secrets()


def _fetch_hmac_secret(arn: str) -> bytes:
    try:
        secret = aws.read_secret(arn)
    except aws.SecretUnavailable as exc:
        raise KeyServiceUnavailable("could not read the API key HMAC secret") from exc
    return secret.encode() if isinstance(secret, str) else secret


def _hmac_secret() -> bytes:
    settings = get_settings()
    if settings.api_key_hmac_secret is not None:
        secret = settings.api_key_hmac_secret.get_secret_value().encode()
    elif settings.api_key_hmac_secret_arn:
        secret = _fetch_hmac_secret(settings.api_key_hmac_secret_arn)
    else:
        raise KeyConfigurationError("set API_KEY_HMAC_SECRET or API_KEY_HMAC_SECRET_ARN")
    if len(secret) < MIN_HMAC_SECRET_LENGTH:
        raise KeyConfigurationError(
            f"the API key HMAC secret must be at least {MIN_HMAC_SECRET_LENGTH} bytes"
        )
    return secret


def _kms_key_id() -> str:
    key_id = get_settings().api_keys_kms_key_id
    if not key_id:
        raise KeyConfigurationError("set API_KEYS_KMS_KEY_ID")
    return key_id


# --- validation, hashing ----------------------------------------------------------------------


def _reveal(plaintext: str | SecretStr) -> str:
    return plaintext.get_secret_value() if isinstance(plaintext, SecretStr) else plaintext


def validate_api_key(plaintext: str | SecretStr) -> str:
    """The key as a ``str`` if it is plausible, else ``InvalidApiKey`` saying why (never what).

    Plausible: 8 to 512 printable ASCII characters, no whitespace (a pasted trailing newline
    is the usual culprit), nothing else. Provider keys are ASCII tokens; anything else would
    fail later in an HTTP header with the key in the error.
    """
    value = _reveal(plaintext)
    if not value:
        raise InvalidApiKey("API key is empty")
    if len(value) < MIN_KEY_LENGTH or len(value) > MAX_KEY_LENGTH:
        raise InvalidApiKey(f"API key must be {MIN_KEY_LENGTH} to {MAX_KEY_LENGTH} characters long")
    if any(c.isspace() for c in value):
        raise InvalidApiKey(
            "API key must not contain spaces, tabs or line breaks (check for a trailing newline)"
        )
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise InvalidApiKey("API key must not contain control characters")
    if not value.isascii() or not value.isprintable():
        raise InvalidApiKey("API key must contain only printable ASCII characters")
    return value


def key_hash(plaintext: str | SecretStr) -> str:
    """Keyed HMAC-SHA256 of the key, hex: for dedup, never a bare hash."""
    return hmac.new(_hmac_secret(), _reveal(plaintext).encode(), hashlib.sha256).hexdigest()


# --- sealing ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a key may be used, stored beside it and bound into its seal."""

    api: str | None = None
    base_url: str | None = None


def _associated_data(user_id: str, provider: str, destination: Destination | None, version: str) -> bytes:
    fields: dict[str, str | None] = {
        "purpose": PURPOSE,
        "provider": provider,
        "user_id": user_id,
        "v": version,
    }
    if version != _V1:
        destination = destination or Destination()
        fields |= {"api": destination.api, "base_url": destination.base_url}
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def _encryption_context(user_id: str) -> dict[str, str]:
    return {"user_id": user_id, "purpose": PURPOSE}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def seal(
    user_id: str, provider: str, plaintext: str | SecretStr, destination: Destination | None = None
) -> SealedKey:
    """Validate and encrypt a user's provider key for storage (one KMS call), bound to
    ``destination`` (the Google API or endpoint stored beside it).

    Raises ``InvalidApiKey`` (400), ``CatalogError`` for an unknown provider,
    ``KeyServiceUnavailable`` when KMS fails (503), ``KeyConfigurationError``.
    """
    check_provider(provider)
    value = validate_api_key(plaintext)
    digest = key_hash(value)  # fail on a missing HMAC secret before spending a KMS call
    try:
        data_key = _kms().generate_data_key(
            KeyId=_kms_key_id(), KeySpec="AES_256", EncryptionContext=_encryption_context(user_id)
        )
    except (BotoCoreError, ClientError) as exc:
        raise KeyServiceUnavailable("could not reach KMS to encrypt the API key") from exc
    nonce = os.urandom(_NONCE_BYTES)
    ciphertext = AESGCM(data_key["Plaintext"]).encrypt(
        nonce, value.encode(), _associated_data(user_id, provider, destination, BLOB_VERSION)
    )
    blob = ".".join((BLOB_VERSION, _b64(data_key["CiphertextBlob"]), _b64(nonce), _b64(ciphertext)))
    return SealedKey(encrypted_key=blob, key_hash=digest, last4=value[-4:])


def _unreadable(provider: str) -> SealedKeyUnreadable:
    return SealedKeyUnreadable(
        f"The stored {provider} API key could not be decrypted; store the key again "
        f"(PUT /api/keys/{provider})"
    )


def _parse_blob(encrypted_key: str, provider: str) -> tuple[bytes, bytes, bytes]:
    parts = encrypted_key.split(".")
    if len(parts) != 4 or parts[0] not in (BLOB_VERSION, _V1):
        raise _unreadable(provider)
    try:
        wrapped, nonce, ciphertext = (_unb64(p) for p in parts[1:])
    except (binascii.Error, ValueError):
        raise _unreadable(provider) from None
    if not wrapped or len(nonce) != _NONCE_BYTES or not ciphertext:
        raise _unreadable(provider)
    return wrapped, nonce, ciphertext


def _unwrap(user_id: str, provider: str, wrapped: bytes) -> bytes:
    try:
        data_key: bytes = _kms().decrypt(
            CiphertextBlob=wrapped, KeyId=_kms_key_id(), EncryptionContext=_encryption_context(user_id)
        )["Plaintext"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _UNREADABLE_KMS_ERRORS:
            raise _unreadable(provider) from None
        raise KeyServiceUnavailable("could not reach KMS to decrypt the API key") from exc
    except BotoCoreError as exc:
        raise KeyServiceUnavailable("could not reach KMS to decrypt the API key") from exc
    return data_key


def open_sealed(
    user_id: str, provider: str, encrypted_key: str, destination: Destination | None = None
) -> str:
    """Decrypt a stored key for ``user_id`` and ``provider``, sealed for ``destination`` (one KMS
    call, none while its data key is cached: see the module's docstring).

    Raises ``SealedKeyUnreadable`` when the blob is malformed, tampered with, or belongs to
    another user, provider or destination; ``KeyServiceUnavailable`` when KMS cannot be reached.
    """
    check_provider(provider)
    wrapped, nonce, ciphertext = _parse_blob(encrypted_key, provider)
    slot = (user_id, provider, hashlib.sha256(encrypted_key.encode()).hexdigest())
    data_key = _data_keys.get(slot)
    if data_key is None:
        data_key = _unwrap(user_id, provider, wrapped)
        _data_keys.put(slot, data_key)
    try:
        associated = _associated_data(user_id, provider, destination, encrypted_key.split(".", 1)[0])
        plaintext = AESGCM(data_key).decrypt(nonce, ciphertext, associated)
        return plaintext.decode()
    except (InvalidTag, ValueError):
        raise _unreadable(provider) from None


def decrypt_for_user(session: Session, user_id: str, provider: str) -> ProviderKey:
    """The user's active key for ``provider``, decrypted, with its Google API or endpoint, for the
    worker's provider call.

    Records ``last_used_at``. Raises ``Conflict`` when the user has no active key for the
    provider, ``SealedKeyUnreadable`` and ``KeyServiceUnavailable`` as :func:`open_sealed`.
    Keep the result in a local variable only: never log it, queue it or store it.
    """
    from videogen.data.repositories import api_keys  # noqa: PLC0415 (SQLAlchemy only where a session is used)

    check_provider(provider)
    stored = api_keys.use_active(session, user_id, provider)  # read and touch: one statement
    if stored is None:
        raise Conflict(
            f"No active {provider} API key; add one with PUT /api/keys/{provider}",
            {"provider": provider},
        )
    destination = Destination(stored.api, stored.base_url)
    secret = open_sealed(user_id, provider, stored.encrypted_key, destination)
    return ProviderKey(secret, api=stored.api, base_url=stored.base_url, webhook=stored.webhook)
