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
BEFORE_VEO_RETIREMENT = date(2026, 6, 29)


def test_request_naming_only_the_provider_gets_the_documented_defaults() -> None:
    sora = resolve("sora", None, None, None, TODAY)
    veo = resolve("veo", None, None, None, TODAY)

    assert (sora.model, sora.duration_seconds, sora.size) == ("sora-2", 4, "1280x720")
    assert (veo.model, veo.duration_seconds, veo.size) == ("veo-3.1-fast-generate-001", 8, "1280x720")


@pytest.mark.parametrize(
    ("model", "size", "per_second"),
    [
        ("sora-2", "1280x720", "0.10"),
        ("sora-2", "1792x1024", "0.10"),
        ("sora-2-pro", "720x1280", "0.30"),
        ("sora-2-pro", "1280x720", "0.30"),
        ("sora-2-pro", "1024x1792", "0.50"),
        ("sora-2-pro", "1792x1024", "0.50"),
    ],
)
def test_sora_prices_per_second_depend_on_model_and_size(model: str, size: str, per_second: str) -> None:
    resolved = resolve("sora", model, 8, size, TODAY)

    assert resolved.usd_per_second == Decimal(per_second)
    assert estimate_cost(resolved) == Decimal(per_second) * 8


def test_veo_prices_and_estimates() -> None:
    standard = resolve("veo", "veo-3.1-generate-001", 6, "720x1280", TODAY)
    fast = resolve("veo", "veo-3.1-fast-generate-001", 8, "1920x1080", TODAY)

    assert estimate_cost(standard) == Decimal("2.4000")
    assert estimate_cost(fast) == Decimal("1.2000")


def test_every_price_says_where_it_came_from_and_when() -> None:
    for spec in catalog.MODELS:
        for size, price in spec.prices.items():
            assert price.usd_per_second > 0, (spec.id, size)
            assert re.search(r"\b20\d\d-\d\d\b", price.source), (spec.id, size)  # when
            assert "pricing page" in price.source, (spec.id, size)  # where
    assert "verify" in resolve("veo", None, None, None, TODAY).price_source


def test_estimate_is_quantized_to_four_places() -> None:
    resolved = resolve("sora", "sora-2-pro", 12, "1792x1024", TODAY)

    cost = estimate_cost(resolved)

    assert cost == Decimal("6.0000")
    assert cost.as_tuple().exponent == -4


def test_unknown_model_is_refused_listing_the_allowed_ones() -> None:
    with pytest.raises(CatalogError) as caught:
        resolve("sora", "sora-3", None, None, TODAY)

    assert caught.value.field == "model"
    assert "sora-3" in str(caught.value)
    assert "sora-2, sora-2-pro" in str(caught.value)
    assert caught.value.details == [
        {"field": "body.model", "message": str(caught.value), "type": "not_in_catalog"}
    ]


def test_a_model_of_the_other_provider_is_unknown_for_this_one() -> None:
    with pytest.raises(CatalogError) as caught:
        resolve("veo", "sora-2", None, None, TODAY)

    assert caught.value.field == "model"
    assert "veo-3.1-generate-001, veo-3.1-fast-generate-001" in str(caught.value)
    assert "retired" not in str(caught.value)


@pytest.mark.parametrize(
    ("model", "replacement"),
    [
        ("veo-3.0-generate-001", "veo-3.1-generate-001"),
        ("veo-3.0-fast-generate-001", "veo-3.1-fast-generate-001"),
        ("veo-2.0-generate-001", "veo-3.1-generate-001"),
    ],
)
def test_retired_model_is_refused_naming_its_replacement(model: str, replacement: str) -> None:
    with pytest.raises(CatalogError) as caught:
        resolve("veo", model, 8, "1280x720", TODAY)

    assert caught.value.field == "model"
    assert str(caught.value) == f"{model} was retired on 2026-06-30; use {replacement}"


