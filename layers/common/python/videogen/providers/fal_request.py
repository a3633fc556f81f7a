"""What a fal endpoint is sent for a request: the JSON input each model's schema takes
(``catalog.fal_models.FalWire``), and with a first frame the image-to-video endpoint's fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from videogen.catalog import CatalogError, size_format
from videogen.catalog.fal_models import FalWire
from videogen.catalog.spec import ModelSpec
from videogen.providers.base import GenerationRequest, PermanentProviderError

_DURATION_FORMS: dict[str, Callable[[int], object]] = {"string": str, "integer": int, "seconds": "{}s".format}


def request_body(spec: ModelSpec, wire: FalWire, request: GenerationRequest) -> dict[str, Any]:
    """The JSON input ``spec``'s endpoint takes for ``request`` (see the module docstring)."""
    try:
        aspect_ratio, resolution = size_format(request.size)
    except CatalogError as exc:
        raise PermanentProviderError(f"fal cannot make size {request.size!r}: {exc.message}") from None
    seconds = request.duration_seconds
    body: dict[str, Any] = {"prompt": request.prompt}
    if wire.duration == "fixed":
        if seconds not in spec.durations:
            allowed = ", ".join(str(d) for d in spec.durations)
            raise PermanentProviderError(f"{spec.id} makes {allowed} s clips only, not {seconds} s")
    else:
        body["duration"] = _DURATION_FORMS[wire.duration](seconds)
    if wire.aspect_ratio:
        body["aspect_ratio"] = aspect_ratio
    if wire.resolutions:
        if resolution not in wire.resolutions:
            raise PermanentProviderError(f"{spec.id} cannot make size {request.size!r} ({resolution})")
        body["resolution"] = wire.resolutions[resolution]
    if wire.audio_switch:
        body["generate_audio"] = spec.sound
    if request.negative_prompt and spec.inputs.negative_prompt:
        body["negative_prompt"] = request.negative_prompt
    return body | _frames(wire, request, body)


def _frames(wire: FalWire, request: GenerationRequest, body: dict[str, Any]) -> dict[str, Any]:
    """The image-to-video fields: the frames' URLs (fal fetches them), and no ``aspect_ratio``
    where that endpoint takes none (it follows the image)."""
    first, last = request.image("first"), request.image("last")
    if first is None:
        return {}
    if not wire.image_aspect_ratio:
        body.pop("aspect_ratio", None)
    return {wire.first_frame: first.url} | ({wire.last_frame: last.url} if last else {})
