"""The film compiler: the one object the film compiler function calls, routing each queue
message to its step (``plan``, ``normalize``, ``assemble``, and a continuing job's ``frame``).
The sweeper and the dead-letter consumer use ``videogen.films.sweep`` with plain
:class:`FilmSteps`, without media code.

Nothing raises but unexpected trouble (database or S3 down, a bug), so that the caller fails
that one message and SQS redelivers it; a film that cannot be made fails with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from videogen.films.assemble_step import assemble_film
from videogen.films.frame_step import FrameOutcome, make_first_frame
from videogen.films.normalize_step import normalize_clip
from videogen.films.plan import plan
from videogen.films.steps import FilmSteps, Outcome
from videogen.messaging.messages import (
    FilmStepMessage,
    FrameMessage,
    QueueSender,
    StepMessage,
    default_sender,
)
from videogen.runtime.observability import logger


@dataclass(frozen=True)
class FilmCompiler(FilmSteps):
    """Runs film steps with the collaborators of :class:`FilmSteps` (fakes in tests); ``jobs``
    takes a continuing job's submit once its frame is made (the generation queue)."""

    jobs: QueueSender[StepMessage] = field(default_factory=default_sender)

    def run(self, message: FilmStepMessage | FrameMessage) -> Outcome | FrameOutcome:
        """Run one queue message's step; returns what happened (also logged)."""
        if isinstance(message, FrameMessage):
            framed = make_first_frame(self.jobs, message.job_id)
            logger.info("frame step handled", extra={"job_id": str(message.job_id), "outcome": framed})
            return framed
        if message.step == "plan":
            outcome = plan(self, message.film_id)
        elif message.step == "normalize" and message.clip is not None:
            outcome = normalize_clip(self, message.film_id, message.clip)
        else:
            outcome = assemble_film(self, message.film_id)
        fields = {
            "film_id": str(message.film_id),
            "step": message.step,
            "clip": message.clip,
            "outcome": outcome,
        }
        if outcome == "unknown-film":
            logger.warning("step for an unknown film acknowledged", extra=fields)
        else:
            logger.info("film step handled", extra=fields)
        return outcome
