"""The sweeper's and the dead-letter consumer's rules for films: no film stays pending or
processing forever, and a finished film is never touched.

A sweep, at most ``sweep_batch_size`` films of each kind: fails active films older than
``film_max_wait_seconds``; then queues again what each film untouched for
``film_step_lease_seconds`` waits for (its plan or assemble step, or each clip still to
normalize): a lost message, or a step whose worker died. A re-sent step that is still
running finds its claim held, and a clip already counted is skipped. A dead letter fails its
film from any active status.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import timedelta

from videogen.data.db import session_scope
from videogen.data.repositories import compiled_videos
from videogen.films.steps import FilmSteps, Outcome, log_fields
from videogen.runtime.observability import logger


@dataclass
class FilmSweepReport:
    """What one sweep did: films failed as overdue, films whose steps were queued again."""

    films_expired: int = 0
    films_resent: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts, for the sweeper's response and log line."""
        return asdict(self)


def sweep(steps: FilmSteps) -> FilmSweepReport:
    """Fail overdue films; queue again the steps of films that stopped moving."""
    config = steps.config
    now = steps.clock()
    report = FilmSweepReport()
    max_wait = config.film_max_wait_seconds
    with session_scope(autocommit=True) as s:
        overdue = compiled_videos.list_active(
            s, created_before=now - timedelta(seconds=max_wait), limit=config.sweep_batch_size
        )
    for film in overdue:
        message = f"the film did not finish within {max_wait // 60} minutes"
        report.films_expired += steps.fail(film.id, message, "sweep") == "failed"
    with session_scope(autocommit=True) as s:
        stale = compiled_videos.list_active(
            s, updated_before=steps.stale_before(), limit=config.sweep_batch_size
        )
    for film in stale:
        logger.info("re-sending a film's lost step", extra=log_fields(film.id, film.step))
        steps.resend(film)
        report.films_resent += 1
    return report


def give_up(steps: FilmSteps, film_id: uuid.UUID, step: str, attempts: int) -> Outcome:
    """Fail a film whose step message exhausted its receives (the DLQ consumer), unless finished."""
    message = f"the film's {step} step gave up after {attempts} attempts"
    return steps.fail(film_id, message, "dead-letter")
