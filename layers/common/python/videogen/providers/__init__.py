"""Video providers behind one interface; ``get_provider`` imports an SDK only when asked.

Importing this package (or ``.base``) never imports ``openai`` or ``google.genai``, so API
functions may use the plain types without paying the SDKs' import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from videogen.catalog import PROVIDERS
from videogen.providers.base import (
    GenerationRequest,
    PermanentProviderError,
    PollResult,
    ProviderError,
    RetryableProviderError,
    Submission,
    VideoProvider,
)

if TYPE_CHECKING:
    from videogen.runtime.config import Settings


def get_provider(name: str, api_key: str, settings: Settings) -> VideoProvider:
    """A provider client for ``name`` ("sora" or "veo") holding the user's decrypted key.

    The caller closes it (``close()`` or ``with``) when the step is done.
    """
    if name == "sora":
        from videogen.providers.sora import SoraProvider  # noqa: PLC0415  (lazy: SDK import cost)

        return SoraProvider(api_key, settings)
    if name == "veo":
        from videogen.providers.veo import VeoProvider  # noqa: PLC0415  (lazy: SDK import cost)

        return VeoProvider(api_key, settings)
    raise ValueError(f"unknown video provider {name!r}; expected one of {', '.join(PROVIDERS)}")


__all__ = [
    "GenerationRequest",
    "PermanentProviderError",
    "PollResult",
    "ProviderError",
    "RetryableProviderError",
    "Submission",
    "VideoProvider",
    "get_provider",
]
