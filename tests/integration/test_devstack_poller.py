"""The local stack's SQS event source mapping against a real (moto) queue and a function served
by the local runtime over HTTP: partial batch failures, retries after the visibility timeout,
the redrive to the dead-letter queue after maxReceiveCount (moto's own, as SQS's), the DLQ's
consumer invoked the same way, function errors, DelaySeconds, duplicate deliveries."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from devstack.poller import SqsPoller
from devstack.runtime import FunctionHost, _request_handler
from devstack.template import SqsSource

MAX_RECEIVE_COUNT = 2


@dataclass
class RecordingFunction:
    """A small working SQS consumer: records every event, reports records whose body is in
    ``fail`` as batch item failures, raises when ``crash`` is set."""

    fail: set[str] = field(default_factory=set)
    crash: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        if self.crash:
            raise RuntimeError("worker crashed")
        failures = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] in self.fail]
        return {"batchItemFailures": failures}

    def records(self) -> list[dict[str, Any]]:
        return [record for event in self.events for record in event["Records"]]

    def bodies(self) -> list[str]:
        return [record["body"] for record in self.records()]


@contextmanager
def served(function: RecordingFunction) -> Iterator[str]:
    """The function behind the runtime's Invoke API on loopback, as the stack serves it."""
    host = FunctionHost("recording", function, timeout=10, memory_size=128)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _request_handler(host))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Queues:
    sqs: Any
    url: str
    arn: str
    dlq_url: str
    dlq_arn: str


@pytest.fixture
def queues(moto_server: str) -> Queues:
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=moto_server)
    suffix = uuid.uuid4().hex[:8]

    def arn(url: str) -> str:
        return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    dlq_url = sqs.create_queue(QueueName=f"dlq-{suffix}")["QueueUrl"]
    redrive = {"deadLetterTargetArn": arn(dlq_url), "maxReceiveCount": MAX_RECEIVE_COUNT}
    url = sqs.create_queue(
        QueueName=f"work-{suffix}",
        Attributes={"VisibilityTimeout": "1", "RedrivePolicy": json.dumps(redrive)},
    )["QueueUrl"]
    return Queues(sqs, url, arn(url), dlq_url, arn(dlq_url))


@contextmanager
def polling(
    queues: Queues, url: str, arn: str, function_url: str, batch_size: int = 10, *, deliveries: int = 1
) -> Iterator[None]:
    stopped = threading.Event()
    poller = SqsPoller(
        SqsSource("F", "Q", batch_size=batch_size, report_batch_item_failures=True),
        "recording",
        function_url,
        10,
        url,
        arn,
        queues.sqs,
        stopped,
        long_poll_seconds=1,
        deliveries=deliveries,
    )
    thread = threading.Thread(target=poller.run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopped.set()
        thread.join(timeout=5)


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_partial_failure_retries_only_the_failed_record_then_the_dlq_consumer_gets_it(queues):
    worker, dead_letters = RecordingFunction(fail={"bad"}), RecordingFunction()
    for body in ("good-1", "bad", "good-2"):
        queues.sqs.send_message(QueueUrl=queues.url, MessageBody=body)

    with (
        served(worker) as worker_url,
        served(dead_letters) as dlq_url,
        polling(queues, queues.url, queues.arn, worker_url, batch_size=3),
        polling(queues, queues.dlq_url, queues.dlq_arn, dlq_url),
    ):
        wait_for(lambda: bool(dead_letters.records()))

    assert sorted(worker.bodies()) == ["bad", "bad", "good-1", "good-2"]
    assert len(worker.events[0]["Records"]) == 3
    receive_counts = [
        r["attributes"]["ApproximateReceiveCount"] for r in worker.records() if r["body"] == "bad"
    ]
    assert receive_counts == ["1", str(MAX_RECEIVE_COUNT)]
    [dead] = dead_letters.records()
    assert dead["body"] == "bad"
    assert dead["eventSourceARN"] == queues.dlq_arn
    assert dead["eventSource"] == "aws:sqs"
    assert queues.sqs.receive_message(QueueUrl=queues.url, WaitTimeSeconds=0).get("Messages", []) == []


def test_function_error_leaves_the_whole_batch_for_a_retry(queues):
    worker = RecordingFunction(crash=True)
    queues.sqs.send_message(QueueUrl=queues.url, MessageBody="one")

    with served(worker) as url, polling(queues, queues.url, queues.arn, url):
        wait_for(lambda: len(worker.events) >= 2)

    assert worker.bodies()[:2] == ["one", "one"]


def test_delayed_message_is_delivered_after_its_delay(queues):
    worker = RecordingFunction()
    sent = time.monotonic()
    queues.sqs.send_message(QueueUrl=queues.url, MessageBody="later", DelaySeconds=2)

    with served(worker) as url, polling(queues, queues.url, queues.arn, url):
        wait_for(lambda: bool(worker.events))

    assert time.monotonic() - sent >= 2
    assert worker.bodies() == ["later"]


@dataclass
class FailsOnce(RecordingFunction):
    """Reports every record failed on its ``nth`` invocation only (a transient failure)."""

    nth: int = 2

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        failed = (
            [{"itemIdentifier": r["messageId"]} for r in event["Records"]]
            if len(self.events) == self.nth
            else []
        )
        return {"batchItemFailures": failed}


def test_duplicate_deliveries_hand_each_message_over_n_times_and_keep_it_if_any_failed(queues):
    # Given a poller delivering each batch three times, and a function failing once, on the second
    worker = FailsOnce(nth=2)
    queues.sqs.send_message(QueueUrl=queues.url, MessageBody="twice-three")

    # When it polls until the function has seen the message six times
    with served(worker) as url, polling(queues, queues.url, queues.arn, url, deliveries=3):
        wait_for(lambda: len(worker.events) >= 6)
        # Then the message came back once (the second delivery failed it) and then was deleted
        wait_for(
            lambda: not queues.sqs.receive_message(QueueUrl=queues.url, WaitTimeSeconds=0).get("Messages")
        )

    assert worker.bodies() == ["twice-three"] * 6
    receive_counts = [r["attributes"]["ApproximateReceiveCount"] for r in worker.records()]
    assert receive_counts == ["1", "1", "1", "2", "2", "2"]
