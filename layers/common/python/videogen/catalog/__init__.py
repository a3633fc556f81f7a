"""The model catalog: every video model we can ask for, as data, in one place.

Per model: its provider, the durations and sizes it accepts, the price per second for each
size (with where that price came from and when), and its retirement date and replacement.
Nothing else in the code base lists models, durations, sizes or prices; the API validates
requests with :func:`resolve`, estimates with :func:`estimate_cost`, and the worker bills
with :func:`actual_cost`.

Providers (:mod:`videogen.catalog.spec`): ``veo`` (a Google key, for the Gemini API's
``-preview`` ids or Vertex AI express mode's ``-001`` ids: a model's ``api`` says which, and a
request must match the key's), ``fal`` (fal's hosted models under one key), ``openai`` (any
endpoint speaking the OpenAI videos API; OpenAI's own shut down on 2026-09-24).

Sizes are always ``"<width>x<height>"`` on our API; :func:`size_format` gives the aspect ratio
and resolution the providers take instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import MappingProxyType

from videogen.catalog.data import (
    DEFAULTS,
    MODELS,
    OPENAI_OWN_BASE_URL,
    OPENAI_RETIRED_ON,
    OPENAI_RETIREMENT_SOURCE,
    REPORTS_PROGRESS,
    SIZE_FORMATS,
    TYPICAL_SECONDS_SOURCE,
)
from videogen.catalog.spec import (
    COST_QUANTUM,
    GOOGLE_APIS,
    PROVIDERS,
    CatalogError,
    GoogleApi,
    Inputs,
    ModelSpec,
    Price,
    Provider,
    ProviderDefaults,
    ResolvedModel,
)

_BY_ID: Mapping[str, ModelSpec] = MappingProxyType({m.id: m for m in MODELS})

# --- lookups ----------------------------------------------------------------------------------


def get_model(model_id: str) -> ModelSpec:
    """The catalog entry for ``model_id`` (retired ones included); ``CatalogError`` if unknown."""
    spec = _BY_ID.get(model_id)
    if spec is None:
        raise CatalogError("model", f"unknown model '{model_id}'")
    return spec


def find_model(model_id: str) -> ModelSpec | None:
    """The catalog entry for ``model_id``, or ``None`` when the catalog has no such id."""
    return _BY_ID.get(model_id)


def typical_seconds(model_id: str) -> int | None:
    """How long ``model_id``'s generations usually take, if the catalog says (unknown ids: None)."""
    spec = _BY_ID.get(model_id)
    return None if spec is None else spec.typical_seconds


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


_API_NAMES = {"gemini": "the Gemini API", "vertex": "Vertex AI"}


def _model_for(provider: Provider, model: str | None, today: date, api: str | None) -> ModelSpec:
    if model is None:
        spec = _BY_ID[DEFAULTS[provider].model_for(api)]
        # A retired default quietly moves to its replacement: the caller asked for no model.
        while spec.is_retired(today) and spec.replacement is not None:
            spec = _BY_ID[spec.replacement]
        return spec
    found = _BY_ID.get(model)
    if found is None or found.provider != provider:
        allowed = ", ".join(m.id for m in available_models(today, provider) if _serves(m, api))
        raise CatalogError("model", f"unknown model '{model}' for provider {provider}; allowed: {allowed}")
    if found.is_retired(today):
        instead = f"; use {found.replacement}" if found.replacement else ""
        raise CatalogError("model", f"{found.id} was retired on {found.retired_on}{instead}")
    if not _serves(found, api):
        allowed = ", ".join(m.id for m in available_models(today, provider) if _serves(m, api))
        raise CatalogError(
            "model",
            f"{found.id} runs on {_API_NAMES[found.api or '']} and your Google key is for "
            f"{_API_NAMES.get(api or '', api)}; use one of {allowed}",
        )
    return found


def _serves(spec: ModelSpec, api: str | None) -> bool:
    """Whether a key for ``api`` can run ``spec`` (``None``: the key is not known yet, any)."""
    return api is None or spec.api is None or spec.api == api


def resolve(
    provider: str,
    model: str | None,
    duration_seconds: int | None,
    size: str | None,
    today: date,
    *,
    api: str | None = None,
) -> ResolvedModel:
    """Validate a generation request against the catalog, filling defaults for what is omitted.

    ``api`` is which Google API the user's ``veo`` key is for (``None``: not known, or not a
    Google key). Raises ``CatalogError`` naming the offending field (``provider``, ``model``,
    ``durationSeconds``, ``size``) with a message listing what is allowed, naming the
    replacement of a retired model, or the API a model runs on.
    """
    prov = check_provider(provider)
    spec = _model_for(prov, model, today, api)
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


def size_format(size: str) -> tuple[str, str]:
    """``(aspect_ratio, resolution)`` of a catalog size, e.g. ``("16:9", "720p")`` for
    ``"1280x720"``; ``CatalogError`` for a size no model has."""
    try:
        return SIZE_FORMATS[size]
    except KeyError:
        raise CatalogError(
            "size", f"size '{size}' is not a catalog size; allowed: {', '.join(SIZE_FORMATS)}"
        ) from None


__all__ = [
    "COST_QUANTUM",
    "DEFAULTS",
    "GOOGLE_APIS",
    "MODELS",
    "OPENAI_OWN_BASE_URL",
    "OPENAI_RETIRED_ON",
    "OPENAI_RETIREMENT_SOURCE",
    "PROVIDERS",
    "REPORTS_PROGRESS",
    "SIZE_FORMATS",
    "TYPICAL_SECONDS_SOURCE",
    "CatalogError",
    "GoogleApi",
    "Inputs",
    "ModelSpec",
    "Price",
    "Provider",
    "ProviderDefaults",
    "ResolvedModel",
    "actual_cost",
    "available_models",
    "check_provider",
    "estimate_cost",
    "find_model",
    "get_model",
    "resolve",
    "size_format",
    "typical_seconds",
]
