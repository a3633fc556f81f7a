"""What a fake provider was asked, and what it pushed: its creates, cancels and routed calls, the
slow polls under way, and every webhook delivery attempt.

Nothing secret is recorded: of a key, only whether one was sent.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Literal

JOBS_PATH = "/__fake__/jobs"
"""``GET`` on any fake: each job's prompt, creation and finish times (the push bench's clock)."""
RECORDS_PATH = "/__fake__/records"
"""``GET`` on either fake: what it was asked (creates by prompt, cancels by job id, slow polls
being answered) and its webhooks (attempts sent, acknowledged, jobs still being pushed), for
tests that drive the local stack from outside its processes."""


ImageRole = Literal["first", "last", "asset"]
Rgb = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class ReceivedImage:
    """An image a create carried: its role (first frame, last frame, reference asset), the
    content type it was declared as, the SHA-256 of its bytes, its size and its mean colour."""

    role: ImageRole
    content_type: str
    sha256: str
    width: int
    height: int
    colour: Rgb

    def summary(self) -> dict[str, Any]:
        """What ``RECORDS_PATH`` shows of it (JSON-safe)."""
        return {"role": self.role, "sha256": self.sha256, "colour": list(self.colour)}


@dataclass(frozen=True, slots=True)
class CreateRecord:
    """One create request as received (whatever it was answered), with the images it carried
    (those the fake could read; fal's are filled in once its job has fetched them)."""

    prompt: str
    params: dict[str, Any]
    status: int
    job_id: str | None
    key_sent: bool
    idempotency_key: str | None = None
    images: tuple[ReceivedImage, ...] = ()


@dataclass(frozen=True, slots=True)
class Delivery:
    """One attempt at delivering a webhook: what was POSTed where, and the answer's status
    (``None`` when there was none: no connection, a timeout). ``attempt`` counts from 1."""

    url: str
    headers: dict[str, str]
    body: bytes
    status: int | None
    attempt: int

    @property
    def acknowledged(self) -> bool:
        """Whether the receiver answered 2xx (nothing more is sent for this webhook)."""
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class Call:
    """Any request the fake answered: which route and with what status."""

    route: str
    status: int


class Records:
    """The requests a fake answered, in order (safe across its request threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._creates: list[CreateRecord] = []
        self._cancels: list[str] = []
        self._calls: list[Call] = []
        self._slow_polls = 0  # polls of "[slow-poll]" jobs being answered right now
        self._deliveries: list[Delivery] = []
        self._pushing = 0  # jobs whose webhooks are being sent (retries included)

    @property
    def creates(self) -> list[CreateRecord]:
        """Every create request received, in order (including those answered with errors)."""
        with self._lock:
            return list(self._creates)

    @property
    def cancels(self) -> list[str]:
        """The ids of the jobs a cancel request stopped, in order."""
        with self._lock:
            return list(self._cancels)

    @property
    def calls(self) -> list[Call]:
        """Every routed request with the status it got, in order."""
        with self._lock:
            return list(self._calls)

    @property
    def deliveries(self) -> list[Delivery]:
        """Every webhook delivery attempt, in the order they were answered."""
        with self._lock:
            return list(self._deliveries)

    def count(self, route: str) -> int:
        """How many requests ``route`` answered ("create", "poll", "list", "content", ...)."""
        with self._lock:
            return sum(1 for call in self._calls if call.route == route)

    def add_create(self, record: CreateRecord) -> None:
        """Remember a create request, and its answer as a call of the "create" route."""
        with self._lock:
            self._creates.append(record)
            self._calls.append(Call("create", record.status))

    def add_images(self, job_id: str, images: tuple[ReceivedImage, ...]) -> None:
        """Attach the images a job fetched after its create was answered to that create."""
        with self._lock:
            self._creates = [
                replace(c, images=c.images + images) if c.job_id == job_id else c for c in self._creates
            ]

    def add_cancel(self, job_id: str) -> None:
        """Remember the job a cancel request stopped."""
        with self._lock:
            self._cancels.append(job_id)

    def add_call(self, route: str, status: int) -> None:
        """Remember a request's route and status."""
        with self._lock:
            self._calls.append(Call(route, status))

    def add_delivery(self, delivery: Delivery) -> None:
        """Remember one webhook delivery attempt."""
        with self._lock:
            self._deliveries.append(delivery)

    def push_started(self) -> None:
        """Count a job's webhooks as being sent (until ``push_finished``)."""
        with self._lock:
            self._pushing += 1

    def push_finished(self) -> None:
        """A job's webhooks are all acknowledged or given up on."""
        with self._lock:
            self._pushing -= 1

    @contextmanager
    def slow_poll(self) -> Iterator[None]:
        """Count a slow poll as under way while the block runs."""
        with self._lock:
            self._slow_polls += 1
        try:
            yield
        finally:
            with self._lock:
                self._slow_polls -= 1

    def summary(self) -> dict[str, Any]:
        """What ``RECORDS_PATH`` answers: the creates (prompt, status, job id, images), the cancelled job
        ids, how many slow polls are being answered right now, and the webhooks: attempts sent,
        attempts acknowledged (2xx), jobs still being pushed. No key, nothing secret."""
        with self._lock:
            creates = [
                {"prompt": c.prompt, "status": c.status, "jobId": c.job_id}
                | {"images": [image.summary() for image in c.images]}
                for c in self._creates
            ]
            webhooks = {
                "sent": len(self._deliveries),
                "acknowledged": sum(1 for d in self._deliveries if d.acknowledged),
                "inFlight": self._pushing,
            }
            return {
                "creates": creates,
                "cancels": list(self._cancels),
                "slowPollsInFlight": self._slow_polls,
                "webhooks": webhooks,
            }
