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
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from videogen import pipeline
from videogen.errors import Conflict, InvalidInput, NotFound
from videogen.films.steps import ChosenClip
from videogen.queue import FilmStepMessage, QueueSender
from videogen.repositories import compiled_videos, film_requests


@dataclass(frozen=True, slots=True)
class Accepted:
    """A queued (or, on an idempotent retry, previously queued) film."""

    film_id: uuid.UUID
    scenes_order: list[str]
    created: bool


def scene_order(requested: list[str] | None, scene_ids: list[str]) -> list[str]:
    """The film's scene order: ``requested``, else the storyboard's; ``InvalidInput`` (400)
    when it is empty, repeats a scene or names one the storyboard does not have."""
    order = scene_ids if requested is None else requested
    if not order:
        what = "scenesOrder names no scene" if requested is not None else "The storyboard has no scenes"
        raise InvalidInput(what, {"scenesOrder": order})
    repeated = [scene for scene, n in Counter(order).items() if n > 1]
    if repeated:
        raise InvalidInput("scenesOrder names a scene more than once", {"repeatedScenes": repeated})
    known = set(scene_ids)
    unknown = [scene for scene in order if scene not in known]
    if unknown:
        message = "scenesOrder names scenes this storyboard does not have"
        raise InvalidInput(message, {"unknownScenes": unknown})
    return order


def _scene_ids(scenes: list[Any]) -> list[str]:
    return [str(s["id"]) for s in scenes if isinstance(s, dict) and "id" in s]


def _earlier(session: Session, user_id: str, film_id: uuid.UUID) -> Accepted:
    film = compiled_videos.get(session, user_id, film_id)
    return Accepted(film.id, [str(s) for s in film.scenes_order], created=False)


def create_film(
    session: Session,
    user_id: str,
    storyboard_id: uuid.UUID,
    requested_order: list[str] | None,
    *,
    idempotency_key: str | None = None,
) -> Accepted:
    """Validate the order, choose each scene's clip and insert a ``pending`` film (three
    statements). Raises ``NotFound`` (404), ``InvalidInput`` (400) and ``Conflict`` (409)."""
    context = film_requests.load_context(session, user_id, storyboard_id, idempotency_key)
    if context is None:
        raise NotFound("Storyboard not found", {"id": str(storyboard_id)})
    if context.earlier_film_id is not None:
        return _earlier(session, user_id, context.earlier_film_id)
    order = scene_order(requested_order, _scene_ids(context.scenes))
    stored = film_requests.newest_clips(session, user_id, storyboard_id, order)
    without = [scene for scene in order if scene not in stored]
    if without:
        raise Conflict(
            "Some scenes have no completed clip yet: generate them first", {"scenesWithoutClip": without}
        )
    clips = [ChosenClip(scene_id=s, job_id=stored[s].job_id, key=stored[s].key).to_json() for s in order]
    film = compiled_videos.create(
        session,
        user_id,
        storyboard_id=storyboard_id,
        scenes_order=order,
        clips=clips,
        idempotency_key=idempotency_key,
    )
    if film is not None:
        return Accepted(film.id, order, created=True)
    earlier = compiled_videos.find_by_key(session, user_id, idempotency_key) if idempotency_key else None
    if earlier is None:  # the storyboard went away since the first statement
        raise NotFound("Storyboard not found", {"id": str(storyboard_id)})
    return _earlier(session, user_id, earlier.id)  # a concurrent retry with the same key won


def enqueue_or_withdraw(accepted: Accepted, user_id: str, sender: QueueSender[FilmStepMessage]) -> None:
    """Send the film's plan step; if the queue refuses, delete the film and re-raise (503)."""
    message = FilmStepMessage(film_id=accepted.film_id, step="plan")
    pipeline.enqueue_or_withdraw(
        sender, message, lambda s: compiled_videos.withdraw_pending(s, user_id, accepted.film_id)
    )
