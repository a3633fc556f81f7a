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
