"""Provider API keys sealed with KMS (moto) + AES-GCM, and opened for the worker (PostgreSQL)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
from moto import mock_aws
from pydantic import SecretStr

from tests.integration.generation_support import store_key
from videogen import key_cache, keys
from videogen.data.db import session_scope
from videogen.data.repositories import api_keys
from videogen.errors import Conflict, InvalidInput
from videogen.keys import (
    InvalidApiKey,
    KeyConfigurationError,
    KeyServiceUnavailable,
    SealedKeyUnreadable,
    key_hash,
    open_sealed,
    seal,
)
from videogen.runtime.config import get_settings

PLAINTEXT = "sk-test-Zx81pQ7vLm3Nc2Rt9Wd4"
HMAC_SECRET = "keys-test-hmac-secret-0123456789"


@dataclass
class Kms:
    key_id: str
    monkeypatch: pytest.MonkeyPatch

    def configure(self, **env: str | None) -> None:
        """Change settings for the rest of the test."""
        for name, value in env.items():
            if value is None:
                self.monkeypatch.delenv(name, raising=False)
            else:
                self.monkeypatch.setenv(name, value)
        _forget_settings()


def _forget_settings() -> None:
    get_settings.cache_clear()
    keys.reset_clients()


@pytest.fixture
def kms(monkeypatch: pytest.MonkeyPatch) -> Iterator[Kms]:
    """Moto KMS with one symmetric key, configured as the API-key encryption key."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("API_KEY_HMAC_SECRET_ARN", raising=False)
    monkeypatch.setenv("API_KEY_HMAC_SECRET", HMAC_SECRET)
    with mock_aws():
        key_id = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["KeyId"]
        monkeypatch.setenv("API_KEYS_KMS_KEY_ID", key_id)
        _forget_settings()
        yield Kms(key_id, monkeypatch)
    _forget_settings()


def _tamper(blob: str, part: int) -> str:
    parts = blob.split(".")
    raw = bytearray(base64.urlsafe_b64decode(parts[part] + "=" * (-len(parts[part]) % 4)))
    raw[len(raw) // 2] ^= 0x01
    parts[part] = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    return ".".join(parts)


# --- seal / open ------------------------------------------------------------------------------


def test_a_sealed_key_opens_for_its_user_and_provider(kms: Kms) -> None:
    sealed = seal("user-a", "openai", PLAINTEXT)

    assert open_sealed("user-a", "openai", sealed.encrypted_key) == PLAINTEXT
    assert sealed.last4 == "9Wd4"
    assert sealed.encrypted_key.startswith("v2.")
    assert len(sealed.encrypted_key.split(".")) == 4


def test_the_stored_blob_and_summary_reveal_nothing_of_the_key(kms: Kms) -> None:
    sealed = seal("user-a", "openai", PLAINTEXT)

    stored = f"{sealed.encrypted_key} {sealed.key_hash} {sealed!r}"
    assert PLAINTEXT not in stored
    assert base64.urlsafe_b64encode(PLAINTEXT.encode()).decode().rstrip("=") not in stored
    assert PLAINTEXT[:-4] not in stored


def test_each_seal_uses_a_fresh_data_key_and_nonce(kms: Kms) -> None:
    first = seal("user-a", "veo", PLAINTEXT)
    second = seal("user-a", "veo", PLAINTEXT)

    assert first.encrypted_key != second.encrypted_key
    assert first.encrypted_key.split(".")[2] != second.encrypted_key.split(".")[2]
    assert first.key_hash == second.key_hash  # dedup still works


def test_a_row_copied_to_another_user_does_not_decrypt(kms: Kms) -> None:
    sealed = seal("user-a", "openai", PLAINTEXT)

    with pytest.raises(SealedKeyUnreadable) as caught:
        open_sealed("user-b", "openai", sealed.encrypted_key)

    assert "store the key again" in caught.value.message
    assert PLAINTEXT not in str(caught.value)


def test_a_key_sealed_for_one_provider_does_not_open_for_the_other(kms: Kms) -> None:
    # KMS's encryption context names only the user: this is the AES-GCM associated data at work.
    sealed = seal("user-a", "openai", PLAINTEXT)

    with pytest.raises(SealedKeyUnreadable):
        open_sealed("user-a", "veo", sealed.encrypted_key)


@pytest.mark.parametrize(("part", "what"), [(1, "wrapped data key"), (2, "nonce"), (3, "ciphertext")])
def test_a_tampered_blob_fails_to_decrypt(kms: Kms, part: int, what: str) -> None:
    sealed = seal("user-a", "openai", PLAINTEXT)

    with pytest.raises(SealedKeyUnreadable):
        open_sealed("user-a", "openai", _tamper(sealed.encrypted_key, part))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda b: b.replace("v2.", "v3.", 1),
        lambda b: b.rsplit(".", 1)[0],
        lambda b: b + ".extra",
        lambda b: b[:-6],
        lambda b: b.replace(".", ".!", 1),
        lambda b: "",
        lambda b: "v2...",
    ],
)
def test_a_malformed_blob_fails_cleanly(kms: Kms, mangle) -> None:
    sealed = seal("user-a", "openai", PLAINTEXT)

    with pytest.raises(SealedKeyUnreadable):
        open_sealed("user-a", "openai", mangle(sealed.encrypted_key))


