"""Provider API keys: all SQL for ``user_api_keys``. Only sealed keys and HMACs are stored, and
only while a key is active: removing one wipes both."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from videogen.data.models import UserApiKey
from videogen.errors import NotFound


def store(
    session: Session,
    user_id: str,
    provider: str,
    *,
    encrypted_key: str,
    key_hash: str,
    last4: str,
    api: str | None = None,
    base_url: str | None = None,
    verified_at: datetime | None = None,
    webhook_secret_at: datetime | None = None,
) -> UserApiKey:
    """Insert or replace the user's key for ``provider`` (one per user and provider), with the
    Google API or endpoint it was sealed for, when the provider accepted it (``None``: saved
    unverified) and when its webhook secret was saved (``None``: none).

    Replacing reactivates the key and refreshes everything stored with it and ``last_used_at``.
    """
    new_row = insert(UserApiKey).values(
        id=uuid.uuid4(),
        user_id=user_id,
        provider=provider,
        encrypted_key=encrypted_key,
        key_hash=key_hash,
        last4=last4,
        is_active=True,
        api=api,
        base_url=base_url,
        verified_at=verified_at,
        webhook_secret_at=webhook_secret_at,
    )
    excluded = new_row.excluded
    stmt = new_row.on_conflict_do_update(
        index_elements=[UserApiKey.user_id, UserApiKey.provider],
        set_={
            "encrypted_key": excluded.encrypted_key,
            "key_hash": excluded.key_hash,
            "last4": excluded.last4,
            "api": excluded.api,
            "base_url": excluded.base_url,
            "verified_at": excluded.verified_at,
            "webhook_secret_at": excluded.webhook_secret_at,
            "is_active": True,
            "last_used_at": func.now(),
        },
    ).returning(UserApiKey)
    return session.execute(stmt.execution_options(populate_existing=True)).scalar_one()


def get(session: Session, user_id: str, provider: str) -> UserApiKey | None:
    """The user's key row for ``provider``, active or not."""
    return session.execute(
        select(UserApiKey).where(UserApiKey.user_id == user_id, UserApiKey.provider == provider)
    ).scalar_one_or_none()


class StoredKey(NamedTuple):
    """An active key as the worker opens it: the sealed blob, what it was sealed for, and whether
    its endpoint pushes a registered webhook."""

    encrypted_key: str
    api: str | None
    base_url: str | None
    webhook: bool = False


def use_active(session: Session, user_id: str, provider: str) -> StoredKey | None:
    """The user's active key for ``provider`` (sealed), its ``last_used_at`` recorded in the same
    statement; ``None`` when they have none (or it was wiped)."""
    row = session.execute(
        update(UserApiKey)
        .where(
            UserApiKey.user_id == user_id,
            UserApiKey.provider == provider,
            UserApiKey.is_active,
            UserApiKey.encrypted_key.is_not(None),
        )
        .values(last_used_at=func.now())
        .returning(
            UserApiKey.encrypted_key, UserApiKey.api, UserApiKey.base_url, UserApiKey.webhook_secret_at
        )
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if row is None:
        return None
    return StoredKey(row.encrypted_key, row.api, row.base_url, row.webhook_secret_at is not None)


def list_for_user(session: Session, user_id: str) -> list[UserApiKey]:
    """All of the user's keys, by provider."""
    return list(
        session.execute(
            select(UserApiKey).where(UserApiKey.user_id == user_id).order_by(UserApiKey.provider)
        ).scalars()
    )


def deactivate(session: Session, user_id: str, provider: str) -> UserApiKey:
    """Deactivate the user's key for ``provider`` and wipe its sealed key and HMAC, so the row
    keeps nothing decryptable (only ``last4`` to show it); ``NotFound`` if they have none."""
    row = session.execute(
        update(UserApiKey)
        .where(UserApiKey.user_id == user_id, UserApiKey.provider == provider)
        .values(is_active=False, encrypted_key=None, key_hash=None, verified_at=None, webhook_secret_at=None)
        .returning(UserApiKey)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("No API key stored for this provider", {"provider": provider})
    return row


def owner_of_webhook(session: Session, key_id: uuid.UUID) -> str | None:
    """The user whose active openai key ``key_id`` is (a registered webhook names its key);
    ``None`` when there is none, or it was removed."""
    return session.execute(
        select(UserApiKey.user_id).where(
            UserApiKey.id == key_id, UserApiKey.provider == "openai", UserApiKey.is_active
        )
    ).scalar_one_or_none()
