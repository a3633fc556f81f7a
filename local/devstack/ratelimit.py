"""The per-caller rate limit of the deployed edge (AWS WAF), emulated in the local gateway.

Deployed, WAF rate-based rules count each caller's requests (by Authorization token, by IP
without one) and answer 429 ``{"error": ...}`` with ``Retry-After``. Locally the caller is the
``X-Dev-User`` header (the token's stand-in), else the client IP, and a token bucket per caller
does the counting: ``per_minute`` requests a minute, in bursts of up to that many. The local
knob is ``RATE_LIMIT_PER_MINUTE`` (``make dev``), generous by default so tests and a person
clicking around never meet it; 0 turns it off.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_PER_MINUTE = 6000
ERROR_BODY = {"error": "Too many requests: slow down and retry after the number of seconds in Retry-After"}


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    """Token buckets by caller key; ``clock`` is injectable (tests), monotonic seconds by default."""

    per_minute: int = DEFAULT_PER_MINUTE
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    def retry_after(self, caller: str) -> int | None:
        """Spend one request of ``caller``'s; ``None`` when allowed, else whole seconds to wait."""
        if not self.enabled:
            return None
        rate = self.per_minute / 60.0
        now = self.clock()
        with self._lock:
            bucket = self._buckets.setdefault(caller, _Bucket(float(self.per_minute), now))
            bucket.tokens = min(float(self.per_minute), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return max(1, math.ceil((1.0 - bucket.tokens) / rate))


def caller_key(dev_user: str | None, source_ip: str) -> str:
    """Who is counted: the signed-in caller (``X-Dev-User``), else the IP, as the WAF rules do."""
    user = (dev_user or "").strip()
    return f"user:{user}" if user else f"ip:{source_ip}"


def too_many_requests(retry_after: int) -> tuple[int, dict[str, str], bytes]:
    """The edge's 429: status, headers and JSON body."""
    body = json.dumps(ERROR_BODY, separators=(",", ":")).encode()
    return 429, {"content-type": "application/json", "retry-after": str(retry_after)}, body
