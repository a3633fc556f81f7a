"""The images of a Veo create's ``instances[0]``, read and checked as Google documents them, for
both the Gemini API fake and the Vertex AI one.

Fields: ``image`` (the first frame), ``lastFrame``, ``referenceImages: [{"image", "referenceType":
"asset"}]``. An image is ``{"bytesBase64Encoded", "mimeType"}`` (what google-genai sends) or, on
the Gemini API, also ``{"inlineData": {"mimeType", "data"}}`` (Google's REST examples); a PNG or
a JPEG, as declared. ``gcsUri`` is refused: these fakes read no Cloud Storage. Google's rules: at
most 3 reference images, of type "asset" only (any case: the SDK's enum sends "ASSET"), never
with ``image`` or ``lastFrame``, with ``durationSeconds`` 8, not on the Lite model; ``lastFrame``
only with ``image``. The wording of the refusals is ours.
"""

from __future__ import annotations

from typing import Any

from devstack.fakes.images import PNG_OR_JPEG, ImageRefused, read_base64
from devstack.fakes.records import ImageRole, ReceivedImage

MAX_REFERENCE_IMAGES = 3
_FIELD = "instances[0]"


def instance_images(
    instance: dict[str, Any], params: dict[str, Any], *, lite: bool, inline_data: bool
) -> tuple[tuple[ReceivedImage, ...], str | None]:
    """The images ``instance`` carries (those read, in order) and why Google would refuse the
    create for them (``None`` when it would not). ``inline_data``: take the Gemini API's
    ``inlineData`` form too."""
    problem = _reference_problem(instance.get("referenceImages"))
    if problem is not None:
        return (), problem
    found: list[ReceivedImage] = []
    try:
        for field, role, value in _image_fields(instance):
            found.append(_image(value, f"{_FIELD}.{field}", role, inline_data=inline_data))
    except ImageRefused as refused:
        return tuple(found), str(refused)
    return tuple(found), _combination_problem(instance, params, lite=lite)


def seconds(value: object) -> int | None:
    """``durationSeconds`` as a whole number (sent as a number or a numeric string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _image_fields(instance: dict[str, Any]) -> list[tuple[str, ImageRole, Any]]:
    frames: tuple[tuple[str, ImageRole], ...] = (("image", "first"), ("lastFrame", "last"))
    fields = [(field, role, instance[field]) for field, role in frames if instance.get(field) is not None]
    references = instance.get("referenceImages") or []
    fields += [(f"referenceImages[{n}].image", "asset", ref["image"]) for n, ref in enumerate(references)]
    return fields


def _reference_problem(references: object) -> str | None:
    """Why ``referenceImages`` is malformed, or ``None``."""
    if references is None:
        return None
    where = f"Invalid value at '{_FIELD}.reference_images'"
    if not isinstance(references, list) or not references:
        return f"{where}: expected a non-empty list."
    if len(references) > MAX_REFERENCE_IMAGES:
        return f"{where}: at most {MAX_REFERENCE_IMAGES} reference images are supported."
    for reference in references:
        if not isinstance(reference, dict) or not isinstance(reference.get("image"), dict):
            return f"{where}: each reference needs an image."
        kind = reference.get("referenceType")
        if not isinstance(kind, str) or kind.lower() != "asset":
            return f"{where}: referenceType {kind!r} is not supported; use 'asset'."
    return None


def _combination_problem(instance: dict[str, Any], params: dict[str, Any], *, lite: bool) -> str | None:
    """Why Google refuses these images together, or with these parameters, or ``None``."""
    given = {field for field in ("image", "lastFrame", "referenceImages") if instance.get(field) is not None}
    references = "referenceImages" in given
    duration = seconds(params.get("durationSeconds", 8))
    problems = (
        (
            references and bool(given & {"image", "lastFrame"}),
            "referenceImages cannot be combined with image or lastFrame.",
        ),
        ("lastFrame" in given and "image" not in given, "lastFrame is only supported together with image."),
        (references and lite, "referenceImages are not supported by this model."),
        (references and duration != 8, "durationSeconds must be 8 when referenceImages are given."),
    )
    return next((message for refused, message in problems if refused), None)


def _image(value: object, field: str, role: ImageRole, *, inline_data: bool) -> ReceivedImage:
    """One image object read, or refused with the reason."""
    if not isinstance(value, dict):
        raise ImageRefused(f"Invalid value at '{field}': expected an image object.")
    if "gcsUri" in value:
        raise ImageRefused(f"Invalid value at '{field}': send the bytes (bytesBase64Encoded), not gcsUri.")
    inline = value.get("inlineData") if inline_data else None
    if isinstance(inline, dict):
        data, mime_type = inline.get("data"), inline.get("mimeType")
    else:
        data, mime_type = value.get("bytesBase64Encoded"), value.get("mimeType")
    if mime_type not in PNG_OR_JPEG:
        allowed = " or ".join(PNG_OR_JPEG)
        raise ImageRefused(f"Invalid value at '{field}': mimeType {mime_type!r}; use {allowed}.")
    try:
        return read_base64(data, role, str(mime_type))
    except ImageRefused as refused:
        raise ImageRefused(f"Invalid value at '{field}': {refused}") from refused