def test_a_key_opens_only_for_the_destination_it_was_sealed_for(kms: Kms) -> None:
    # An edited row that would send the key to another endpoint (or Google API) no longer opens.
    gateway = keys.Destination(base_url="https://gateway.example.com/v1")
    sealed = seal("user-a", "openai", PLAINTEXT, gateway)

    assert open_sealed("user-a", "openai", sealed.encrypted_key, gateway) == PLAINTEXT
    with pytest.raises(SealedKeyUnreadable):
        open_sealed(
            "user-a", "openai", sealed.encrypted_key, keys.Destination(base_url="https://evil.example/v1")
        )
    with pytest.raises(SealedKeyUnreadable):
        open_sealed("user-a", "openai", sealed.encrypted_key)
    vertex = seal("user-a", "veo", PLAINTEXT, keys.Destination(api="vertex"))
    with pytest.raises(SealedKeyUnreadable):
        open_sealed("user-a", "veo", vertex.encrypted_key, keys.Destination(api="gemini"))


def test_a_key_sealed_before_keys_had_a_destination_still_opens(kms: Kms, monkeypatch) -> None:
    monkeypatch.setattr(keys, "BLOB_VERSION", "v1")
    old = seal("user-a", "veo", PLAINTEXT)
    monkeypatch.undo()

    assert old.encrypted_key.startswith("v1.")
    assert open_sealed("user-a", "veo", old.encrypted_key, keys.Destination(api="vertex")) == PLAINTEXT


def test_seal_accepts_a_secret_str(kms: Kms) -> None:
    sealed = seal("user-a", "veo", SecretStr(PLAINTEXT))

    assert open_sealed("user-a", "veo", sealed.encrypted_key) == PLAINTEXT


def test_an_unknown_provider_is_refused(kms: Kms) -> None:
    with pytest.raises(ValueError, match="unknown provider"):
        seal("user-a", "runway", PLAINTEXT)


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("candidate", "reason"),
    [
        ("", "empty"),
        ("sk-1234", "8 to 512"),
        ("sk-" + "x" * 510, "8 to 512"),
        ("sk-abc def-1234", "spaces"),
        (PLAINTEXT + "\n", "line breaks"),
        ("\t" + PLAINTEXT, "tabs"),
        ("sk-abc\x00def-1234", "control"),
        ("sk-abc\x7fdef-1234", "control"),
        ("sk-abcdéf-1234", "ASCII"),
        ("sk-abc\u200bdef-1234", "ASCII"),
    ],
)
def test_an_implausible_key_is_refused_without_echoing_it(kms: Kms, candidate: str, reason: str) -> None:
    with pytest.raises(InvalidApiKey) as caught:
        seal("user-a", "openai", candidate)

    error = caught.value
    assert reason in error.message
    assert isinstance(error, ValueError)
    assert isinstance(error, InvalidInput)
    assert error.details == [{"field": "body.apiKey", "message": error.message, "type": "api_key_invalid"}]
    if candidate.strip():
        assert candidate.strip() not in f"{error} {error!r} {error.details}"


def test_keys_at_the_length_limits_are_accepted(kms: Kms) -> None:
    for candidate in ("12345678", "k" * 512):
        assert open_sealed("user-a", "openai", seal("user-a", "openai", candidate).encrypted_key) == candidate


