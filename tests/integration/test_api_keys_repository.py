"""API keys repository: only sealed keys and HMACs are stored, one per user and provider."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from videogen.data.db import session_scope
from videogen.data.repositories import api_keys
from videogen.errors import NotFound


def _store(user_id: str = "user-a", provider: str = "openai", suffix: str = "1") -> object:
    with session_scope() as s:
        return api_keys.store(
            s,
            user_id,
            provider,
            encrypted_key=f"sealed-{suffix}",
            key_hash=f"hmac-{suffix}",
            last4=f"abc{suffix}",
            api="vertex" if provider == "veo" else None,
        )


def test_store_then_get():
    _store()

    with session_scope() as s:
        key = api_keys.get(s, "user-a", "openai")

    assert key is not None
    assert (key.encrypted_key, key.key_hash, key.last4, key.is_active) == ("sealed-1", "hmac-1", "abc1", True)


def test_store_again_replaces_and_reactivates():
    _store(suffix="1")
    with session_scope() as s:
        api_keys.deactivate(s, "user-a", "openai")

    _store(suffix="2")

    with session_scope() as s:
        keys = api_keys.list_for_user(s, "user-a")
    assert len(keys) == 1
    assert (keys[0].key_hash, keys[0].last4, keys[0].is_active) == ("hmac-2", "abc2", True)
    assert keys[0].last_used_at is not None


def test_deactivated_key_is_not_active():
    _store()
    with session_scope() as s:
        row = api_keys.deactivate(s, "user-a", "openai")
        assert (row.is_active, row.encrypted_key, row.key_hash) == (False, None, None)
        assert api_keys.use_active(s, "user-a", "openai") is None
        assert api_keys.get(s, "user-a", "openai") is not None


def test_deactivate_missing_key_is_not_found_and_other_users_keys_untouched():
    _store("owner")

    with session_scope() as s, pytest.raises(NotFound):
        api_keys.deactivate(s, "intruder", "openai")
    with session_scope() as s:
        owners = api_keys.get(s, "owner", "openai")
        assert owners is not None
        assert owners.is_active
        assert api_keys.list_for_user(s, "intruder") == []


def test_using_the_active_key_returns_its_sealed_blob_and_records_the_time():
    _store()
    with session_scope() as s:
        key = api_keys.get(s, "user-a", "openai")
        assert key is not None
        assert key.last_used_at is None
        assert api_keys.use_active(s, "user-a", "openai") == (key.encrypted_key, None, None, False)
        assert api_keys.use_active(s, "user-a", "veo") is None
    with session_scope() as s:
        key = api_keys.get(s, "user-a", "openai")
    assert key is not None
    assert key.last_used_at is not None


def test_a_removed_key_is_not_used():
    _store()
    with session_scope() as s:
        api_keys.deactivate(s, "user-a", "openai")
    with session_scope() as s:
        assert api_keys.use_active(s, "user-a", "openai") is None


def test_one_key_per_user_and_provider_and_known_providers_only():
    _store("user-a", "openai")
    _store("user-a", "veo")
    with session_scope() as s:
        assert [k.provider for k in api_keys.list_for_user(s, "user-a")] == ["openai", "veo"]

    with pytest.raises(IntegrityError):
        _store("user-a", "runway")
