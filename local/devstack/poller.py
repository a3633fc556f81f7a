"""Lambda's SQS event source mapping and EventBridge schedules, for the local stack.

For every SQS event in template.yaml a thread does what the event source mapping does:

- long polls the queue (``WaitTimeSeconds``) and gathers up to ``BatchSize`` messages within
  ``MaximumBatchingWindowInSeconds``;
- invokes the function with a real SQS event (``Records`` with messageId, receiptHandle,
  body, attributes such as ApproximateReceiveCount, messageAttributes, md5OfBody,
  eventSource ``aws:sqs``, eventSourceARN, awsRegion);
- with ``ReportBatchItemFailures`` deletes every record but those the function lists in
  ``batchItemFailures`` (an invalid list, or a function error, fails the whole batch);
  without it, deletes the batch only when the invocation succeeded.

With ``--deliveries N`` (the ``SQS_DELIVERIES`` knob) every batch is handed to the function N
times in a row before anything is deleted, as SQS's at-least-once delivery may do: a record
is deleted only if no delivery reported it failed.

What is not deleted comes back after the queue's visibility timeout; DelaySeconds, the
visibility timeout and the redrive to the dead-letter queue after ``maxReceiveCount``
receives are the queue's own doing (moto implements them server-side, as SQS does), and the
DLQ's consumer is just another SQS event here.

For every Schedule event a thread invokes the function with an EventBridge "Scheduled Event"
every ``--schedule-interval`` seconds (the stack passes ``SWEEP_INTERVAL_SECONDS``).
"""

from __future__ import annotations

import argparse
import base64
import logging
import sys
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from devstack.intrinsics import ACCOUNT_ID, REGION
from devstack.logs import configure_logging, named_values, ready_line, stop_requested
from devstack.runtime import InvocationFailed, invoke
from devstack.template import ScheduleSource, SqsSource, Template, load

logger = logging.getLogger("devstack.poller")

MAX_RECEIVE = 10  # SQS's ceiling per ReceiveMessage call
LONG_POLL_SECONDS = 5
ERROR_BACKOFF_SECONDS = 1.0


# --- event shapes -----------------------------------------------------------------------------------


def _message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute


