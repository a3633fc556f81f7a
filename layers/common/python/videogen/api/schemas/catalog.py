"""The model catalog as ``GET /api/models`` shows it: providers with their defaults, models current
and retired (with replacement and date), durations, sizes, and prices with their source and date,
all read from :mod:`videogen.catalog`.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from videogen import catalog
from videogen.api.schemas.storyboards import WireModel


class SizeOffer(WireModel):
    size: str = Field(description="<width>x<height>")
    durations: list[int] = Field(description="seconds this model accepts at this size")
    usd_per_second: float
    price_source: str
    price_as_of: str = Field(description="when the price source was read (YYYY-MM)")


class ModelOffer(WireModel):
    id: str
    provider: str
    status: Literal["current", "retired"]
    retired_on: date | None
    replacement: str | None
    durations: list[int]
    sizes: list[SizeOffer]
    typical_generation_seconds: int | None = Field(
        description="what the estimated progress of providers that report none is measured against"
    )
    notes: str


class ProviderOffer(WireModel):
    id: str
    default_model: str
    default_duration_seconds: int
    default_size: str
    reports_progress: bool
    notes: str


class Catalog(WireModel):
    providers: list[ProviderOffer]
    models: list[ModelOffer]
    typical_generation_source: str

    @classmethod
    def on(cls, today: date) -> Catalog:
        """The catalog as it stands on ``today`` (which models are retired), from videogen.catalog only."""
        providers = [
            ProviderOffer(
                id=name,
                default_model=d.model,
                default_duration_seconds=d.duration_seconds,
                default_size=d.size,
                reports_progress=catalog.REPORTS_PROGRESS[name],
                notes=d.notes,
            )
            for name, d in catalog.DEFAULTS.items()
        ]
        return cls(
            providers=providers,
            models=[_model_offer(m, today) for m in catalog.MODELS],
            typical_generation_source=catalog.TYPICAL_SECONDS_SOURCE,
        )


def _model_offer(spec: catalog.ModelSpec, today: date) -> ModelOffer:
    sizes = [
        SizeOffer(
            size=size,
            durations=list(spec.durations_for(size)),
            usd_per_second=float(price.usd_per_second),
            price_source=price.source,
            price_as_of=price.as_of,
        )
        for size, price in spec.prices.items()
    ]
    return ModelOffer(
        id=spec.id,
        provider=spec.provider,
        status="retired" if spec.is_retired(today) else "current",
        retired_on=spec.retired_on,
        replacement=spec.replacement,
        durations=list(spec.durations),
        sizes=sizes,
        typical_generation_seconds=spec.typical_seconds,
        notes=spec.notes,
    )
