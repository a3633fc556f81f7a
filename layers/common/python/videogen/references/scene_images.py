"""Which reference images a scene's clip is made from, checked against the model.

A scene (the storyboard's JSON) may name ``referenceIds`` (asset references: the character, an
object, a style), a ``firstFrame`` and a ``lastFrame``, each a reference id of its storyboard.
Without ``referenceIds`` a scene uses the character's (``character.referenceIds``) when the
model takes reference images and the scene names no frame the model cannot take with them;
named explicitly, what the model cannot take is a 400 naming the field and the model
(``catalog.Inputs``). A scene with ``continueFrom: "previous"`` starts from the last frame of the
previous scene's clip (its first frame, made later by the film compiler: see
``videogen.generation.continuity``); it needs a model that takes a first frame, no ``firstFrame``
of its own, and a previous scene with a clip (:class:`PreviousClip`, found by the caller). The
images' ids enter the clip's fingerprint (:meth:`SceneImages.key`): a ready reference never
changes (a new picture is a new reference), so its id stands for its content, whose SHA-256 the
job records too; a continuing scene's fingerprint names the job whose clip it continues, so a
regenerated previous shot marks it stale.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from videogen.catalog.spec import ModelSpec
from videogen.errors import InvalidInput, field_errors


@dataclass(frozen=True, slots=True)
class SceneImages:
    """A clip's images: asset references, a first and a last frame (ids of references)."""

    assets: tuple[uuid.UUID, ...] = ()
    first: uuid.UUID | None = None
    last: uuid.UUID | None = None
    continues: PreviousClip | None = None
    """The previous scene's clip whose last frame is the first frame (``continueFrom``)."""

    @property
    def ids(self) -> tuple[uuid.UUID, ...]:
        return (*self.assets, *(i for i in (self.first, self.last) if i is not None))

    def key(self) -> str:
        """What the fingerprint adds: empty without images, so older clips keep theirs."""
        parts = [f"asset:{i}" for i in self.assets]
        parts += [f"{role}:{i}" for role, i in (("first", self.first), ("last", self.last)) if i is not None]
        parts += [f"continue:{self.continues.job_id}"] if self.continues is not None else []
        return ";".join(parts)


@dataclass(frozen=True, slots=True)
class PreviousClip:
    """What a scene would continue from: the scene before it (``None`` for the first scene) and
    the job of that scene's clip (``None`` when it has none to continue from)."""

    scene_id: str | None
    job_id: uuid.UUID | None = None


def chosen(
    scene: dict[str, Any],
    character: dict[str, Any],
    spec: ModelSpec,
    seconds: int,
    previous: PreviousClip | None = None,
) -> SceneImages:
    """The images ``scene`` asks of ``spec`` at ``seconds``; ``InvalidInput`` (400) for a
    malformed id or what the model cannot take (named explicitly). ``previous``: what a scene
    with ``continueFrom`` continues (none: it cannot continue)."""
    inputs = spec.inputs
    first = _one(scene, "firstFrame")
    last = _one(scene, "lastFrame")
    continues = _continues(scene, spec, previous, first)
    if first is not None and not inputs.first_frame:
        raise _cannot(spec, "firstFrame", "first frame")
    if last is not None and not inputs.last_frame:
        raise _cannot(spec, "lastFrame", "last frame")
    if last is not None and first is None and continues is None:
        raise InvalidInput(
            "A last frame needs a first frame",
            field_errors("scene.lastFrame", "name a firstFrame too", "last_frame_without_first"),
        )
    framed = first is not None or continues is not None
    if "referenceIds" in scene:
        assets = _many(scene, "referenceIds", "scene.referenceIds")
        _check_assets(spec, assets, framed, seconds)
    else:
        assets = (
            _many(character, "referenceIds", "character.referenceIds")
            if _takes_defaults(spec, framed, seconds)
            else ()
        )
        assets = assets[: inputs.reference_images]
    return SceneImages(assets, first, last, continues)


