"""Provider API keys: all SQL for ``user_api_keys``. Only sealed keys and HMACs are stored, and
only while a key is active: removing one wipes both."""

from __future__ import annotations

import uuid

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
) -> UserApiKey:
    """Insert or replace the user's key for ``provider`` (one per user and provider).

    Replacing reactivates the key and refreshes its hash, last4 and ``last_used_at``.
    """
    new_row = insert(UserApiKey).values(
        id=uuid.uuid4(),
        user_id=user_id,
        provider=provider,
        encrypted_key=encrypted_key,
        key_hash=key_hash,
        last4=last4,
        is_active=True,
    )
    stmt = new_row.on_conflict_do_update(
        index_elements=[UserApiKey.user_id, UserApiKey.provider],
        set_={
            "encrypted_key": new_row.excluded.encrypted_key,
            "key_hash": new_row.excluded.key_hash,
            "last4": new_row.excluded.last4,
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


def use_active(session: Session, user_id: str, provider: str) -> str | None:
    """The sealed key of the user's active key for ``provider``, its ``last_used_at`` recorded in
    the same statement; ``None`` when they have none (or it was wiped)."""
    return session.execute(
        update(UserApiKey)
        .where(
            UserApiKey.user_id == user_id,
            UserApiKey.provider == provider,
            UserApiKey.is_active,
            UserApiKey.encrypted_key.is_not(None),
        )
        .values(last_used_at=func.now())
        .returning(UserApiKey.encrypted_key)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()


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
        .values(is_active=False, encrypted_key=None, key_hash=None)
        .returning(UserApiKey)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("No API key stored for this provider", {"provider": provider})
    return row
