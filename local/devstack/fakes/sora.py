"""A fake of the OpenAI videos API, exactly the subset the ``openai`` SDK calls.

Routes (under ``/v1``, as in ``base_url``): ``POST /videos`` (multipart or JSON; multipart may
carry the file ``input_reference``, the first frame: image/jpeg, image/png or image/webp, exactly
the requested ``size`` in pixels, else 400 with ``param: "input_reference"``; the clip and its
thumbnail then start on the image's mean colour),
``GET /videos`` (list, newest first, ``limit``/``after``/``order``), ``GET /videos/{id}``
(a poll), ``GET /videos/{id}/content?variant=video|thumbnail``, ``GET /models`` (the model
list, what a key check reads: route "models"), ``DELETE /videos/{id}`` (the
API's only cancel: the job is gone, a later poll gets 404; ``fail_next("cancel", 400)`` plays
an endpoint refusing to delete a running job). Every request needs
``Authorization: Bearer <key>``; rejected keys get 401 ``invalid_api_key``.

Behaviour: see ``FakeProviderServer`` and ``MARKERS``. A "filtered" job fails with
code ``moderation_blocked``; "[refused]" answers the create with 400 ``moderation_blocked``.
Polls carry ``openai-poll-after-ms`` while a job runs. Webhooks: endpoints registered for the
key's project (``POST /__fake__/webhooks``, ``register_webhook``) get ``video.completed`` /
``video.failed``, signed the Standard Webhooks way (see ``sora_webhooks``).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from devstack.fakes import forms, images, media, sora_webhooks
from devstack.fakes._server import FakeProviderServer
from devstack.fakes.faults import Route
from devstack.fakes.jobs import FakeJob, Script
from devstack.fakes.loopback import Request, Response, json_response
from devstack.fakes.records import CreateRecord, ReceivedImage
from devstack.fakes.sora_webhooks import WEBHOOKS_PATH, Registrations
from devstack.fakes.webhooks import Outgoing

SECONDS = ("4", "8", "12")
SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")
_EXPIRY_SECONDS = 3600
_REFERENCE_TYPES = ("image/jpeg", "image/png", "image/webp")
_VIDEO_PATH = re.compile(r"^/videos/(?P<id>[^/]+)(?P<content>/content)?$")
# status -> (message, type, code) as OpenAI words them.
_INVALID = "invalid_request_error"
_CREATE_ERRORS = {
    400: ("Your request was blocked by our moderation system.", _INVALID, "moderation_blocked"),
    401: ("Incorrect API key provided.", _INVALID, "invalid_api_key"),
    404: ("Video not found.", _INVALID, "not_found"),
    429: ("Rate limit reached for video generation requests.", "requests", "rate_limit_exceeded"),
}
_MODELS = {
    "object": "list",
    "data": [
        {"id": model, "object": "model", "created": 1759708800, "owned_by": "system"}
        for model in ("sora-2", "sora-2-pro")
    ],
}
"""``GET /models``: the ids this endpoint serves, in the OpenAI list shape."""
_FAILURES = {
    "failed": ("video_generation_failed", "The video could not be generated. Please try again."),
    "filtered": ("moderation_blocked", "The generated video was blocked by our moderation system."),
}


class FakeSoraServer(FakeProviderServer):
    """OpenAI videos API on loopback; ``poll_after_ms`` is the hint sent while a job runs."""

    base_path: ClassVar[str] = "/v1"

    def __init__(self, *, poll_after_ms: int | None = 1000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.poll_after_ms = poll_after_ms
        self.webhook_endpoints = Registrations()

    def register_webhook(self, url: str, api_key: str) -> str:
        """Register a webhook endpoint at ``url`` for ``api_key``'s project; its ``whsec_`` secret."""
        return self.webhook_endpoints.register(api_key, url).secret

    def webhooks_for(self, job: FakeJob) -> list[Outgoing]:
        """``video.completed`` or ``video.failed`` to each endpoint of the job's project."""
        finished = job.completed_at or self.clock()
        failed = _status(job) == "failed"
        return sora_webhooks.outgoing(job, self.webhook_endpoints, failed, finished, f"evt_{self.new_id()}")

    def handle(self, request: Request) -> Response:
        """Route one request of the videos API (and the fake's webhook dashboard)."""
        if request.path == WEBHOOKS_PATH and request.method == "POST":
            return self._register(request)
        path = request.path.removeprefix(self.base_path) or "/"
        if path == "/videos" and request.method == "POST":
            return self._create(request)
        if path == "/models" and request.method == "GET":
            listed = self._guard(request, "models") or json_response(200, _MODELS)
            self.records.add_call("models", listed.status)
            return listed
        match = _VIDEO_PATH.match(path)
        deleting = request.method == "DELETE" and match is not None and not match["content"]
        if not deleting and (request.method != "GET" or (path != "/videos" and match is None)):
            return _error(404, f"no route {request.method} {path}", "not_found")
        route: Route = "list" if match is None else "content" if match["content"] else "poll"
        route = "cancel" if deleting else route
        response = self._guard(request, route)
        if response is None:
            if match is None:
                response = self._list(request)
            elif deleting:
                response = self._delete(match["id"])
            elif route == "poll":
                response = self._retrieve(match["id"])
            else:
                response = self._content(match["id"], request.query.get("variant", "video"))
        self.records.add_call(route, response.status)
        return response

    # Routes ------------------------------------------------------------------------------

    def _create(self, request: Request) -> Response:
        form = forms.parse(request)
        fields = form.fields
        prompt = fields.get("prompt", "")
        params = {
            "model": fields.get("model", "sora-2"),
            "seconds": fields.get("seconds", "4"),
            "size": fields.get("size", "720x1280"),
        }
        script = self.faults.script_for(prompt)
        scripted = self.faults.create_status(prompt, script)
        received, refused = _reference(form.files.get("input_reference"), params["size"])
        response = self._guard(request, "create") or _create_error(prompt, params, scripted, script, refused)
        job_id = None
        if response is None:
            key = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            hooks = self.webhook_endpoints.urls(key)
            job = self.start_job(f"video_{self.new_id()}", prompt, params, script, hooks, images=received)
            job_id = job.id
            response = json_response(200, _video(job, "queued", self.progress(job)), self._poll_headers())
        self.records.add_create(
            CreateRecord(
                prompt=prompt,
                params=params,
                status=response.status,
                job_id=job_id,
                key_sent="authorization" in request.headers,
                idempotency_key=request.headers.get("idempotency-key"),
                images=received,
            )
        )
        return response

    def _register(self, request: Request) -> Response:
        denied = self._guard(request, "webhooks")
        try:
            url = request.json().get("url")
        except ValueError:
            url = None
        if denied is None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
            denied = _error(400, "Missing or invalid 'url': an http(s) URL.", param="url")
        if denied is not None:
            self.records.add_call("webhooks", denied.status)
            return denied
        key = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        endpoint = self.webhook_endpoints.register(key, str(url))
        self.records.add_call("webhooks", 200)
        return json_response(200, {"id": endpoint.id, "url": endpoint.url, "secret": endpoint.secret})

    def _list(self, request: Request) -> Response:
        limit = max(1, min(100, int(request.query.get("limit", "20"))))
        with self._lock:
            jobs = sorted(self.jobs.values(), key=lambda job: job.created_at)
        if request.query.get("order", "desc") == "desc":
            jobs.reverse()
        after = request.query.get("after")
        if after:
            ids = [job.id for job in jobs]
            jobs = jobs[ids.index(after) + 1 :] if after in ids else []
        page = [_video(job, _status(job), self.progress(job)) for job in jobs[:limit]]
        return json_response(
            200,
            {
                "object": "list",
                "data": page,
                "first_id": page[0]["id"] if page else None,
                "last_id": page[-1]["id"] if page else None,
                "has_more": len(jobs) > limit,
            },
        )

    def _delete(self, video_id: str) -> Response:
        if self.cancel_job(video_id) is None:
            return _error(404, f"Video with id '{video_id}' not found.", "not_found")
        with self._lock:
            del self.jobs[video_id]
        return json_response(200, {"id": video_id, "object": "video.deleted", "deleted": True})

    def _retrieve(self, video_id: str) -> Response:
        with self._lock:
            job = self.jobs.get(video_id)
        if job is None:
            return _error(404, f"Video with id '{video_id}' not found.", "not_found")
        self.pause_poll(job)
        with self._lock:
            self.advance(job)
            status = _status(job)
            body = _video(job, status, self.progress(job))
        headers = self._poll_headers() if status in ("queued", "in_progress") else {}
        return json_response(200, body, headers)

    def _content(self, video_id: str, variant: str) -> Response:
        with self._lock:
            job = self.jobs.get(video_id)
            status = _status(job) if job else None
        if job is None:
            return _error(404, f"Video with id '{video_id}' not found.", "not_found")
        if status != "completed":
            return _error(400, "Video is not ready yet.", "video_not_ready")
        if variant == "thumbnail":
            thumbnail = media.render_thumbnail(job.prompt, job.colour("first"))
            return Response(200, thumbnail, content_type="image/png")
        if variant != "video":
            return _error(400, f"Unsupported variant {variant!r}.")
        return Response(200, self.video(job, "openai"), content_type="video/mp4")

    # Helpers -----------------------------------------------------------------------------

    def _guard(self, request: Request, route: Route) -> Response | None:
        """Auth, then any failure queued with ``fail_next``."""
        authorization = request.headers.get("authorization", "")
        key = authorization.removeprefix("Bearer ").strip()
        if not key:
            return _error(401, "You didn't provide an API key.", "missing_api_key")
        if self.rejects(key):
            return _status_error(401)
        injected = self.faults.injected(route)
        if injected is not None:
            return _status_error(injected.status, injected.retry_after)
        return None

    def _poll_headers(self) -> dict[str, str]:
        return {} if self.poll_after_ms is None else {"openai-poll-after-ms": str(self.poll_after_ms)}


