"""The catalog's data: every model with its durations, sizes, inputs, prices (each with its source
and date), status and typical generation time, and each provider's defaults. Update the tuples
here (and fal's in :mod:`videogen.catalog.fal_models`), nothing else, when the provider
landscape moves (see :mod:`videogen.catalog`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType

from videogen.catalog.fal_models import FAL_DEFAULT_MODEL, FAL_MODELS, FAL_TYPICAL_SECONDS_SOURCE
from videogen.catalog.spec import Inputs, ModelSpec, Price, Provider, ProviderDefaults, model, prices

SIZE_FORMATS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "1280x720": ("16:9", "720p"),
        "720x1280": ("9:16", "720p"),
        "1920x1080": ("16:9", "1080p"),
        "1080x1920": ("9:16", "1080p"),
        "3840x2160": ("16:9", "4k"),
        "2160x3840": ("9:16", "4k"),
        "854x480": ("16:9", "480p"),
        "480x854": ("9:16", "480p"),
        "720x720": ("1:1", "720p"),
        "1792x1024": ("16:9", "1024p"),
        "1024x1792": ("9:16", "1024p"),
    }
)
"""Every size our API names (``"<width>x<height>"``) as an aspect ratio and a resolution, the
two parameters most providers take instead of pixels."""

# --- Veo on the Gemini API (a Google AI Studio key) ---------------------------------------------

_GEMINI_PRICING = "https://ai.google.dev/gemini-api/docs/pricing"
_GEMINI_VIDEO_DOCS = "https://ai.google.dev/gemini-api/docs/veo"
_GEMINI_READ_ON = "2026-12-07"
# Google's pricing page itself could not be read; two quotes of it agree with each other.
_GEMINI_PRICES_NOTE = (
    " (read second-hand: Google's pricing page as quoted by reapi.ai in May 2026 and ddsboston.com in"
    " April 2026, Fast after its 2026-04-07 price cut; confirm)"
)

_VERTEX_PRICING = "https://cloud.google.com/vertex-ai/generative-ai/pricing"
_VERTEX_READ_ON = "2025-10-15"

_SORA_PRICING = "https://platform.openai.com/docs/pricing (videos: sora-2, sora-2-pro)"
_SORA_READ_ON = "2025-10-06"
_SORA_LIMITS = "https://platform.openai.com/docs/api-reference/videos/create, read 2025-10-06"
OPENAI_RETIRED_ON = date(2026, 9, 24)
OPENAI_RETIREMENT_SOURCE = "https://platform.openai.com/docs/models/sora-2 (shutdown notice), read 2026-10-01"
OPENAI_OWN_BASE_URL = "https://api.openai.com/v1"

_16_9 = ("1280x720", "1920x1080", "3840x2160")
_9_16 = ("720x1280", "1080x1920", "2160x3840")
_VEO_720P = ("1280x720", "720x1280")
_VEO_1080P = ("1920x1080", "1080x1920")
_VEO_4K = ("3840x2160", "2160x3840")


def _gemini_prices(standard: str, high: str, four_k: str | None) -> dict[str, Price]:
    source = _GEMINI_PRICING + _GEMINI_PRICES_NOTE
    table = prices(_VEO_720P, standard, source, _GEMINI_READ_ON)
    table |= prices(_VEO_1080P, high, source, _GEMINI_READ_ON)
    if four_k is not None:
        table |= prices(_VEO_4K, four_k, source, _GEMINI_READ_ON)
    return table


_VEO_INPUTS = Inputs(
    first_frame=True, last_frame=True, reference_images=3, reference_durations=(8,), negative_prompt=True
)
_VEO_LITE_INPUTS = Inputs(first_frame=True, last_frame=True, negative_prompt=True)
_VERTEX_IMAGES = (
    "; images: https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/video/"
    "generate-videos-from-references and the REST type VideoGenerationModelInstance (up to 3 asset "
    "references, not with a first or last frame; a last frame only with a first), read 2026-12-07"
)
_VEO_NOTES = (
    "4, 6 or 8 s at 720p; 1080p and 4K (and reference images, and extension) at 8 s only; "
    "16:9 or 9:16; sound always on; blocked generations are not billed."
)
_GEMINI_SHUTDOWN_NOTE = (
    " Google's video page (its Italian copy, updated 2026-10-22) says the Gemini API's Veo 3.1"
    " previews were shut down in favour of Gemini Omni Flash; Google's deprecations page could not"
    " be read to confirm: if Google answers that the model does not exist, the job fails saying so."
)
_VEO_TYPICAL, _VEO_FAST_TYPICAL, _VEO_LITE_TYPICAL = 120, 60, 45
_GEMINI_LIMITS = (
    f"{_GEMINI_VIDEO_DOCS} (Google's Veo page as updated 2026-06-30, in its es-419 translation), "
    f"read {_GEMINI_READ_ON}"
)

_GEMINI_MODELS = (
    model(
        "veo-3.1-generate-preview",
        "veo",
        "Veo 3.1",
        "preview",
        (4, 6, 8),
        _gemini_prices("0.40", "0.40", "0.60"),
        api="gemini",
        size_durations=dict.fromkeys(_VEO_1080P + _VEO_4K, (8,)),
        sound=True,
        inputs=_VEO_INPUTS,
        limits_source=_GEMINI_LIMITS,
        notes=_VEO_NOTES + _GEMINI_SHUTDOWN_NOTE,
        typical_seconds=_VEO_TYPICAL,
    ),
    model(
        "veo-3.1-fast-generate-preview",
        "veo",
        "Veo 3.1 Fast",
        "preview",
        (4, 6, 8),
        _gemini_prices("0.10", "0.12", "0.30"),
        api="gemini",
        size_durations=dict.fromkeys(_VEO_1080P + _VEO_4K, (8,)),
        sound=True,
        inputs=_VEO_INPUTS,
        limits_source=_GEMINI_LIMITS,
        notes=_VEO_NOTES + _GEMINI_SHUTDOWN_NOTE,
        typical_seconds=_VEO_FAST_TYPICAL,
    ),
    model(
        "veo-3.1-lite-generate-preview",
        "veo",
        "Veo 3.1 Lite",
        "preview",
        (4, 6, 8),
        _gemini_prices("0.05", "0.08", None),
        api="gemini",
        size_durations=dict.fromkeys(_VEO_1080P, (8,)),
        sound=True,
        inputs=_VEO_LITE_INPUTS,
        limits_source=_GEMINI_LIMITS,
        notes="No 4K, reference images or extension. " + _VEO_NOTES + _GEMINI_SHUTDOWN_NOTE,
        typical_seconds=_VEO_LITE_TYPICAL,
    ),
)

# --- Veo on Vertex AI express mode (a key made for Vertex AI) -------------------------------------

_VERTEX_LIMITS = (
    "https://cloud.google.com/vertex-ai/generative-ai/docs/models/veo/3-1-generate, read 2025-10-15"
)
_VERTEX_MODELS = (
    model(
        "veo-3.1-generate-001",
        "veo",
        "Veo 3.1 (Vertex AI)",
        "generally available",
        (4, 6, 8),
        prices(_VEO_720P + _VEO_1080P, "0.40", _VERTEX_PRICING, _VERTEX_READ_ON),
        api="vertex",
        size_durations=dict.fromkeys(_VEO_1080P, (8,)),
        sound=True,
        inputs=_VEO_INPUTS,
        limits_source=_VERTEX_LIMITS + _VERTEX_IMAGES,
        notes="1080p accepts 8 s only, 720p 4, 6 or 8 s.",
        typical_seconds=_VEO_TYPICAL,
    ),
    model(
        "veo-3.1-fast-generate-001",
        "veo",
        "Veo 3.1 Fast (Vertex AI)",
        "generally available",
        (4, 6, 8),
        prices(_VEO_720P + _VEO_1080P, "0.15", _VERTEX_PRICING, _VERTEX_READ_ON),
        api="vertex",
        size_durations=dict.fromkeys(_VEO_1080P, (8,)),
        sound=True,
        inputs=_VEO_INPUTS,
        limits_source=_VERTEX_LIMITS + _VERTEX_IMAGES,
        notes="1080p accepts 8 s only, 720p 4, 6 or 8 s.",
        typical_seconds=_VEO_FAST_TYPICAL,
    ),
)

# Retired on Vertex AI: kept so that jobs created before the date still bill, and so that a request
# naming them is told what to use instead.
_VEO_RETIRED_ON = date(2026, 6, 30)
_VEO_RETIREMENT = "https://cloud.google.com/vertex-ai/generative-ai/docs/deprecations, read 2026-07-01"
_RETIRED_MODELS = tuple(
    model(
        retired,
        "veo",
        name,
        "retired",
        (4, 6, 8),
        prices(_VEO_720P + _VEO_1080P, usd, _VERTEX_PRICING, _VERTEX_READ_ON),
        api="vertex",
        size_durations=dict.fromkeys(_VEO_1080P, (8,)),
        sound=True,
        limits_source=_VEO_RETIREMENT,
        retired_on=_VEO_RETIRED_ON,
        replacement=replacement,
        typical_seconds=typical,
    )
    for retired, name, usd, replacement, typical in (
        ("veo-3.0-generate-001", "Veo 3 (Vertex AI)", "0.40", "veo-3.1-generate-001", _VEO_TYPICAL),
        (
            "veo-3.0-fast-generate-001",
            "Veo 3 Fast (Vertex AI)",
            "0.15",
            "veo-3.1-fast-generate-001",
            _VEO_FAST_TYPICAL,
        ),
    )
)

# --- OpenAI-compatible endpoints --------------------------------------------------------------------

_SORA_720P = ("1280x720", "720x1280")
_SORA_TALL = ("1792x1024", "1024x1792")
_SORA_NOTES = (
    "On OpenAI-compatible endpoints; OpenAI's own endpoint (api.openai.com) shut down on "
    f"{OPENAI_RETIRED_ON.isoformat()}. Prices are OpenAI's as published; an endpoint bills its own."
)
_OPENAI_MODELS = (
    model(
        "sora-2",
        "openai",
        "Sora 2 (OpenAI-compatible endpoint)",
        "generally available",
        (4, 8, 12),
        prices(_SORA_720P, "0.10", _SORA_PRICING, _SORA_READ_ON),
        sound=True,
        inputs=Inputs(first_frame=True),
        limits_source=_SORA_LIMITS,
        notes=_SORA_NOTES,
    ),
    model(
        "sora-2-pro",
        "openai",
        "Sora 2 Pro (OpenAI-compatible endpoint)",
        "generally available",
        (4, 8, 12),
        prices(_SORA_720P, "0.30", _SORA_PRICING, _SORA_READ_ON)
        | prices(_SORA_TALL, "0.50", _SORA_PRICING, _SORA_READ_ON),
        sound=True,
        inputs=Inputs(first_frame=True),
        limits_source=_SORA_LIMITS,
        notes=_SORA_NOTES,
    ),
)

MODELS: tuple[ModelSpec, ...] = (
    _GEMINI_MODELS + _VERTEX_MODELS + _RETIRED_MODELS + FAL_MODELS + _OPENAI_MODELS
)

REPORTS_PROGRESS: Mapping[str, bool] = MappingProxyType({"veo": False, "fal": False, "openai": True})
"""Whether the provider's job reports a progress percentage (Veo's operations say only done or
not; fal's queue gives a position, not a percentage)."""
TYPICAL_SECONDS_SOURCE = (
    f"Gemini API video docs ({_GEMINI_VIDEO_DOCS}, read {_GEMINI_READ_ON}) give a latency of 11 s "
    f"to 6 min; {FAL_TYPICAL_SECONDS_SOURCE}. The typical figures are our estimate for a progress "
    "bar, not the providers'."
)

# In the order the web app offers them (its first is what a new user's settings start from).
DEFAULTS: Mapping[Provider, ProviderDefaults] = MappingProxyType(
    {
        "openai": ProviderDefaults(
            model="sora-2",
            duration_seconds=4,
            size="1280x720",
            # OpenAI's own default size is 720x1280 (portrait); storyboards are landscape.
            notes="Landscape 1280x720 by default for storyboards (the OpenAI API defaults to 720x1280).",
        ),
        "veo": ProviderDefaults(
            model="veo-3.1-fast-generate-preview",
            duration_seconds=8,
            size="1280x720",
            notes="A Gemini API key defaults to Veo 3.1 Fast (preview); a Vertex AI key to its -001 id.",
            models_by_api=MappingProxyType({"vertex": "veo-3.1-fast-generate-001"}),
        ),
        "fal": ProviderDefaults(model=FAL_DEFAULT_MODEL, duration_seconds=5, size="1280x720"),
    }
)
