"""A scene's prompt and a clip's fingerprint: pure functions the generate routes and the
storyboard detail share.

Prompt rule: the scene's own text (its ``prompt``, else ``description``, else ``text`` field),
then ``Character: `` and the character profile's text fields (``name`` first, then the others
in the order they were saved), then ``Style: `` and the preset's description (or the preset key
in words when it is not a known preset). For example::

    Ada opens the lab door at dawn. Character: name: Ada; description: a curious engineer.
    Style: cinematic, anamorphic lens, soft film grain.

Fingerprint rule: SHA-256 of ``v1``, model, size, duration, the images when there are any
(``images:`` and ``references.scene_images.SceneImages.key``) and prompt, one per line (the prompt
last, so its own newlines cannot shift the others). A job stores the fingerprint of what
produced it; a scene's clip is up to date while the scene still composes to the same one.
Migration 0003 computes the same digest in SQL for jobs made before it: change both together.
"""

from __future__ import annotations

import hashlib
from typing import Any

from videogen import catalog
from videogen.errors import InvalidInput, field_errors
from videogen.references import scene_images

MAX_PROMPT_CHARS = 4000
PRESET_STYLES = {
    "cinematic": "cinematic, anamorphic lens, soft film grain",
    "anime": "anime, cel shading, vivid colours",
    "documentary": "documentary, handheld camera, natural light",
    "noir": "film noir, black and white, hard shadows",
    "watercolor": "watercolour illustration, soft edges, paper texture",
    "claymation": "claymation, stop motion, handmade textures",
    "pixar": "3D animated feature, expressive characters, warm lighting",
}
_SCENE_PROMPT_FIELDS = ("prompt", "description", "text")
FINGERPRINT_VERSION = "v1"


def scene_text(scene: dict[str, Any]) -> str | None:
    """The scene's own text (``prompt``, else ``description``, else ``text``); ``None`` if blank."""
    return next(
        (
            str(scene[f]).strip()
            for f in _SCENE_PROMPT_FIELDS
            if isinstance(scene.get(f), str) and scene[f].strip()
        ),
        None,
    )


def compose_prompt(scene: dict[str, Any], character: dict[str, Any], preset_key: str) -> str:
    """The generation prompt for a scene when the request brings none (see module doc).

    ``InvalidInput`` when the scene has no text to start from.
    """
    text = scene_text(scene)
    if text is None:
        raise InvalidInput(
            "Scene has no prompt: add one to the scene or send `prompt`",
            field_errors(
                "body.prompt", "required: the scene has no prompt of its own", "scene_without_prompt"
            ),
        )
    parts = [text.rstrip(".") + "."]
    ordered = sorted(character.items(), key=lambda kv: kv[0] != "name")
    traits = [f"{k}: {v.strip()}" for k, v in ordered if isinstance(v, str) and v.strip()]
    if traits:
        parts.append("Character: " + "; ".join(traits) + ".")
    style = PRESET_STYLES.get(preset_key, preset_key.replace("-", " ").replace("_", " "))
    parts.append(f"Style: {style}.")
    return " ".join(parts)[:MAX_PROMPT_CHARS]


def fingerprint(prompt: str, model: str, size: str, duration_seconds: int, images: str = "") -> str:
    """What produced (or would produce) a clip, as 64 hex digits (see module doc)."""
    made_from = (f"images:{images}",) if images else ()
    lines = (FINGERPRINT_VERSION, model, size, str(duration_seconds), *made_from, prompt)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def scene_fingerprint(
    scene: dict[str, Any],
    character: dict[str, Any],
    preset_key: str,
    *,
    model: str,
    size: str,
    seconds: int,
    previous: scene_images.PreviousClip | None = None,
) -> str | None:
    """The fingerprint the scene composes to now with that model, size and duration (and, for a
    scene continuing the previous shot, the ``previous`` clip); ``None`` when the scene has no
    text (no clip can be up to date with it)."""
    if scene_text(scene) is None:
        return None
    spec = catalog.find_model(model)
    try:
        images = scene_images.chosen(scene, character, spec, seconds, previous).key() if spec else ""
    except InvalidInput:
        return None  # images the model cannot take: no clip is up to date with them
    return fingerprint(compose_prompt(scene, character, preset_key), model, size, seconds, images)


def find_scene(scenes: list[Any], scene_id: str) -> dict[str, Any]:
    """The scene with ``scene_id``; ``InvalidInput`` when the storyboard has none."""
    for scene in scenes:
        if isinstance(scene, dict) and scene.get("id") == scene_id:
            return scene
    raise InvalidInput(
        "Scene not found in this storyboard",
        field_errors("body.sceneId", "no scene of the storyboard has this id", "scene_not_found"),
    )
