"""fal's queue API (one fal key, many hosted video models) over plain ``httpx2``.

Wire (docs.fal.ai queue guide and Inference API reference, fal-client's ``client.py``; read
2026-12-07): ``POST {queue}/{endpoint id}`` with ``Authorization: Key <key>`` and the model's JSON
input answers ``{status: IN_QUEUE, request_id, response_url, status_url, cancel_url}``. The rest
lives under the *app* id, the endpoint's owner and app (``fal-ai/kling-video``, not
``.../v2.5-turbo/pro/text-to-video``): ``GET .../requests/{id}/status`` (202 IN_QUEUE or
IN_PROGRESS, no percentage, so progress 0; 200 COMPLETED, with ``error`` if it failed),
``GET .../requests/{id}`` (the output, or the model's own error: a 422 whose ``detail`` lists
each refused input, ``content_policy_violation`` included; kept 1 hour, 6 minutes if 10 KB or
more) and ``PUT .../requests/{id}/cancel``. Job id: ``"{owner}/{app}/requests/{request_id}"``,
the path of the ``response_url`` (built from the app id without one); only the path is kept, so
the key goes to the configured queue host alone.

Bodies follow ``catalog.fal_models.FAL_WIRE`` (duration as ``"5"``, ``5``, ``"5s"`` or none;
ratio and resolution from ``catalog.size_format``; ``generate_audio`` where the price depends on
it; ``negative_prompt`` where taken). fal checks inputs when the model runs: a refused prompt or
an unoffered duration is a *failed* poll quoting fal, not a create error.

Retries: a create is exactly one request (fal-client's ``submit`` retries on 408/409/429 and
ingress 5xx, a second paid job each time, so it is not used); status, result and cancel try 3
times on 408/429/5xx and transport errors, honouring ``Retry-After``. Download: ``video.url``
on fal's CDN, public by default (docs.fal.ai file access controls), fetched with no
Authorization header at all, following redirects. Cancel: a queued request is dropped, a running
one signalled (the model may finish, and bill); 202 CANCELLATION_REQUESTED returns, 400
ALREADY_COMPLETED and 404 NOT_FOUND are permanent.

Key check: ``GET https://api.fal.ai/v1/models/pricing?endpoint_id=...``, a Platform API read
documented as requiring a valid key; nothing billed. ``find_existing``: ``None``; fal's request
list (``GET /v1/models/requests/by-endpoint``) documents finished requests only, not the queued
one a lost create left. No thumbnails. Duration: ``video.duration`` when reported, else None.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx2

from videogen.catalog import get_model
from videogen.catalog.fal_models import FAL_DEFAULT_MODEL, FAL_WIRE
from videogen.catalog.spec import ModelSpec
from videogen.providers.base import (
    ClosesClient,
    GenerationRequest,
    PermanentProviderError,
    PollResult,
    ProviderError,
    ProviderKey,
    RetryableProviderError,
    Submission,
    Variant,
    retry_after_seconds,
)
from videogen.providers.fal_request import request_body
from videogen.runtime.config import Settings

_READ_ATTEMPTS = 3
_MAX_PAUSE_SECONDS = 2.0
_DOWNLOAD_CHUNK_BYTES = 1024 * 1024
_REQUESTS = "/requests/"
_NAMESPACES = ("workflows", "comfy")  # fal-client's AppId: these prefix owner/app
_KEY_REJECTED = "the provider rejected your API key; update it with PUT /api/keys/fal"
_CDN_REFUSED = (
    "fal's CDN refused the video ({reason}); if your fal account keeps generated media private, "
    "make it readable by link, or update the key with PUT /api/keys/fal"
)


def app_id(endpoint: str) -> str:
    """The app an endpoint id belongs to (owner and app, after a namespace if any)."""
    parts = endpoint.split("/")
    size = 3 if parts[0] in _NAMESPACES else 2
    if len(parts) < size or not all(parts[:size]):
        raise PermanentProviderError(f"fal endpoint id {endpoint!r} names no app")
    return "/".join(parts[:size])


class FalProvider(ClosesClient):
    """fal's queue behind the ``VideoProvider`` interface."""

    _client: httpx2.Client
    name = "fal"
    has_thumbnails = False
    webhook_source: Literal["gemini", "fal"] | None = "fal"
    image_transport: Literal["bytes", "url"] = "url"

    def __init__(self, key: ProviderKey, settings: Settings) -> None:
        self._queue = settings.fal_queue_base_url.rstrip("/")
        self._platform = settings.fal_platform_base_url.rstrip("/")
        timeout = settings.provider_deadline_seconds
        # The keyed client follows no redirect, so the key reaches only the hosts named here.
        self._client = httpx2.Client(timeout=timeout, headers={"Authorization": f"Key {key.secret}"})
        self._cdn = httpx2.Client(timeout=timeout, follow_redirects=True)

    def close(self) -> None:
        """Release both connection pools."""
        super().close()
        self._cdn.close()

    def submit(self, request: GenerationRequest) -> Submission:
        """Queue one request (exactly one HTTP request, never retried here)."""
        spec = _fal_model(request.model)
        body = request_body(spec, FAL_WIRE[spec.id], request)
        # fal calls ?fal_webhook= when the request ends, success or error (fal's webhooks page).
        hook = {"fal_webhook": request.callback_url} if request.callback_url else None
        endpoint = spec.image_endpoint if request.image("first") else spec.provider_model
        url = f"{self._queue}/{endpoint}"
        response = self._exchange("POST", url, attempts=1, json=body, params=hook)
        if not response.is_success:
            raise _status_error(response)
        answer = _json(response)
        request_id = answer.get("request_id")
        if not isinstance(request_id, str) or not request_id or "/" in request_id:
            raise PermanentProviderError("fal accepted the request but returned no request id")
        return Submission(provider_job_id=self._job_id(answer, endpoint, request_id))

    def find_existing(self, request: GenerationRequest) -> Submission | None:
        """Always ``None``: fal lists no queued requests (see the module docstring)."""
        return None

    def check_key(self) -> None:
        """The Platform API's pricing read for the default model: needs a valid key, bills nothing."""
        endpoint = get_model(FAL_DEFAULT_MODEL).provider_model
        response = self._exchange(
            "GET", f"{self._platform}/models/pricing", attempts=1, params={"endpoint_id": endpoint}
        )
        if not response.is_success:
            raise _status_error(response)

    def poll(self, provider_job_id: str) -> PollResult:
        """IN_QUEUE/IN_PROGRESS: processing; COMPLETED: the result decides completed or failed."""
        response = self._exchange("GET", self._url(provider_job_id, "/status"))
        if not response.is_success:
            raise _status_error(response)
        status = _json(response)
        state = status.get("status")
        if state in ("IN_QUEUE", "IN_PROGRESS"):
            return PollResult(state="processing")
        if state != "COMPLETED":
            raise PermanentProviderError(f"fal reported an unknown request status {state!r}")
        error = status.get("error")
        output = self._result(provider_job_id, known_failure=str(error) if error else None)
        if isinstance(output, str):
            return PollResult(state="failed", error=output)
        video = output.get("video")
        if not isinstance(video, dict) or not isinstance(video.get("url"), str):
            return PollResult(state="failed", error="fal finished the request without a video")
        return PollResult(state="completed", progress=100, duration_seconds=_seconds(video.get("duration")))

    def download(self, provider_job_id: str, variant: Variant) -> Iterator[bytes]:
        """Stream the result's ``video.url`` from fal's CDN, without the key, in 1 MiB chunks."""
        if variant != "video":
            raise PermanentProviderError("fal makes no thumbnail")
        output = self._result(provider_job_id, known_failure=None)
        if isinstance(output, str):
            raise PermanentProviderError(output)
        video = output.get("video")
        url = video.get("url") if isinstance(video, dict) else None
        if not isinstance(url, str) or urlsplit(url).scheme not in ("https", "http"):
            raise PermanentProviderError("fal's result holds no video URL")
        try:
            with self._cdn.stream("GET", url) as response:
                if response.status_code != 200:
                    response.read()
                    raise _cdn_error(response)
                yield from response.iter_bytes(_DOWNLOAD_CHUNK_BYTES)
        except httpx2.TransportError as exc:
            raise _transport_error(exc) from None

    def cancel(self, provider_job_id: str) -> None:
        """``PUT .../cancel``: 202 returns; already finished or unknown is permanent."""
        response = self._exchange("PUT", self._url(provider_job_id, "/cancel"))
        if response.is_success:
            return
        if _body(response).get("status") == "ALREADY_COMPLETED":
            raise PermanentProviderError("fal has already finished this job; there is nothing to cancel")
        raise _status_error(response)

    # Plumbing -------------------------------------------------------------------------------

    def _result(self, job_id: str, *, known_failure: str | None) -> dict[str, Any] | str:
        """The finished request's output, or the user-readable reason it failed."""
        # A request fal already reports failed answers its stored error: once is enough.
        attempts = 1 if known_failure else _READ_ATTEMPTS
        response = self._exchange("GET", self._url(job_id, ""), attempts=attempts)
        if response.is_success:
            return _json(response)
        code = response.status_code
        if code == 404:
            raise PermanentProviderError(
                "the video provider has no such job, or no longer holds its result (fal keeps "
                f"results 1 hour after completion): {_reason(response)}"
            )
        if code in (401, 403) or (not known_failure and _transient(code)):
            raise _status_error(response)
        reason = _reason(response)
        if known_failure and reason == f"HTTP {code}":
            reason = known_failure
        return f"fal {'refused' if code in (400, 422) else 'failed'} the request: {reason}"

    def _exchange(
        self, method: str, url: str, *, attempts: int = _READ_ATTEMPTS, **kwargs: Any
    ) -> httpx2.Response:
        """Send, trying again on 408/429/5xx and transport errors; the last answer is returned."""
        for attempt in range(1, attempts + 1):
            try:
                response = self._client.request(method, url, **kwargs)
            except httpx2.TransportError as exc:
                if attempt == attempts:
                    raise _transport_error(exc) from None
                time.sleep(_pause(attempt, None))
                continue
            if attempt == attempts or not _transient(response.status_code):
                return response
            time.sleep(_pause(attempt, retry_after_seconds(response.headers)))
        raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover

    def _url(self, job_id: str, suffix: str) -> str:
        app, sep, request_id = job_id.rpartition(_REQUESTS)
        if not sep or not app or not request_id or "/" in request_id or ".." in job_id:
            raise PermanentProviderError(f"the video provider has no such job: {job_id!r} is no fal job id")
        return f"{self._queue}/{job_id}{suffix}"

    def _job_id(self, answer: dict[str, Any], endpoint: str, request_id: str) -> str:
        built = f"{app_id(endpoint)}{_REQUESTS}{request_id}"
        response_url = answer.get("response_url")
        if not isinstance(response_url, str):
            return built
        path = urlsplit(response_url).path.strip("/")
        prefix = urlsplit(self._queue).path.strip("/")
        if prefix and path.startswith(prefix + "/"):
            path = path.removeprefix(prefix + "/")
        return path if path.endswith(_REQUESTS + request_id) and ".." not in path else built


