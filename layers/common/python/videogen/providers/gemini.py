"""Veo on the Gemini API (a Google AI Studio key), over plain HTTP with ``httpx2``.

The pinned google-genai (3.x) refuses ``models.generate_videos`` outside Enterprise (Vertex AI)
mode, so this module speaks the REST API as Google's Veo page shows it (its REST samples, its
parameter table) and as google-genai 2.x sent it (``_GenerateVideosConfig_to_mldev``):

- create: ``POST {base}/v1beta/models/{model}:predictLongRunning`` with ``x-goog-api-key`` and
  ``{"instances": [{"prompt"}], "parameters": {"aspectRatio", "resolution", "durationSeconds",
  "negativePrompt"?}}``; the answer ``{"name": "models/{model}/operations/{id}"}`` is the job id.
  ``durationSeconds`` goes as a JSON number, as the SDK sent it (its type is ``int``; Google's
  table writes "8"; the request schema types ``parameters`` as any JSON value).
  ``personGeneration`` is not sent for text: text-to-video takes only "allow_all", except in the
  EU, UK, CH and MENA, which take only "allow_adult", so Google's default is the one value that
  fits; with images it is "allow_adult", the only value Google takes then. Images (Google's
  video page, updated 2026-06-22, and google-genai's request builder): ``image`` (first frame),
  ``lastFrame`` (with ``image`` only), ``referenceImages`` ``[{"image", "referenceType":
  "asset"}]`` (up to 3, at 8 s, without frames), each ``{"bytesBase64Encoded", "mimeType"}`` as
  the SDK sends it (the page's samples write ``inlineData``).
- poll: ``GET {base}/v1beta/{operation name}``: ``done``, then ``error {code, message}`` or
  ``response.generateVideoResponse {generatedSamples: [{video: {uri}}], raiMediaFilteredCount,
  raiMediaFilteredReasons}`` (a blocked video is not billed, Google says; we bill completed jobs
  only). Nothing reports the clip's length: ``duration_seconds`` is ``None``.
- download: ``GET`` the sample's uri (``{base}/v1beta/files/{id}:download?alt=media``) with the key,
  following redirects, streamed (a sample holding ``encodedVideo`` instead, which the SDK also
  read, is decoded). Every hop must be on a Google host (the API's own host,
  ``*.googleapis.com``, ``*.googleusercontent.com``); the key goes to the first two only, and a
  hop anywhere else is refused before it connects.
- key check: ``GET {base}/v1beta/models?pageSize=1`` (one authenticated read, nothing billed).

Cancel: the API's ``models.operations`` resource has ``get`` and ``list`` and no ``cancel`` (its
discovery document; only batches cancel), so ``cancel`` refuses without a call: the operation
runs to its end at Google. Crash recovery: ``models.operations.list`` exists, but a listed Veo
operation carries no prompt, parameters or creation time to tell ours apart, so
``find_existing`` is ``None``. Creates are sent once; reads (poll, key check) are retried on
429, 5xx and dropped connections. Google's video page (updated 2026-10-22) says the Veo 3.1
preview ids are shut down on the Gemini API: a create for an id Google no longer serves gets its
404, reported as "veo has no model ...".
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx2

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
    retry_after_seconds,
)
from videogen.runtime.config import Settings

_KEY_HEADER = "x-goog-api-key"
_OPERATION_NAME = re.compile(r"^models/[^/?#]+/operations/[^/?#]+$")
_READ_ATTEMPTS = 3
_MAX_READ_BACKOFF_SECONDS = 2.0
_DOWNLOAD_CHUNK_BYTES = 1024 * 1024
_KEY_DOMAINS = ("googleapis.com",)
_GOOGLE_DOMAINS = (*_KEY_DOMAINS, "googleusercontent.com")
_NO_CANCEL = "the Gemini API offers no cancel for Veo operations: the video is generated to its end at Google"


class _ForeignHost(Exception):
    """A download hop outside Google's hosts (raised before it connects)."""


