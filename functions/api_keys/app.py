"""/api/keys: check, store (sealed with KMS envelope encryption), list, deactivate provider API keys.

A key being saved is checked first: where it may be used (a veo key's Google API, an openai key's
endpoint, which the egress guard must allow), then one cheap authenticated read at the provider
(:mod:`videogen.providers.key_check`). A rejected key answers 400 quoting the provider and
stores nothing; a provider out of reach stores the key unverified. The plaintext key is never
echoed, logged or queued: it lives in a SecretStr until sealed.

An openai key's summary carries the webhook URL to register at its endpoint; saved with the
endpoint's ``whsec_`` secret, the key's row records that one is kept and the secret goes to
Secrets Manager in the same unit of work (``videogen.webhooks.endpoint_secrets``: refused
there, nothing is stored); saved without one, or removed, the secret is deleted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from videogen import keys
from videogen.api import contract
from videogen.api.resolver import api_handler, current_user, make_resolver
from videogen.api.schemas.keys import ApiKeyDeleted, ApiKeyList, ApiKeyPut, ApiKeySummary
from videogen.catalog import Provider
from videogen.data.db import session_scope
from videogen.data.models import UserApiKey
from videogen.data.repositories import api_keys
from videogen.errors import InvalidInput, field_errors
from videogen.providers import PermanentProviderError, ProviderKey
from videogen.providers.key_check import EndpointNotAllowed, destination_for, verify
from videogen.runtime.config import get_settings
from videogen.runtime.observability import logger, metrics
from videogen.webhooks import callbacks, endpoint_secrets

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
        description="Checks the key first: a veo key's `api` (default gemini), an openai key's "
        "`baseUrl` (https, resolving to a public address), then one cheap authenticated read at the "
        "provider (the Gemini API's model list, `GET /models` on an OpenAI-compatible endpoint). A "
        "rejected key answers 400 quoting the provider and stores nothing; a provider out of reach "
        "(or one with no way to check a key) stores it with `verified: false`. Then seals the key "
        "with KMS envelope encryption and replaces any earlier one. The key is never answered, "
        "logged or queued: only its last four characters are kept in the clear.",
        body=True,
        links=contract.links({"DeleteApiKey": "deleteApiKey"}, "provider", "$request.path.provider"),
    ),
)
def put_key(provider: ProviderName, body: Annotated[ApiKeyPut, Body()]) -> ApiKeySummary:
    user_id = current_user(app)
    settings = get_settings()
    secret = keys.validate_api_key(body.api_key)
    webhook_secret = _webhook_secret(provider, body)
    destination = destination_for(provider, body.api, body.base_url, settings)
    try:
        verdict, why = verify(provider, ProviderKey(secret, destination.api, destination.base_url), settings)
    except EndpointNotAllowed as exc:  # a redirect from the endpoint reaches inside
        raise InvalidInput(str(exc), field_errors("body.baseUrl", str(exc), "endpoint_invalid")) from None
    except PermanentProviderError as exc:
        message = f"the provider rejected the key: {exc}"
        raise InvalidInput(message, field_errors("body.apiKey", message, "api_key_rejected")) from None
    sealed = keys.seal(user_id, provider, secret, destination)
    # One unit of work with the webhook secret: Secrets Manager refusing it stores nothing.
    with session_scope() as s:
        row = api_keys.store(
            s,
            user_id,
            provider,
            encrypted_key=sealed.encrypted_key,
            key_hash=sealed.key_hash,
            last4=sealed.last4,
            api=destination.api,
            base_url=destination.base_url,
            verified_at=datetime.now(UTC) if verdict == "verified" else None,
            webhook_secret_at=datetime.now(UTC) if webhook_secret else None,
        )
        if provider == callbacks.ENDPOINT_SOURCE and endpoint_secrets.configured():
            if webhook_secret:
                endpoint_secrets.store(row.id, webhook_secret)
            else:
                endpoint_secrets.remove(row.id)
        summary = _summary(row)
    if why is not None:
        logger.info("key stored unverified", extra={"provider": provider, "reason": why})
    metrics.add_metric(name="ApiKeysStored", unit="Count", value=1)
    return summary


def _webhook_secret(provider: str, body: ApiKeyPut) -> str | None:
    """The webhook secret to keep with the key, checked (400 naming ``body.webhookSecret``)."""
    if body.webhook_secret is None:
        return None
    if provider != callbacks.ENDPOINT_SOURCE:
        message = "webhookSecret is for openai keys only"
    elif not (endpoint_secrets.configured() and callbacks.has_secret()):
        message = "webhooks are off in this deployment: save the key without webhookSecret"
    else:
        return endpoint_secrets.validate(body.webhook_secret)
    raise InvalidInput(message, field_errors("body.webhookSecret", message, "webhook_secret_refused"))


def _summary(row: UserApiKey) -> ApiKeySummary:
    """The key's summary, with the webhook URL to register for an active openai key."""
    summary = ApiKeySummary.model_validate(row)
    if row.provider != callbacks.ENDPOINT_SOURCE or not row.is_active or not endpoint_secrets.configured():
        return summary
    try:
        url = callbacks.endpoint_url(row.id)
    except callbacks.WebhookSecretUnavailable as exc:
        logger.warning("no webhook URL for this key", extra={"reason": str(exc)})
        return summary
    return summary.model_copy(update={"webhook_url": url})


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
        return ApiKeyList(keys=[_summary(r) for r in rows])


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
    with session_scope() as s:  # with its webhook secret: Secrets Manager refusing keeps the key
        row = api_keys.deactivate(s, user_id, provider)
        if provider == callbacks.ENDPOINT_SOURCE and endpoint_secrets.configured():
            endpoint_secrets.remove(row.id)
    return ApiKeyDeleted(provider=provider)


lambda_handler = api_handler(app)