# --- the keyed hash ---------------------------------------------------------------------------


def test_key_hash_is_a_keyed_hmac_not_a_bare_hash(kms: Kms) -> None:
    sealed = seal("user-a", "openai", PLAINTEXT)

    assert sealed.key_hash != hashlib.sha256(PLAINTEXT.encode()).hexdigest()
    assert sealed.key_hash == hmac.new(HMAC_SECRET.encode(), PLAINTEXT.encode(), hashlib.sha256).hexdigest()
    assert key_hash(SecretStr(PLAINTEXT)) == sealed.key_hash
    assert key_hash(PLAINTEXT + "x") != sealed.key_hash


def test_key_hash_changes_with_the_secret(kms: Kms) -> None:
    before = seal("user-a", "openai", PLAINTEXT).key_hash

    kms.configure(API_KEY_HMAC_SECRET="another-secret-of-sufficient-length")

    assert seal("user-a", "openai", PLAINTEXT).key_hash != before
    assert key_hash(PLAINTEXT) != before


def test_hmac_secret_is_fetched_once_from_secrets_manager(kms: Kms) -> None:
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    secret = "from-secrets-manager-0123456789"
    arn = sm.create_secret(Name="videogen/api-key-hmac", SecretString=secret)["ARN"]
    kms.configure(API_KEY_HMAC_SECRET=None, API_KEY_HMAC_SECRET_ARN=arn)

    first = keys.key_hash(PLAINTEXT)
    sm.put_secret_value(SecretId=arn, SecretString="rotated-but-not-yet-picked-up-0123")
    second = keys.key_hash(PLAINTEXT)

    expected = hmac.new(secret.encode(), PLAINTEXT.encode(), hashlib.sha256).hexdigest()
    assert first == second == expected


def test_hmac_secret_out_of_reach_is_a_retryable_unavailability(kms: Kms) -> None:
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:videogen/gone-AbCdEf"
    kms.configure(API_KEY_HMAC_SECRET=None, API_KEY_HMAC_SECRET_ARN=missing)

    with pytest.raises(KeyServiceUnavailable, match="HMAC secret"):
        seal("user-a", "openai", PLAINTEXT)


def test_missing_configuration_is_reported_before_anything_is_stored(kms: Kms) -> None:
    kms.configure(API_KEY_HMAC_SECRET=None, API_KEY_HMAC_SECRET_ARN=None)
    with pytest.raises(KeyConfigurationError, match="API_KEY_HMAC_SECRET"):
        seal("user-a", "openai", PLAINTEXT)

    kms.configure(API_KEY_HMAC_SECRET="short")
    with pytest.raises(KeyConfigurationError, match="at least 16"):
        seal("user-a", "openai", PLAINTEXT)

    kms.configure(API_KEY_HMAC_SECRET=HMAC_SECRET, API_KEYS_KMS_KEY_ID=None)
    with pytest.raises(KeyConfigurationError, match="API_KEYS_KMS_KEY_ID"):
        seal("user-a", "openai", PLAINTEXT)


def test_kms_out_of_reach_is_a_retryable_unavailability(kms: Kms) -> None:
    sealed = seal("user-a", "openai", PLAINTEXT)
    kms.configure(AWS_ENDPOINT_URL_KMS="http://127.0.0.1:1")  # nothing listens there

    with pytest.raises(KeyServiceUnavailable):
        seal("user-a", "openai", PLAINTEXT)
    with pytest.raises(KeyServiceUnavailable):
        open_sealed("user-a", "openai", sealed.encrypted_key)


# --- the worker's view: decrypt_for_user ------------------------------------------------------


def test_worker_gets_the_users_key_and_its_use_is_recorded(kms: Kms) -> None:
    store_key("user-a", "veo", PLAINTEXT)
    with session_scope() as s:
        assert api_keys.get(s, "user-a", "veo").last_used_at is None  # type: ignore[union-attr]

    with session_scope() as s:
        key = keys.decrypt_for_user(s, "user-a", "veo")

    assert (key.secret, key.api, key.base_url) == (PLAINTEXT, "vertex", None)
    assert PLAINTEXT not in repr(key)
    with session_scope() as s:
        assert api_keys.get(s, "user-a", "veo").last_used_at is not None  # type: ignore[union-attr]


