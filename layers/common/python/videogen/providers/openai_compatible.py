"""Any endpoint speaking the OpenAI videos API (``/v1/videos``), through the official ``openai`` SDK.

OpenAI shut its own videos API down on 2026-09-24, so the endpoint is the base URL stored with
the user's key (``ProviderKey.base_url``). Every request, redirects included, goes through the
egress guard (:mod:`videogen.providers.egress`): only https, only public addresses (or the
operator's allowlist), to the very address that was checked. ``GenerationRequest.size`` ("1280x720") and
``duration_seconds`` (sent as the string "4"/"8"/"12") pass through unchanged: the model
catalog, not this module, decides which values are valid, and the provider's 400 for
anything else becomes a ``PermanentProviderError``.

Retries: the create call runs with ``max_retries=0`` (a retried create is a second paid
job; the worker decides); retrieve, list, download and delete use ``max_retries=2``.

Cancel: the videos API has no cancel. Its one way to drop a job is ``DELETE /videos/{id}``
(``videos.delete``), which the pinned SDK documents for "a completed or failed video"; an
endpoint may refuse it for a job still running (the refusal is a ``PermanentProviderError``).
Nothing in the API says a deleted job is not billed.

Key check (``check_key``): ``GET {base}/models``, the API's cheapest authenticated read.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Literal, cast

import httpx2
import openai
from openai import omit
from openai.types import Video, VideoSeconds, VideoSize

from videogen.providers.base import (
    ClosesClient,
    GenerationRequest,
    PermanentProviderError,
    PollResult,
    ProviderError,
    ProviderKey,
    RequestImage,
    RetryableProviderError,
    Submission,
    Variant,
    retry_after_seconds,
)
from videogen.providers.egress import EgressPolicy, GuardedTransport, refused_by_guard
from videogen.providers.key_check import check_openai_compatible, egress_policy
from videogen.runtime.config import Settings

# The SDK marks every videos method deprecated because OpenAI's own endpoint closes; our
# "openai" here is any compatible endpoint, so the warning is noise in every worker log line.
warnings.filterwarnings("ignore", message="The Sora API is scheduled", category=DeprecationWarning)

_READ_RETRIES = 2
_DOWNLOAD_CHUNK_BYTES = 1024 * 1024
# Provider clocks and ours disagree a little; a job stamped slightly before our mark is ours.
_CLOCK_SKEW = timedelta(seconds=60)
# find_existing scans recent jobs newest first and stops at the mark; this bounds the walk.
_MAX_JOBS_SCANNED = 500
_KEY_REJECTED = "the provider rejected your API key; update it with PUT /api/keys/openai"
_MAX_REDIRECTS = 5


class OpenAICompatibleProvider(ClosesClient):
    """The OpenAI videos API at the key's own endpoint, behind the ``VideoProvider`` interface."""

    _client: openai.OpenAI

    name = "openai"
    has_thumbnails = True
    webhook_source: Literal["gemini", "fal"] | None = None
    image_transport: Literal["bytes", "url"] = "bytes"

    def __init__(self, key: ProviderKey, settings: Settings, policy: EgressPolicy | None = None) -> None:
        if not key.base_url:
            raise PermanentProviderError(
                "the stored OpenAI-compatible key names no endpoint; store it again with its base URL "
                "(PUT /api/keys/openai)"
            )
        self._key = key
        self._settings = settings
        http_client = httpx2.Client(
            transport=GuardedTransport(policy or egress_policy(settings)),
            timeout=settings.provider_deadline_seconds,
            follow_redirects=True,
            max_redirects=_MAX_REDIRECTS,
        )
        self._client = openai.OpenAI(
            api_key=key.secret,
            base_url=key.base_url,
            timeout=settings.provider_deadline_seconds,
            max_retries=0,
            http_client=http_client,
        )
        # Same connection pool; reads are safe to repeat, so the SDK may retry them.
        self._reader = self._client.with_options(max_retries=_READ_RETRIES)

    def submit(self, request: GenerationRequest) -> Submission:
        """Create one video job (exactly one HTTP request, never retried here)."""
        try:
            first = request.image("first")
            raw = self._client.videos.with_raw_response.create(
                model=request.model,
                prompt=request.prompt,
                seconds=cast(VideoSeconds, str(request.duration_seconds)),
                size=cast(VideoSize, request.size),
                # The first frame goes as a multipart file, at the video's own size (the API's rule).
                input_reference=_first_frame(first, request.size) if first else omit,
                # Endpoints that honour idempotency keys then dedupe a resubmit on their side too.
                extra_headers={"Idempotency-Key": f"videogen-{request.job_id}"},
            )
            video = raw.parse()
        except openai.OpenAIError as exc:
            raise _provider_error(exc) from None
        return Submission(provider_job_id=video.id, poll_after_seconds=_poll_after(raw.headers))

    def find_existing(self, request: GenerationRequest) -> Submission | None:
        """The one recent job matching model, prompt, seconds and size created since the mark.

        ``None`` without a mark (an older identical job cannot be told from ours), when
        nothing matches, or when several match (claiming the wrong one would bill twice).
        """
        if request.not_before is None:
            return None
        cutoff = request.not_before - _CLOCK_SKEW
        matches: list[Video] = []
        try:
            for scanned, video in enumerate(self._reader.videos.list(order="desc", limit=100)):
                if scanned >= _MAX_JOBS_SCANNED or _created(video) < cutoff:
                    break
                if _same_request(video, request):
                    matches.append(video)
        except openai.OpenAIError as exc:
            raise _provider_error(exc) from None
        if len(matches) != 1:
            return None
        return Submission(provider_job_id=matches[0].id)

    def poll(self, provider_job_id: str) -> PollResult:
        """The job's state: queued/in_progress -> processing, completed, failed with the reason."""
        try:
            raw = self._reader.videos.with_raw_response.retrieve(provider_job_id)
            video = raw.parse()
        except openai.OpenAIError as exc:
            raise _provider_error(exc) from None
        return _poll_result(video, _poll_after(raw.headers))

    def download(self, provider_job_id: str, variant: Variant) -> Iterator[bytes]:
        """Stream the MP4 ("video") or the image ("thumbnail") in chunks of at most 1 MiB."""
        try:
            with self._reader.videos.with_streaming_response.download_content(
                provider_job_id, variant=variant
            ) as response:
                yield from response.iter_bytes(_DOWNLOAD_CHUNK_BYTES)
        except openai.OpenAIError as exc:
            raise _provider_error(exc) from None

    def check_key(self) -> None:
        """``GET /models``: one authenticated read that bills nothing (:mod:`.key_check`)."""
        check_openai_compatible(self._key, self._settings)

    def cancel(self, provider_job_id: str) -> None:
        """``DELETE /videos/{id}``: drop the job and its assets (see the module doc)."""
        try:
            self._reader.videos.delete(provider_job_id)
        except openai.OpenAIError as exc:
            raise _provider_error(exc) from None


