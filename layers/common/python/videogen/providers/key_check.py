"""Checking a key when it is saved: where it may be used (:func:`destination_for`), then one cheap
authenticated read at the provider, nothing billed (:func:`verify`).

What each provider offers (its adapter's module doc says more):

- ``veo`` on the Gemini API: ``GET /v1beta/models`` (``GeminiVeoProvider.check_key``);
- ``veo`` on Vertex AI express mode: nothing documented for an API key: saved unverified;
- ``fal``: see ``FalProvider.check_key``;
- ``openai``: ``GET {base URL}/models`` with the key as a bearer token, through the egress guard
  (:func:`check_openai_compatible`, here so that the API function needs no ``openai`` SDK).

Only ``httpx2`` is imported: the API function that saves keys carries no provider SDK.
"""

from __future__ import annotations

from contextlib import closing
from typing import Literal
from urllib.parse import urlsplit

import httpx2

from videogen.catalog import OPENAI_OWN_BASE_URL, OPENAI_RETIRED_ON
from videogen.errors import InvalidInput, field_errors
from videogen.keys import Destination
from videogen.providers.base import (
    PermanentProviderError,
    ProviderError,
    ProviderKey,
    RetryableProviderError,
    error_message,
    retry_after_seconds,
)
from videogen.providers.egress import EgressPolicy, EndpointRefused, GuardedTransport
from videogen.runtime.config import Settings

Verdict = Literal["verified", "unverified"]


class EndpointNotAllowed(PermanentProviderError):
    """The endpoint (or a redirect from it) reaches an address the egress guard refuses."""


def verify(provider: str, key: ProviderKey, settings: Settings) -> tuple[Verdict, str | None]:
    """``("verified", None)`` when the provider accepted the key, ``("unverified", why)`` when it
    could not be asked; ``PermanentProviderError`` quoting the provider when it rejected it."""
    try:
        if provider == "openai":
            check_openai_compatible(key, settings)
        else:
            from videogen.providers import get_provider  # noqa: PLC0415 (only the adapter asked for)

            with closing(get_provider(provider, key, settings)) as adapter:
                adapter.check_key()
    except RetryableProviderError as exc:
        return "unverified", str(exc)
    return "verified", None


def destination_for(provider: str, api: str | None, base_url: str | None, settings: Settings) -> Destination:
    """Where a key being saved may be used: the Google API of a ``veo`` key (default the Gemini
    API), the checked endpoint of an ``openai`` key (default ``openai_default_base_url``).

    ``InvalidInput`` (400, naming ``body.api`` or ``body.baseUrl``) for a field the provider does
    not take, a missing endpoint, OpenAI's own closed endpoint, or one the egress guard refuses
    (no connection is made: the host is only resolved; a name that does not resolve yet passes,
    since every connection is checked again).
    """
    if api is not None and provider != "veo":
        raise _bad_field("body.api", f"api is only for veo keys (which Google API), not {provider}")
    if base_url is not None and provider != "openai":
        raise _bad_field("body.baseUrl", f"baseUrl is only for openai keys, not {provider}")
    if provider == "veo":
        return Destination(api=api or "gemini")
    if provider != "openai":
        return Destination()
    url = (base_url or settings.openai_default_base_url or "").strip().rstrip("/")
    if not url:
        raise _bad_field("body.baseUrl", "an openai key needs the base URL of its OpenAI-compatible endpoint")
    if urlsplit(url).hostname == urlsplit(OPENAI_OWN_BASE_URL).hostname:
        raise _bad_field(
            "body.baseUrl",
            f"OpenAI shut down its own videos API on {OPENAI_RETIRED_ON.isoformat()}; "
            "name an OpenAI-compatible endpoint that still serves it",
        )
    try:
        egress_policy(settings).check_url(url)
    except EndpointRefused as exc:
        raise _bad_field("body.baseUrl", f"baseUrl is not allowed: {exc}") from None
    except httpx2.ConnectError:
        # Not resolvable now: the key is saved unverified, and every later connection is checked
        # by the guard when the name does resolve.
        pass
    return Destination(base_url=url)


def _bad_field(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, field_errors(field, message, "endpoint_invalid"))


def egress_policy(settings: Settings) -> EgressPolicy:
    """The guard's policy from settings (the operator's allowlist; plain http for local fakes)."""
    return EgressPolicy.from_allowlist(
        settings.provider_endpoint_allowlist, allow_http=settings.allow_http_provider_endpoints
    )


def check_openai_compatible(key: ProviderKey, settings: Settings) -> None:
    """``GET {base}/models`` with the key; see :func:`verify` for what it raises."""
    if not key.base_url:
        raise PermanentProviderError("an OpenAI-compatible key needs the endpoint's base URL")
    url = key.base_url.rstrip("/") + "/models"
    headers = {"Authorization": f"Bearer {key.secret}", "Accept": "application/json"}
    try:
        with httpx2.Client(
            transport=GuardedTransport(egress_policy(settings)),
            timeout=settings.provider_deadline_seconds,
            follow_redirects=True,
            max_redirects=5,
        ) as http:
            response = http.get(url, headers=headers)
    except httpx2.TimeoutException:
        raise RetryableProviderError("the endpoint did not answer in time") from None
    except EndpointRefused as exc:
        raise EndpointNotAllowed(f"baseUrl is not allowed: {exc}") from None
    except httpx2.TransportError:
        raise RetryableProviderError("could not reach the endpoint") from None
    _raise_for_status(response, key.secret)


_MAX_REASON_CHARS = 300


def _raise_for_status(response: httpx2.Response, secret: str) -> None:
    status = response.status_code
    if status == 200:
        return
    # The endpoint is whoever the user named: never let it echo the key back into our answer.
    reason = error_message(response).replace(secret, "[key]")[:_MAX_REASON_CHARS]
    error: ProviderError
    if status in (401, 403):
        error = PermanentProviderError(f"the endpoint rejected the key ({status}): {reason}")
    elif status == 429 or status >= 500 or status == 408:
        error = RetryableProviderError(
            f"the endpoint is busy ({status}): {reason}", retry_after_seconds(response.headers), answered=True
        )
    else:
        error = PermanentProviderError(
            f"the endpoint answered {status} to GET /models, not an OpenAI-compatible API: {reason}"
        )
    raise error


__all__ = [
    "EndpointNotAllowed",
    "Verdict",
    "check_openai_compatible",
    "destination_for",
    "egress_policy",
    "verify",
]
