"""What every film step stands on: its collaborators, its outcomes, the chosen clips as the row
keeps them, failing a film with an error naming the scene, and queuing the next step.

A step function takes a :class:`FilmSteps` first, as a repository function takes the
session: the queue sender, clock and settings, each defaulting to the real one, so tests pass
fakes instead of patching. Nothing here touches media (no PyAV): the sweeper, the dead-letter
consumer and the API import it too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from videogen.data.db import session_scope
from videogen.data.models import CompiledVideo
from videogen.data.repositories import compiled_videos
from videogen.messaging.messages import FilmStep, FilmStepMessage, QueueSender, film_sender
from videogen.messaging.pipeline import Clock, send_next, utc_now
from videogen.runtime.config import Settings, get_settings
from videogen.runtime.observability import emit_metric, logger

Outcome = Literal[
    "planned",  # the target is chosen; normalize (or assemble) steps are on their way
    "normalized",  # one clip normalized and counted
    "completed",  # the film is stored and its row completed
    "failed",
    "ignored",  # the film is not where this step acts (a duplicate or late message)
    "unknown-film",  # no such film (e.g. deleted with its storyboard): nothing to do
]

_MAX_ERROR_CHARS = 2000


class ChosenClip(BaseModel):
    """One entry of a film's ``clips``: the scene's clip chosen at compile time, and what
    ``plan`` found (its length, and where its normalized copy goes when it needs one)."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True)

    scene_id: str
    job_id: uuid.UUID
    key: str
    seconds: float | None = None
    normalized_key: str | None = None
    caption: dict[str, Any] | None = None  # craft.SceneCaption, as the scene had it at compile time

    @property
    def film_key(self) -> str:
        """The object the film copies: the normalized clip when there is one, else the clip."""
        return self.normalized_key or self.key

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    @classmethod
    def of(cls, film: CompiledVideo) -> list[ChosenClip]:
        """The film's clips, in film order."""
        return [cls.model_validate(entry) for entry in film.clips]


def scene_error(clips: list[ChosenClip], index: int | None, reason: str) -> str:
    """An error naming the scene of clip ``index`` (``reason`` alone when there is none)."""
    if index is None or not 0 <= index < len(clips):
        return reason
    return f"scene {clips[index].scene_id}: {reason}"


def log_fields(film_id: uuid.UUID, step: str, **fields: object) -> dict[str, object]:
    """The structured log fields of one step of a film (ids only)."""
    return {"film_id": str(film_id), "step": step, **fields}


@dataclass(frozen=True)
class FilmSteps:
    """A film step's collaborators, and what every step may do to its film.

    ``sender`` queues the next step, ``clock`` tells the time; ``settings`` defaults to the
    process settings at each call.
    """

    sender: QueueSender[FilmStepMessage] = field(default_factory=film_sender)
    clock: Clock = utc_now
    settings: Settings | None = None

    @property
    def config(self) -> Settings:
        """The settings this step runs with."""
        return self.settings or get_settings()

    def stale_before(self) -> datetime:
        """Claims and films untouched since before this are presumed abandoned."""
        return self.clock() - timedelta(seconds=self.config.film_step_lease_seconds)

    def claim(self, film_id: uuid.UUID, step: str) -> CompiledVideo | Outcome:
        """The film with ``step`` (plan or assemble) claimed; else what the step reports: the
        film is gone (``unknown-film``) or elsewhere, or another worker holds the step."""
        with session_scope() as s:
            film = compiled_videos.claim(s, film_id, step, stale_before=self.stale_before())
            if film is None:
                return "unknown-film" if compiled_videos.get_by_id(s, film_id) is None else "ignored"
        return film

    def fail(self, film_id: uuid.UUID, message: str, step: str) -> Outcome:
        """Fail the film with ``message`` unless it already finished."""
        with session_scope() as s:
            failed = compiled_videos.fail(s, film_id, message[:_MAX_ERROR_CHARS])
        if failed is None:
            return "ignored"
        emit_metric("FilmsFailed", {"step": step})
        logger.warning("film failed", extra=log_fields(film_id, step, error=message))
        return "failed"

    def send(self, film_id: uuid.UUID, step: FilmStep, clip: int | None = None) -> None:
        """Queue ``step`` of the film (a lost send is the sweeper's)."""
        message = FilmStepMessage(film_id=film_id, step=step, clip=clip)
        send_next(self.sender, message, 0, log_fields(film_id, step, clip=clip))

    def resend(self, film: CompiledVideo) -> int:
        """Queue again what the film waits for: its step, or each clip still to normalize."""
        if film.step != "normalize":
            self.send(film.id, "plan" if film.step == "plan" else "assemble")
            return 1
        todo = [i for i in film.normalize_clips if i not in set(film.normalized_clips)]
        for index in todo:
            self.send(film.id, "normalize", index)
        return len(todo)


class FilmRefused(Exception):
    """The film cannot be made; ``message`` says why, naming the scene when one is to blame."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
