"""SQS consumer of generation steps: each record is one ``{"jobId", "step"}`` for videogen.generation.

Partial batch responses (``ReportBatchItemFailures``): a record whose handler raises is the
only one SQS redelivers. A body that is not a step message (bad JSON, an extra field) is
poison and fails its record; a step for a job that no longer exists is acknowledged.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from videogen.generation.worker import GenerationWorker
from videogen.observability import logger
from videogen.queue import StepMessage
from videogen.sqs import Handler, sqs_batch_handler


def build_handler(worker: GenerationWorker | None = None) -> Handler:
    """The Lambda entry point; ``worker`` defaults to the real providers, SQS and clock."""
    runner = worker or GenerationWorker()

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

    return sqs_batch_handler(record_handler)


lambda_handler = build_handler()
