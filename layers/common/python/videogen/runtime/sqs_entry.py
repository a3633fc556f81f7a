"""The entry point of the SQS-triggered functions (generation worker, film compiler,
dead-letter consumer).

Apart from ``videogen.runtime.observability`` so API functions do not import the batch utilities.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from videogen.runtime.observability import lambda_entry, logger

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


class ThreadedBatchProcessor(BatchProcessor):
    """Powertools' ``BatchProcessor`` running up to ``concurrency`` records of a batch at once.

    For records that mostly wait (a provider's answer, a video streaming to S3): run one after
    the other, the last finished job of a batch would wait for every download before it. The
    threads are made once per container, on first use. Each record's outcome is its own, as
    with the sequential processor (a failed record is the only one reported).
    """

    def __init__(self, concurrency: int) -> None:
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="record")

    def process(self) -> list[tuple[Any, ...]]:
        if len(self.records) == 1:
            return super().process()
        return list(self._pool.map(self._process_record, self.records))


def sqs_batch_handler(record_handler: Callable[[SQSRecord], None], *, concurrency: int = 1) -> Handler:
    """A Lambda entry point for an SQS trigger with ``ReportBatchItemFailures``.

    Each record goes to ``record_handler``, up to ``concurrency`` of them at once (threads:
    ``record_handler`` must be thread-safe then); a record whose handler raises is the only one
    reported in ``batchItemFailures``. A batch whose every record fails is reported the same
    way, not raised: the answer alone tells SQS what to redeliver.
    """
    processor = (
        ThreadedBatchProcessor(concurrency)
        if concurrency > 1
        else BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    )

    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return cast(
            dict[str, Any],
            process_partial_response(
                event=event, record_handler=record_handler, processor=processor, context=context
            ),
        )

    return lambda_entry(lambda_handler)


def step_consumer[M](
    parse: Callable[[str], M], run: Callable[[M], object], what: str, *, concurrency: int = 1
) -> Handler:
    """The entry point of a step worker: each record's body parsed by ``parse`` (a
    ``ValueError`` makes it poison: logged without its body, and failed) and run by ``run``,
    up to ``concurrency`` records at once; each record's log lines carry its ``message_id``."""

    def record_handler(record: SQSRecord) -> None:
        logger.thread_safe_append_keys(message_id=record.message_id)
        try:
            try:
                message = parse(record.body)
            except ValueError:
                # The body is not logged: poison may hold anything.
                logger.error("poison message: not a step", extra={"expected": what})
                raise
            run(message)
        finally:
            logger.thread_safe_remove_keys(["message_id"])

    return sqs_batch_handler(record_handler, concurrency=concurrency)


__all__ = ["Handler", "ThreadedBatchProcessor", "sqs_batch_handler", "step_consumer"]