def _fal_model(model_id: str) -> ModelSpec:
    if model_id not in FAL_WIRE:
        raise PermanentProviderError(f"fal offers no model {model_id!r} in the catalog")
    return get_model(model_id)


def _transient(code: int) -> bool:
    return code in (408, 429) or code >= 500


def _pause(attempt: int, retry_after: float | None) -> float:
    return min(_MAX_PAUSE_SECONDS, retry_after if retry_after is not None else 0.25 * 2 ** (attempt - 1))


def _seconds(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _body(response: httpx2.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _json(response: httpx2.Response) -> dict[str, Any]:
    body = _body(response)
    if not body:
        raise PermanentProviderError(
            f"unexpected answer from the video provider (HTTP {response.status_code})"
        )
    return body


def _reason(response: httpx2.Response) -> str:
    """fal's own words: a ``detail`` string, each ``detail`` entry, or a cancel ``status``."""
    body = _body(response)
    detail = body.get("detail")
    if isinstance(detail, list) and detail:
        return "; ".join(_entry(item) for item in detail)
    for text in (detail, body.get("status"), body.get("message")):
        if isinstance(text, str) and text:
            kind = body.get("error_type")
            return f"{text} ({kind})" if isinstance(kind, str) and kind else text
    return f"HTTP {response.status_code}"


def _entry(item: object) -> str:
    """One ``detail`` entry as ``field: message (type)`` (the rejected input is not repeated)."""
    if not isinstance(item, dict):
        return str(item)
    loc = [str(part) for part in item.get("loc") or [] if part != "body"]
    where = f"{'.'.join(loc)}: " if loc else ""
    kind = f" ({item['type']})" if item.get("type") else ""
    return f"{where}{item.get('msg') or 'refused'}{kind}"


def _status_error(response: httpx2.Response) -> ProviderError:
    """Classify an HTTP answer; the message quotes fal, never the key."""
    code, reason = response.status_code, _reason(response)
    if _transient(code):
        retry_after = retry_after_seconds(response.headers)
        return RetryableProviderError(
            f"the video provider is busy ({code}): {reason}", retry_after, answered=True
        )
    if code in (401, 403):
        return PermanentProviderError(f"{_KEY_REJECTED} ({reason})")
    if code == 404:
        return PermanentProviderError(f"the video provider has no such job: {reason}")
    return PermanentProviderError(f"the video provider refused the request: {reason}")


def _cdn_error(response: httpx2.Response) -> ProviderError:
    if response.status_code in (401, 403):
        return PermanentProviderError(_CDN_REFUSED.format(reason=f"HTTP {response.status_code}"))
    return _status_error(response)


def _transport_error(exc: httpx2.TransportError) -> RetryableProviderError:
    if isinstance(exc, httpx2.TimeoutException):
        return RetryableProviderError("the video provider did not answer in time")
    return RetryableProviderError("could not reach the video provider")


__all__ = ["FalProvider", "app_id", "request_body"]
