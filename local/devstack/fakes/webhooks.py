"""Pushing a fake's completion webhooks: the signing keys it publishes, and the POSTs with retries.

A webhook (``Outgoing``) is its URL, its body serialised once, and its headers made afresh for
each attempt, stamped with that attempt's unix second (so signatures are made anew on every
retry). ``WebhookSender.deliver`` POSTs it with urllib, follows no redirect and uses no proxy,
and retries a connection error or a non-2xx answer ``retries`` times after ``retry_delay``,
doubling each time; every attempt is recorded (``records.Delivery``). Keys: the newest signs,
every key made so far is published at ``JWKS_PATH`` (a rotation keeps the old one listed).
"""

from __future__ import annotations

import base64
import http.client
import logging
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from devstack.fakes.records import Delivery, Records

JWKS_PATH = "/.well-known/jwks.json"
"""Where a fake that signs its webhooks publishes its public keys (no API key needed)."""
POST_TIMEOUT_SECONDS = 5.0

logger = logging.getLogger("devstack.fakes")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One webhook to deliver: ``headers(unix_seconds)`` gives the signed headers of an attempt."""

    url: str
    body: bytes
    headers: Callable[[int], dict[str, str]]


class SigningKeys(Protocol):
    """A fake's webhook signing keys."""

    def rotate(self) -> str:
        """Make a new key that signs from now on (the old ones stay published); its ``kid``."""
        ...

    def jwks(self) -> dict[str, Any]:
        """The public keys as a JWK set: ``{"keys": [...]}``, newest first."""
        ...


class RsaSigningKeys:
    """RSA-2048 keys that sign RS256 JWTs, each with a random ``kid``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: list[tuple[str, rsa.RSAPrivateKey]] = []
        self.rotate()

    def rotate(self) -> str:
        """Make a new key that signs from now on (the old ones stay published); its ``kid``."""
        kid = secrets.token_hex(8)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        with self._lock:
            self._keys.insert(0, (kid, key))
        return kid

    def jwks(self) -> dict[str, Any]:
        """``{"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid", "n", "e"}, ...]}``."""
        with self._lock:
            keys = list(self._keys)
        published = []
        for kid, key in keys:
            numbers = key.public_key().public_numbers()
            published.append(
                {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid}
                | {"n": _b64url_int(numbers.n), "e": _b64url_int(numbers.e)}
            )
        return {"keys": published}

    def jwt(self, claims: dict[str, Any]) -> str:
        """``claims`` as an RS256 JWT signed with the newest key, its ``kid`` in the header."""
        with self._lock:
            kid, key = self._keys[0]
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


class Ed25519SigningKeys:
    """Ed25519 keys, each with a random ``kid``, published as OKP JWKs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: list[tuple[str, ed25519.Ed25519PrivateKey]] = []
        self.rotate()

    def rotate(self) -> str:
        """Make a new key that signs from now on (the old ones stay published); its ``kid``."""
        kid = secrets.token_hex(8)
        with self._lock:
            self._keys.insert(0, (kid, ed25519.Ed25519PrivateKey.generate()))
        return kid

    def jwks(self) -> dict[str, Any]:
        """``{"keys": [{"kty": "OKP", "crv": "Ed25519", "x", "kid", "use": "sig"}, ...]}``, ``x``
        the 32 raw public bytes in base64url without padding."""
        with self._lock:
            keys = list(self._keys)
        published = []
        for kid, key in keys:
            raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            published.append({"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw), "kid": kid, "use": "sig"})
        return {"keys": published}

    def sign(self, message: bytes) -> bytes:
        """The newest key's signature of ``message`` (64 bytes)."""
        with self._lock:
            key = self._keys[0][1]
        return key.sign(message)


class WebhookSender:
    """Delivers webhooks with retries, recording each attempt; ``stopped`` cuts a backoff short."""

    def __init__(
        self,
        records: Records,
        *,
        retries: int,
        retry_delay: float,
        clock: Callable[[], float],
        stopped: threading.Event,
    ) -> None:
        self.records = records
        self.retries = retries
        self.retry_delay = retry_delay
        self.clock = clock
        self.stopped = stopped

    def deliver(self, message: Outgoing) -> None:
        """POST ``message`` until it is acknowledged or ``retries`` retries are spent (blocks:
        call it from a worker thread)."""
        for attempt in range(1, self.retries + 2):
            headers = message.headers(int(self.clock()))
            status = _post(message.url, message.body, headers)
            delivery = Delivery(message.url, headers, message.body, status, attempt)
            self.records.add_delivery(delivery)
            if delivery.acknowledged:
                return
            # The URL's query may hold the receiver's token: log its path only.
            where = urlsplit(message.url)._replace(query="", fragment="").geturl()
            logger.info("fake webhook to %s got %s (attempt %d)", where, status or "no answer", attempt)
            if attempt > self.retries or self.stopped.wait(self.retry_delay * 2 ** (attempt - 1)):
                return


def direct_opener() -> urllib.request.OpenerDirector:
    """http(s) with no proxy and no redirect handler: a 3xx is the server's answer, not a place
    to go next (for webhooks, not a place to POST again)."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


_OPENER = direct_opener()


def _post(url: str, body: bytes, headers: dict[str, str]) -> int | None:
    """POST and return the answer's status; ``None`` when there is no answer."""
    if urlsplit(url).scheme not in ("http", "https"):
        return None
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - http(s) only, checked above
    try:
        with _OPENER.open(request, timeout=POST_TIMEOUT_SECONDS) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return error.code
    except (OSError, http.client.HTTPException, ValueError):
        return None


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64url_int(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))
