"""A provider's published webhook signing keys (a JWKS document), fetched and cached.

Keys are trusted for ``webhook_keys_max_age_seconds`` (an hour; fal asks for at most a day),
then fetched again. A key id the cache does not know, or a signature none of its keys verifies,
fetches them again at once (a rotation), but at most once per ``REFETCH_COOLDOWN_SECONDS``, so
a flood of forged signatures cannot make us hammer the provider. A failed fetch keeps the keys
already held; with none held it raises :class:`KeysUnavailable` (the caller answers 503 and the
provider retries later). Keys are parsed by PyJWT (``PyJWK``): RSA and Ed25519 (OKP) keys, each
with the algorithm its type implies; a key of any other type in the set is skipped.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

import jwt
from jwt.exceptions import PyJWKError

from videogen.errors import ServiceUnavailable

REFETCH_COOLDOWN_SECONDS = 30.0
MAX_DOCUMENT_BYTES = 64 * 1024


class KeysUnavailable(ServiceUnavailable):
    """The provider's keys could not be fetched and none are held."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One published key: its id (``None`` when the set names none) and the parsed key."""

    kid: str | None
    key: jwt.PyJWK


@dataclass
class PublishedKeys:
    """The keys published at ``url``; ``max_age`` seconds of trust; ``clock`` monotonic seconds."""

    url: str
    max_age: float
    timeout: float = 5.0
    clock: Callable[[], float] = time.monotonic
    _keys: tuple[SigningKey, ...] = ()
    _fetched_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def current(self) -> tuple[SigningKey, ...]:
        """The keys, fetched when none are held or they are older than ``max_age``."""
        with self._lock:
            if self._fetched_at is None or self.clock() - self._fetched_at >= self.max_age:
                self._fetch()
            return self._keys

    def by_kid(self, kid: str) -> SigningKey | None:
        """The key named ``kid``; an unknown id fetches the set again (within the cooldown)."""
        found = next((k for k in self.current() if k.kid == kid), None)
        if found is None and self.refetch():
            found = next((k for k in self._keys if k.kid == kid), None)
        return found

    def refetch(self) -> bool:
        """Fetch again now unless the last fetch was under the cooldown ago; True if fetched."""
        with self._lock:
            if self._fetched_at is not None and self.clock() - self._fetched_at < REFETCH_COOLDOWN_SECONDS:
                return False
            return self._fetch()

    def _fetch(self) -> bool:
        try:
            keys = _parse(_download(self.url, self.timeout))
        except (OSError, ValueError) as exc:
            if not self._keys:
                raise KeysUnavailable(f"could not fetch the signing keys at {self.url}") from exc
            self._fetched_at = self.clock()  # keep what we hold; try again after a cooldown
            return False
        self._keys, self._fetched_at = keys, self.clock()
        return True


def _download(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"accept": "application/json"})  # noqa: S310 - https (a loopback fake locally)
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        body: bytes = response.read(MAX_DOCUMENT_BYTES + 1)
    if len(body) > MAX_DOCUMENT_BYTES:
        raise ValueError("the key set is larger than any provider publishes")
    return body


def _parse(document: bytes) -> tuple[SigningKey, ...]:
    parsed = json.loads(document)
    entries = parsed.get("keys") if isinstance(parsed, dict) else None
    if not isinstance(entries, list):
        raise ValueError("not a JWK set: no keys list")
    keys = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(entry)
        except PyJWKError:
            continue  # a key type or curve we do not verify with
        kid = entry.get("kid")
        keys.append(SigningKey(kid if isinstance(kid, str) else None, key))
    return tuple(keys)