def _create_error(
    prompt: str, params: dict[str, str], scripted: int | None, script: Script, reference: str | None
) -> Response | None:
    if not prompt:
        return _error(400, "Missing required parameter: 'prompt'.")
    if params["seconds"] not in SECONDS:
        return _error(400, f"Invalid value for 'seconds': {params['seconds']!r}.")
    if params["size"] not in SIZES:
        return _error(400, f"Invalid value for 'size': {params['size']!r}.")
    if reference is not None:
        return _error(400, reference, param="input_reference")
    if scripted is None:
        return None
    return _status_error(scripted, script.retry_after, script.message)


def _status(job: FakeJob) -> str:
    """The status OpenAI reports for ``job``."""
    if job.completed_at is None:
        return "in_progress" if job.polls else "queued"
    return "failed" if job.script.outcome in _FAILURES else "completed"


def _video(job: FakeJob, status: str, progress: int) -> dict[str, Any]:
    """The video object OpenAI answers for ``job`` (``progress``: while it runs)."""
    error = None
    if status == "failed":
        code, message = _FAILURES[job.script.outcome]
        error = {"code": code, "message": job.script.message or message}
    completed_at = int(job.completed_at.timestamp()) if job.completed_at and status == "completed" else None
    return {
        "id": job.id,
        "object": "video",
        "created_at": int(job.created_at.timestamp()),
        "status": status,
        "progress": 100 if status == "completed" else progress,
        "model": job.params["model"],
        "prompt": job.prompt,
        "seconds": job.params["seconds"],
        "size": job.params["size"],
        "completed_at": completed_at,
        "expires_at": completed_at + _EXPIRY_SECONDS if completed_at else None,
        "error": error,
        "remixed_from_video_id": None,
    }


