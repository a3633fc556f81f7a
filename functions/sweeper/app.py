"""Scheduled sweeper (EventBridge, every few minutes): moves on generation jobs and films that
got stuck, and re-sends storage cleanups whose message was lost.

Jobs: overdue active jobs fail; stale ``submitting`` jobs go through recovery; stale
``processing`` jobs get a poll and stale ``pending`` ones their submit again (their message was
lost). Films: overdue ones fail; those that stopped moving get their step (or their clips'
normalize steps) again. The rules and thresholds are in videogen.generation.sweep and
videogen.films.sweep, with the "Generation worker pacing" and "Film pipeline" settings. Storage
cleanups still recorded ``cleanup_stale_after_seconds`` after their last send are queued again
(videogen.storage.cleanup). Reference images declared more than a day ago and never completed
are removed with their uploads (videogen.references.service).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from videogen.films import sweep as film_sweep
from videogen.films.steps import FilmSteps
from videogen.generation.worker import GenerationWorker
from videogen.messaging.messages import CleanupMessage, QueueSender, cleanup_sender
from videogen.references import service as references
from videogen.runtime.observability import lambda_entry, logger
from videogen.storage import cleanup

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, int]]


def build_handler(
    worker: GenerationWorker | None = None,
    cleanups: QueueSender[CleanupMessage] | None = None,
    films: FilmSteps | None = None,
) -> Handler:
    """The Lambda entry point; ``worker`` and ``films`` default to the real providers, queues and
    clock, ``cleanups`` to the storage cleanup queue."""
    runner = worker or GenerationWorker()
    cleanup_queue = cleanups or cleanup_sender()
    film_steps = films or FilmSteps()

    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
        report = runner.sweep().as_dict() | film_sweep.sweep(film_steps).as_dict()
        report["cleanups_resent"] = cleanup.resend_stale(cleanup_queue, runner.clock(), runner.config)
        swept = references.sweep_pending(runner.clock(), limit=runner.config.sweep_batch_size)
        report["references_swept"] = swept
        logger.info("sweep done", extra={"schedule_event_id": event.get("id"), **report})
        return report

    return lambda_entry(lambda_handler)


lambda_handler = build_handler()
