"""Queue messages and sending them: generation steps, storage cleanups and film steps.

A generation message is ``{"jobId": "<uuid>", "step": "submit" | "poll" | "push" | "cancel"}``
(``push``: the provider said the job finished; see ``videogen.webhooks``), or
``{"keyId", "providerJobId", "step": "push"}`` when an OpenAI-compatible endpoint said so (its
webhook names the key its URL was registered for and its own video id, not our job), a
cleanup message ``{"cleanupId": "<uuid>"}``, a film message ``{"filmId": "<uuid>", "step":
"plan" | "normalize" | "assemble"}`` (with ``"clip": <index>`` for ``normalize`` only), a frame
message ``{"jobId": "<uuid>", "step": "frame"}`` on the film queue (make a continuing job's first
frame from the previous clip: videogen.films.frame_step), and nothing else, ever: no prompt, no
key, no user data. Everything a consumer needs it reads from the row the id names. A batch goes
out ten to a call (SQS ``SendMessageBatch``); each message succeeds or fails alone.

Handlers take a :class:`QueueSender` as an optional parameter defaulting to the SQS one
(:func:`default_sender`, :func:`cleanup_sender`, :func:`film_sender`), so tests pass an
in-memory one (``tools.queues.InMemoryQueueSender``) instead of patching boto3.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal, Protocol, Self

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from videogen.errors import ServiceUnavailable
from videogen.runtime import aws
from videogen.runtime.config import get_settings

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

Step = Literal["submit", "poll", "push", "cancel"]
FilmStep = Literal["plan", "normalize", "assemble"]
MAX_DELAY_SECONDS = 900
"""SQS's ceiling for ``DelaySeconds`` (15 minutes)."""
MAX_BATCH_MESSAGES = 10
"""SQS's ceiling for the entries of one ``SendMessageBatch``."""


class QueueMessage(Protocol):
    """What a queue carries: a message that renders its whole body."""

    def to_body(self) -> str:
        """The message body as sent."""
        ...


