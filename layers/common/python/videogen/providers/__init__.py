"""Video providers behind one interface; ``get_provider`` imports an SDK only when asked.

Importing this package (or ``.base``) never imports ``openai``, ``google.genai`` or an
adapter, so API functions may use the plain types without paying the SDKs' import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from videogen.catalog import PROVIDERS
from videogen.providers.base import (
    GenerationRequest,
    PermanentProviderError,
    PollResult,
    ProviderError,
    ProviderKey,
    RequestImage,
    RetryableProviderError,
    Submission,
    VideoProvider,
)

if TYPE_CHECKING:
    from videogen.runtime.config import Settings


def get_provider(name: str, key: ProviderKey, settings: Settings) -> VideoProvider:
    """A provider client for ``name`` holding the user's decrypted ``key``.

    ``veo`` keys reach the Gemini API or Vertex AI express mode as ``key.api`` says; ``openai``
    keys reach ``key.base_url`` through the egress guard. The caller closes the client
    (``close()`` or ``with``) when the step is done.
    """
    # Lazy imports below: each adapter pulls its SDK or HTTP stack only when asked.
    if name == "veo" and key.api == "vertex":
        from videogen.providers.vertex import VertexVeoProvider  # noqa: PLC0415

        return VertexVeoProvider(key, settings)
    if name == "veo":
        from videogen.providers.gemini import GeminiVeoProvider  # noqa: PLC0415

        return GeminiVeoProvider(key, settings)
    if name == "fal":
        from videogen.providers.fal import FalProvider  # noqa: PLC0415

        return FalProvider(key, settings)
    if name == "openai":
        from videogen.providers.openai_compatible import OpenAICompatibleProvider  # noqa: PLC0415

        return OpenAICompatibleProvider(key, settings)
    raise ValueError(f"unknown video provider {name!r}; expected one of {', '.join(PROVIDERS)}")


__all__ = [
    "GenerationRequest",
    "PermanentProviderError",
    "PollResult",
    "ProviderError",
    "ProviderKey",
    "RequestImage",
    "RetryableProviderError",
    "Submission",
    "VideoProvider",
    "get_provider",
]
