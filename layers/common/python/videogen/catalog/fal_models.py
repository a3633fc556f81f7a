"""fal's hosted video models in the catalog: each with its endpoint ids, durations, sizes, inputs
and price per second (source and date), and how its endpoint spells a request (``FAL_WIRE``).

Everything here was read on fal's own pages on 2026-12-07: each model's page (``fal.ai/models/
<endpoint>`` and its ``llms.txt``: pricing and input schema) and the generated endpoint types of
fal's JavaScript client (``fal-ai/fal-js``, ``libs/client/src/types/endpoints.ts``). What those do
not state (mostly the output resolution of models that take none) says "unconfirmed".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from videogen.catalog.spec import Inputs, ModelSpec, model, prices

_READ_ON = "2026-12-07"
_MODELS_PAGE = "https://fal.ai/models/"
_JS_TYPES = "fal-ai/fal-js libs/client/src/types/endpoints.ts (input schemas)"
_16_9_1080P = ("1920x1080",)
_1080P = ("1920x1080", "1080x1920")
_720P = ("1280x720", "720x1280")
_2160P = ("3840x2160", "2160x3840")

DurationForm = Literal["string", "integer", "seconds", "fixed"]


@dataclass(frozen=True, slots=True)
class FalWire:
    """How one fal endpoint spells a request, from its input schema.

    ``duration``: ``"5"`` (string), ``5`` (integer), ``"5s"`` (seconds), or not sent at all
    (fixed: the endpoint makes one length). ``aspect_ratio``: whether it takes ``"16:9"``-style
    ratios (False: it makes one shape). ``resolutions``: our resolution (``catalog.size_format``)
    to the endpoint's value; empty when it takes none. ``audio_switch``: whether it takes
    ``generate_audio`` (sent as the model's ``sound``, so that the catalog's price is the one
    billed). ``negative_prompt`` support is the model's ``inputs.negative_prompt``. With a first
    frame the request goes to the model's ``image_endpoint`` with the image's URL in
    ``first_frame`` (and a last frame in ``last_frame``), fields read in fal-js's endpoint types
    (commit 381105e, 2026-08-02) on 2026-12-07.
    """

    duration: DurationForm
    aspect_ratio: bool = True
    resolutions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    audio_switch: bool = False
    first_frame: str = "image_url"
    last_frame: str = "end_image_url"
    image_aspect_ratio: bool = True
    """Whether its image-to-video endpoint takes ``aspect_ratio`` too (Kling's follows the image)."""


def _page(endpoint: str, suffix: str = "llms.txt") -> str:
    return f"{_MODELS_PAGE}{endpoint}/{suffix}"


def _limits(page: str, unconfirmed: str = "") -> str:
    note = f"; unconfirmed: {unconfirmed}" if unconfirmed else ""
    return f"{page} and {_JS_TYPES}, read {_READ_ON}{note}"


_KLING_25 = "fal-ai/kling-video/v2.5-turbo/pro/text-to-video"
_KLING_3 = "fal-ai/kling-video/v3/pro/text-to-video"
_SEEDANCE = "bytedance/seedance-2.0/fast/text-to-video"
_HAILUO = "fal-ai/minimax/hailuo-02/pro/text-to-video"
_LTX = "fal-ai/ltx-2.3/text-to-video"

_KLING_3_SCHEMA = "https://fal.ai/docs/model-api-reference/video-generation-api/kling-video-v3-pro"
_KLING_3_PRICE = (
    "https://fal.ai/learn/tools/how-to-use-kling-3-0-pro (fal's Kling 3.0 Pro guide: $0.112/s "
    "audio off, $0.168/s audio on, for its text-to-video and image-to-video endpoints; the same on "
    f"{_page('fal-ai/kling-video/v3/pro/image-to-video', 'playground')}); audio on, as sent"
)

_ENTRIES: tuple[tuple[ModelSpec, FalWire], ...] = (
    (
        model(
            "kling-2.5-turbo-pro",
            "fal",
            "Kling 2.5 Turbo Pro (fal)",
            "generally available",
            (5, 10),
            prices(
                _1080P,
                "0.07",
                f"{_page(_KLING_25)} ($0.35 for 5 s plus $0.07 per further second: $0.07/s at 5 and 10 s)",
                _READ_ON,
            ),
            endpoint=_KLING_25,
            image_endpoint="fal-ai/kling-video/v2.5-turbo/pro/image-to-video",
            inputs=Inputs(first_frame=True, last_frame=True, negative_prompt=True),
            limits_source=_limits(_page(_KLING_25), "the 1080p output (the endpoint takes no resolution)"),
            notes="Silent; 5 or 10 s; 16:9 or 9:16 (1:1 left out: no catalog size); a tail frame too.",
            typical_seconds=90,
        ),
        FalWire(duration="string", last_frame="tail_image_url", image_aspect_ratio=False),
    ),
    (
        model(
            "kling-3.0-pro",
            "fal",
            "Kling 3.0 Pro (fal)",
            "generally available",
            tuple(range(3, 16)),
            prices(_1080P, "0.168", _KLING_3_PRICE, _READ_ON),
            endpoint=_KLING_3,
            image_endpoint="fal-ai/kling-video/v3/pro/image-to-video",
            sound=True,
            inputs=Inputs(first_frame=True, last_frame=True, negative_prompt=True),
            limits_source=_limits(_KLING_3_SCHEMA, "the 1080p output (the endpoint takes no resolution)"),
            notes="Sound on (priced so); 3 to 15 s; multi-shot prompts are not used.",
            typical_seconds=180,
        ),
        FalWire(
            duration="string", audio_switch=True, first_frame="start_image_url", image_aspect_ratio=False
        ),
    ),
    (
        model(
            "seedance-2.0-fast",
            "fal",
            "Seedance 2.0 Fast (fal)",
            "generally available",
            tuple(range(4, 16)),
            prices(
                _720P,
                "0.2419",
                f"{_page(_SEEDANCE)} ($0.2419 per second of 720p; the same with or without audio)",
                _READ_ON,
            ),
            endpoint=_SEEDANCE,
            image_endpoint="bytedance/seedance-2.0/fast/image-to-video",
            sound=True,
            inputs=Inputs(first_frame=True, last_frame=True),
            limits_source=_limits(_page(_SEEDANCE), "480p's pixel size, so 480p is not offered"),
            notes="Sound always on at one price; 4 to 15 s; 720p (480p left out: its price per "
            "second depends on a pixel size fal does not state).",
            typical_seconds=60,
        ),
        FalWire(duration="string", resolutions=MappingProxyType({"720p": "720p"}), audio_switch=True),
    ),
    (
        model(
            "hailuo-02-pro",
            "fal",
            "MiniMax Hailuo 02 Pro (fal)",
            "generally available",
            (6,),
            prices(
                _16_9_1080P,
                "0.08",
                f"{_MODELS_PAGE}{_HAILUO} ($0.08/sec; a 6 s video $0.48)",
                _READ_ON,
            ),
            endpoint=_HAILUO,
            image_endpoint="fal-ai/minimax/hailuo-02/pro/image-to-video",
            inputs=Inputs(first_frame=True, last_frame=True),
            limits_source=_limits(
                _MODELS_PAGE + _HAILUO, "the 16:9 frame (the endpoint takes neither ratio nor length)"
            ),
            notes="Silent; 6 s at 1080p only (the endpoint takes no duration, ratio or resolution).",
            typical_seconds=480,
        ),
        FalWire(duration="fixed", aspect_ratio=False),
    ),
    (
        model(
            "ltx-2.3",
            "fal",
            "LTX-2.3 Pro (fal)",
            "generally available",
            (6, 8, 10),
            prices(_1080P, "0.08", f"{_page(_LTX)} ($0.08/s at 1080p)", _READ_ON)
            | prices(_2160P, "0.32", f"{_page(_LTX)} ($0.32/s at 2160p)", _READ_ON),
            endpoint=_LTX,
            image_endpoint="fal-ai/ltx-2.3/image-to-video",
            sound=True,
            inputs=Inputs(first_frame=True, last_frame=True),
            limits_source=_limits(_page(_LTX)),
            notes="Sound on; 6, 8 or 10 s; 1080p or 2160p (1440p not offered: no catalog size). "
            "Its image-to-video endpoint costs less ($0.06/s at 1080p); the catalog bills the "
            "text-to-video price.",
            typical_seconds=60,
        ),
        FalWire(
            duration="integer",
            resolutions=MappingProxyType({"1080p": "1080p", "4k": "2160p"}),
            audio_switch=True,
        ),
    ),
)

FAL_MODELS: tuple[ModelSpec, ...] = tuple(spec for spec, _ in _ENTRIES)
FAL_WIRE: Mapping[str, FalWire] = MappingProxyType({spec.id: wire for spec, wire in _ENTRIES})
"""Each fal model's request spelling, by catalog id (the adapter's one source for bodies)."""
# The only fal model with a confirmed 1280x720 (the provider's default size) and 5 s.
FAL_DEFAULT_MODEL = "seedance-2.0-fast"
FAL_TYPICAL_SECONDS_SOURCE = (
    f"fal's model pages give no latency but Hailuo 02 Pro's (about 8 min: {_HAILUO}, read "
    f"{_READ_ON}); the other fal figures are ours"
)