def test_worker_without_an_active_key_gets_a_conflict_saying_how_to_add_one(kms: Kms) -> None:
    store_key("user-a", "openai", PLAINTEXT)
    with session_scope() as s:
        api_keys.deactivate(s, "user-a", "openai")

    for user_id, provider in (("user-a", "openai"), ("user-a", "veo"), ("user-b", "openai")):
        with session_scope() as s, pytest.raises(Conflict) as caught:
            keys.decrypt_for_user(s, user_id, provider)
        assert f"PUT /api/keys/{provider}" in caught.value.message


def test_a_key_row_moved_to_another_user_is_unreadable_for_the_worker(kms: Kms) -> None:
    sealed = seal("user-a", "openai", PLAINTEXT)
    with session_scope() as s:
        api_keys.store(
            s,
            "user-b",
            "openai",
            encrypted_key=sealed.encrypted_key,
            key_hash=sealed.key_hash,
            last4=sealed.last4,
        )

    # as the worker's step does: the refusal leaves its transaction, which rolls back the use
    with pytest.raises(SealedKeyUnreadable), session_scope() as s:
        keys.decrypt_for_user(s, "user-b", "openai")
    with session_scope() as s:
        assert api_keys.get(s, "user-b", "openai").last_used_at is None  # type: ignore[union-attr]


def test_sealing_and_using_a_key_never_logs_it(kms: Kms, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    store_key("user-a", "openai", PLAINTEXT)
    with session_scope() as s:
        keys.decrypt_for_user(s, "user-a", "openai")
    with pytest.raises(InvalidApiKey):
        seal("user-a", "openai", PLAINTEXT + " ")
    with pytest.raises(SealedKeyUnreadable):
        open_sealed("user-b", "openai", seal("user-a", "openai", PLAINTEXT).encrypted_key)

    assert caplog.records  # botocore and SQLAlchemy did log at DEBUG
    for record in caplog.records:
        assert PLAINTEXT not in record.getMessage()
    assert PLAINTEXT not in caplog.text


# --- the worker's cache of unwrapped data keys ------------------------------------------------


def kms_decrypts() -> list[str]:
    """A list that grows by one for every KMS Decrypt the layer's client sends from now on."""
    calls: list[str] = []
    keys._kms().meta.events.register("before-call.kms.Decrypt", lambda **_: calls.append("Decrypt"))
    return calls


def test_a_jobs_steps_unwrap_the_same_stored_key_through_kms_once(kms: Kms) -> None:
    store_key("user-a", "openai", PLAINTEXT)
    decrypts = kms_decrypts()

    for _ in range(5):  # a submit and its polls
        with session_scope() as s:
            assert keys.decrypt_for_user(s, "user-a", "openai").secret == PLAINTEXT

    assert decrypts == ["Decrypt"]


def test_a_replaced_key_is_never_served_from_the_cache(kms: Kms) -> None:
    store_key("user-a", "openai", PLAINTEXT)
    with session_scope() as s:
        keys.decrypt_for_user(s, "user-a", "openai")

    store_key("user-a", "openai", "sk-test-replacement-0000wxyz")

    with session_scope() as s:
        assert keys.decrypt_for_user(s, "user-a", "openai").secret == "sk-test-replacement-0000wxyz"


def test_a_removed_key_is_refused_though_its_data_key_was_cached(kms: Kms) -> None:
    store_key("user-a", "openai", PLAINTEXT)
    with session_scope() as s:
        keys.decrypt_for_user(s, "user-a", "openai")
        api_keys.deactivate(s, "user-a", "openai")

    with session_scope() as s, pytest.raises(Conflict):
        keys.decrypt_for_user(s, "user-a", "openai")


def test_a_cached_data_key_expires_and_is_never_shown() -> None:
    now = [0.0]
    cache = key_cache.DataKeyCache(clock=lambda: now[0])
    slot = ("user-a", "openai", "digest")
    cache.put(slot, b"k" * 32)

    assert cache.get(slot) == b"k" * 32
    assert "k" * 8 not in repr(cache)
    now[0] = key_cache.DATA_KEY_TTL_SECONDS
    assert cache.get(slot) is None
