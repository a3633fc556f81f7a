"""An OpenAI-compatible endpoint's webhook secret: what a pasted one must look like, and how long
the webhook function trusts one it read (a clock the test moves, no Secrets Manager)."""

from __future__ import annotations

import base64
import uuid

import pytest
from pydantic import SecretStr

from videogen.webhooks.endpoint_secrets import (
    CACHE_SECONDS,
    REFETCH_COOLDOWN_SECONDS,
    InvalidWebhookSecret,
    _Cached,
    validate,
)

GOOD = "whsec_" + base64.b64encode(bytes(range(32))).decode()


def test_a_standard_webhooks_secret_is_taken_whole():
    assert validate(SecretStr(GOOD)) == GOOD
    assert validate(SecretStr(f"  {GOOD}\n")) == GOOD  # pasted with a trailing newline
    unpadded = "whsec_" + base64.b64encode(bytes(30)).decode().rstrip("=")
    assert validate(SecretStr(unpadded)) == unpadded


@pytest.mark.parametrize(
    ("pasted", "why"),
    [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "must start with whsec_"),
        ("whsec_not base64!", "followed by base64"),
        ("whsec_" + base64.b64encode(bytes(16)).decode(), "24 to 128 bytes (got 16)"),
        ("whsec_" + base64.b64encode(bytes(200)).decode(), "24 to 128 bytes (got 200)"),
    ],
)
def test_anything_else_is_refused_naming_the_field_and_never_quoting_it(pasted: str, why: str):
    with pytest.raises(InvalidWebhookSecret) as refused:
        validate(SecretStr(pasted))
    assert why in refused.value.message
    assert pasted not in str(refused.value.details)
    assert "body.webhookSecret" in str(refused.value.details)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_secret_is_read_once_a_minute_and_again_after_a_miss_only_past_the_cooldown():
    reads: list[uuid.UUID] = []
    stored = {"value": "whsec_first"}
    clock = Clock()

    def fetch(key: uuid.UUID) -> str:
        reads.append(key)
        return stored["value"]

    cache = _Cached(fetch, clock)
    key = uuid.uuid4()

    assert cache.read(key) == "whsec_first"
    stored["value"] = "whsec_second"  # the user pasted a new one
    assert cache.read(key) == "whsec_first"
    # A signature that does not verify asks again, but not within the cooldown of the last read
    assert cache.read(key, again=True) == "whsec_first"
    clock.now += REFETCH_COOLDOWN_SECONDS + 1
    assert cache.read(key, again=True) == "whsec_second"
    assert len(reads) == 2
    # And held past its minute it is read again whatever happened
    clock.now += CACHE_SECONDS + 1
    stored["value"] = "whsec_third"
    assert cache.read(key) == "whsec_third"
    assert len(reads) == 3


def test_a_key_without_a_secret_is_remembered_as_none_for_as_long():
    clock = Clock()
    cache = _Cached(lambda key: None, clock)
    key = uuid.uuid4()
    assert cache.read(key) is None
    cache.fetch = lambda key: "whsec_now"
    assert cache.read(key) is None
    cache.forget(key)  # the keys function stored one in this container
    assert cache.read(key) == "whsec_now"