class _WireMessage(BaseModel):
    """A queue message: camelCase on the wire, nothing but its declared fields."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        frozen=True,
    )

    def to_body(self) -> str:
        """The message body as sent, e.g. ``{"jobId": "...", "step": "..."}`` (fields left
        ``None`` are left out)."""
        return self.model_dump_json(by_alias=True, exclude_none=True)

    @classmethod
    def from_body(cls, body: str | bytes) -> Self:
        """Parse a received body; only the camelCase wire names are accepted.

        Raises ``pydantic.ValidationError`` (a ``ValueError``) for anything else, including
        extra fields: such a message is poison, not work.
        """
        return cls.model_validate_json(body, by_alias=True, by_name=False)


class StepMessage(_WireMessage):
    """One generation step for one job; the whole body of a generation queue message."""

    job_id: uuid.UUID
    step: Step


class EndpointPushMessage(_WireMessage):
    """A push from the endpoint registered for stored key ``key_id``: its video
    ``provider_job_id`` finished (the worker finds the job among the key owner's)."""

    key_id: uuid.UUID
    provider_job_id: str = Field(min_length=1, max_length=256)
    step: Literal["push"] = "push"


GenerationMessage = StepMessage | EndpointPushMessage
"""What the generation queue carries."""


def parse_generation(body: str | bytes) -> GenerationMessage:
    """A generation queue body as the message it is; ``ValueError`` (poison) for anything else."""
    try:
        return StepMessage.from_body(body)
    except ValueError:
        return EndpointPushMessage.from_body(body)


class CleanupMessage(_WireMessage):
    """One storage cleanup (a deleted storyboard's objects); the whole body of its message."""

    cleanup_id: uuid.UUID


class FilmStepMessage(_WireMessage):
    """One film step: ``{"filmId", "step"}``, plus ``"clip"`` (its index) for ``normalize``."""

    film_id: uuid.UUID
    step: FilmStep
    clip: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _clip_with_normalize_only(self) -> FilmStepMessage:
        if (self.step == "normalize") != (self.clip is not None):
            raise ValueError("a normalize step names its clip; other steps name none")
        return self


class FrameMessage(_WireMessage):
    """Make a continuing job's first frame (the film compiler, which has PyAV), then its submit."""

    job_id: uuid.UUID
    step: Literal["frame"]


@dataclass(frozen=True, slots=True)
class Queue:
    """One of our queues: its name in messages, the setting that holds its URL."""

    name: str
    url_setting: str

    def url(self) -> str | None:
        """The queue URL from settings, if configured."""
        url: str | None = getattr(get_settings(), self.url_setting)
        return url


GENERATION_QUEUE = Queue("generation", "generation_queue_url")
STORAGE_CLEANUP_QUEUE = Queue("storage cleanup", "storage_cleanup_queue_url")
FILM_QUEUE = Queue("film", "film_queue_url")


class QueueUnavailable(ServiceUnavailable):
    """The queue could not take the message (not configured, unreachable, refused): answer 503."""


def clamp_delay(delay_seconds: float) -> int:
    """``delay_seconds`` as whole seconds within SQS's 0..900."""
    return max(0, min(MAX_DELAY_SECONDS, int(delay_seconds)))


class QueueSender[M: QueueMessage = StepMessage](Protocol):
    """Sends messages. The real one is SQS; tests pass an in-memory recorder."""

    def send(self, message: M, delay_seconds: int = 0) -> str:
        """Send ``message`` visible after ``delay_seconds``; return its message id.

        Raises ``QueueUnavailable`` when the message could not be sent.
        """
        ...

    def send_batch(self, messages: Sequence[M]) -> list[M]:
        """Send ``messages`` (no delay), ten to a call; return those that could not be sent.

        Never raises for the queue's sake: a refused call or entry is in the returned list.
        """
        ...


@lru_cache(maxsize=1)
def _sqs() -> SQSClient:
    return aws.client("sqs")


def reset_clients() -> None:
    """Forget the cached SQS client (tests, settings changes)."""
    _sqs.cache_clear()


class SqsQueueSender[M: QueueMessage = StepMessage]:
    """Sends to SQS, to ``queue_url`` or else the URL ``queue``'s setting holds (generation)."""

    def __init__(self, queue_url: str | None = None, *, queue: Queue = GENERATION_QUEUE) -> None:
        self._queue_url = queue_url
        self._queue = queue

    def send(self, message: M, delay_seconds: int = 0) -> str:
        """Send one message with ``DelaySeconds`` clamped to 0..900; return the SQS message id."""
        queue_url = self._queue_url or self._queue.url()
        if not queue_url:
            raise QueueUnavailable(
                f"the {self._queue.name} queue is not configured ({self._queue.url_setting.upper()})"
            )
        try:
            response = _sqs().send_message(
                QueueUrl=queue_url,
                MessageBody=message.to_body(),
                DelaySeconds=clamp_delay(delay_seconds),
            )
        except (BotoCoreError, ClientError) as exc:
            raise QueueUnavailable(f"the {self._queue.name} queue is unavailable") from exc
        return response["MessageId"]

    def send_batch(self, messages: Sequence[M]) -> list[M]:
        """``SendMessageBatch`` ten at a time; the messages of a failed call or entry come back."""
        queue_url = self._queue_url or self._queue.url()
        if not queue_url:
            return list(messages)
        failed: list[M] = []
        for start in range(0, len(messages), MAX_BATCH_MESSAGES):
            chunk = messages[start : start + MAX_BATCH_MESSAGES]
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {"Id": str(n), "MessageBody": m.to_body()} for n, m in enumerate(chunk)
            ]
            try:
                response = _sqs().send_message_batch(QueueUrl=queue_url, Entries=entries)
            except (BotoCoreError, ClientError):
                failed.extend(chunk)
                continue
            failed.extend(chunk[int(entry["Id"])] for entry in response.get("Failed", []))
        return failed


def default_sender() -> QueueSender:
    """The sender generation uses when none is passed: SQS at the generation queue."""
    return SqsQueueSender()


def cleanup_sender() -> QueueSender[CleanupMessage]:
    """The sender of storage cleanups when none is passed: SQS at the storage cleanup queue."""
    return SqsQueueSender(queue=STORAGE_CLEANUP_QUEUE)


def frame_sender() -> QueueSender[FrameMessage]:
    """The sender of frame steps when none is passed: SQS at the film queue."""
    return SqsQueueSender(queue=FILM_QUEUE)


def film_sender() -> QueueSender[FilmStepMessage]:
    """The sender film handlers use when none is passed: SQS at the film queue."""
    return SqsQueueSender(queue=FILM_QUEUE)
