"""The entry point of the SQS-triggered functions (generation worker, film compiler,
dead-letter consumer).

Apart from ``videogen.observability`` so API functions do not import the batch utilities.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from videogen.observability import lambda_entry, logger

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def sqs_batch_handler(record_handler: Callable[[SQSRecord], None]) -> Handler:
    """A Lambda entry point for an SQS trigger with ``ReportBatchItemFailures``.

    Each record goes to ``record_handler``; a record whose handler raises is the only one
    reported in ``batchItemFailures``. A batch whose every record fails is reported the same
    way, not raised: the answer alone tells SQS what to redeliver.
    """
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return cast(
            dict[str, Any],
            process_partial_response(
                event=event, record_handler=record_handler, processor=processor, context=context
            ),
        )

    return lambda_entry(lambda_handler)


def step_consumer[M](parse: Callable[[str], M], run: Callable[[M], object], what: str) -> Handler:
    """The entry point of a step worker: each record's body parsed by ``parse`` (a
    ``ValueError`` makes it poison: logged without its body, and failed) and run by ``run``."""

    def record_handler(record: SQSRecord) -> None:
        logger.append_keys(message_id=record.message_id)
        try:
            try:
                message = parse(record.body)
            except ValueError:
                # The body is not logged: poison may hold anything.
                logger.error("poison message: not a step", extra={"expected": what})
                raise
            run(message)
        finally:
            logger.remove_keys(["message_id"])

    return sqs_batch_handler(record_handler)


__all__ = ["Handler", "sqs_batch_handler", "step_consumer"]
