"""Requesting a film: the scene order, each scene's newest completed clip, the ``pending`` row
and its first message. Used by the films function; tested once here.

The order defaults to the storyboard's own. It must name each scene once and only scenes the
storyboard has (400 naming the others), and every scene in it needs a completed clip (409
naming those without). The chosen clips' jobs and S3 keys are recorded on the row, so a
later regeneration does not change a film being made. An ``Idempotency-Key`` the caller
used before returns that request's film; nothing new is queued.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from videogen.data.repositories import compiled_videos, film_requests
from videogen.data.repositories.film_requests import StoredClip
from videogen.errors import Conflict, IdempotencyKeyReused, InvalidInput, NotFound, field_errors
from videogen.films.craft import CaptionInvalid, Music, SceneCaption, Transition, scene_caption
from videogen.films.steps import ChosenClip
from videogen.messaging import pipeline
from videogen.messaging.messages import FilmStepMessage, QueueSender
from videogen.references.music import ready_music


@dataclass(frozen=True, slots=True)
class Accepted:
    """A queued (or, on an idempotent retry, previously queued) film."""

    film_id: uuid.UUID
    scenes_order: list[str]
    created: bool


def scene_order(requested: list[str] | None, scene_ids: list[str]) -> list[str]:
    """The film's scene order: ``requested``, else the storyboard's; ``InvalidInput`` (400)
    when it is empty, repeats a scene or names one the storyboard does not have, with a field
    error naming each such scene (``body.scenesOrder.<index>``)."""
    order = scene_ids if requested is None else requested
    if not order:
        if requested is None:
            details = field_errors("path.id", "the storyboard has no scenes", "storyboard_without_scenes")
            raise InvalidInput("The storyboard has no scenes", details)
        raise InvalidInput("scenesOrder names no scene", field_errors("body.scenesOrder", "empty", "empty"))
    known = set(scene_ids)
    errors: list[dict[str, str]] = []
    for index, scene in enumerate(order):
        if scene not in known:
            errors += field_errors(
                f"body.scenesOrder.{index}", f"{scene!r} is not a scene of this storyboard", "scene_not_found"
            )
        elif scene in order[:index]:
            errors += field_errors(
                f"body.scenesOrder.{index}", f"{scene!r} appears more than once", "scene_repeated"
            )
    if errors:
        raise InvalidInput("scenesOrder names scenes that cannot make a film", errors)
    return order


def _scene_ids(scenes: list[Any]) -> list[str]:
    return [str(s["id"]) for s in scenes if isinstance(s, dict) and "id" in s]


def _earlier(
    session: Session,
    user_id: str,
    film_id: uuid.UUID,
    storyboard_id: uuid.UUID,
    requested_order: list[str] | None,
) -> Accepted:
    """The film an earlier request with the same key made, for a retry of that request;
    ``Conflict`` (409) when the key comes back for another storyboard or another order."""
    film = compiled_videos.get(session, user_id, film_id)
    order = [str(s) for s in film.scenes_order]
    if film.storyboard_id != storyboard_id or requested_order not in (None, order):
        raise IdempotencyKeyReused({"compiledVideoId": str(film.id)})
    return Accepted(film.id, order, created=False)


def _captions(scenes: list[Any], order: list[str]) -> dict[str, SceneCaption]:
    """Each ordered scene's caption; ``InvalidInput`` naming the scene's field that breaks a rule
    (a storyboard saved before the rules existed may hold one)."""
    captions: dict[str, SceneCaption] = {}
    for index, scene in enumerate(scenes):
        if not isinstance(scene, dict) or str(scene.get("id")) not in order:
            continue
        try:
            caption = scene_caption(scene)
        except CaptionInvalid as invalid:
            field = f"storyboard.scenes.{index}.{invalid.field}"
            raise InvalidInput(
                "A scene's caption cannot go into a film", field_errors(field, invalid.message, "caption")
            ) from None
        if caption is not None:
            captions[str(scene["id"])] = caption
    return captions


def _check_overlap(transition: Transition, stored: dict[str, StoredClip], order: list[str]) -> None:
    """A crossfade may last at most half of the shortest clip (each shot gives up an overlap at
    both ends); ``InvalidInput`` naming ``body.transition.durationMs`` and the scene otherwise."""
    overlap = transition.overlap
    lengths = [(stored[s].seconds, s) for s in order if stored[s].seconds]
    if overlap <= 0 or not lengths or len(order) < 2:
        return
    seconds, scene = min(lengths)
    if overlap * 2 > (seconds or 0):
        message = f"{transition.duration_ms} ms is longer than half of scene {scene}'s {seconds} s clip"
        raise InvalidInput(
            "The crossfade is too long for the clips",
            field_errors("body.transition.durationMs", message, "too_long"),
        )


def _music(session: Session, user_id: str, storyboard_id: uuid.UUID, music: Music) -> dict[str, Any]:
    """The film's music: the request and the object it reads; ``InvalidInput`` naming
    ``body.music.referenceId`` unless it is the caller's ready music of this storyboard."""
    found = ready_music(session, user_id, storyboard_id, music.reference_id)
    if found is None:
        message = "not a music reference of this storyboard that finished uploading"
        details = field_errors("body.music.referenceId", message, "music_not_found")
        raise InvalidInput("The music cannot go under this film", details)
    return {"request": music.model_dump(mode="json"), "key": found.key}


