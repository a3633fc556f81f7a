"""Dead-letter consumer of both pipelines: a step message SQS gave up on fails its job (from the
generation DLQ) or its film (from the film DLQ), unless that already finished.

Idempotent (a conditional UPDATE from the active statuses), so a redelivered dead letter
changes nothing. The body says which it is: a generation step or a continuing job's frame step
names a ``jobId``, a film step a ``filmId`` (each model refuses the other's fields); an
endpoint's push (``keyId``) fails nothing, the job's own polls carry on. A dead letter that is
neither names nothing to fail: it is logged and dropped, since failing it here would only send
it round this queue until it expires.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from videogen.films import sweep as film_sweep
from videogen.films.steps import FilmSteps
from videogen.generation.worker import GenerationWorker
from videogen.messaging.messages import EndpointPushMessage, FilmStepMessage, FrameMessage, StepMessage
from videogen.runtime.observability import logger
from videogen.runtime.sqs_entry import Handler, sqs_batch_handler


def _worker_attempts(record: SQSRecord) -> int:
    """How often the worker was handed the message before SQS moved it here.

    SQS keeps counting receives across the move to the DLQ, and this receive is one of them.
    """
    try:
        return max(1, int(record.attributes.approximate_receive_count) - 1)
    except (KeyError, TypeError, ValueError):
        return 1


def _parse(body: str) -> StepMessage | FrameMessage | EndpointPushMessage | FilmStepMessage | None:
    for model in (StepMessage, FrameMessage, EndpointPushMessage, FilmStepMessage):
        try:
            return model.from_body(body)
        except ValueError:
            continue
    return None


def build_handler(worker: GenerationWorker | None = None, films: FilmSteps | None = None) -> Handler:
    """The Lambda entry point; ``worker`` and ``films`` default to the real ones."""
    runner = worker or GenerationWorker()
    film_steps = films or FilmSteps()

    def record_handler(record: SQSRecord) -> None:
        message = _parse(record.body)
        attempts = _worker_attempts(record)
        fields: dict[str, object]
        if isinstance(message, StepMessage | FrameMessage):
            fields = {"job_id": str(message.job_id), "outcome": runner.give_up(message.job_id, attempts)}
        elif isinstance(message, EndpointPushMessage):
            # Only a hint that a poll may come early: the job's own polls go on, nothing to fail.
            fields = {"key_id": str(message.key_id), "outcome": "ignored"}
        elif isinstance(message, FilmStepMessage):
            outcome = film_sweep.give_up(film_steps, message.film_id, message.step, attempts)
            fields = {"film_id": str(message.film_id), "clip": message.clip, "outcome": outcome}
        else:
            logger.error(
                "dead letter is not a step message; dropped", extra={"message_id": record.message_id}
            )
            return
        logger.info("dead letter handled", extra=fields | {"step": message.step, "attempts": attempts})

    return sqs_batch_handler(record_handler)


lambda_handler = build_handler()
