"""The model catalog: every video model we can ask for, as data, in one place.

Per model: its provider, the durations and sizes it accepts, the price per second for each
size (with where that price came from and when), and its retirement date and replacement.
Nothing else in the code base lists models, durations, sizes or prices; the API validates
requests with :func:`resolve`, estimates with :func:`estimate_cost`, and the worker bills
with :func:`actual_cost`.

Provider landscape this data reflects (update the tuples below, nothing else, when it moves):

- ``sora`` means *any endpoint speaking the OpenAI videos API* (base URL from settings).
  OpenAI shut its own Sora API down on 2026-09-24; the ids and prices below are the ones
  OpenAI published while it ran and are what compatible endpoints accept.
- ``veo`` is Google Veo through the google-genai SDK. The pinned SDK (3.6.1) offers
  ``generate_videos`` only in its Vertex AI mode, so a user's Veo key is a Vertex AI
  (express mode) API key. Google retired the veo-3.0 and veo-2.0 ids on 2026-06-30 in
  favour of the veo-3.1 ``-001`` ids.

Sizes are always ``"<width>x<height>"`` on our API. The OpenAI videos API takes them as is;
for Veo they map to the SDK's ``aspect_ratio`` and ``resolution`` (see :func:`veo_config`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import MappingProxyType
from typing import Literal, get_args

from videogen.errors import InvalidInput, field_errors

Provider = Literal["sora", "veo"]
"""The video providers: the one list of their names (schemas, models, keys and adapters use it)."""
PROVIDERS: tuple[Provider, ...] = get_args(Provider)

COST_QUANTUM = Decimal("0.0001")
"""Costs are kept to 4 decimal places (``video_jobs.cost`` is ``numeric(10,4)``)."""


@dataclass(frozen=True, slots=True)
class Price:
    """A price per second of generated video, with where it came from and when."""

    usd_per_second: Decimal
    source: str
    as_of: str = ""
    """When the source was read (``YYYY-MM``)."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One model id: what it accepts, what it costs, and when it stops working."""

    id: str
    provider: Provider
    durations: tuple[int, ...]
    prices: Mapping[str, Price]
    """Price per size; the keys are also the sizes the model accepts, in display order."""
    retired_on: date | None = None
    replacement: str | None = None
    size_durations: Mapping[str, tuple[int, ...]] = field(default_factory=lambda: MappingProxyType({}))
    """Sizes that accept fewer durations than ``durations`` (e.g. Veo 1080p: 8 s only)."""
    notes: str = ""
    typical_seconds: int | None = None
    """How long a generation usually takes: the clock of the estimated progress shown for
    providers that report none (see ``REPORTS_PROGRESS``)."""

    @property
    def sizes(self) -> tuple[str, ...]:
        """Sizes this model accepts, as ``"<width>x<height>"``."""
        return tuple(self.prices)

    def durations_for(self, size: str) -> tuple[int, ...]:
        """Durations (seconds) this model accepts at ``size``."""
        return self.size_durations.get(size, self.durations)

    def is_retired(self, today: date) -> bool:
        """Whether the provider no longer serves this id on ``today``."""
        return self.retired_on is not None and today >= self.retired_on


@dataclass(frozen=True, slots=True)
class ProviderDefaults:
    """What a request that names only the provider gets."""

    model: str
    duration_seconds: int
    size: str
    notes: str = ""


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """A validated (provider, model, duration, size) with its price: what a job will run."""

    provider: Provider
    model: str
    duration_seconds: int
    size: str
    usd_per_second: Decimal
    price_source: str


