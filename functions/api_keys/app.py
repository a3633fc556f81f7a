"""/api/keys: store (sealed with KMS envelope encryption), list, deactivate provider API keys.

The plaintext key is never echoed, logged or queued: it lives in a SecretStr until sealed.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from videogen import keys
from videogen.api import contract
from videogen.api.resolver import api_handler, current_user, make_resolver
from videogen.api.schemas.keys import ApiKeyDeleted, ApiKeyList, ApiKeyPut, ApiKeySummary
from videogen.catalog import Provider
from videogen.data.db import session_scope
from videogen.data.repositories import api_keys
from videogen.runtime.observability import metrics

app = make_resolver()
TAGS = ["keys"]
ProviderName = Annotated[Provider, Path(description="The video provider the key is for")]


@app.put(
    "/api/keys/<provider>",
    **contract.operation(
        "putApiKey",
        "Store the caller's key for a provider",
        (200, "The stored key's summary."),
        tags=TAGS,
        description="Seals the key with KMS envelope encryption and replaces any earlier one. The key "
        "is never answered, logged or queued: only its last four characters are kept in the clear.",
        body=True,
        links=contract.links({"DeleteApiKey": "deleteApiKey"}, "provider", "$request.path.provider"),
    ),
)
def put_key(provider: ProviderName, body: Annotated[ApiKeyPut, Body()]) -> ApiKeySummary:
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


@app.get(
    "/api/keys",
    **contract.operation(
        "listApiKeys",
        "List the caller's stored keys",
        (200, "One summary per provider with a stored key."),
        tags=TAGS,
    ),
)
def list_keys() -> ApiKeyList:
    user_id = current_user(app)
    with session_scope(autocommit=True) as s:
        rows = api_keys.list_for_user(s, user_id)
    return ApiKeyList(keys=[ApiKeySummary.model_validate(r) for r in rows])


@app.delete(
    "/api/keys/<provider>",
    **contract.operation(
        "deleteApiKey",
        "Deactivate the caller's key for a provider",
        (200, "Deactivated: generation with this provider answers 409 until a key is stored again."),
        tags=TAGS,
        errors={
            404: (
                "The caller has no key stored for this provider.",
                {"error": "No API key stored for this provider", "details": {"provider": "veo"}},
            )
        },
    ),
)
def delete_key(provider: ProviderName) -> ApiKeyDeleted:
    user_id = current_user(app)
    with session_scope(autocommit=True) as s:  # one statement
        api_keys.deactivate(s, user_id, provider)
    return ApiKeyDeleted(provider=provider)


lambda_handler = api_handler(app)