def _poll_result(video: Video, poll_after: float | None) -> PollResult:
    extra = {}
    if video.expires_at is not None:
        extra["expires_at"] = datetime.fromtimestamp(video.expires_at, UTC).isoformat()
    if video.status == "completed":
        return PollResult(
            state="completed", progress=100, duration_seconds=_seconds(video.seconds), extra=extra
        )
    if video.status == "failed":
        return PollResult(state="failed", progress=video.progress, error=_failure_message(video))
    return PollResult(state="processing", progress=video.progress, poll_after_seconds=poll_after)


def _failure_message(video: Video) -> str:
    if video.error is None:
        return "the provider reported the video as failed without a reason"
    return f"{video.error.code}: {video.error.message}"


def _seconds(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _created(video: Video) -> datetime:
    return datetime.fromtimestamp(video.created_at, UTC)


def _same_request(video: Video, request: GenerationRequest) -> bool:
    return (
        video.model == request.model
        and video.prompt == request.prompt
        and str(video.seconds) == str(request.duration_seconds)
        and video.size == request.size
    )


def _first_frame(image: RequestImage, size: str) -> tuple[str, bytes, str]:
    """The first frame as the multipart file ``input_reference``: fitted (scaled, centred crop)
    to ``size``, which OpenAI's API requires the image to match."""
    from videogen.references.images import fit  # noqa: PLC0415 (Pillow only when a frame is sent)

    width, height = (int(n) for n in size.split("x"))
    return ("first-frame.png", fit(image.data, width, height), "image/png")


def _poll_after(headers: object) -> float | None:
    value = getattr(headers, "get", lambda _name: None)("openai-poll-after-ms")
    try:
        return max(0.0, float(value) / 1000) if value is not None else None
    except ValueError:
        return None


def _provider_error(exc: openai.OpenAIError) -> ProviderError:
    """Classify an SDK exception; the message is safe to show the user (no key, no headers)."""
    refused = refused_by_guard(exc)
    if refused is not None:
        return PermanentProviderError(f"the endpoint is not allowed: {refused}")
    if isinstance(exc, openai.APIStatusError):
        return _status_error(exc)
    if isinstance(exc, openai.APITimeoutError):
        return RetryableProviderError("the video provider did not answer in time")
    if isinstance(exc, openai.APIConnectionError):
        return RetryableProviderError("could not reach the video provider")
    return PermanentProviderError(f"unexpected answer from the video provider: {type(exc).__name__}")


def _status_error(exc: openai.APIStatusError) -> ProviderError:
    status = exc.status_code
    reason = _reason(exc)
    # 408 and 409 (lock timeout) are what the SDK itself deems transient, with 429 and 5xx.
    if status == 429 or status >= 500 or status in (408, 409):
        return RetryableProviderError(
            f"the video provider is busy ({status}): {reason}",
            retry_after_seconds(exc.response.headers),
            answered=True,
        )
    messages = {
        401: _KEY_REJECTED,
        403: f"{_KEY_REJECTED} (it lacks access: {reason})",
        404: f"the video provider has no such job: {reason}",
    }
    return PermanentProviderError(messages.get(status, f"the video provider refused the request: {reason}"))


def _reason(exc: openai.APIStatusError) -> str:
    # The SDK unwraps {"error": {...}} into exc.body; its message is the provider's own words.
    body = exc.body if isinstance(exc.body, dict) else {}
    message = body.get("message")
    text = message if isinstance(message, str) and message else f"HTTP {exc.status_code}"
    return f"{text} ({exc.code})" if exc.code else text


__all__ = ["OpenAICompatibleProvider"]