def test_retirement_takes_effect_on_its_date() -> None:
    assert resolve("veo", "veo-3.0-generate-001", 8, "1280x720", BEFORE_VEO_RETIREMENT).model == (
        "veo-3.0-generate-001"
    )
    with pytest.raises(CatalogError):
        resolve("veo", "veo-3.0-generate-001", 8, "1280x720", date(2026, 6, 30))


def test_available_models_leave_out_the_retired_ones() -> None:
    today = [m.id for m in available_models(TODAY)]
    before = [m.id for m in available_models(BEFORE_VEO_RETIREMENT, "veo")]

    assert today == ["sora-2", "sora-2-pro", "veo-3.1-generate-001", "veo-3.1-fast-generate-001"]
    assert "veo-3.0-generate-001" in before
    assert "sora-2" not in before


@pytest.mark.parametrize(("provider", "seconds"), [("sora", 6), ("sora", 5), ("veo", 12), ("veo", 0)])
def test_duration_not_allowed_lists_the_allowed_ones(provider: str, seconds: int) -> None:
    with pytest.raises(CatalogError) as caught:
        resolve(provider, None, seconds, None, TODAY)

    assert caught.value.field == "durationSeconds"
    assert f"{seconds} seconds" in str(caught.value)
    assert ("4, 8, 12" if provider == "sora" else "4, 6, 8") in str(caught.value)


def test_veo_1080p_takes_eight_seconds_only() -> None:
    with pytest.raises(CatalogError) as caught:
        resolve("veo", "veo-3.1-generate-001", 4, "1920x1080", TODAY)

    assert caught.value.field == "durationSeconds"
    assert "at 1920x1080" in str(caught.value)
    assert resolve("veo", None, None, "1080x1920", TODAY).duration_seconds == 8


@pytest.mark.parametrize(
    ("provider", "model", "size"),
    [("sora", None, "1920x1080"), ("veo", None, "1792x1024"), ("sora", None, "1280X720"), ("veo", None, "")],
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
    assert "sora, veo" in str(caught.value)


def test_catalog_errors_are_bad_input_for_the_api() -> None:
    with pytest.raises(CatalogError) as caught:
        resolve("sora", None, 7, None, TODAY)

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


def test_provider_sizes_on_the_wire() -> None:
    assert catalog.provider_size("sora", "1792x1024") == "1792x1024"
    assert catalog.provider_size("veo", "1280x720") == "16:9@720p"
    assert catalog.provider_size("veo", "1080x1920") == "9:16@1080p"
    assert catalog.veo_config("720x1280") == ("9:16", "720p")
    with pytest.raises(CatalogError):
        catalog.veo_config("1792x1024")


def test_catalog_data_is_consistent() -> None:
    ids = [m.id for m in catalog.MODELS]
    assert len(ids) == len(set(ids))
    for spec in catalog.MODELS:
        assert spec.provider in catalog.PROVIDERS
        assert spec.durations
        assert spec.sizes
        if spec.provider == "veo":
            assert set(spec.sizes) <= set(catalog.VEO_SIZES)
        if spec.retired_on is not None:
            assert spec.replacement is not None
            replacement = catalog.get_model(spec.replacement)
            assert replacement.provider == spec.provider
            assert replacement.retired_on is None
        for size, durations in spec.size_durations.items():
            assert size in spec.sizes
            assert set(durations) <= set(spec.durations)
    for provider, defaults in catalog.DEFAULTS.items():
        spec = catalog.get_model(defaults.model)
        assert spec.provider == provider
        assert defaults.size in spec.sizes
        assert defaults.duration_seconds in spec.durations_for(defaults.size)


def test_catalog_cannot_be_changed_at_runtime() -> None:
    spec = catalog.get_model("sora-2")

    with pytest.raises(TypeError):
        spec.prices["1280x720"] = catalog.Price(Decimal("0"), "free")  # type: ignore[index]
    with pytest.raises(AttributeError):
        spec.durations = (1,)  # type: ignore[misc]
