"""A fake of fal's queue API for the catalog's fal models, in the shapes fal documents.

Routes (no path prefix: ``base_url`` is what ``fal_queue_base_url`` takes):

- ``POST /{endpoint id}``: answers ``{status: IN_QUEUE, request_id, response_url, status_url,
  cancel_url, queue_position}`` whatever the input, as fal's queue does.
- ``GET /{owner}/{app}/requests/{id}/status``: 202 ``IN_QUEUE`` (first poll) or ``IN_PROGRESS``,
  then 200 ``COMPLETED`` (with ``error`` and ``error_type`` when the request failed). Only the
  app id finds a request: the full endpoint path gets 404.
- ``GET /{owner}/{app}/requests/{id}``: the endpoint's output (``{"video": {url, ...}}``, plus
  ``seed`` or the video's ``duration`` as its schema has them), or the model's error: 422 with a
  ``detail`` list for an input outside the endpoint's schema (``ENDPOINTS``, checked when the job
  runs, as fal's models do) or a ``content_policy_violation``, 500 for a failed generation.
- ``PUT /{owner}/{app}/requests/{id}/cancel``: 202 ``CANCELLATION_REQUESTED``, 400
  ``ALREADY_COMPLETED``, 404 ``NOT_FOUND``; a cancelled request ends COMPLETED with error type
  ``client_cancelled`` (modelled on fal's request error types; unconfirmed).
- ``GET /files/b/{id}/output.mp4``: the CDN, public (no key needed; ``cdn_keys_sent`` records
  whether one came). ``cdn_redirect`` serves the result's URL as a 302 to it first.
- ``GET /v1/models/pricing?endpoint_id=``: the Platform API read that checks a key.

Every route but the CDN needs ``Authorization: Key <key>`` (401 otherwise). Behaviour: see
``FakeProviderServer`` and ``MARKERS``; a create status the queue answers (429, 408, 5xx, 401,
403) comes at the create, any other (``[refused]``) as the model's 422 on the result. Fault
routes: ``create``, ``poll`` (status, result), ``cancel``, ``content`` (CDN), ``list`` (pricing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from devstack.fakes import media
from devstack.fakes._server import FakeProviderServer
from devstack.fakes.faults import Route
from devstack.fakes.jobs import FakeJob
from devstack.fakes.loopback import Request, Response, json_response
from devstack.fakes.records import CreateRecord

Allowed = tuple[object, ...] | type
_RATIOS = ("16:9", "9:16", "1:1")


def _strings(first: int, last: int) -> tuple[str, ...]:
    return tuple(str(n) for n in range(first, last + 1))


@dataclass(frozen=True)
class Endpoint:
    """An endpoint's input schema as its model page gives it: literal options or a type per field."""

    fields: dict[str, Allowed]
    unit_price: float
    output: Literal["file", "video_file"] = "file"
    seed: bool = False
    defaults: dict[str, object] = field(default_factory=dict)


