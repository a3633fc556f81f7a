"""The catalog's fal endpoints, text-to-video and image-to-video: each one's input schema and
price, and the errors an input outside its schema gets (pydantic's 422 ``detail`` list, as fal's
models answer it when the job runs). An image-to-video endpoint's image fields are URLs its runner
downloads (``images``: which frame each is), the first-frame one required.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from devstack.fakes.records import ImageRole

Allowed = tuple[object, ...] | type
_RATIOS = ("16:9", "9:16", "1:1")


def _strings(first: int, last: int) -> tuple[str, ...]:
    return tuple(str(n) for n in range(first, last + 1))


@dataclass(frozen=True)
class Endpoint:
    """An endpoint's input schema as its model page gives it: literal options or a type per field,
    the image URL fields and the frame each one is (the first required)."""

    fields: dict[str, Allowed]
    unit_price: float
    output: Literal["file", "video_file"] = "file"
    seed: bool = False
    defaults: dict[str, object] = field(default_factory=dict)
    images: dict[str, ImageRole] = field(default_factory=dict)

    @property
    def required(self) -> tuple[str, ...]:
        """The fields an input must have besides ``prompt``: the first frame's URL."""
        return tuple(name for name, role in self.images.items() if role == "first")


def _image_to_video(
    text: Endpoint, first: str, last: str, *, unit_price: float | None = None, **changes: Allowed
) -> Endpoint:
    """The image-to-video twin of the ``text`` endpoint: its fields with ``changes`` (a field
    changed to ``()`` is dropped) and the image URLs ``first`` and ``last``."""
    fields = {name: allowed for name, allowed in (text.fields | changes).items() if allowed != ()}
    images: dict[str, ImageRole] = {first: "first", last: "last"}
    price = text.unit_price if unit_price is None else unit_price
    return replace(text, fields=fields | dict.fromkeys(images, str), images=images, unit_price=price)


_KLING: dict[str, Allowed] = {"aspect_ratio": _RATIOS, "negative_prompt": str, "cfg_scale": float}
ENDPOINTS: dict[str, Endpoint] = {
    "fal-ai/kling-video/v2.5-turbo/pro/text-to-video": Endpoint(_KLING | {"duration": ("5", "10")}, 0.07),
    "fal-ai/kling-video/v3/pro/text-to-video": Endpoint(
        _KLING | {"duration": _strings(3, 15), "generate_audio": bool}, 0.168
    ),
    "bytedance/seedance-2.0/fast/text-to-video": Endpoint(
        {
            "duration": ("auto", *_strings(4, 15)),
            "aspect_ratio": ("auto", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16"),
            "resolution": ("480p", "720p"),
            "generate_audio": bool,
        },
        0.2419,
        seed=True,
    ),
    "fal-ai/minimax/hailuo-02/pro/text-to-video": Endpoint({"prompt_optimizer": bool}, 0.08),
    "fal-ai/ltx-2.3/text-to-video": Endpoint(
        {
            "duration": (6, 8, 10),
            "aspect_ratio": ("16:9", "9:16"),
            "resolution": ("1080p", "1440p", "2160p"),
            "fps": (24, 25, 48, 50),
            "generate_audio": bool,
        },
        0.08,
        output="video_file",
        defaults={"duration": 6},
    ),
}
ENDPOINTS |= {
    "fal-ai/kling-video/v2.5-turbo/pro/image-to-video": _image_to_video(
        ENDPOINTS["fal-ai/kling-video/v2.5-turbo/pro/text-to-video"],
        "image_url",
        "tail_image_url",
        aspect_ratio=(),
    ),
    "fal-ai/kling-video/v3/pro/image-to-video": _image_to_video(
        ENDPOINTS["fal-ai/kling-video/v3/pro/text-to-video"],
        "start_image_url",
        "end_image_url",
        aspect_ratio=(),
    ),
    "bytedance/seedance-2.0/fast/image-to-video": _image_to_video(
        ENDPOINTS["bytedance/seedance-2.0/fast/text-to-video"], "image_url", "end_image_url"
    ),
    "fal-ai/minimax/hailuo-02/pro/image-to-video": _image_to_video(
        ENDPOINTS["fal-ai/minimax/hailuo-02/pro/text-to-video"], "image_url", "end_image_url"
    ),
    "fal-ai/ltx-2.3/image-to-video": _image_to_video(
        ENDPOINTS["fal-ai/ltx-2.3/text-to-video"],
        "image_url",
        "end_image_url",
        aspect_ratio=("auto", "16:9", "9:16"),
        unit_price=0.06,
    ),
}
"""The catalog's fal endpoints, as fal's model pages and fal-js's endpoint types give them: each
text-to-video one, then its image-to-video twin (the catalog's ``image_endpoint``)."""

_TYPE_ERRORS = {bool: ("bool_type", "a valid boolean"), str: ("string_type", "a valid string")}


def check(schema: Endpoint, body: dict[str, Any]) -> list[dict[str, Any]]:
    """pydantic's errors for ``body`` against ``schema`` (unknown fields are ignored, as there)."""
    errors: list[dict[str, Any]] = []
    if not isinstance(body.get("prompt"), str) or not body["prompt"]:
        errors.append({"loc": ["body", "prompt"], "msg": "Field required", "type": "missing"})
    for name in schema.required:
        if body.get(name) is None:
            errors.append({"loc": ["body", name], "msg": "Field required", "type": "missing"})
    for name, allowed in schema.fields.items():
        if name not in body:
            continue
        value, loc = body[name], ["body", name]
        if isinstance(allowed, tuple):
            if not any(value == option and type(value) is type(option) for option in allowed):
                expected = _options(allowed)
                errors.append(
                    {
                        "loc": loc,
                        "msg": f"Input should be {expected}",
                        "type": "literal_error",
                        "input": value,
                    }
                    | {"ctx": {"expected": expected}}
                )
        elif allowed is float and (isinstance(value, bool) or not isinstance(value, int | float)):
            errors.append({"loc": loc, "msg": "Input should be a valid number", "type": "float_type"})
        elif allowed in _TYPE_ERRORS and not isinstance(value, allowed):
            kind, what = _TYPE_ERRORS[allowed]
            errors.append({"loc": loc, "msg": f"Input should be {what}", "type": kind, "input": value})
    return errors


def _options(allowed: tuple[object, ...]) -> str:
    shown = [repr(option) for option in allowed]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"
