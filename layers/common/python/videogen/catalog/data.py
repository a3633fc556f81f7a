"""The catalog's data: every model with its durations, sizes, prices (each with its source and
date), retirement and typical generation time, and each provider's defaults. Update the tuples
here, nothing else, when the provider landscape moves (see :mod:`videogen.catalog`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from types import MappingProxyType

from videogen.catalog.spec import ModelSpec, Price, Provider, ProviderDefaults

_SORA_SOURCE = (
    "OpenAI API pricing page (videos API, Sora 2), as published 2025-10; "
    "OpenAI's own Sora API shut down 2026-09-24"
)
_VEO_31_SOURCE = (
    "Google Veo pricing page (Gemini API / Vertex AI), as of 2025-10 for the veo-3.1 preview ids; "
    "verify (not re-verified for the -001 ids when this catalog was written, offline)"
)
_VEO_LEGACY_SOURCE = (
    "Google Gemini API pricing page, as of 2025-10; not re-verified (model retired 2026-06-30)"
)

_SORA_720P = ("720x1280", "1280x720")
_SORA_TALL = ("1024x1792", "1792x1024")

VEO_SIZES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "1280x720": ("16:9", "720p"),
        "720x1280": ("9:16", "720p"),
        "1920x1080": ("16:9", "1080p"),
        "1080x1920": ("9:16", "1080p"),
    }
)
"""Our size -> the google-genai ``GenerateVideosConfig`` (``aspect_ratio``, ``resolution``)."""

_VEO_720P = ("1280x720", "720x1280")
_VEO_1080P = ("1920x1080", "1080x1920")
_VEO_RETIRED_ON = date(2026, 6, 30)


_PRICES_AS_OF = "2025-10"


def _priced(sizes: tuple[str, ...], usd_per_second: str, source: str) -> dict[str, Price]:
    return dict.fromkeys(sizes, Price(Decimal(usd_per_second), source, _PRICES_AS_OF))


def _model(
    id: str,
    provider: Provider,
    durations: tuple[int, ...],
    prices: dict[str, Price],
    *,
    size_durations: dict[str, tuple[int, ...]] | None = None,
    retired_on: date | None = None,
    replacement: str | None = None,
    notes: str = "",
    typical_seconds: int | None = None,
) -> ModelSpec:
    return ModelSpec(
        id=id,
        provider=provider,
        durations=durations,
        prices=MappingProxyType(prices),
        retired_on=retired_on,
        replacement=replacement,
        size_durations=MappingProxyType(size_durations or {}),
        notes=notes,
        typical_seconds=typical_seconds,
    )


_VEO_31_NOTES = "1080p accepts 8 s only, 720p 4, 6 or 8 s (Gemini API video docs as of 2025-10; verify)."
REPORTS_PROGRESS: Mapping[str, bool] = MappingProxyType({"sora": True, "veo": False})
"""Whether the provider's job reports a progress percentage (Veo's operations say only done or not)."""
TYPICAL_SECONDS_SOURCE = (
    "Gemini API video docs as of 2025-10 give a latency of 11 s to 6 min (at peak); the typical "
    "figures are our estimate for a progress bar, not the provider's"
)
_VEO_TYPICAL, _VEO_FAST_TYPICAL = 120, 60

MODELS: tuple[ModelSpec, ...] = (
    _model(
        "sora-2",
        "sora",
        (4, 8, 12),
        # $0.10/s at every size is the product decision; OpenAI's page priced sora-2 at 720p
        # only, so if an endpoint rejects the 1024x1792 sizes for sora-2, drop them here.
        _priced(_SORA_720P + _SORA_TALL, "0.10", _SORA_SOURCE),
    ),
    _model(
        "sora-2-pro",
        "sora",
        (4, 8, 12),
        _priced(_SORA_720P, "0.30", _SORA_SOURCE) | _priced(_SORA_TALL, "0.50", _SORA_SOURCE),
    ),
    _model(
        "veo-3.1-generate-001",
        "veo",
        (4, 6, 8),
        _priced(_VEO_720P + _VEO_1080P, "0.40", _VEO_31_SOURCE),
        size_durations=dict.fromkeys(_VEO_1080P, (8,)),
        notes=_VEO_31_NOTES,
        typical_seconds=_VEO_TYPICAL,
    ),
    _model(
        "veo-3.1-fast-generate-001",
        "veo",
        (4, 6, 8),
        _priced(_VEO_720P + _VEO_1080P, "0.15", _VEO_31_SOURCE),
        size_durations=dict.fromkeys(_VEO_1080P, (8,)),
        notes=_VEO_31_NOTES,
        typical_seconds=_VEO_FAST_TYPICAL,
    ),
    # Retired: kept so jobs created before retirement still bill, and so a request naming
    # them is told what to use instead.
    _model(
        "veo-3.0-generate-001",
        "veo",
        (4, 6, 8),
        _priced(_VEO_720P + _VEO_1080P, "0.40", _VEO_LEGACY_SOURCE),
        size_durations=dict.fromkeys(_VEO_1080P, (8,)),
        retired_on=_VEO_RETIRED_ON,
        replacement="veo-3.1-generate-001",
        typical_seconds=_VEO_TYPICAL,
    ),
    _model(
        "veo-3.0-fast-generate-001",
        "veo",
        (4, 6, 8),
        _priced(_VEO_720P + _VEO_1080P, "0.15", _VEO_LEGACY_SOURCE),
        size_durations=dict.fromkeys(_VEO_1080P, (8,)),
        retired_on=_VEO_RETIRED_ON,
        replacement="veo-3.1-fast-generate-001",
        typical_seconds=_VEO_FAST_TYPICAL,
    ),
    _model(
        "veo-2.0-generate-001",
        "veo",
        (5, 6, 7, 8),
        _priced(_VEO_720P, "0.35", _VEO_LEGACY_SOURCE),
        retired_on=_VEO_RETIRED_ON,
        replacement="veo-3.1-generate-001",
        typical_seconds=_VEO_TYPICAL,
    ),
)

DEFAULTS: Mapping[Provider, ProviderDefaults] = MappingProxyType(
    {
        "sora": ProviderDefaults(
            model="sora-2",
            duration_seconds=4,
            size="1280x720",
            # OpenAI's own default size is 720x1280 (portrait); storyboards are landscape.
            notes="Landscape 1280x720 by default for storyboards (the OpenAI API defaults to 720x1280).",
        ),
        "veo": ProviderDefaults(model="veo-3.1-fast-generate-001", duration_seconds=8, size="1280x720"),
    }
)
