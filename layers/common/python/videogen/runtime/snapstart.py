"""Lambda SnapStart runtime hooks: what a snapshot must not carry, and what a restore renews.

An API function's init (import, resolver, models) is snapshotted once per published version and
restored in every new execution environment, so whatever init made is shared by all of them.
Before the snapshot: close pooled database connections, drop cached AWS clients, boto3's default
session (its resolved credentials) and secrets, so each restored copy opens its own connection
with its own IAM token and credentials; and prime what costs time on a first request but is the
same in every copy (route dependants, compiled hot statements). After a restore: re-seed
``random`` (the snapshot froze its state); ``uuid.uuid4`` and ``os.urandom`` read the kernel's
entropy at each call and need nothing.

The hooks come from ``snapshot_restore_py``, which the Lambda Python runtimes provide; outside
Lambda (local stack, tools) without it, :func:`install` registers nothing and
:func:`before_snapshot` / :func:`after_restore` can still be called directly (tests, bench).
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Callable

_lock = threading.Lock()
_primers: list[Callable[[], object]] = []
_installed = False


def on_prime(primer: Callable[[], object]) -> None:
    """Run ``primer`` before the snapshot: per-container warm-up that is safe to share."""
    with _lock:
        _primers.append(primer)


def forget_cached_connections() -> None:
    """Close the pool and drop every cached client, secret and credential (the next use makes new ones)."""
    from videogen.data import db  # noqa: PLC0415 (import cycle: db and the clients import settings)
    from videogen.runtime import aws  # noqa: PLC0415 (import cycle: db and the clients import settings)

    db.reset_engine()
    aws.reset_secrets()
    for name in (
        "videogen.keys",
        "videogen.messaging.messages",
        "videogen.storage.bucket",
        "videogen.webhooks.endpoint_secrets",
    ):
        module = sys.modules.get(name)
        reset = getattr(module, "reset_clients", None)
        if reset is not None:
            reset()
    boto3 = sys.modules.get("boto3")
    if boto3 is not None:
        boto3.DEFAULT_SESSION = None  # type: ignore[attr-defined]  # it caches the credentials it resolved


def before_snapshot() -> None:
    """Prime what every restored copy shares, then forget what each must make for itself."""
    with _lock:
        primers = list(_primers)
    for primer in primers:
        primer()
    forget_cached_connections()


def after_restore() -> None:
    """Renew per-copy state: ``random``'s seed (from ``os.urandom``), and no inherited connection."""
    random.seed()
    forget_cached_connections()


def install() -> bool:
    """Register the hooks with the Lambda runtime once per process; ``False`` where the runtime's
    ``snapshot_restore_py`` is absent (not on Lambda)."""
    global _installed  # noqa: PLW0603 (once per process)
    with _lock:
        if _installed:
            return True
        try:
            from snapshot_restore_py import (  # noqa: PLC0415 (provided by Lambda's Python runtime)
                register_after_restore,
                register_before_snapshot,
            )
        except ImportError:
            return False
        register_before_snapshot(before_snapshot)
        register_after_restore(after_restore)
        _installed = True
        return True
