"""Dead-letter consumer: a step message SQS gave up on fails its job, unless it already finished.

Idempotent (a conditional UPDATE from the active statuses), so a redelivered dead letter
changes nothing. A dead letter that is not a step message names no job: it is logged and
dropped, since failing it here would only send it round this queue until it expires.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from videogen.generation.worker import GenerationWorker
from videogen.observability import logger
from videogen.queue import StepMessage
from videogen.sqs import Handler, sqs_batch_handler


def _worker_attempts(record: SQSRecord) -> int:
    """How often the worker was handed the message before SQS moved it here.

    SQS keeps counting receives across the move to the DLQ, and this receive is one of them.
    """
    try:
        return max(1, int(record.attributes.approximate_receive_count) - 1)
    except (KeyError, TypeError, ValueError):
        return 1


def build_handler(worker: GenerationWorker | None = None) -> Handler:
    """The Lambda entry point; ``worker`` defaults to the real one."""
    runner = worker or GenerationWorker()

    def record_handler(record: SQSRecord) -> None:
        try:
            message = StepMessage.from_body(record.body)
        except ValueError:
            logger.error(
                "dead letter is not a generation step; dropped", extra={"message_id": record.message_id}
            )
            return
        attempts = _worker_attempts(record)
        outcome = runner.give_up(message.job_id, attempts)
        logger.info(
            "dead letter handled",
            extra={
                "job_id": str(message.job_id),
                "step": message.step,
                "attempts": attempts,
                "outcome": outcome,
            },
        )

    return sqs_batch_handler(record_handler)


lambda_handler = build_handler()
