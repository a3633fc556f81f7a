"""The model catalog: what a generate request may ask for, what it costs, what is retired."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from videogen import catalog
from videogen.catalog import CatalogError, actual_cost, available_models, estimate_cost, resolve
from videogen.errors import InvalidInput

TODAY = date(2026, 11, 25)


def test_request_naming_only_the_provider_gets_the_documented_defaults() -> None:
    sora = resolve("openai", None, None, None, TODAY)
    gemini = resolve("veo", None, None, None, TODAY, api="gemini")
    vertex = resolve("veo", None, None, None, TODAY, api="vertex")
    fal = resolve("fal", None, None, None, TODAY)

    assert (sora.model, sora.duration_seconds, sora.size) == ("sora-2", 4, "1280x720")
    assert (gemini.model, gemini.duration_seconds, gemini.size) == (
        "veo-3.1-fast-generate-preview",
        8,
        "1280x720",
    )
    assert (vertex.model, vertex.duration_seconds, vertex.size) == (
        "veo-3.1-fast-generate-001",
        8,
        "1280x720",
    )
    assert (fal.provider, fal.model) == ("fal", catalog.DEFAULTS["fal"].model)


def test_a_google_key_runs_only_the_models_of_its_api() -> None:
    with pytest.raises(CatalogError) as caught:
        resolve("veo", "veo-3.1-generate-001", 8, "1280x720", TODAY, api="gemini")

    assert caught.value.field == "model"
    assert "runs on Vertex AI and your Google key is for the Gemini API" in str(caught.value)
    assert "veo-3.1-generate-preview" in str(caught.value)
    assert resolve("veo", "veo-3.1-generate-preview", 8, "1280x720", TODAY, api="gemini").model == (
        "veo-3.1-generate-preview"
    )


def test_4k_is_8_seconds_only_and_not_on_lite() -> None:
    with pytest.raises(CatalogError) as at_four:
        resolve("veo", "veo-3.1-generate-preview", 4, "3840x2160", TODAY, api="gemini")
    with pytest.raises(CatalogError) as on_lite:
        resolve("veo", "veo-3.1-lite-generate-preview", 8, "3840x2160", TODAY, api="gemini")

    assert at_four.value.field == "durationSeconds"
    assert "allowed: 8" in str(at_four.value)
    assert on_lite.value.field == "size"
    four_k = resolve("veo", "veo-3.1-generate-preview", None, "2160x3840", TODAY, api="gemini")
    assert (four_k.duration_seconds, four_k.usd_per_second) == (8, Decimal("0.60"))


@pytest.mark.parametrize(
    ("model", "size", "per_second"),
    [
        ("sora-2", "1280x720", "0.10"),
        ("sora-2", "720x1280", "0.10"),
        ("sora-2-pro", "720x1280", "0.30"),
        ("sora-2-pro", "1280x720", "0.30"),
        ("sora-2-pro", "1024x1792", "0.50"),
        ("sora-2-pro", "1792x1024", "0.50"),
    ],
)
def test_sora_prices_per_second_depend_on_model_and_size(model: str, size: str, per_second: str) -> None:
    resolved = resolve("openai", model, 8, size, TODAY)

    assert resolved.usd_per_second == Decimal(per_second)
    assert estimate_cost(resolved) == Decimal(per_second) * 8


def test_veo_prices_and_estimates() -> None:
    standard = resolve("veo", "veo-3.1-generate-001", 6, "720x1280", TODAY)
    fast = resolve("veo", "veo-3.1-fast-generate-001", 8, "1920x1080", TODAY)

    assert estimate_cost(standard) == Decimal("2.4000")
    assert estimate_cost(fast) == Decimal("1.2000")


def test_every_price_and_limit_says_where_it_came_from_and_when() -> None:
    for spec in catalog.MODELS:
        assert re.search(r"https://\S+", spec.limits_source), spec.id  # where
        assert re.search(r"\b20\d\d-\d\d-\d\d\b", spec.limits_source), spec.id  # when
        for size, price in spec.prices.items():
            assert price.usd_per_second > 0, (spec.id, size)
            assert re.fullmatch(r"20\d\d-\d\d-\d\d", price.as_of), (spec.id, size)  # when
            assert re.match(r"https://\S+", price.source), (spec.id, size)  # where


def test_estimate_is_quantized_to_four_places() -> None:
    resolved = resolve("openai", "sora-2-pro", 12, "1792x1024", TODAY)

    cost = estimate_cost(resolved)

    assert cost == Decimal("6.0000")
    assert cost.as_tuple().exponent == -4


def test_unknown_model_is_refused_listing_the_allowed_ones() -> None:
    with pytest.raises(CatalogError) as caught:
        resolve("openai", "sora-3", None, None, TODAY)

    assert caught.value.field == "model"
    assert "sora-3" in str(caught.value)
    assert "sora-2, sora-2-pro" in str(caught.value)
    assert caught.value.details == [
        {"field": "body.model", "message": str(caught.value), "type": "not_in_catalog"}
    ]


def test_a_model_of_the_other_provider_is_unknown_for_this_one() -> None:
    with pytest.raises(CatalogError) as caught:
        resolve("veo", "sora-2", None, None, TODAY, api="vertex")

    assert caught.value.field == "model"
    assert "allowed: veo-3.1-generate-001, veo-3.1-fast-generate-001" in str(caught.value)
    assert "veo-3.0" not in str(caught.value)


@pytest.mark.parametrize(
    ("model", "replacement"),
    [
        ("veo-3.0-generate-001", "veo-3.1-generate-001"),
        ("veo-3.0-fast-generate-001", "veo-3.1-fast-generate-001"),
    ],
)
def test_retired_model_is_refused_naming_its_replacement(model: str, replacement: str) -> None:
    with pytest.raises(CatalogError) as caught:
        resolve("veo", model, 8, "1280x720", TODAY)

    assert caught.value.field == "model"
    assert str(caught.value) == f"{model} was retired on 2026-06-30; use {replacement}"


def test_available_models_leave_out_the_retired_ones() -> None:
    today = [m.id for m in available_models(TODAY, "veo")]

    assert today == [
        "veo-3.1-generate-preview",
        "veo-3.1-fast-generate-preview",
        "veo-3.1-lite-generate-preview",
        "veo-3.1-generate-001",
        "veo-3.1-fast-generate-001",
    ]
    assert {m.provider for m in available_models(TODAY)} == {"veo", "fal", "openai"}


@pytest.mark.parametrize(("provider", "seconds"), [("openai", 6), ("openai", 5), ("veo", 12), ("veo", 0)])
def test_duration_not_allowed_lists_the_allowed_ones(provider: str, seconds: int) -> None:
    with pytest.raises(CatalogError) as caught:
        resolve(provider, None, seconds, None, TODAY)

    assert caught.value.field == "durationSeconds"
    assert f"{seconds} seconds" in str(caught.value)
    assert ("4, 8, 12" if provider == "openai" else "4, 6, 8") in str(caught.value)


def test_veo_1080p_takes_eight_seconds_only() -> None:
    with pytest.raises(CatalogError) as caught:
        resolve("veo", "veo-3.1-generate-001", 4, "1920x1080", TODAY, api="vertex")

    assert caught.value.field == "durationSeconds"
    assert "at 1920x1080" in str(caught.value)
    assert resolve("veo", None, None, "1080x1920", TODAY).duration_seconds == 8


@pytest.mark.parametrize(
    ("provider", "model", "size"),
    [
        ("openai", None, "1920x1080"),
        ("veo", None, "1792x1024"),
        ("openai", None, "1280X720"),
        ("veo", None, ""),
    ],
    ids=["openai-1080p", "veo-sora-size", "capital-x", "empty"],
)
def test_size_not_allowed_lists_the_allowed_ones(provider: str, model: str | None, size: str) -> None:
    with pytest.raises(CatalogError) as caught:
        resolve(provider, model, None, size, TODAY)

    assert caught.value.field == "size"
    assert "allowed: " in str(caught.value)


def test_unknown_provider_is_refused() -> None:
    with pytest.raises(CatalogError) as caught:
        resolve("runway", None, None, None, TODAY)

    assert caught.value.field == "provider"
    assert "veo, fal, openai" in str(caught.value)


def test_catalog_errors_are_bad_input_for_the_api() -> None:
    with pytest.raises(CatalogError) as caught:
        resolve("openai", None, 7, None, TODAY)

    assert isinstance(caught.value, InvalidInput)
    assert isinstance(caught.value, ValueError)
    assert caught.value.message == str(caught.value)


def test_actual_cost_bills_the_seconds_generated() -> None:
    assert actual_cost("sora-2-pro", "1024x1792", 8) == Decimal("4.0000")
    assert actual_cost("veo-3.1-generate-001", "1280x720", 7.9) == Decimal("3.1600")
    assert actual_cost("sora-2", "1280x720", 4.00005) == Decimal("0.4000")
    assert actual_cost("sora-2", "1280x720", Decimal("0.0005")) == Decimal("0.0001")  # half up


def test_actual_cost_still_bills_a_model_retired_since_the_job_started() -> None:
    assert actual_cost("veo-3.0-fast-generate-001", "1280x720", 8) == Decimal("1.2000")


@pytest.mark.parametrize(
    ("model", "size", "seconds", "error"),
    [
        ("nope", "1280x720", 4, CatalogError),
        ("sora-2", "1920x1080", 4, CatalogError),
        ("sora-2", "1280x720", -1, ValueError),
        ("sora-2", "1280x720", float("nan"), ValueError),
        ("sora-2", "1280x720", float("inf"), ValueError),
    ],
)
def test_actual_cost_refuses_what_cannot_be_billed(
    model: str, size: str, seconds: float, error: type[Exception]
) -> None:
    with pytest.raises(error):
        actual_cost(model, size, seconds)


def test_sizes_as_aspect_ratio_and_resolution() -> None:
    assert catalog.size_format("1280x720") == ("16:9", "720p")
    assert catalog.size_format("1080x1920") == ("9:16", "1080p")
    assert catalog.size_format("3840x2160") == ("16:9", "4k")
    with pytest.raises(CatalogError):
        catalog.size_format("1000x1000")


def test_catalog_data_is_consistent() -> None:
    ids = [m.id for m in catalog.MODELS]
    assert len(ids) == len(set(ids))
    for spec in catalog.MODELS:
        assert spec.provider in catalog.PROVIDERS
        assert spec.durations
        assert spec.sizes
        assert set(spec.sizes) <= set(catalog.SIZE_FORMATS), spec.id
        assert (spec.api is not None) == (spec.provider == "veo"), spec.id
        assert spec.status in ("preview", "generally available", "retired"), spec.id
        if spec.retired_on is not None:
            assert spec.replacement is not None
            replacement = catalog.get_model(spec.replacement)
            assert replacement.provider == spec.provider
            assert replacement.retired_on is None
        for size, durations in spec.size_durations.items():
            assert size in spec.sizes
            assert set(durations) <= set(spec.durations)
    for provider, defaults in catalog.DEFAULTS.items():
        for model in (defaults.model, *defaults.models_by_api.values()):
            spec = catalog.get_model(model)
            assert spec.provider == provider
            assert not spec.is_retired(TODAY)
            assert defaults.size in spec.sizes
            assert defaults.duration_seconds in spec.durations_for(defaults.size)


def test_catalog_cannot_be_changed_at_runtime() -> None:
    spec = catalog.get_model("sora-2")

    with pytest.raises(TypeError):
        spec.prices["1280x720"] = catalog.Price(Decimal("0"), "free", "2026-12-07")  # type: ignore[index]
    with pytest.raises(AttributeError):
        spec.durations = (1,)  # type: ignore[misc]