def create_film(
    session: Session,
    user_id: str,
    storyboard_id: uuid.UUID,
    requested_order: list[str] | None,
    *,
    idempotency_key: str | None = None,
    transition: Transition | None = None,
    caption_language: str = "eng",
    music: Music | None = None,
) -> Accepted:
    """Validate the order, choose each scene's clip and insert a ``pending`` film (three
    statements) with its transition and each scene's caption. Raises ``NotFound`` (404),
    ``InvalidInput`` (400) and ``Conflict`` (409)."""
    transition = transition or Transition()
    context = film_requests.load_context(session, user_id, storyboard_id, idempotency_key)
    if context is None:
        raise NotFound("Storyboard not found", {"id": str(storyboard_id)})
    if context.earlier_film_id is not None:
        return _earlier(session, user_id, context.earlier_film_id, storyboard_id, requested_order)
    order = scene_order(requested_order, _scene_ids(context.scenes))
    stored = film_requests.newest_clips(session, user_id, storyboard_id, order)
    without = [scene for scene in order if scene not in stored]
    if without:
        raise Conflict(
            "Some scenes have no completed clip yet: generate them first", {"scenesWithoutClip": without}
        )
    _check_overlap(transition, stored, order)
    captions = _captions(context.scenes, order)
    metadata: dict[str, Any] = {
        "transition": transition.model_dump(mode="json"),
        "caption_language": caption_language,
    }
    if music is not None:
        metadata["music"] = _music(session, user_id, storyboard_id, music)
    clips = [
        ChosenClip(
            scene_id=s,
            job_id=stored[s].job_id,
            key=stored[s].key,
            caption=captions[s].to_json() if s in captions else None,
        ).to_json()
        for s in order
    ]
    film = compiled_videos.create(
        session,
        user_id,
        storyboard_id=storyboard_id,
        scenes_order=order,
        clips=clips,
        idempotency_key=idempotency_key,
        metadata=metadata,
    )
    if film is not None:
        return Accepted(film.id, order, created=True)
    earlier = compiled_videos.find_by_key(session, user_id, idempotency_key) if idempotency_key else None
    if earlier is None:  # the storyboard went away since the first statement
        raise NotFound("Storyboard not found", {"id": str(storyboard_id)})
    # A concurrent retry with the same key won.
    return _earlier(session, user_id, earlier.id, storyboard_id, requested_order)


def enqueue_or_withdraw(accepted: Accepted, user_id: str, sender: QueueSender[FilmStepMessage]) -> None:
    """Send the film's plan step; if the queue refuses, delete the film and re-raise (503)."""
    message = FilmStepMessage(film_id=accepted.film_id, step="plan")
    pipeline.enqueue_or_withdraw(
        sender, message, lambda s: compiled_videos.withdraw_pending(s, user_id, accepted.film_id)
    )
