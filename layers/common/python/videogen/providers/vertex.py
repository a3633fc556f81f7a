"""Veo on Vertex AI express mode (a Google key made for Vertex AI), through ``google-genai``.

google-genai 3.x offers ``models.generate_videos`` only in Gemini Enterprise Agent
Platform (Vertex AI) mode, so the client runs with ``enterprise=True`` and the user's
API key (Vertex AI express mode): create is ``POST {base}/v1beta1/publishers/google/
models/{model}:predictLongRunning`` and polling is ``POST {base}/v1beta1/{resource}:
fetchPredictOperation``. The provider job id is the operation name.

Size encoding (``GenerationRequest.size``): the catalog's pixel sizes map to Veo's
aspect ratio and resolution through ``catalog.size_format`` (1280x720 -> 16:9 720p,
1080x1920 -> 9:16 1080p). Anything else fails before any call. ``duration_seconds`` is sent
as ``durationSeconds``.

Key check (``check_key``): Vertex AI express mode documents no cheap read for an API key, so
a saved key is stored unverified; its first generation tells.

Thumbnails: Veo makes none (``has_thumbnails = False``); ``download(..., "thumbnail")``
raises ``PermanentProviderError``. The worker stores the job without a thumbnail.

Crash recovery: the API cannot list operations, so ``find_existing`` returns ``None``
and the worker fails such a job as "outcome unknown, not resubmitted".

Duration: the finished operation does not report the clip's length, so ``PollResult.
duration_seconds`` is ``None`` and the worker bills the requested seconds.

Retries: the SDK retries nothing by default and the client says so explicitly
(``attempts=1``) for create; polls, downloads and cancels pass their own retry options.

Cancel: Vertex AI's long-running operations have a ``:cancel`` method ("best effort ...
success is not guaranteed"; a cancelled operation ends with error code 1, CANCELLED). The SDK
does not wrap it, so ``cancel`` sends ``POST {base}/v1beta1/{operation name}:cancel`` through
the SDK's own request layer (same key, base URL and API version). Veo's operations are read
through ``fetchPredictOperation`` rather than the generic operations API, and Google does not
document ``:cancel`` for them: an error answer is a ``PermanentProviderError``. Nothing in the
API says a cancelled operation is not billed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx2
from google import genai
from google.genai import errors, types

from videogen.catalog import CatalogError, size_format
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
    error_message,
    retry_after_seconds,
)
from videogen.runtime.config import Settings

_READ_OPTIONS = types.HttpOptions(
    retry_options=types.HttpRetryOptions(attempts=3, initial_delay=1.0, max_delay=8.0)
)
_DOWNLOAD_CHUNK_BYTES = 1024 * 1024
_KEY_REJECTED = "the provider rejected your API key; update it with PUT /api/keys/veo"


def veo_format(size: str) -> tuple[str, str]:
    """``(aspect_ratio, resolution)`` for a request size (see the module docstring)."""
    try:
        return size_format(size)
    except CatalogError as exc:
        raise PermanentProviderError(f"veo cannot make size {size!r}: {exc.message}") from None


class VertexVeoProvider(ClosesClient):
    """Veo long-running operations behind the ``VideoProvider`` interface."""

    _client: genai.Client

    name = "veo"
    has_thumbnails = False
    webhook_source: Literal["gemini", "fal"] | None = None
    image_transport: Literal["bytes", "url"] = "bytes"

    def __init__(self, key: ProviderKey, settings: Settings) -> None:
        api_key = key.secret
        self._api_key = api_key
        self._timeout = settings.provider_deadline_seconds
        base_url = settings.vertex_base_url
        # The key may follow a video uri only to the API's own host or Google's API hosts.
        self._trusted_host = urlsplit(base_url).hostname or ""
        self._client = genai.Client(
            enterprise=True,
            api_key=api_key,
            http_options=types.HttpOptions(
                base_url=base_url,
                timeout=int(self._timeout * 1000),
                # One attempt: a retried create is a second paid job; the worker decides.
                retry_options=types.HttpRetryOptions(attempts=1),
            ),
        )

    def submit(self, request: GenerationRequest) -> Submission:
        """Start one operation (exactly one HTTP request, never retried here)."""
        aspect_ratio, resolution = veo_format(request.size)
        try:
            first, last = request.image("first"), request.image("last")
            references = [
                types.VideoGenerationReferenceImage(image=_image(a), reference_type="asset")
                for a in request.assets
            ]
            operation = self._client.models.generate_videos(
                model=request.model,
                source=types.GenerateVideosSource(
                    prompt=request.prompt, image=_image(first) if first else None
                ),
                config=types.GenerateVideosConfig(
                    number_of_videos=1,
                    duration_seconds=request.duration_seconds,
                    aspect_ratio=aspect_ratio,
                    resolution=resolution,
                    negative_prompt=request.negative_prompt,
                    last_frame=_image(last) if last else None,
                    reference_images=references or None,
                    person_generation="allow_adult" if request.images else None,
                ),
            )
        except (errors.APIError, httpx2.TransportError) as exc:
            raise _provider_error(exc) from None
        if not operation.name:
            raise PermanentProviderError("veo accepted the request but returned no operation name")
        return Submission(provider_job_id=operation.name)

    def find_existing(self, request: GenerationRequest) -> Submission | None:
        """Always ``None``: the Veo API has no way to list a key's operations."""
        return None

    def check_key(self) -> None:
        """Nothing documented to read cheaply with an express-mode key: always unverified."""
        raise RetryableProviderError("Vertex AI express mode offers no documented way to check a key")

    def poll(self, provider_job_id: str) -> PollResult:
        """processing until done; then completed, or failed with the error or filter reasons."""
        operation = self._operation(provider_job_id)
        if not operation.done:
            return PollResult(state="processing")
        failure = _failure(operation)
        if failure is not None:
            return PollResult(state="failed", error=failure)
        return PollResult(state="completed", progress=100)

    def download(self, provider_job_id: str, variant: Variant) -> Iterator[bytes]:
        """Stream the video: inline bytes in chunks, or its https uri fetched with the key."""
        if variant != "video":
            raise PermanentProviderError("veo makes no thumbnail")
        operation = self._operation(provider_job_id)
        video = _video(operation)
        if video is None:
            raise PermanentProviderError(_failure(operation) or "veo's operation holds no video")
        if video.video_bytes is not None:
            data = memoryview(video.video_bytes)
            for start in range(0, len(data), _DOWNLOAD_CHUNK_BYTES):
                yield bytes(data[start : start + _DOWNLOAD_CHUNK_BYTES])
            return
        if video.uri and urlsplit(video.uri).scheme in ("https", "http"):
            yield from self._fetch(video.uri)
            return
        raise PermanentProviderError(
            "veo stored the video in Cloud Storage, which an API key cannot read; "
            "generate without an output bucket"
        )

    def cancel(self, provider_job_id: str) -> None:
        """``POST {operation}:cancel`` (see the module doc)."""
        try:
            # The SDK has no operations.cancel; its request layer knows the URL and the key.
            self._client._api_client.request("post", f"{provider_job_id}:cancel", {}, _READ_OPTIONS)
        except (errors.APIError, httpx2.TransportError) as exc:
            raise _provider_error(exc) from None

    def _operation(self, name: str) -> types.GenerateVideosOperation:
        try:
            return self._client.operations.get(
                types.GenerateVideosOperation.model_validate({"name": name}),
                config=types.GetOperationConfig(http_options=_READ_OPTIONS),
            )
        except (errors.APIError, httpx2.TransportError) as exc:
            raise _provider_error(exc) from None

    def _fetch(self, uri: str) -> Iterator[bytes]:
        def drop_key_off_trusted_hosts(request: httpx2.Request) -> None:
            if not _trusted(request.url.host, self._trusted_host):
                request.headers.pop("x-goog-api-key", None)

        try:
            with (
                httpx2.Client(
                    timeout=self._timeout,
                    follow_redirects=True,
                    # Runs before every hop, redirects included, so a foreign host never sees the key.
                    event_hooks={"request": [drop_key_off_trusted_hosts]},
                ) as http,
                http.stream("GET", uri, headers={"x-goog-api-key": self._api_key}) as response,
            ):
                if response.status_code != 200:
                    response.read()
                    raise _status_error(response.status_code, error_message(response), response.headers)
                yield from response.iter_bytes(_DOWNLOAD_CHUNK_BYTES)
        except httpx2.TransportError as exc:
            raise _provider_error(exc) from None


