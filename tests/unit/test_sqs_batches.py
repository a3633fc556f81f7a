"""``videogen.runtime.sqs_entry``: how an SQS batch reaches the record handlers (the worker's entry)."""

from __future__ import annotations

import json
import threading
from typing import Any

from tests.support import FakeLambdaContext, sqs_event
from videogen.runtime.observability import logger
from videogen.runtime.sqs_entry import sqs_batch_handler, step_consumer


def _context() -> Any:
    return FakeLambdaContext()


def test_the_records_of_a_batch_run_at_once_and_only_the_failed_one_is_redelivered():
    # Given a handler whose records each wait for all the others to have started
    arrived = threading.Barrier(3, timeout=5)

    def record_handler(record: Any) -> None:
        arrived.wait()  # one record at a time would never get past this (BrokenBarrierError)
        if record.body == "bad":
            raise ValueError("refused")

    handler = sqs_batch_handler(record_handler, concurrency=3)

    # When a batch of three arrives, one of them failing
    event = sqs_event(["a", "bad", "c"])
    answer = handler(event, _context())

    # Then all three ran together, and SQS is told to redeliver the failed one alone
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}


def test_one_record_at_a_time_unless_asked():
    running, most = 0, 0
    lock = threading.Lock()

    def record_handler(record: Any) -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        threading.Event().wait(0.01)
        with lock:
            running -= 1

    answer = sqs_batch_handler(record_handler)(sqs_event(["a", "b", "c"]), _context())
    assert answer == {"batchItemFailures": []}
    assert most == 1


def test_each_records_log_lines_carry_its_own_message_id():
    # Given steps that run together, each noting the message id its log lines would carry
    arrived = threading.Barrier(4, timeout=5)
    seen: dict[str, str] = {}

    def run(message: dict[str, str]) -> None:
        arrived.wait()
        seen[message["n"]] = logger.thread_safe_get_current_keys()["message_id"]

    handler = step_consumer(json.loads, run, "test step", concurrency=4)
    event = sqs_event(json.dumps({"n": str(i)}) for i in range(4))

    assert handler(event, _context()) == {"batchItemFailures": []}

    # Then every record saw its own id, not a neighbour's
    assert seen == {str(i): record["messageId"] for i, record in enumerate(event["Records"])}
    assert "message_id" not in logger.thread_safe_get_current_keys()