class CatalogError(InvalidInput, ValueError):
    """A request names a model, duration or size the catalog does not allow (answers 400).

    ``field`` is the request field at fault, spelled as on the wire (``provider``, ``model``,
    ``durationSeconds``, ``size``); ``details`` name it in the generate request's body.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field_errors(f"body.{field}", message, "not_in_catalog"))
        self.field = field


# --- the data -------------------------------------------------------------------------------

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

_BY_ID: Mapping[str, ModelSpec] = MappingProxyType({m.id: m for m in MODELS})


# --- lookups ----------------------------------------------------------------------------------


def get_model(model_id: str) -> ModelSpec:
    """The catalog entry for ``model_id`` (retired ones included); ``CatalogError`` if unknown."""
    spec = _BY_ID.get(model_id)
    if spec is None:
        raise CatalogError("model", f"unknown model '{model_id}'")
    return spec


def available_models(today: date, provider: Provider | None = None) -> list[ModelSpec]:
    """Models that can be requested on ``today`` (not retired), optionally for one provider."""
    return [m for m in MODELS if not m.is_retired(today) and (provider is None or m.provider == provider)]


def check_provider(provider: str) -> Provider:
    """``provider`` as a ``Provider``; ``CatalogError`` (field ``provider``) when it is not one."""
    if provider not in PROVIDERS:
        raise CatalogError("provider", f"unknown provider '{provider}'; allowed: {', '.join(PROVIDERS)}")
    return provider


def _size_not_allowed(spec: ModelSpec, size: str) -> CatalogError:
    return CatalogError(
        "size", f"size '{size}' is not allowed for {spec.id}; allowed: {', '.join(spec.sizes)}"
    )


def _model_for(provider: Provider, model: str | None, today: date) -> ModelSpec:
    if model is None:
        spec = _BY_ID[DEFAULTS[provider].model]
        # A retired default quietly moves to its replacement: the caller asked for no model.
        while spec.is_retired(today) and spec.replacement is not None:
            spec = _BY_ID[spec.replacement]
        return spec
    found = _BY_ID.get(model)
    if found is None or found.provider != provider:
        allowed = ", ".join(m.id for m in available_models(today, provider))
        raise CatalogError("model", f"unknown model '{model}' for provider {provider}; allowed: {allowed}")
    if found.is_retired(today):
        instead = f"; use {found.replacement}" if found.replacement else ""
        raise CatalogError("model", f"{found.id} was retired on {found.retired_on}{instead}")
    return found


def resolve(
    provider: str,
    model: str | None,
    duration_seconds: int | None,
    size: str | None,
    today: date,
) -> ResolvedModel:
    """Validate a generation request against the catalog, filling defaults for what is omitted.

    Raises ``CatalogError`` naming the offending field (``provider``, ``model``,
    ``durationSeconds``, ``size``) with a message listing what is allowed, or naming the
    replacement of a retired model.
    """
    prov = check_provider(provider)
    spec = _model_for(prov, model, today)
    defaults = DEFAULTS[prov]

    chosen_size = defaults.size if size is None else size
    if chosen_size not in spec.prices:
        raise _size_not_allowed(spec, chosen_size)

    allowed_durations = spec.durations_for(chosen_size)
    seconds = duration_seconds
    if seconds is None:
        # The provider default, unless this size needs another (Veo 1080p: 8 s only).
        seconds = defaults.duration_seconds
        if seconds not in allowed_durations:
            seconds = allowed_durations[-1]
    if seconds not in allowed_durations:
        at_size = f" at {chosen_size}" if spec.size_durations.get(chosen_size) else ""
        allowed = ", ".join(str(d) for d in allowed_durations)
        raise CatalogError(
            "durationSeconds",
            f"{seconds} seconds is not allowed for {spec.id}{at_size}; allowed: {allowed}",
        )

    price = spec.prices[chosen_size]
    return ResolvedModel(
        provider=prov,
        model=spec.id,
        duration_seconds=seconds,
        size=chosen_size,
        usd_per_second=price.usd_per_second,
        price_source=price.source,
    )


# --- money ------------------------------------------------------------------------------------


def _quantize(amount: Decimal) -> Decimal:
    return amount.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)


def estimate_cost(resolved: ResolvedModel) -> Decimal:
    """Estimated cost in USD of a resolved request: seconds x price per second, to 0.0001."""
    return _quantize(resolved.usd_per_second * resolved.duration_seconds)


def actual_cost(model: str, size: str, seconds: float | Decimal) -> Decimal:
    """Cost in USD of ``seconds`` of video actually generated by ``model`` at ``size``.

    Retired models still bill (a job may finish after its model's retirement). Raises
    ``CatalogError`` for an unknown model or size and ``ValueError`` for negative or
    non-finite seconds.
    """
    spec = get_model(model)
    price = spec.prices.get(size)
    if price is None:
        raise CatalogError(
            "size", f"size '{size}' is not allowed for {spec.id}; allowed: {', '.join(spec.sizes)}"
        )
    try:
        # Through str so that 8.0 is 8.0, not its binary expansion.
        amount = seconds if isinstance(seconds, Decimal) else Decimal(str(seconds))
    except InvalidOperation as exc:  # pragma: no cover - str(float) is always a valid Decimal
        raise ValueError("seconds must be a number") from exc
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"seconds must be a finite number >= 0, got {seconds}")
    return _quantize(price.usd_per_second * amount)


# --- provider wire formats --------------------------------------------------------------------


def veo_config(size: str) -> tuple[str, str]:
    """``(aspect_ratio, resolution)`` for google-genai's ``GenerateVideosConfig`` at ``size``."""
    try:
        return VEO_SIZES[size]
    except KeyError:
        raise CatalogError(
            "size", f"size '{size}' is not a Veo size; allowed: {', '.join(VEO_SIZES)}"
        ) from None


def provider_size(provider: str, size: str) -> str:
    """The size as ``GenerationRequest.size`` carries it to the provider.

    Sora takes ``"1280x720"`` unchanged; Veo gets ``"<aspect_ratio>@<resolution>"``, e.g.
    ``"16:9@720p"`` (split it with ``str.partition("@")``).
    """
    if check_provider(provider) == "sora":
        return size
    aspect_ratio, resolution = veo_config(size)
    return f"{aspect_ratio}@{resolution}"
