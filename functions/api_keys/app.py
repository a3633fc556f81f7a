"""/api/keys: store (sealed with KMS envelope encryption), list, deactivate provider API keys.

The plaintext key is never echoed, logged or queued: it lives in a SecretStr until sealed.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from videogen import keys
from videogen.catalog import Provider
from videogen.db import session_scope
from videogen.http import api_handler, current_user, make_resolver, metrics
from videogen.repositories import api_keys
from videogen.schemas import ApiKeyDeleted, ApiKeyList, ApiKeyPut, ApiKeySummary

app = make_resolver()


@app.put("/api/keys/<provider>")
def put_key(provider: Provider, body: Annotated[ApiKeyPut, Body()]) -> ApiKeySummary:
    user_id = current_user(app)
    sealed = keys.seal(user_id, provider, body.api_key)
    with session_scope(autocommit=True) as s:  # one statement
        row = api_keys.store(
            s,
            user_id,
            provider,
            encrypted_key=sealed.encrypted_key,
            key_hash=sealed.key_hash,
            last4=sealed.last4,
        )
    metrics.add_metric(name="ApiKeysStored", unit="Count", value=1)
    return ApiKeySummary.model_validate(row)


@app.get("/api/keys")
def list_keys() -> ApiKeyList:
    user_id = current_user(app)
    with session_scope(autocommit=True) as s:
        rows = api_keys.list_for_user(s, user_id)
    return ApiKeyList(keys=[ApiKeySummary.model_validate(r) for r in rows])


@app.delete("/api/keys/<provider>")
def delete_key(provider: Provider) -> ApiKeyDeleted:
    user_id = current_user(app)
    with session_scope(autocommit=True) as s:  # one statement
        api_keys.deactivate(s, user_id, provider)
    return ApiKeyDeleted(provider=provider)


lambda_handler = api_handler(app)
