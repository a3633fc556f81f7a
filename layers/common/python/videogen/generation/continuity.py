"""Which clip a scene with ``continueFrom: "previous"`` continues, as the generate routes decide it.

A scene continues the previous scene's clip as the request leaves it: the job this request makes
for that scene (a whole-storyboard generate), else the job that scene has in flight when this
request generates it too, else its newest completed clip (the one a film takes). With none,
or for the first scene, the request is a 400 naming ``scene.continueFrom``
(``references.scene_images``). One statement reads where the scenes' clips stand, only when a
scene continues; the batch reads it under the caller's quota lock, so it sees every job a
concurrent request made.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from videogen.data.repositories import continuations
from videogen.data.repositories.continuations import SceneState
from videogen.data.statements import Runner
from videogen.references.scene_images import PreviousClip, continues_previous


def scene_ids(scenes: list[Any]) -> list[str]:
    """The storyboard's scene ids, in order (what "previous" is counted in)."""
    return [s["id"] for s in scenes if isinstance(s, dict) and isinstance(s.get("id"), str)]


def previous_scene(scenes: list[Any], scene_id: str) -> str | None:
    """The id of the scene before ``scene_id`` in the storyboard; ``None`` for the first."""
    ids = scene_ids(scenes)
    at = ids.index(scene_id) if scene_id in ids else 0
    return ids[at - 1] if at > 0 else None


def states(
    session: Session | Runner,
    user_id: str,
    storyboard_id: uuid.UUID,
    scenes: list[Any],
    asked: list[dict[str, Any]],
) -> dict[str, SceneState]:
    """Where the clips of the scenes before those ``asked`` that continue stand (one statement,
    none when no scene continues)."""
    before = {previous_scene(scenes, s["id"]) for s in asked if continues_previous(s)} - {None}
    if not before:
        return {}
    return continuations.scene_states(session, user_id, storyboard_id, sorted(s for s in before if s))


def for_one(
    scenes: list[Any], scene: dict[str, Any], found: dict[str, SceneState]
) -> dict[str, PreviousClip]:
    """What a single generate's scene continues: the previous scene's newest completed clip."""
    if not continues_previous(scene):
        return {}
    before = previous_scene(scenes, scene["id"])
    state = found.get(before) if before else None
    return {scene["id"]: PreviousClip(before, state.newest_clip if state else None)}


def clip_after(
    state: SceneState | None, new_job: uuid.UUID, fingerprint: str, *, regenerate: bool
) -> uuid.UUID | None:
    """The job of a scene's clip once a batch that generates it is queued: the scene's job in
    flight (skipped ``in-flight``), else its newest clip when up to date, else the new job."""
    if state is None:
        return new_job
    if state.in_flight is not None:
        return state.in_flight
    if not regenerate and fingerprint in state.fingerprints:
        return state.newest_clip
    return new_job


def in_order(
    scenes: list[Any],
    asked: set[str],
    found: dict[str, SceneState],
    judge: Callable[[dict[str, Any], PreviousClip | None], uuid.UUID | None],
) -> None:
    """Walk the storyboard's scenes in order, calling ``judge(scene, previous)`` for each one
    ``asked``; ``judge`` answers the job of the scene's clip once the batch is queued
    (:func:`clip_after`), which the next scene continues. Scenes not asked keep their newest clip."""
    after: dict[str, uuid.UUID | None] = {}
    before: str | None = None
    for scene in scenes:
        if not isinstance(scene, dict) or not isinstance(scene.get("id"), str):
            continue
        state = found.get(scene["id"])
        if scene["id"] in asked:
            previous = PreviousClip(before, after.get(before)) if before is not None else PreviousClip(None)
            after[scene["id"]] = judge(scene, previous)
        else:
            after[scene["id"]] = state.newest_clip if state else None
        before = scene["id"]
