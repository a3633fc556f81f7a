"""SQS consumer of generation steps: each record is one ``{"jobId", "step"}`` for videogen.worker.

Partial batch responses (``ReportBatchItemFailures``): a record whose handler raises is the
only one SQS redelivers. A body that is not a step message (bad JSON, an extra field) is
poison and fails its record; a step for a job that no longer exists is acknowledged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from videogen.observability import logger, tracer
from videogen.queue import StepMessage
from videogen.worker import GenerationWorker

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def build_handler(worker: GenerationWorker | None = None) -> Handler:
    """The Lambda entry point; ``worker`` defaults to the real providers, SQS and clock."""
    runner = worker or GenerationWorker()
    # All records failing is reported like a partial failure, not raised: the answer alone
    # tells SQS what to redeliver.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def record_handler(record: SQSRecord) -> None:
        logger.append_keys(message_id=record.message_id)
        try:
            try:
                message = StepMessage.from_body(record.body)
            except ValueError:
                # The body is not logged: poison may hold anything.
                logger.error("poison message: not a generation step")
                raise
            runner.run(message)
        finally:
            logger.remove_keys(["message_id"])

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler(capture_response=False)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return cast(
            dict[str, Any],
            process_partial_response(
                event=event, record_handler=record_handler, processor=processor, context=context
            ),
        )

    return cast(Handler, lambda_handler)


lambda_handler = build_handler()
