"""What queue-driven step pipelines share (clip generation, films): the clock a step
takes, queuing a new row's first step, and queuing the next step without undoing the one
that just committed.

A request commits its row, then queues its first step; if the queue refuses, the row is
withdrawn and the request fails (503), so nothing waits for a message that never left. A step
commits its work, then queues what comes next. A send that fails is logged, not raised:
raising would make SQS redeliver a step whose work is already done, and each pipeline's
sweeper re-sends the steps that got lost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from videogen.data.db import session_scope
from videogen.messaging.messages import QueueMessage, QueueSender, QueueUnavailable
from videogen.runtime.observability import logger

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware."""


def utc_now() -> datetime:
    """The current UTC time (the default clock)."""
    return datetime.now(UTC)


def enqueue_or_withdraw[M: QueueMessage](
    sender: QueueSender[M], message: M, withdraw: Callable[[Session], object]
) -> None:
    """Send a new row's first step; if the queue refuses, ``withdraw`` the row and re-raise."""
    try:
        sender.send(message)
    except QueueUnavailable:
        with session_scope() as s:
            withdraw(s)
        raise


def send_next[M: QueueMessage](
    sender: QueueSender[M], message: M, delay_seconds: int, log_fields: Mapping[str, object]
) -> None:
    """Queue ``message`` after ``delay_seconds``; if the queue is down, log it and carry on."""
    try:
        sender.send(message, delay_seconds)
    except QueueUnavailable:
        logger.error("could not queue the next step; the sweeper will", extra=dict(log_fields))


__all__ = ["Clock", "enqueue_or_withdraw", "send_next", "utc_now"]
