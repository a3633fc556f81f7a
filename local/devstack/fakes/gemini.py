"""A fake of Veo on the Gemini API (``generativelanguage.googleapis.com``), as Google documents it.

Routes (the base URL is the server's origin; paths carry ``/v1beta``):

- ``POST /v1beta/models/{model}:predictLongRunning`` with ``{"instances": [{"prompt", "image"?,
  "lastFrame"?, "referenceImages"?}], "parameters": {"aspectRatio", "resolution",
  "durationSeconds", "negativePrompt", "personGeneration"}}``; answers ``{"name":
  "models/{model}/operations/{id}"}``.
- ``GET /v1beta/models/{model}/operations/{id}``: ``{"name"}`` while running (proto3 JSON leaves
  ``done: false`` out), then ``done`` with ``error {code, message}`` or ``response {"@type",
  "generateVideoResponse": {"generatedSamples": [{"video": {"uri"}}]}}`` or, when filtered,
  ``{"raiMediaFilteredCount", "raiMediaFilteredReasons"}`` and no samples.
- ``GET /v1beta/files/{id}:download?alt=media``: a 302 to ``/storage/{id}.mp4?sig=...`` (on
  ``storage_origin``, default this server), which stands in for Google's storage host: it needs
  no key and serves the MP4. ``storage_calls`` records whether each such request carried a key.
- ``GET /v1beta/models?pageSize=N``: the models list (the key check).
- ``GET /.well-known/jwks.json``: the public keys webhooks are signed with (no key needed).

There is no cancel: Google documents none for these operations, so ``...:cancel`` gets the 404
of an unknown route. Every API route needs ``x-goog-api-key``; none gets 403
PERMISSION_DENIED, a rejected one 400 with reason ``API_KEY_INVALID``. Creates are checked as
Google's parameter table says (16:9 or 9:16; 720p, 1080p or 4k, no 4k on Lite; 4, 6 or 8 s, 8 s
only at 1080p and 4k; ``personGeneration`` "allow_all" for text, "allow_adult" with images or in
``region="eu"``) and its images as ``veo_rules`` says (``image``/``lastFrame`` as
``{"bytesBase64Encoded", "mimeType"}`` or ``{"inlineData": {"mimeType", "data"}}``); the wording
of those 400s is ours, Google documents the rules, not the words. The clip starts (ends) on the
mean colour of ``image`` (``lastFrame``).
Scripts, markers and records: see ``FakeProviderServer`` and ``MARKERS``.

Webhooks (``webhookConfig``, the ``video.generated`` event, its JWT): see ``gemini_webhooks``.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from devstack.fakes import gemini_webhooks, veo_rules
from devstack.fakes._server import FakeProviderServer
from devstack.fakes.faults import Route
from devstack.fakes.gemini_webhooks import ISSUER, TOKEN_SECONDS
from devstack.fakes.jobs import FakeJob, Script
from devstack.fakes.loopback import Request, Response, json_response
from devstack.fakes.records import CreateRecord
from devstack.fakes.webhooks import Outgoing, RsaSigningKeys

MODELS = ("veo-3.1-generate-preview", "veo-3.1-fast-generate-preview", "veo-3.1-lite-generate-preview")
ASPECT_RATIOS = ("16:9", "9:16")
RESOLUTIONS = ("720p", "1080p", "4k")
DURATIONS = (4, 6, 8)
_CREATE_PATH = re.compile(r"^/v1beta/models/(?P<model>[^/:]+):predictLongRunning$")
_OPERATION_PATH = re.compile(r"^/v1beta/(?P<name>models/(?P<model>[^/:]+)/operations/(?P<id>[^/:]+))$")
_FILE_PATH = re.compile(r"^/v1beta/files/(?P<id>[0-9a-f]+):download$")
_STORAGE_PATH = re.compile(r"^/storage/(?P<id>[0-9a-f]+)\.mp4$")
_RESPONSE_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse"
# status -> (Google's status name, default message)
_ERRORS = {
    400: ("INVALID_ARGUMENT", "The prompt could not be submitted: it violates the usage guidelines."),
    401: ("UNAUTHENTICATED", "Request had invalid authentication credentials."),
    403: (
        "PERMISSION_DENIED",
        "Method doesn't allow unregistered callers (callers without established identity). "
        "Please use API Key or other form of API consumer identity to call this API.",
    ),
    404: ("NOT_FOUND", "Requested entity was not found."),
    429: (
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota, please check your plan and billing details.",
    ),
    503: ("UNAVAILABLE", "The service is currently unavailable."),
}
_FILTER_REASON = (
    "Your current safety settings for person generation blocked 1 video. "
    "You will not be charged for blocked videos. Support codes: 58061214"
)


class FakeGeminiServer(FakeProviderServer):
    """Veo on the Gemini API on loopback (see the module doc).

    ``storage_origin``: where downloads redirect (default this server; a test names another
    host). ``region``: "eu" allows only ``personGeneration: "allow_adult"``, as Google's EU,
    UK, CH and MENA rules do. Webhooks are signed with an RSA-2048 key made here
    (``rotate_signing_key()`` adds another).
    """

    def __init__(self, *, models: tuple[str, ...] = MODELS, region: str = "us", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.models = models
        self.region = region
        self.storage_origin: str | None = None
        self.storage_calls: list[bool] = []  # per storage request: whether a key came with it
        self._signatures: dict[str, str] = {}
        self.signing_keys: RsaSigningKeys = RsaSigningKeys()

    def handle(self, request: Request) -> Response:
        """Route one request of the Gemini API (or of the storage stand-in)."""
        create = _CREATE_PATH.match(request.path)
        if create and request.method == "POST":
            return self._create(request, create["model"])
        storage = _STORAGE_PATH.match(request.path)
        if storage and request.method == "GET":
            return self._storage(request, storage["id"])
        route: Route
        operation = _OPERATION_PATH.match(request.path)
        file = _FILE_PATH.match(request.path)
        if operation and request.method == "GET":
            route = "poll"
        elif file and request.method == "GET":
            route = "content"
        elif request.path == "/v1beta/models" and request.method == "GET":
            route = "list"
        else:
            return _error(404, f"no route {request.method} {request.path}")
        response = self._guard(request, route)
        if response is None:
            if operation:
                response = self._operation(operation["name"], operation["id"])
            elif file:
                response = self._file(file["id"], request.query.get("alt"))
            else:
                response = self._models(request.query.get("pageSize"))
        self.records.add_call(route, response.status)
        return response

    # Routes ------------------------------------------------------------------------------

    def _create(self, request: Request, model: str) -> Response:
        body = request.json()
        instances = body.get("instances") or [{}]
        instance = instances[0] if isinstance(instances[0], dict) else {}
        prompt = str(instance.get("prompt", ""))
        params: dict[str, Any] = {"model": model, **(body.get("parameters") or {})}
        script = self.faults.script_for(prompt)
        scripted = self.faults.create_status(prompt, script)
        # a fake that sends no webhooks ignores the field
        callbacks, webhook_problem = gemini_webhooks.callbacks(body) if self.send_webhooks else ((), None)
        images, image_problem = veo_rules.instance_images(
            instance, params, lite="lite" in model, inline_data=True
        )
        response = self._guard(request, "create") or self._create_error(
            instance, params, scripted, script, webhook_problem or image_problem
        )
        job_id = None
        if response is None:
            op_id = self.new_id()
            job_id = f"models/{model}/operations/{op_id}"
            self.start_job(op_id, prompt, {**params, "name": job_id}, script, callbacks, images=images)
            response = json_response(200, {"name": job_id})
        key_sent = "x-goog-api-key" in request.headers
        record = CreateRecord(prompt, params, response.status, job_id, key_sent, images=images)
        self.records.add_create(record)
        return response

    def _operation(self, name: str, op_id: str) -> Response:
        with self._lock:
            job = self.jobs.get(op_id)
            if job is None or job.params.get("name") != name:
                return _error(404, f"Operation {name} not found.")
        self.pause_poll(job)
        with self._lock:
            done = self.advance(job)
        if not done:
            return json_response(200, {"name": name})
        return json_response(200, {"name": name, "done": True, **self._result(job)})

    def _file(self, file_id: str, alt: str | None) -> Response:
        if alt != "media":
            return _error(400, "Only alt=media downloads are served here.")
        job = self._finished_video(file_id)
        if job is None:
            return _error(404, f"File files/{file_id} not found.")
        signature = self._signatures.setdefault(file_id, secrets.token_hex(8))
        location = f"{self.storage_origin or self.origin}/storage/{file_id}.mp4?sig={signature}"
        return Response(302, b"", content_type="text/html", headers={"location": location})

    def _storage(self, request: Request, file_id: str) -> Response:
        self.storage_calls.append("x-goog-api-key" in request.headers)
        job = self._finished_video(file_id)
        if job is None or request.query.get("sig") != self._signatures.get(file_id):
            response = Response(403, b"AccessDenied", content_type="text/plain")
        else:
            response = Response(200, self.video(job, "veo"), content_type="video/mp4")
        self.records.add_call("storage", response.status)
        return response

    def _models(self, page_size: str | None) -> Response:
        size = int(page_size) if page_size and page_size.isdigit() else 50
        listed = [
            {"name": f"models/{model}", "supportedGenerationMethods": ["predictLongRunning"]}
            for model in self.models[:size]
        ]
        more = {"nextPageToken": secrets.token_hex(4)} if size < len(self.models) else {}
        return json_response(200, {"models": listed, **more})

    # Helpers -----------------------------------------------------------------------------

    def _guard(self, request: Request, route: Route) -> Response | None:
        """Auth, then any failure queued with ``fail_next``."""
        key = request.headers.get("x-goog-api-key", "").strip()
        if not key:
            return _error(403)
        if self.rejects(key):
            return _key_invalid()
        injected = self.faults.injected(route)
        if injected is not None:
            return _error(injected.status, retry_after=injected.retry_after)
        return None

    def _create_error(
        self,
        instance: dict[str, Any],
        params: dict[str, Any],
        scripted: int | None,
        script: Script,
        problem: str | None,
    ) -> Response | None:
        """The error this create gets (``problem``: its webhooks' or images'), or ``None``."""
        model = params["model"]
        if model not in self.models:
            return _error(
                404,
                f"models/{model} is not found for API version v1beta, or is not supported for "
                "predictLongRunning. Call ListModels to see the list of available models.",
            )
        problem = _parameter_problem(instance, params, lite="lite" in model, region=self.region) or problem
        if problem is not None:
            return _error(400, problem)
        if scripted is None:
            return None
        return _error(scripted, script.message, retry_after=script.retry_after)

    def webhooks_for(self, job: FakeJob) -> list[Outgoing]:
        """The thin ``video.generated`` event, to each URI of the job's ``webhookConfig``."""
        file_uri = self._file_uri(job) if job.script.outcome in ("completed", "empty") else None
        finished_at = job.completed_at or self.clock()
        return gemini_webhooks.outgoing(job, self.signing_keys, file_uri, finished_at, self.new_id())

    def _file_uri(self, job: FakeJob) -> str:
        return f"{self.origin}/v1beta/files/{job.id}:download?alt=media"

    def _finished_video(self, file_id: str) -> FakeJob | None:
        with self._lock:
            job = self.jobs.get(file_id)
        if job is None or job.completed_at is None:
            return None
        return job if job.script.outcome in ("completed", "empty") else None

    def _result(self, job: FakeJob) -> dict[str, Any]:
        outcome = job.script.outcome
        if outcome == "failed":
            return {"error": {"code": 13, "message": job.script.message or "Video generation failed."}}
        generated: dict[str, Any]
        if outcome == "filtered":
            reasons = [job.script.message or _FILTER_REASON]
            generated = {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": reasons}
        else:
            generated = {"generatedSamples": [{"video": {"uri": self._file_uri(job)}}]}
        return {"response": {"@type": _RESPONSE_TYPE, "generateVideoResponse": generated}}


def _parameter_problem(
    instance: dict[str, Any], params: dict[str, Any], *, lite: bool, region: str
) -> str | None:
    """Why Google's parameter table refuses this create, or ``None``."""
    aspect_ratio = params.get("aspectRatio", "16:9")
    resolution = params.get("resolution", "720p")
    seconds = veo_rules.seconds(params.get("durationSeconds", 8))
    with_images = any(field in instance for field in ("image", "lastFrame", "referenceImages"))
    person = "allow_adult" if with_images or region == "eu" else "allow_all"
    problems = (
        (not instance.get("prompt"), "A prompt is required."),
        (aspect_ratio not in ASPECT_RATIOS, f"Unsupported aspect ratio {aspect_ratio!r}: use 16:9 or 9:16."),
        (
            resolution not in RESOLUTIONS or (lite and resolution == "4k"),
            f"Unsupported resolution {resolution!r} for this model.",
        ),
        (
            seconds not in DURATIONS,
            f"Unsupported duration {params.get('durationSeconds')!r}: durationSeconds takes 4, 6 or 8.",
        ),
        (resolution != "720p" and seconds != 8, f"Resolution {resolution} takes durationSeconds 8 only."),
        (
            params.get("personGeneration", person) != person,
            f"personGeneration {params.get('personGeneration')!r} is not allowed here; use {person!r}.",
        ),
    )
    return next((message for refused, message in problems if refused), None)


def _error(status: int, message: str | None = None, *, retry_after: float | None = None) -> Response:
    name, default = _ERRORS.get(status, ("INTERNAL", "An internal error has occurred."))
    response = json_response(
        status, {"error": {"code": status, "message": message or default, "status": name}}
    )
    if retry_after is not None:
        response.headers["retry-after"] = f"{retry_after:g}"
    return response


def _key_invalid() -> Response:
    message = "API key not valid. Please pass a valid API key."
    info = {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_INVALID",
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com"},
    }
    error = {"code": 400, "message": message, "status": "INVALID_ARGUMENT", "details": [info]}
    return json_response(400, {"error": error})


# The webhooks' claims (gemini_webhooks) stay importable from here.
__all__ = [
    "ASPECT_RATIOS",
    "DURATIONS",
    "ISSUER",
    "MODELS",
    "RESOLUTIONS",
    "TOKEN_SECONDS",
    "FakeGeminiServer",
]