def _image(image: RequestImage) -> types.Image:
    """An image as the SDK sends it (``{"bytesBase64Encoded", "mimeType"}`` on the wire)."""
    return types.Image(image_bytes=image.data, mime_type=image.content_type)


def _trusted(host: str, api_host: str) -> bool:
    return host == api_host or host.endswith(".googleapis.com")


def _video(operation: types.GenerateVideosOperation) -> types.Video | None:
    response = operation.response or operation.result
    if response is None or not response.generated_videos:
        return None
    return response.generated_videos[0].video


def _failure(operation: types.GenerateVideosOperation) -> str | None:
    """The user-readable reason a finished operation has no video, or None if it has one."""
    if operation.error:
        message = operation.error.get("message") or "no message"
        return f"veo failed the operation: {message} (code {operation.error.get('code')})"
    response = operation.response or operation.result
    reasons = (response.rai_media_filtered_reasons or []) if response else []
    filtered = (response.rai_media_filtered_count or 0) if response else 0
    if _video(operation) is None:
        if reasons or filtered:
            detail = "; ".join(reasons) if reasons else f"{filtered} video(s) filtered"
            return f"veo's safety filter blocked the video: {detail}"
        return "veo finished without a video"
    return None


def _provider_error(exc: errors.APIError | httpx2.TransportError) -> ProviderError:
    """Classify an SDK or transport exception; the message never holds the key."""
    if isinstance(exc, httpx2.TimeoutException):
        return RetryableProviderError("the video provider did not answer in time")
    if isinstance(exc, httpx2.TransportError):
        return RetryableProviderError("could not reach the video provider")
    headers = getattr(exc.response, "headers", None)
    return _status_error(exc.code, _api_reason(exc), headers, details=exc.details)


def _status_error(status: int, reason: str, headers: object, details: Any = None) -> ProviderError:
    if status == 429 or status >= 500 or status == 408:
        return RetryableProviderError(
            f"the video provider is busy ({status}): {reason}", retry_after_seconds(headers), answered=True
        )
    # Google answers a bad key with 400 INVALID_ARGUMENT and reason API_KEY_INVALID.
    if status in (401, 403) or "API_KEY_INVALID" in str(details) or "API key not valid" in reason:
        suffix = f" (it lacks access: {reason})" if status == 403 else ""
        return PermanentProviderError(_KEY_REJECTED + suffix)
    if status == 404:
        return PermanentProviderError(f"the video provider has no such job: {reason}")
    return PermanentProviderError(f"the video provider refused the request: {reason}")


def _api_reason(exc: errors.APIError) -> str:
    message = exc.message or f"HTTP {exc.code}"
    return f"{message} ({exc.status})" if exc.status else message


__all__ = ["VertexVeoProvider", "veo_format"]