class GeminiVeoProvider(ClosesClient):
    """Veo's long-running operations on the Gemini API behind the ``VideoProvider`` interface.

    ``transport`` replaces the HTTP transport (tests route Google's host names to a fake).
    """

    _client: httpx2.Client

    name = "veo"
    has_thumbnails = False
    webhook_source: Literal["gemini", "fal"] | None = "gemini"
    image_transport: Literal["bytes", "url"] = "bytes"

    def __init__(
        self, key: ProviderKey, settings: Settings, *, transport: httpx2.BaseTransport | None = None
    ) -> None:
        base_url = settings.gemini_base_url.rstrip("/")
        api = urlsplit(base_url)
        self._api_origin = (api.scheme, api.hostname or "")
        self._secret = key.secret
        self._client = httpx2.Client(
            base_url=base_url,
            headers={_KEY_HEADER: key.secret},
            timeout=settings.provider_deadline_seconds,
            transport=transport,
            # Runs before every request, each redirect hop included.
            event_hooks={"request": [self._guard_hop]},
        )

    def submit(self, request: GenerationRequest) -> Submission:
        """Start one operation (exactly one HTTP request, never retried here)."""
        aspect_ratio, resolution = _veo_format(request.size)
        parameters: dict[str, Any] = {
            "aspectRatio": aspect_ratio,
            "resolution": resolution,
            "durationSeconds": request.duration_seconds,
        }
        if request.negative_prompt:
            parameters["negativePrompt"] = request.negative_prompt
        instance: dict[str, Any] = {"prompt": request.prompt} | _images(request)
        if request.images:
            parameters["personGeneration"] = "allow_adult"  # the only value Google takes with images
        body: dict[str, Any] = {"instances": [instance], "parameters": parameters}
        if request.callback_url:
            # Per-request webhook (google-genai's WebhookConfig): these uris instead of any
            # registered endpoint; the job id comes back in the event as user metadata.
            body["webhookConfig"] = {
                "uris": [request.callback_url],
                "user_metadata": {"job_id": request.job_id},
            }
        try:
            response = self._client.post(f"/v1beta/models/{request.model}:predictLongRunning", json=body)
        except httpx2.RequestError as exc:
            raise _request_error(exc) from None
        if response.status_code != 200:
            raise self._status_error(response, missing=f"veo has no model {request.model!r}")
        name = _json(response).get("name")
        if not isinstance(name, str) or not _OPERATION_NAME.match(name):
            raise PermanentProviderError("veo accepted the request but returned no operation name")
        return Submission(provider_job_id=name)

    def find_existing(self, request: GenerationRequest) -> Submission | None:
        """Always ``None``: a listed operation cannot be told to be this request's (module doc)."""
        return None

    def poll(self, provider_job_id: str) -> PollResult:
        """processing until done; then completed, or failed with Google's error or filter reasons."""
        operation = self._operation(provider_job_id)
        if not operation.get("done"):
            return PollResult(state="processing")
        failure = _failure(operation)
        if failure is not None:
            return PollResult(state="failed", error=failure)
        return PollResult(state="completed", progress=100)

    def download(self, provider_job_id: str, variant: Variant) -> Iterator[bytes]:
        """Stream the finished video from its uri (redirects followed on Google's hosts only)."""
        if variant != "video":
            raise PermanentProviderError("veo makes no thumbnail")
        operation = self._operation(provider_job_id)
        video = _video(operation)
        if video is None:
            raise PermanentProviderError(_failure(operation) or "veo's operation holds no video")
        encoded = video.get("encodedVideo")
        if isinstance(encoded, str):
            data = base64.b64decode(encoded)
            for start in range(0, len(data), _DOWNLOAD_CHUNK_BYTES):
                yield data[start : start + _DOWNLOAD_CHUNK_BYTES]
            return
        yield from self._stream(str(video.get("uri")))

    def cancel(self, provider_job_id: str) -> None:
        """Refused without a call: Veo operations on the Gemini API cannot be cancelled."""
        raise PermanentProviderError(_NO_CANCEL)

    def check_key(self) -> None:
        """``GET /v1beta/models?pageSize=1``: returns when Google accepted the key."""
        self._read("/v1beta/models", params={"pageSize": 1}, missing="the Gemini API answered 404")

    # HTTP ------------------------------------------------------------------------------------

    def _operation(self, name: str) -> dict[str, Any]:
        if not _OPERATION_NAME.match(name):
            raise PermanentProviderError(f"the video provider has no such job: {name!r} is no Veo operation")
        return _json(self._read(f"/v1beta/{name}", missing="the video provider has no such job"))

    def _read(self, path: str, *, missing: str, params: dict[str, Any] | None = None) -> httpx2.Response:
        """GET with a few quick retries on 429, 5xx and dropped connections (a read bills nothing)."""
        attempt = 1
        while True:
            error: ProviderError
            try:
                response = self._client.get(path, params=params)
            except httpx2.RequestError as exc:
                error = _request_error(exc)
            else:
                if response.status_code == 200:
                    return response
                error = self._status_error(response, missing=missing)
            if not isinstance(error, RetryableProviderError) or attempt == _READ_ATTEMPTS:
                raise error
            time.sleep(min(error.retry_after or 0.25 * 2**attempt, _MAX_READ_BACKOFF_SECONDS))
            attempt += 1

    def _stream(self, uri: str) -> Iterator[bytes]:
        try:
            with self._client.stream("GET", uri, follow_redirects=True) as response:
                if response.status_code != 200:
                    response.read()
                    raise self._status_error(response, missing="veo's video is gone (kept 2 days)")
                yield from response.iter_bytes(_DOWNLOAD_CHUNK_BYTES)
        except _ForeignHost as exc:
            raise PermanentProviderError(
                f"veo's video is on a host outside Google ({exc}); not fetched"
            ) from None
        except httpx2.RequestError as exc:
            raise _request_error(exc) from None

    def _guard_hop(self, request: httpx2.Request) -> None:
        """The key only to the API's host and ``*.googleapis.com``; no hop outside Google."""
        origin = (request.url.scheme, request.url.host)
        host = request.url.host
        if origin == self._api_origin or (origin[0] == "https" and _under(host, _KEY_DOMAINS)):
            return
        request.headers.pop(_KEY_HEADER, None)
        if origin[0] != "https" or not _under(host, _GOOGLE_DOMAINS):
            raise _ForeignHost(f"{origin[0]}://{host}")

    def _status_error(self, response: httpx2.Response, *, missing: str) -> ProviderError:
        """Classify an answered failure; Google's reason is quoted, the key never."""
        status = response.status_code
        message, code, reasons = _google_error(response)
        reason = message.replace(self._secret, "[key]") + (f" ({code})" if code else "")
        if status == 429 or status >= 500 or status == 408:
            return RetryableProviderError(
                f"the video provider is busy ({status}): {reason}",
                retry_after_seconds(response.headers),
                answered=True,
            )
        # A bad key is a 400 with reason API_KEY_INVALID; 401/403 a key without access.
        if status in (401, 403) or "API_KEY_INVALID" in reasons:
            return PermanentProviderError(
                f"the provider rejected your API key ({reason}); update it with PUT /api/keys/veo"
            )
        if status == 404:
            return PermanentProviderError(f"{missing}: {reason}")
        return PermanentProviderError(f"the video provider refused the request: {reason}")