_KLING: dict[str, Allowed] = {"aspect_ratio": _RATIOS, "negative_prompt": str, "cfg_scale": float}
ENDPOINTS: dict[str, Endpoint] = {
    "fal-ai/kling-video/v2.5-turbo/pro/text-to-video": Endpoint(_KLING | {"duration": ("5", "10")}, 0.07),
    "fal-ai/kling-video/v3/pro/text-to-video": Endpoint(
        _KLING | {"duration": _strings(3, 15), "generate_audio": bool}, 0.168
    ),
    "bytedance/seedance-2.0/fast/text-to-video": Endpoint(
        {
            "duration": ("auto", *_strings(4, 15)),
            "aspect_ratio": ("auto", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16"),
            "resolution": ("480p", "720p"),
            "generate_audio": bool,
        },
        0.2419,
        seed=True,
    ),
    "fal-ai/minimax/hailuo-02/pro/text-to-video": Endpoint({"prompt_optimizer": bool}, 0.08),
    "fal-ai/ltx-2.3/text-to-video": Endpoint(
        {
            "duration": (6, 8, 10),
            "aspect_ratio": ("16:9", "9:16"),
            "resolution": ("1080p", "1440p", "2160p"),
            "fps": (24, 25, 48, 50),
            "generate_audio": bool,
        },
        0.08,
        output="video_file",
        defaults={"duration": 6},
    ),
}
"""The catalog's fal endpoints, as fal's model pages and fal-js's endpoint types give them."""

_QUEUE_STATUSES = {408, 429, 401, 403}  # answered by the queue itself (with 5xx)
_POLICY = "The content could not be processed because it contained material flagged by a content checker."
_TYPE_ERRORS = {bool: ("bool_type", "a valid boolean"), str: ("string_type", "a valid string")}
_MESSAGES = {401: "No user found for Key ID and Secret", 404: "Request not found", 429: "Too many requests"}


class FakeFalServer(FakeProviderServer):
    """fal's queue, its CDN and its pricing read on loopback."""

    def __init__(self, *, cdn_redirect: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cdn_redirect = cdn_redirect
        # Where result URLs point (default: this server); tests name another host for the CDN.
        self.cdn_origin: str | None = None
        self.cdn_keys_sent: list[bool] = []
        self.omit_urls = False  # answer creates without response/status/cancel URLs

    def handle(self, request: Request) -> Response:
        """Route one request of the queue, the CDN or the pricing read."""
        path = request.path
        if request.method == "GET" and path.startswith(("/files/b/", "/cdn/")):
            return self._cdn(request)
        if request.method == "GET" and path == "/v1/models/pricing":
            return self._routed(request, "list", "pricing", lambda: self._pricing(request))
        if "/requests/" not in path:
            return self._create(request) if request.method == "POST" else _error(404, "Not Found")
        app, _, rest = path.strip("/").partition("/requests/")
        request_id, _, action = rest.partition("/")
        routes: dict[tuple[str, str], tuple[Route, str, Any]] = {
            ("GET", "status"): ("poll", "poll", self._status),
            ("GET", ""): ("poll", "result", self._result),
            ("PUT", "cancel"): ("cancel", "cancel", self._cancel),
        }
        if (request.method, action) not in routes:
            return _error(404, "Not Found")
        route, name, answer = routes[request.method, action]
        return self._routed(request, route, name, lambda: answer(app, request_id))

    # Routes ------------------------------------------------------------------------------

    def _create(self, request: Request) -> Response:
        endpoint = request.path.strip("/")
        body = request.json()
        prompt = str(body.get("prompt", ""))
        script = self.faults.script_for(prompt)
        scripted = self.faults.create_status(prompt, script)
        at_create = scripted if scripted in _QUEUE_STATUSES or (scripted or 0) >= 500 else None
        response = self._guard(request, "create")
        if response is None and at_create is not None:
            response = _error(at_create, script.message, retry_after=script.retry_after)
        if response is None and endpoint not in ENDPOINTS:
            response = _error(404, f"Application {endpoint!r} not found")
        job_id = None
        if response is None:
            job_id = self.new_id()
            app = "/".join(endpoint.split("/")[:2])
            errors = _check(ENDPOINTS[endpoint], body)
            refused = scripted is not None and at_create is None
            params = {"endpoint": endpoint, "app": app, "body": body, "errors": errors, "refused": refused}
            job = self.start_job(job_id, prompt, params, script)
            if errors or refused:  # the model refuses as soon as it runs
                job.completed_at = job.created_at
            response = json_response(
                200, {"status": "IN_QUEUE", **self._urls(app, job_id), "queue_position": 0}
            )
        self.records.add_create(
            CreateRecord(
                prompt=prompt,
                params={"endpoint": endpoint, **{k: v for k, v in body.items() if k != "prompt"}},
                status=response.status,
                job_id=job_id,
                key_sent="authorization" in request.headers,
            )
        )
        return response

    def _status(self, app: str, request_id: str) -> Response:
        job = self._job(app, request_id)
        if job is None:
            return _error(404, _MESSAGES[404])
        self.pause_poll(job)
        with self._lock:
            done = self.advance(job)
        urls = self._urls(app, request_id)
        if not done:
            if job.polls <= 1:
                return json_response(202, {"status": "IN_QUEUE", **urls, "queue_position": 0})
            return json_response(202, {"status": "IN_PROGRESS", **urls, "logs": None})
        failure = self._failure(job)
        error = _summary(failure[1]) if failure else None
        error_type = failure[1].get("error_type", "model_error") if failure else None
        return json_response(
            200,
            {"status": "COMPLETED", **urls, "logs": None, "metrics": {"inference_time": 1.5}}
            | {"error": error, "error_type": error_type},
        )

    def _result(self, app: str, request_id: str) -> Response:
        job = self._job(app, request_id)
        if job is None:
            return _error(404, _MESSAGES[404])
        if job.completed_at is None and job.cancelled_at is None:
            return _error(400, "Request is still in progress")
        failure = self._failure(job)
        if failure is not None:
            return json_response(failure[0], failure[1], {"x-fal-retryable": "false"})
        schema = ENDPOINTS[job.params["endpoint"]]
        size = len(self._video_bytes(job))
        video: dict[str, Any] = {"url": self._video_url(job), "content_type": "video/mp4"}
        video |= {"file_name": "output.mp4", "file_size": size}
        if schema.output == "video_file":
            seconds = job.params["body"].get("duration", schema.defaults.get("duration"))
            video |= {"duration": float(seconds), "fps": 25}
        return json_response(200, {"video": video} | ({"seed": 42} if schema.seed else {}))

    def _cancel(self, app: str, request_id: str) -> Response:
        job = self._job(app, request_id)
        if job is None:
            return json_response(404, {"status": "NOT_FOUND"})
        if job.completed_at is not None or job.cancelled_at is not None:
            return json_response(400, {"status": "ALREADY_COMPLETED"})
        self.cancel_job(request_id)
        return json_response(202, {"status": "CANCELLATION_REQUESTED"})

    def _cdn(self, request: Request) -> Response:
        with self._lock:
            self.cdn_keys_sent.append("authorization" in request.headers)
        job_id = request.path.split("/")[-2] if request.path.startswith("/files/") else request.path[5:]
        injected = self.faults.injected("content")
        with self._lock:
            job = self.jobs.get(job_id)
        if injected is not None:
            response = _error(injected.status, retry_after=injected.retry_after)
        elif job is None or job.completed_at is None or self._failure(job) is not None:
            response = _error(404, "File not found")
        elif request.path.startswith("/cdn/"):
            response = Response(302, headers={"location": f"/files/b/{job_id}/output.mp4"})
        else:
            response = Response(200, self._video_bytes(job), content_type="video/mp4")
        self.records.add_call("content", response.status)
        return response

    def _pricing(self, request: Request) -> Response:
        endpoints = [e for e in request.query.get("endpoint_id", "").split(",") if e in ENDPOINTS]
        prices = [
            {"endpoint_id": e, "unit_price": ENDPOINTS[e].unit_price, "unit": "second", "currency": "USD"}
            for e in endpoints
        ]
        return json_response(200, {"prices": prices, "next_cursor": None, "has_more": False})

    # Helpers -----------------------------------------------------------------------------

    def _routed(self, request: Request, route: Route, name: str, answer: Any) -> Response:
        response: Response = self._guard(request, route) or answer()
        self.records.add_call(name, response.status)
        return response

    def _guard(self, request: Request, route: Route) -> Response | None:
        """The key, then any failure queued with ``fail_next``."""
        key = request.headers.get("authorization", "").removeprefix("Key ").strip()
        if not key:
            return _error(401, "Authentication is required to access this application.")
        if self.rejects(key):
            return _error(401, _MESSAGES[401])
        injected = self.faults.injected(route)
        if injected is not None:
            return _error(injected.status, retry_after=injected.retry_after)
        return None

    def _job(self, app: str, request_id: str) -> FakeJob | None:
        with self._lock:
            job = self.jobs.get(request_id)
        return job if job is not None and job.params["app"] == app else None

    def _urls(self, app: str, request_id: str) -> dict[str, str]:
        base = f"{self.origin}/{app}/requests/{request_id}"
        urls = {"response_url": base, "status_url": f"{base}/status", "cancel_url": f"{base}/cancel"}
        return {"request_id": request_id} | ({} if self.omit_urls else urls)

    def _video_url(self, job: FakeJob) -> str:
        origin = self.cdn_origin or self.origin
        return f"{origin}/cdn/{job.id}" if self.cdn_redirect else f"{origin}/files/b/{job.id}/output.mp4"

    def _video_bytes(self, job: FakeJob) -> bytes:
        return (
            b"" if job.script.outcome == "empty" else media.render_video(job.prompt)
        )  # the default look: H.264 with an AAC tone

    def _failure(self, job: FakeJob) -> tuple[int, dict[str, Any]] | None:
        """The model's error for a finished job (status code and body), or None if it succeeded."""
        if job.cancelled_at is not None:
            return 499, {"detail": "Request was cancelled by the client", "error_type": "client_cancelled"}
        if job.params["errors"]:
            return 422, {"detail": job.params["errors"]}
        outcome, message = job.script.outcome, job.script.message
        if job.params["refused"] or outcome == "filtered":
            text = f"{_POLICY} {message}" if message else _POLICY
            policy = {"loc": ["body", "prompt"], "msg": text, "type": "content_policy_violation"}
            return 422, {"detail": [policy | {"url": "https://docs.fal.ai/errors#content_policy_violation"}]}
        if outcome == "failed":
            return 500, {"detail": message or "Video generation failed.", "error_type": "runner_server_error"}
        return None


def _check(schema: Endpoint, body: dict[str, Any]) -> list[dict[str, Any]]:
    """pydantic's errors for ``body`` against ``schema`` (unknown fields are ignored, as there)."""
    errors: list[dict[str, Any]] = []
    if not isinstance(body.get("prompt"), str) or not body["prompt"]:
        errors.append({"loc": ["body", "prompt"], "msg": "Field required", "type": "missing"})
    for name, allowed in schema.fields.items():
        if name not in body:
            continue
        value, loc = body[name], ["body", name]
        if isinstance(allowed, tuple):
            if not any(value == option and type(value) is type(option) for option in allowed):
                expected = _options(allowed)
                errors.append(
                    {
                        "loc": loc,
                        "msg": f"Input should be {expected}",
                        "type": "literal_error",
                        "input": value,
                    }
                    | {"ctx": {"expected": expected}}
                )
        elif allowed is float and (isinstance(value, bool) or not isinstance(value, int | float)):
            errors.append({"loc": loc, "msg": "Input should be a valid number", "type": "float_type"})
        elif allowed in _TYPE_ERRORS and not isinstance(value, allowed):
            kind, what = _TYPE_ERRORS[allowed]
            errors.append({"loc": loc, "msg": f"Input should be {what}", "type": kind, "input": value})
    return errors


def _options(allowed: tuple[object, ...]) -> str:
    shown = [repr(option) for option in allowed]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"


def _summary(body: dict[str, Any]) -> str:
    detail = body.get("detail")
    if isinstance(detail, list) and detail:
        return str(detail[0].get("msg", "Unprocessable Entity"))
    return str(detail)


def _error(status: int, message: str | None = None, *, retry_after: float | None = None) -> Response:
    response = json_response(status, {"detail": message or _MESSAGES.get(status, "Internal Server Error")})
    if retry_after is not None:
        response.headers["retry-after"] = f"{retry_after:g}"
    return response