def continues_previous(scene: dict[str, Any]) -> bool:
    """Whether ``scene`` asks to continue from the previous shot (any value of ``continueFrom``)."""
    return scene.get("continueFrom") is not None


def _continues(
    scene: dict[str, Any], spec: ModelSpec, previous: PreviousClip | None, first: uuid.UUID | None
) -> PreviousClip | None:
    if not continues_previous(scene):
        return None
    if scene["continueFrom"] != "previous":
        raise InvalidInput(
            'continueFrom takes "previous" only',
            field_errors("scene.continueFrom", '"previous", or leave it out', "not_previous"),
        )
    if first is not None:
        raise InvalidInput(
            "A scene continuing from the previous shot starts from its last frame: leave firstFrame out",
            field_errors("scene.continueFrom", "not with a firstFrame", "continue_with_first_frame"),
        )
    if not spec.inputs.first_frame:
        raise _cannot(spec, "continueFrom", "first frame")
    if previous is None or previous.scene_id is None:
        raise InvalidInput(
            "The first scene has no previous shot to continue from",
            field_errors("scene.continueFrom", "the first scene cannot continue", "first_scene"),
        )
    if previous.job_id is None:
        raise InvalidInput(
            f"Scene {previous.scene_id} has no clip yet to continue from: generate it first",
            field_errors(
                "scene.continueFrom", f"scene {previous.scene_id} has no completed clip", "no_previous_clip"
            ),
        )
    return previous


def _takes_defaults(spec: ModelSpec, framed: bool, seconds: int) -> bool:
    inputs = spec.inputs
    if inputs.reference_images == 0 or (framed and not inputs.references_with_frames):
        return False
    return not inputs.reference_durations or seconds in inputs.reference_durations


def _check_assets(spec: ModelSpec, assets: tuple[uuid.UUID, ...], framed: bool, seconds: int) -> None:
    inputs = spec.inputs
    if not assets:
        return
    if inputs.reference_images == 0:
        raise _cannot(spec, "referenceIds", "reference images")
    if len(assets) > inputs.reference_images:
        raise InvalidInput(
            f"{spec.name} takes at most {inputs.reference_images} reference images",
            field_errors("scene.referenceIds", f"at most {inputs.reference_images}", "too_many_references"),
        )
    if framed and not inputs.references_with_frames:
        raise InvalidInput(
            f"{spec.name} takes reference images or frames, not both",
            field_errors(
                "scene.referenceIds", "leave them out, or the first and last frames", "references_with_frames"
            ),
        )
    if inputs.reference_durations and seconds not in inputs.reference_durations:
        allowed = ", ".join(f"{d} s" for d in inputs.reference_durations)
        raise InvalidInput(
            f"{spec.name} takes reference images at {allowed} only",
            field_errors("body.durationSeconds", f"{allowed} with reference images", "reference_duration"),
        )


def _cannot(spec: ModelSpec, field: str, what: str) -> InvalidInput:
    return InvalidInput(
        f"{spec.name} takes no {what}: choose another model or leave {field} out",
        field_errors(f"scene.{field}", f"{spec.name} takes no {what}", "model_input_unsupported"),
    )


def _one(scene: dict[str, Any], field: str) -> uuid.UUID | None:
    value = scene.get(field)
    if value is None:
        return None
    return _id(value, f"scene.{field}")


def _many(source: dict[str, Any], field: str, where: str) -> tuple[uuid.UUID, ...]:
    value = source.get(field)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidInput(
            "Reference ids must be a list", field_errors(where, "a list of reference ids", "not_a_list")
        )
    ids = tuple(_id(item, f"{where}[{n}]") for n, item in enumerate(value))
    if len(set(ids)) != len(ids):
        raise InvalidInput(
            "A reference is named twice", field_errors(where, "each reference once", "duplicate")
        )
    return ids


def _id(value: object, where: str) -> uuid.UUID:
    try:
        if isinstance(value, str):
            return uuid.UUID(value)
    except ValueError:
        pass
    raise InvalidInput(
        "Not a reference id", field_errors(where, "a reference id (a UUID)", "not_a_reference_id")
    )