def _images(request: GenerationRequest) -> dict[str, Any]:
    """The instance's image fields: ``image`` (first frame), ``lastFrame``, ``referenceImages``
    (assets), each image as google-genai sends it: ``{"bytesBase64Encoded", "mimeType"}``."""

    def blob(image: RequestImage) -> dict[str, str]:
        return {"bytesBase64Encoded": base64.b64encode(image.data).decode(), "mimeType": image.content_type}

    frames = {"image": request.image("first"), "lastFrame": request.image("last")}
    fields: dict[str, Any] = {name: blob(frame) for name, frame in frames.items() if frame is not None}
    if request.assets:
        fields["referenceImages"] = [{"image": blob(a), "referenceType": "asset"} for a in request.assets]
    return fields


def _veo_format(size: str) -> tuple[str, str]:
    try:
        return size_format(size)
    except CatalogError as exc:
        raise PermanentProviderError(f"veo cannot make size {size!r}: {exc.message}") from None


def _under(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def _json(response: httpx2.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise PermanentProviderError(
            f"unexpected answer from the video provider (HTTP {response.status_code})"
        )
    return body


def _google_error(response: httpx2.Response) -> tuple[str, str, list[str]]:
    """``(message, status, ErrorInfo reasons)`` of Google's ``{"error": {...}}`` body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return f"HTTP {response.status_code}", "", []
    message = error.get("message")
    details = error.get("details")
    reasons = (
        [d.get("reason", "") for d in details if isinstance(d, dict)] if isinstance(details, list) else []
    )
    text = message if isinstance(message, str) and message else f"HTTP {response.status_code}"
    return text, str(error.get("status") or ""), reasons


def _request_error(exc: httpx2.RequestError) -> ProviderError:
    """No answer: retryable, and for a create not known to have been refused (``answered=False``)."""
    if isinstance(exc, httpx2.TimeoutException):
        return RetryableProviderError("the video provider did not answer in time")
    if isinstance(exc, httpx2.TransportError):
        return RetryableProviderError("could not reach the video provider")
    return PermanentProviderError(f"unexpected answer from the video provider: {type(exc).__name__}")


def _generated(operation: dict[str, Any]) -> dict[str, Any]:
    response = operation.get("response")
    found = response.get("generateVideoResponse") if isinstance(response, dict) else None
    return found if isinstance(found, dict) else {}


def _video(operation: dict[str, Any]) -> dict[str, Any] | None:
    """The first sample's ``video`` when it holds a uri or the bytes, else ``None``."""
    samples = _generated(operation).get("generatedSamples")
    first = samples[0] if isinstance(samples, list) and samples else None
    video = first.get("video") if isinstance(first, dict) else None
    if isinstance(video, dict) and (isinstance(video.get("uri"), str) or "encodedVideo" in video):
        return video
    return None


def _failure(operation: dict[str, Any]) -> str | None:
    """The user-readable reason a finished operation has no video, or ``None`` if it has one."""
    error = operation.get("error")
    if isinstance(error, dict):
        message = error.get("message") or "no message"
        return f"veo failed the operation: {message} (code {error.get('code')})"
    if _video(operation) is not None:
        return None
    generated = _generated(operation)
    reasons = generated.get("raiMediaFilteredReasons") or []
    filtered = generated.get("raiMediaFilteredCount") or 0
    if reasons or filtered:
        detail = "; ".join(map(str, reasons)) if reasons else f"{filtered} video(s) filtered"
        return f"veo's safety filter blocked the video: {detail}"
    return "veo finished without a video"


__all__ = ["GeminiVeoProvider"]
