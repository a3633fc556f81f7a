"""The catalog's vocabulary: providers, a model's spec and price, a resolved request, the
catalog's 400. The data itself is :mod:`videogen.catalog.data`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Literal, get_args

from videogen.errors import InvalidInput, field_errors

Provider = Literal["veo", "fal", "openai"]
"""The video providers a user holds a key for: the one list of their names (schemas, models,
keys and adapters use it). ``veo`` is a Google key (for the Gemini API or Vertex AI express
mode: the stored key says which), ``fal`` a fal.ai key (many hosted models), ``openai`` any
endpoint speaking the OpenAI videos API (the stored key carries its base URL)."""
PROVIDERS: tuple[Provider, ...] = get_args(Provider)

GoogleApi = Literal["gemini", "vertex"]
"""Which Google API a ``veo`` key is for: the Gemini API (Google AI Studio keys, the default) or
Vertex AI express mode."""
GOOGLE_APIS: tuple[GoogleApi, ...] = get_args(GoogleApi)

Status = Literal["preview", "generally available", "retired"]
"""A model's standing at its provider (``retired`` also from ``retired_on``)."""

COST_QUANTUM = Decimal("0.0001")
"""Costs are kept to 4 decimal places (``video_jobs.cost`` is ``numeric(10,4)``)."""


@dataclass(frozen=True, slots=True)
class Price:
    """A price per second of generated video, with where it came from and when."""

    usd_per_second: Decimal
    source: str
    """The address of the page the price was read from (with a note when it is second-hand)."""
    as_of: str
    """When the source was read (``YYYY-MM-DD``)."""


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a model takes beyond the prompt: a first frame, a last frame (always with a first),
    reference images (how many, at which durations)."""

    first_frame: bool = False
    last_frame: bool = False
    reference_images: int = 0
    """How many reference images it takes (0: none)."""
    reference_durations: tuple[int, ...] = ()
    """Durations allowed when reference images are sent (empty: any of the model's)."""
    negative_prompt: bool = False
    references_with_frames: bool = False
    """Whether reference images may come with a first or last frame (Veo: no, one or the other)."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One model id: what it accepts, what it costs, and when it stops working."""

    id: str
    provider: Provider
    name: str
    status: Status
    durations: tuple[int, ...]
    prices: Mapping[str, Price]
    """Price per size; the keys are also the sizes the model accepts, in display order."""
    api: GoogleApi | None = None
    """For ``veo`` models: the Google API that serves this id (a key for the other cannot)."""
    endpoint: str = ""
    """The provider's own id for text-to-video when it differs from ``id`` (fal's endpoint ids)."""
    image_endpoint: str = ""
    """The provider's id for a first-frame (image-to-video) request, when it is another endpoint."""
    sound: bool = False
    """Whether the clip comes with generated sound."""
    inputs: Inputs = field(default_factory=Inputs)
    limits_source: str = ""
    """Where the durations, sizes and inputs were read, and when."""
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
        return self.status == "retired" or (self.retired_on is not None and today >= self.retired_on)

    @property
    def provider_model(self) -> str:
        """The id the provider's API takes for a text-to-video request."""
        return self.endpoint or self.id


@dataclass(frozen=True, slots=True)
class ProviderDefaults:
    """What a request that names only the provider gets."""

    model: str
    duration_seconds: int
    size: str
    notes: str = ""
    models_by_api: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """For ``veo``: the default model of each Google API (``model`` is the Gemini API's)."""

    def model_for(self, api: str | None) -> str:
        """The default model for a key of ``api`` (``model`` when the provider has one API)."""
        return self.models_by_api.get(api or "", self.model)


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """A validated (provider, model, duration, size) with its price: what a job will run."""

    provider: Provider
    model: str
    duration_seconds: int
    size: str
    usd_per_second: Decimal
    price_source: str


def prices(sizes: tuple[str, ...], usd_per_second: str, source: str, as_of: str) -> dict[str, Price]:
    """The same price for each of ``sizes``, read from ``source`` on ``as_of`` (YYYY-MM-DD)."""
    return dict.fromkeys(sizes, Price(Decimal(usd_per_second), source, as_of))


def model(  # noqa: PLR0917 (a catalog entry reads as a table row: id, provider, name, status, durations, prices)
    id: str,
    provider: Provider,
    name: str,
    status: Status,
    durations: tuple[int, ...],
    prices: dict[str, Price],
    *,
    api: GoogleApi | None = None,
    endpoint: str = "",
    image_endpoint: str = "",
    size_durations: dict[str, tuple[int, ...]] | None = None,
    sound: bool = False,
    inputs: Inputs | None = None,
    limits_source: str = "",
    retired_on: date | None = None,
    replacement: str | None = None,
    notes: str = "",
    typical_seconds: int | None = None,
) -> ModelSpec:
    """A catalog entry (the keyword defaults: what a model without that feature has)."""
    return ModelSpec(
        id=id,
        provider=provider,
        name=name,
        status=status,
        durations=durations,
        prices=MappingProxyType(prices),
        api=api,
        endpoint=endpoint,
        image_endpoint=image_endpoint,
        sound=sound,
        inputs=inputs or Inputs(),
        limits_source=limits_source,
        retired_on=retired_on,
        replacement=replacement,
        size_durations=MappingProxyType(size_durations or {}),
        notes=notes,
        typical_seconds=typical_seconds,
    )


class CatalogError(InvalidInput, ValueError):
    """A request names a model, duration or size the catalog does not allow (answers 400).

    ``field`` is the request field at fault, spelled as on the wire (``provider``, ``model``,
    ``durationSeconds``, ``size``); ``details`` name it in the generate request's body.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field_errors(f"body.{field}", message, "not_in_catalog"))
        self.field = field