def sqs_record(message: Mapping[str, Any], queue_arn: str) -> dict[str, Any]:
    """One record of Lambda's SQS event, from a ReceiveMessage result."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def scheduled_event(rule: str, now: datetime | None = None) -> dict[str, Any]:
    """The EventBridge event a Schedule rule sends its target."""
    now = now or datetime.now(UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{rule}"],
        "detail": {},
    }


def failed_message_ids(payload: Any, batch_ids: Sequence[str]) -> set[str]:
    """The records to keep on the queue, from a ReportBatchItemFailures response.

    As Lambda does: no response, an empty or null list is a full success; an item without a
    valid ``itemIdentifier`` (empty, or not a message of the batch) fails the whole batch.
    """
    if payload is None or payload == {}:
        return set()
    if not isinstance(payload, dict):
        return set(batch_ids)
    failures = payload.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return set(batch_ids)
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in batch_ids:
            logger.warning("invalid batchItemFailures item %r: the whole batch is retried", item)
            return set(batch_ids)
        failed.add(identifier)
    return failed


# --- the event source mapping ---------------------------------------------------------------------


@dataclass
class SqsPoller:
    """One SQS event source mapping: ``source.queue`` feeding the function at ``function_url``."""

    source: SqsSource
    function_name: str
    function_url: str
    function_timeout: int
    queue_url: str
    queue_arn: str
    sqs: Any
    stopped: threading.Event
    long_poll_seconds: int = LONG_POLL_SECONDS
    deliveries: int = 1

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                batch = self.receive_batch()
                if batch and not self.stopped.is_set():
                    self.process(batch)
            except Exception as exc:  # a poller keeps polling, as Lambda's does
                if not self.stopped.is_set():
                    logger.warning("%s: %s: %s", self.source.queue, type(exc).__name__, exc)
                    self.stopped.wait(ERROR_BACKOFF_SECONDS)

    def _receive(self, count: int, wait_seconds: int) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(MAX_RECEIVE, count),
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def receive_batch(self) -> list[dict[str, Any]]:
        """Long poll for a first message, then gather up to BatchSize within the batching window."""
        batch = self._receive(self.source.batch_size, self.long_poll_seconds)
        deadline = time.monotonic() + self.source.batching_window_seconds
        while batch and len(batch) < self.source.batch_size and not self.stopped.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            batch += self._receive(self.source.batch_size - len(batch), max(1, round(remaining)))
        return batch

    def process(self, batch: list[dict[str, Any]]) -> None:
        """Invoke the function with the batch (``deliveries`` times); delete what succeeded."""
        event = {"Records": [sqs_record(m, self.queue_arn) for m in batch]}
        ids = [m["MessageId"] for m in batch]
        failed: set[str] = set()
        for _ in range(self.deliveries):
            outcome = self._deliver(event, ids)
            if outcome is None:
                return
            failed |= outcome
        done = [m for m in batch if m["MessageId"] not in failed]
        self.delete(done)
        logger.info(
            "%s -> %s: %d records, %d done, %d retried later",
            self.source.queue,
            self.function_name,
            len(batch),
            len(done),
            len(failed),
        )

    def _deliver(self, event: dict[str, Any], ids: list[str]) -> set[str] | None:
        """One invocation: the records it failed, or ``None`` when it failed as a whole."""
        try:
            result = invoke(self.function_url, event, timeout=self.function_timeout + 5)
        except InvocationFailed as exc:
            logger.error(
                "%s: invocation failed (%s): %d messages retried later", self.function_name, exc, len(ids)
            )
            return None
        if result.function_error:
            message = (result.payload or {}).get("errorMessage", "function error")
            logger.error("%s: %s: %d messages retried later", self.function_name, message, len(ids))
            return None
        return failed_message_ids(result.payload, ids) if self.source.report_batch_item_failures else set()

    def delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), MAX_RECEIVE):
            chunk = messages[start : start + MAX_RECEIVE]
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
            response = self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
            for failure in response.get("Failed", []):
                logger.warning(
                    "%s: could not delete a message: %s", self.source.queue, failure.get("Message")
                )


@dataclass
class Scheduler:
    """One Schedule event: the function invoked every ``interval`` seconds."""

    source: ScheduleSource
    function_name: str
    function_url: str
    function_timeout: int
    interval: float
    stopped: threading.Event

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                result = invoke(
                    self.function_url, scheduled_event(self.source.name), timeout=self.function_timeout + 5
                )
            except InvocationFailed as exc:
                logger.error("%s: scheduled invocation failed (%s)", self.function_name, exc)
                continue
            if result.function_error:
                logger.error("%s: %s", self.function_name, (result.payload or {}).get("errorMessage"))
            else:
                logger.debug("%s: scheduled invocation done", self.function_name)


def build(
    template: Template,
    *,
    function_urls: Mapping[str, str],
    queue_urls: Mapping[str, str],
    schedule_interval: float,
    stopped: threading.Event,
    sqs: Any = None,
    deliveries: int = 1,
) -> list[SqsPoller | Scheduler]:
    """A poller per SQS event and a scheduler per Schedule event of the template."""
    sqs = sqs or boto3.client("sqs", region_name=REGION)
    workers: list[SqsPoller | Scheduler] = []
    for source in template.sqs_sources:
        function = template.functions[source.function]
        queue_url = queue_urls[source.queue]
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        workers.append(
            SqsPoller(
                source,
                function.name,
                function_urls[source.function],
                function.timeout,
                queue_url,
                arn,
                sqs,
                stopped,
                deliveries=deliveries,
            )
        )
    for schedule in template.schedules:
        function = template.functions[schedule.function]
        workers.append(
            Scheduler(
                schedule,
                function.name,
                function_urls[schedule.function],
                function.timeout,
                schedule_interval,
                stopped,
            )
        )
    return workers


def main(argv: list[str] | None = None) -> int:
    """Poll every queue and run every schedule of the template until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m devstack.poller", description=__doc__)
    parser.add_argument("--template", type=Path, default=Path("template.yaml"))
    parser.add_argument("--function", action="append", default=[], help="LogicalId=runtime URL")
    parser.add_argument("--queue", action="append", default=[], help="LogicalId=queue URL")
    parser.add_argument("--schedule-interval", type=float, default=60.0)
    parser.add_argument("--deliveries", type=int, default=1, help="times each batch is handed over")
    args = parser.parse_args(argv)
    configure_logging()

    stopped = stop_requested()
    workers = build(
        load(args.template),
        function_urls=named_values(args.function),
        queue_urls=named_values(args.queue),
        schedule_interval=args.schedule_interval,
        stopped=stopped,
        deliveries=max(1, args.deliveries),
    )
    for worker in workers:
        threading.Thread(target=worker.run, name=worker.source.function, daemon=True).start()
    ready_line(
        {
            "sqs": [w.source.queue for w in workers if isinstance(w, SqsPoller)],
            "schedules": [w.source.name for w in workers if isinstance(w, Scheduler)],
        }
    )
    stopped.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
