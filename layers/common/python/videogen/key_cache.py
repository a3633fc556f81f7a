"""Unwrapped data keys in one container's memory, for a short while (see :mod:`videogen.keys`).

A job's submit and each of its polls open the same stored key; caching its KMS-unwrapped data key
for ``DATA_KEY_TTL_SECONDS`` spares a KMS call per poll. Never logged (no repr of the keys).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

DATA_KEY_TTL_SECONDS = 300.0
DATA_KEY_CACHE_SIZE = 256


class DataKeyCache:
    """Unwrapped data keys by (user, provider, blob digest), each for ``DATA_KEY_TTL_SECONDS``."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._keys: OrderedDict[tuple[str, str, str], tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<{len(self._keys)} data keys>"

    def get(self, slot: tuple[str, str, str]) -> bytes | None:
        with self._lock:
            found = self._keys.get(slot)
            if found is None:
                return None
            if self._clock() >= found[0]:
                del self._keys[slot]
                return None
            self._keys.move_to_end(slot)
            return found[1]

    def put(self, slot: tuple[str, str, str], data_key: bytes) -> None:
        with self._lock:
            self._keys[slot] = (self._clock() + DATA_KEY_TTL_SECONDS, data_key)
            self._keys.move_to_end(slot)
            while len(self._keys) > DATA_KEY_CACHE_SIZE:
                self._keys.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()


__all__ = ["DATA_KEY_CACHE_SIZE", "DATA_KEY_TTL_SECONDS", "DataKeyCache"]