def _status_error(status: int, retry_after: float | None = None, message: str | None = None) -> Response:
    default, kind, code = _CREATE_ERRORS.get(
        status, ("The server had an error while processing your request.", "server_error", None)
    )
    response = _error(status, message or default, code, kind)
    if retry_after is not None:
        response.headers["retry-after"] = f"{retry_after:g}"
    return response


def _error(
    status: int, message: str, code: str | None = None, kind: str = _INVALID, *, param: str | None = None
) -> Response:
    return json_response(status, {"error": {"message": message, "type": kind, "param": param, "code": code}})


def _reference(upload: forms.Upload | None, size: str) -> tuple[tuple[ReceivedImage, ...], str | None]:
    """The ``input_reference`` image read (none without one), or why OpenAI refuses it: not an
    image of a type it takes, or not exactly ``size`` (``WIDTHxHEIGHT``) in pixels."""
    if upload is None:
        return (), None
    if upload.content_type not in _REFERENCE_TYPES:
        return (), (
            f"Invalid file 'input_reference': unsupported mimetype ('{upload.content_type}'). "
            "Supported file formats are 'image/jpeg', 'image/png', and 'image/webp'."
        )
    try:
        image = images.read(upload.data, "first", upload.content_type, _REFERENCE_TYPES)
    except images.ImageRefused:
        return (), f"Invalid file 'input_reference': the file is not a valid {upload.content_type} image."
    if f"{image.width}x{image.height}" != size:
        return (image,), "Inpaint image must match the requested width and height"
    return (image,), None
