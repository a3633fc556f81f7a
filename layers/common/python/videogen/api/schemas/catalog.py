"""The model catalog as ``GET /api/models`` shows it: providers with what their key needs and their
defaults, and every model the adapters implement with its status, durations and sizes (with the
rules that tie them), sound, inputs beyond the prompt, and prices per second with source and date,
all read from :mod:`videogen.catalog`.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from videogen import catalog
from videogen.api.schemas.storyboards import WireModel

_PROVIDER_NAMES = {"veo": "Google Veo", "fal": "fal", "openai": "OpenAI-compatible"}


class SizeOffer(WireModel):
    size: str = Field(description="<width>x<height>")
    aspect_ratio: str
    resolution: str
    durations: list[int] = Field(description="seconds this model accepts at this size")
    usd_per_second: float
    price_source: str = Field(description="the page the price was read from")
    price_as_of: str = Field(description="when the price source was read (YYYY-MM-DD)")


class InputsOffer(WireModel):
    """What a model takes beyond the prompt."""

    first_frame: bool
    last_frame: bool
    reference_images: int = Field(description="how many reference images it takes (0: none)")
    reference_durations: list[int] = Field(description="durations allowed with reference images (empty: any)")
    references_with_frames: bool = Field(
        description="whether reference images may come with a first or last frame"
    )
    negative_prompt: bool


class ModelOffer(WireModel):
    id: str
    provider: str
    name: str
    status: Literal["preview", "generally available", "retired"]
    api: str | None = Field(description="veo models: the Google API (gemini or vertex) whose keys run it")
    retired_on: date | None
    replacement: str | None
    durations: list[int]
    sizes: list[SizeOffer]
    sound: bool = Field(description="whether clips come with generated sound")
    inputs: InputsOffer
    limits_source: str = Field(description="where the durations, sizes and inputs were read, and when")
    typical_generation_seconds: int | None = Field(
        description="what the estimated progress of providers that report none is measured against"
    )
    notes: str


class RetiredEndpoint(WireModel):
    base_url: str
    retired_on: date
    source: str


class ProviderOffer(WireModel):
    id: str
    name: str
    default_model: str
    default_models_by_api: dict[str, str] = Field(
        description="veo: the default model for a key of each Google API"
    )
    default_duration_seconds: int
    default_size: str
    reports_progress: bool
    key_apis: list[str] = Field(description="veo: the Google APIs a key may be for (the key form asks)")
    key_needs_base_url: bool = Field(description="openai: the key form asks for the endpoint's base URL")
    retired_endpoints: list[RetiredEndpoint]
    notes: str


class Catalog(WireModel):
    providers: list[ProviderOffer]
    models: list[ModelOffer]
    typical_generation_source: str

    @classmethod
    def on(cls, today: date) -> Catalog:
        """The catalog as it stands on ``today`` (which models are retired), from videogen.catalog only."""
        return cls(
            providers=[_provider_offer(name, d) for name, d in catalog.DEFAULTS.items()],
            models=[_model_offer(m, today) for m in catalog.MODELS],
            typical_generation_source=catalog.TYPICAL_SECONDS_SOURCE,
        )


def _provider_offer(name: str, defaults: catalog.ProviderDefaults) -> ProviderOffer:
    retired = []
    if name == "openai":
        retired.append(
            RetiredEndpoint(
                base_url=catalog.OPENAI_OWN_BASE_URL,
                retired_on=catalog.OPENAI_RETIRED_ON,
                source=catalog.OPENAI_RETIREMENT_SOURCE,
            )
        )
    return ProviderOffer(
        id=name,
        name=_PROVIDER_NAMES[name],
        default_model=defaults.model,
        default_models_by_api={"gemini": defaults.model, **defaults.models_by_api} if name == "veo" else {},
        default_duration_seconds=defaults.duration_seconds,
        default_size=defaults.size,
        reports_progress=catalog.REPORTS_PROGRESS[name],
        key_apis=list(catalog.GOOGLE_APIS) if name == "veo" else [],
        key_needs_base_url=name == "openai",
        retired_endpoints=retired,
        notes=defaults.notes,
    )


def _model_offer(spec: catalog.ModelSpec, today: date) -> ModelOffer:
    sizes = []
    for size, price in spec.prices.items():
        aspect_ratio, resolution = catalog.size_format(size)
        sizes.append(
            SizeOffer(
                size=size,
                aspect_ratio=aspect_ratio,
                resolution=resolution,
                durations=list(spec.durations_for(size)),
                usd_per_second=float(price.usd_per_second),
                price_source=price.source,
                price_as_of=price.as_of,
            )
        )
    inputs = spec.inputs
    return ModelOffer(
        id=spec.id,
        provider=spec.provider,
        name=spec.name,
        status="retired" if spec.is_retired(today) else spec.status,
        api=spec.api,
        retired_on=spec.retired_on,
        replacement=spec.replacement,
        durations=list(spec.durations),
        sizes=sizes,
        sound=spec.sound,
        inputs=InputsOffer(
            first_frame=inputs.first_frame,
            last_frame=inputs.last_frame,
            reference_images=inputs.reference_images,
            reference_durations=list(inputs.reference_durations),
            references_with_frames=inputs.references_with_frames,
            negative_prompt=inputs.negative_prompt,
        ),
        limits_source=spec.limits_source,
        typical_generation_seconds=spec.typical_seconds,
        notes=spec.notes,
    )
