"""A fake of fal's queue API for the catalog's fal models, in the shapes fal documents.

Routes (no path prefix: ``base_url`` is what ``fal_queue_base_url`` takes):

- ``POST /{endpoint id}``: answers ``{status: IN_QUEUE, request_id, response_url, status_url,
  cancel_url, queue_position}`` whatever the input, as fal's queue does. An image-to-video
  endpoint's image URLs are downloaded when the job runs (``fal_inputs``); the clip starts (ends)
  on the mean colour of its first (last) frame.
- ``GET /{owner}/{app}/requests/{id}/status``: 202 ``IN_QUEUE`` (first poll) or ``IN_PROGRESS``,
  then 200 ``COMPLETED`` (with ``error`` and ``error_type`` when the request failed). Only the
  app id finds a request: the full endpoint path gets 404.
- ``GET /{owner}/{app}/requests/{id}``: the endpoint's output (``{"video": {url, ...}}``, plus
  ``seed`` or the video's ``duration`` as its schema has them), or the model's error: 422 with a
  ``detail`` list for an input outside the endpoint's schema (``ENDPOINTS`` in ``fal_endpoints``,
  checked when the job runs, as fal's models do) or a ``content_policy_violation``, 500 for a
  failed generation.
- ``PUT /{owner}/{app}/requests/{id}/cancel``: 202 ``CANCELLATION_REQUESTED``, 400
  ``ALREADY_COMPLETED``, 404 ``NOT_FOUND``; a cancelled request ends COMPLETED with error type
  ``client_cancelled`` (modelled on fal's request error types; unconfirmed).
- ``GET /files/b/{id}/output.mp4``: the CDN, public (no key needed; ``cdn_keys_sent`` records
  whether one came). ``cdn_redirect`` serves the result's URL as a 302 to it first.
- ``GET /v1/models/pricing?endpoint_id=``: the Platform API read that checks a key.
- ``GET /.well-known/jwks.json``: the Ed25519 keys webhooks are signed with (no key needed).

Every route but the CDN needs ``Authorization: Key <key>`` (401 otherwise). Behaviour: see
``FakeProviderServer`` and ``MARKERS``; a create status the queue answers (429, 408, 5xx, 401,
403) comes at the create, any other (``[refused]``) as the model's 422 on the result. Fault
routes: ``create``, ``poll`` (status, result), ``cancel``, ``content`` (CDN), ``list`` (pricing).

Webhooks (``?fal_webhook=<url>``, the body and its Ed25519 signature): see ``fal_webhooks``.
"""

from __future__ import annotations

from typing import Any

from devstack.fakes import fal_inputs, fal_webhooks
from devstack.fakes._server import FakeProviderServer
from devstack.fakes.fal_endpoints import ENDPOINTS, Endpoint, check
from devstack.fakes.faults import Route
from devstack.fakes.jobs import FakeJob
from devstack.fakes.loopback import Request, Response, json_response
from devstack.fakes.records import CreateRecord
from devstack.fakes.webhooks import Ed25519SigningKeys, Outgoing

_QUEUE_STATUSES = {408, 429, 401, 403}  # answered by the queue itself (with 5xx)
_POLICY = "The content could not be processed because it contained material flagged by a content checker."
_MESSAGES = {401: "No user found for Key ID and Secret", 404: "Request not found", 429: "Too many requests"}


class FakeFalServer(FakeProviderServer):
    """fal's queue, its CDN and its pricing read on loopback.

    Webhooks are signed with an Ed25519 key made here (``rotate_signing_key()`` adds another)
    for the account ``webhook_user_id``.
    """

    def __init__(
        self, *, cdn_redirect: bool = False, webhook_user_id: str = "fake-fal-user", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.cdn_redirect = cdn_redirect
        self.webhook_user_id = webhook_user_id
        self.signing_keys: Ed25519SigningKeys = Ed25519SigningKeys()
        # Where result URLs point (default: this server); tests name another host for the CDN.
        self.cdn_origin: str | None = None
        self.cdn_keys_sent: list[bool] = []
        self.omit_urls = False  # answer creates without response/status/cancel URLs
        self._downloads = fal_inputs.Downloads()

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
        job = None
        if response is None:
            app = "/".join(endpoint.split("/")[:2])
            errors = check(ENDPOINTS[endpoint], body)
            refused = scripted is not None and at_create is None
            params = {"endpoint": endpoint, "app": app, "body": body, "errors": errors, "refused": refused}
            callbacks = (request.query["fal_webhook"],) if "fal_webhook" in request.query else ()
            job = self.start_job(self.new_id(), prompt, params, script, callbacks)
            if errors or refused:  # the model refuses as soon as it runs
                job.completed_at = job.created_at
            response = json_response(
                200, {"status": "IN_QUEUE", **self._urls(app, job.id), "queue_position": 0}
            )
        schema = ENDPOINTS.get(endpoint, Endpoint({}, 0.0))
        sent = fal_inputs.without_signatures(schema, {k: v for k, v in body.items() if k != "prompt"})
        self.records.add_create(
            CreateRecord(
                prompt=prompt,
                params={"endpoint": endpoint, **sent},
                status=response.status,
                job_id=job.id if job else None,
                key_sent="authorization" in request.headers,
            )
        )
        if job is not None and job.completed_at is None and schema.images:
            self._downloads.start(job.id, lambda: self._download(job))
        return response

    def _download(self, job: FakeJob) -> None:
        """Fetch the job's images (in its downloads thread); a failure ends the job with a 422."""
        images, errors = fal_inputs.download(ENDPOINTS[job.params["endpoint"]], job.params["body"])
        with self._lock:
            job.images = images
            if errors:
                job.params["errors"] = errors
                job.completed_at = job.completed_at or self.clock()
        self.records.add_images(job.id, images)

    def _status(self, app: str, request_id: str) -> Response:
        job = self._job(app, request_id)
        if job is None:
            return _error(404, _MESSAGES[404])
        self._downloads.wait(job.id)
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
        status, body = self._outcome(job)
        return json_response(status, body, {"x-fal-retryable": "false"} if status != 200 else None)

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
        return self.video(job, "openai")  # the default look: H.264 with an AAC tone

    def webhooks_for(self, job: FakeJob) -> list[Outgoing]:
        """fal's webhook body for the finished request, to its ``fal_webhook`` URL."""
        status, payload = self._outcome(job)
        return fal_webhooks.outgoing(job, status, payload, self.signing_keys, self.webhook_user_id)

    def _outcome(self, job: FakeJob) -> tuple[int, dict[str, Any]]:
        """What the result route answers for a finished ``job``: status code and JSON body."""
        failure = self._failure(job)
        if failure is not None:
            return failure
        schema = ENDPOINTS[job.params["endpoint"]]
        size = len(self._video_bytes(job))
        video: dict[str, Any] = {"url": self._video_url(job), "content_type": "video/mp4"}
        video |= {"file_name": "output.mp4", "file_size": size}
        if schema.output == "video_file":
            seconds = job.params["body"].get("duration", schema.defaults.get("duration"))
            video |= {"duration": float(seconds), "fps": 25}
        return 200, {"video": video} | ({"seed": 42} if schema.seed else {})

    def _failure(self, job: FakeJob) -> tuple[int, dict[str, Any]] | None:
        """The model's error for a finished job (status code and body), or None if it succeeded."""
        self._downloads.wait(job.id)
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


# The endpoints' schemas (fal_endpoints) stay importable from here.
__all__ = ["ENDPOINTS", "Endpoint", "FakeFalServer"]
