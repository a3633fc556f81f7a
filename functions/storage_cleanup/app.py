"""SQS consumer of storage cleanups: each record is one ``{"cleanupId"}`` for videogen.storage.cleanup.

Partial batch responses (``ReportBatchItemFailures``): a cleanup that could not finish (S3 or
the database out of reach) fails its record alone and SQS redelivers it; after the queue's
``maxReceiveCount`` it rests in the DLQ and the sweeper sends it again later. A body that is
not a cleanup message is poison and fails its record; a cleanup already done is acknowledged.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from videogen.messaging.messages import CleanupMessage
from videogen.runtime.observability import logger
from videogen.runtime.sqs_entry import sqs_batch_handler
from videogen.storage import cleanup


def record_handler(record: SQSRecord) -> None:
    """Run one cleanup; raise to have SQS redeliver this record alone."""
    try:
        message = CleanupMessage.from_body(record.body)
    except ValueError:
        # The body is not logged: poison may hold anything.
        logger.error("poison message: not a storage cleanup", extra={"message_id": record.message_id})
        raise
    outcome = cleanup.clean(message.cleanup_id)
    logger.info("cleanup handled", extra={"cleanup_id": str(message.cleanup_id), "outcome": outcome})


lambda_handler = sqs_batch_handler(record_handler)
