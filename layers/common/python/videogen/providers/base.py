"""The one small interface every video provider implements (submit, poll, download).

Only the generation worker imports ``videogen.providers.sora`` / ``.veo`` (and so the
SDKs); API functions import nothing from this package but this module's plain types.

Error contract: every adapter method raises only ``RetryableProviderError`` (try again
later) or ``PermanentProviderError`` (fail the job with this message); SDK exceptions
never leak to the worker. Messages never contain the API key.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol, Self

ProviderState = Literal["processing", "completed", "failed"]
Variant = Literal["video", "thumbnail"]


@dataclass(frozen=True, slots=True)
class ProviderKey:
    """A user's decrypted provider key with what was stored beside it; lives for one step.

    ``secret`` never appears in a repr, a log line, a message or an error. ``api`` says which
    Google API a ``veo`` key is for ("gemini" or "vertex"); ``base_url`` is an ``openai`` key's
    endpoint (checked by ``videogen.providers.egress`` on every connection); ``webhook``: the
    endpoint pushes to a URL registered for the key, with a signing secret we keep.
    """

    secret: str = field(repr=False)
    api: str | None = None
    base_url: str | None = None
    webhook: bool = False


ImageRole = Literal["asset", "first", "last"]


@dataclass(frozen=True, slots=True)
class RequestImage:
    """An image a clip is made from: an asset reference, the first or the last frame. ``data``
    holds its bytes for adapters that send bytes, ``url`` a short-lived GET URL for those that
    send URLs (``VideoProvider.image_transport``)."""

    role: ImageRole
    content_type: str
    data: bytes = field(default=b"", repr=False)
    url: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """What the worker asks a provider to generate (no secrets: the key is passed separately)."""

    job_id: str
    model: str
    prompt: str
    duration_seconds: int
    # The catalog's "WIDTHxHEIGHT"; ``catalog.size_format`` gives its aspect ratio and resolution.
    size: str
    negative_prompt: str | None = None
    # When the worker set its "submitting" mark; only provider jobs created at or after it
    # can be this job's (crash recovery in ``find_existing``).
    not_before: datetime | None = None
    # Where the provider should push the job's completion (``videogen.webhooks.callbacks``);
    # ``None``: polls alone follow it.
    callback_url: str | None = None
    # The images the clip is made from (checked against the model when the job was made).
    images: tuple[RequestImage, ...] = ()

    def image(self, role: ImageRole) -> RequestImage | None:
        """The first or last frame, if given."""
        return next((i for i in self.images if i.role == role), None)

    @property
    def assets(self) -> tuple[RequestImage, ...]:
        """The asset references, in order."""
        return tuple(i for i in self.images if i.role == "asset")


@dataclass(frozen=True, slots=True)
class Submission:
    provider_job_id: str
    poll_after_seconds: float | None = None  # provider's hint (openai-poll-after-ms), if any


@dataclass(frozen=True, slots=True)
class PollResult:
    state: ProviderState
    progress: int = 0
    error: str | None = None  # provider's message, readable by the user, when failed
    duration_seconds: float | None = None  # actual seconds when completed (cost); None: not reported
    poll_after_seconds: float | None = None
    extra: dict[str, str] = field(default_factory=dict)  # e.g. sora's "expires_at" (ISO 8601)


class ProviderError(Exception):
    """Base of provider failures the worker must classify."""


class RetryableProviderError(ProviderError):
    """429, 5xx, timeouts, connection errors: try again later (``retry_after`` seconds if known).

    ``answered`` is True when the provider replied with an HTTP status (429, 5xx): a create
    so answered was not accepted. A timeout or a dropped connection got no answer, so the
    provider may have started (and will bill) the job.
    """

    def __init__(self, message: str, retry_after: float | None = None, *, answered: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.answered = answered


class PermanentProviderError(ProviderError):
    """Rejected key (401/403), refused prompt (400), not found: fail the job with this message."""


class SdkClient(Protocol):
    def close(self) -> None: ...


class ClosesClient:
    """Context management for an adapter over one SDK client (``self._client``)."""

    _client: SdkClient

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the SDK client's HTTP connection pool."""
        self._client.close()


class VideoProvider(Protocol):
    name: str
    # False when the provider makes no thumbnail (veo): the worker then stores none.
    has_thumbnails: bool
    # Who pushes this adapter's completions to a request's ``callback_url`` ("gemini", "fal"),
    # or ``None`` when it takes none (the URL is then not sent).
    webhook_source: Literal["gemini", "fal"] | None
    # How it takes images: their bytes (Google's APIs, OpenAI-style multipart) or a URL it
    # fetches itself (fal).
    image_transport: Literal["bytes", "url"]

    def submit(self, request: GenerationRequest) -> Submission:
        """Start one paid generation. Never retried inside: a retried create is a second job."""
        ...

    def find_existing(self, request: GenerationRequest) -> Submission | None:
        """The provider job a crashed submit may already have started for this request.

        ``None`` when there is none, it cannot be told apart from others, or the provider
        cannot list jobs: the worker must then not resubmit blindly.
        """
        ...

    def poll(self, provider_job_id: str) -> PollResult:
        """The job's current state (reads are retried inside on transient failures)."""
        ...

    def download(self, provider_job_id: str, variant: Variant) -> Iterator[bytes]:
        """Stream the finished asset's bytes in chunks (may yield nothing for an empty file)."""
        ...

    def cancel(self, provider_job_id: str) -> None:
        """Ask the provider to stop the job (best effort; what each provider does: its module doc).

        ``PermanentProviderError`` when the provider will not (no such job, already finished,
        no cancel for jobs in that state); ``RetryableProviderError`` to try again later.
        """
        ...

    def check_key(self) -> None:
        """One cheap authenticated read, to check a key when it is saved (nothing is billed).

        Returns when the provider accepted the key; ``PermanentProviderError`` quoting the
        provider's reason when it rejected it; ``RetryableProviderError`` when the provider
        could not be reached (the key is then stored unverified).
        """
        ...

    def close(self) -> None:
        """Release the HTTP connections (the key leaves memory with the object)."""
        ...


def retry_after_seconds(headers: object) -> float | None:
    """Seconds from ``Retry-After-Ms`` / ``Retry-After`` (number or HTTP date), if sent.

    ``headers`` is any mapping-like object with ``get`` (httpx, requests, dict).
    """
    get = getattr(headers, "get", None)
    if get is None:
        return None
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = get(name)
        if value is None:
            continue
        seconds: float | None
        try:
            seconds = float(value) / divisor
        except ValueError:
            seconds = _http_date_delay(str(value)) if name == "retry-after" else None
        if seconds is not None and math.isfinite(seconds):
            return max(0.0, seconds)
    return None


def error_message(response: object) -> str:
    """The provider's own words in an error answer ``{"error": {"message": ...}}`` (Google's and
    OpenAI's shape), else ``HTTP <status>``; ``response`` is an httpx response."""
    status = getattr(response, "status_code", "?")
    try:
        body = response.json()  # type: ignore[attr-defined]
    except ValueError:
        return f"HTTP {status}"
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return message if isinstance(message, str) and message else f"HTTP {status}"


def _http_date_delay(value: str) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - time.time()
