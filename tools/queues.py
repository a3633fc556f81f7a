"""An in-memory queue sender for the tests and the benchmarks, in place of SQS.

Handlers take a ``QueueSender`` (``videogen.messaging.messages``) as an optional parameter
defaulting to the SQS one, so tests and ``make bench`` pass an :class:`InMemoryQueueSender`
instead of patching boto3. It ships with none of the functions.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from videogen.messaging.messages import QueueMessage, QueueUnavailable, StepMessage, clamp_delay


@dataclass(frozen=True, slots=True)
class SentMessage[M: QueueMessage = StepMessage]:
    """One message an :class:`InMemoryQueueSender` took."""

    message_id: str
    message: M
    delay_seconds: int

    @property
    def body(self) -> str:
        """The body SQS would have carried."""
        return self.message.to_body()


class InMemoryQueueSender[M: QueueMessage = StepMessage]:
    """A working in-memory queue sender for tests and local tools.

    Records every message (with its clamped delay) in ``sent``; with ``fail=True`` every
    send raises ``QueueUnavailable``, as an SQS outage would; with ``accept=n`` only the next
    ``n`` messages go and the queue then fails (an outage in the middle of a batch).
    """

    def __init__(self, *, fail: bool = False, accept: int | None = None) -> None:
        self.fail = fail
        self.accept = accept
        self.sent: list[SentMessage[M]] = []
        self._lock = threading.Lock()

    def send(self, message: M, delay_seconds: int = 0) -> str:
        """Record ``message``; return a fresh message id (or raise when the queue fails)."""
        with self._lock:
            if self.fail or self.accept == 0:
                raise QueueUnavailable("the queue is unavailable")
            if self.accept is not None:
                self.accept -= 1
            sent = SentMessage(str(uuid.uuid4()), message, clamp_delay(delay_seconds))
            self.sent.append(sent)
        return sent.message_id

    def send_batch(self, messages: Sequence[M]) -> list[M]:
        """Record each message as ``send`` would; return those the queue refused."""
        failed = []
        for message in messages:
            try:
                self.send(message)
            except QueueUnavailable:
                failed.append(message)
        return failed

    def bodies(self) -> list[str]:
        """The bodies sent so far, in order."""
        with self._lock:
            return [s.body for s in self.sent]
