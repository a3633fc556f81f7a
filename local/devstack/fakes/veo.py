"""A fake of Veo's long-running operations, exactly the subset ``google-genai`` calls.

google-genai 3.x generates videos only in Enterprise (Vertex AI) mode; with an API key
and a custom base URL it sends:

- ``POST /v1beta1/publishers/google/models/{model}:predictLongRunning`` with
  ``{"instances": [{"prompt", "image"?, "lastFrame"?, "referenceImages"?}], "parameters":
  {"sampleCount", "durationSeconds", "aspectRatio", "resolution", "negativePrompt"}}``; answers
  ``{"name": <operation>}``. Images are ``{"bytesBase64Encoded", "mimeType"}``, checked as
  ``veo_rules`` says; the clip starts (ends) on the mean colour of ``image`` (``lastFrame``).
- ``POST /v1beta1/{model resource}:fetchPredictOperation`` with ``{"operationName"}``;
  answers the operation: ``done``, ``error {code, message}`` or ``response {videos:
  [{bytesBase64Encoded | gcsUri, mimeType}], raiMediaFilteredCount,
  raiMediaFilteredReasons}``.
- ``GET /files/{id}.mp4`` serves the video when ``video_delivery="uri"`` (an https-style
  uri the adapter fetches with the key, as the Gemini API's file uris are).
- ``POST /v1beta1/{operation name}:cancel`` (Vertex's long-running operation cancel): answers
  ``{}``; the operation then ends done with error code 1 (CANCELLED), as Google's do.

Every request needs ``x-goog-api-key``; a rejected key gets Google's 400
``API_KEY_INVALID``. Behaviour: see ``FakeProviderServer`` and ``MARKERS``.
"""

from __future__ import annotations

import base64
import re
from typing import Any, Literal

from devstack.fakes import veo_rules
from devstack.fakes._server import FakeProviderServer
from devstack.fakes.faults import Route
from devstack.fakes.jobs import FakeJob, Script
from devstack.fakes.loopback import Request, Response, json_response
from devstack.fakes.records import CreateRecord

ASPECT_RATIOS = ("16:9", "9:16")
RESOLUTIONS = ("720p", "1080p")
_VERSION = r"/(?P<version>v1[a-z0-9]*)/"
_CREATE_PATH = re.compile(
    _VERSION + r"(?:projects/[^/]+/locations/[^/]+/)?"
    r"publishers/(?P<publisher>[^/]+)/models/(?P<model>[^/:]+):predictLongRunning$"
)
_FETCH_PATH = re.compile(_VERSION + r"(?P<resource>.+):fetchPredictOperation$")
_FILE_PATH = re.compile(r"^/files/(?P<id>[0-9a-f]+)\.mp4$")
_CANCEL_PATH = re.compile(_VERSION + r"(?P<name>.+/operations/(?P<id>[^/:]+)):cancel$")
_RESPONSE_TYPE = "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse"
# status -> (Google's status name, default message)
_ERRORS = {
    400: ("INVALID_ARGUMENT", "The prompt could not be submitted. It violates the usage guidelines."),
    403: ("PERMISSION_DENIED", "Method doesn't allow unregistered callers. Please use an API key."),
    404: ("NOT_FOUND", "Operation not found."),
    429: ("RESOURCE_EXHAUSTED", "Quota exceeded for aiplatform.googleapis.com/online_prediction_requests."),
}
_FILTER_REASON = (
    "Your current safety settings for person generation blocked 1 video. "
    "You will not be charged for blocked videos. Support codes: 29310472"
)


class FakeVeoServer(FakeProviderServer):
    """Veo (Vertex AI express mode) on loopback.

    ``video_delivery``: "bytes" puts the MP4 base64 in the operation (Vertex's default),
    "uri" puts a uri to ``/files/{id}.mp4`` on this server instead.
    """

    def __init__(self, *, video_delivery: Literal["bytes", "uri"] = "bytes", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.video_delivery = video_delivery
        # Where "uri" delivery points (default: this server); tests point it at another host name.
        self.uri_origin: str | None = None
        self.project = "fake-project"
        self.location = "us-central1"

    def handle(self, request: Request) -> Response:
        """Route one request of the predictLongRunning / fetchPredictOperation API."""
        create = _CREATE_PATH.match(request.path)
        if create and request.method == "POST":
            return self._create(request, create["publisher"], create["model"])
        route: Route
        fetch = _FETCH_PATH.match(request.path)
        file = _FILE_PATH.match(request.path)
        cancel = _CANCEL_PATH.match(request.path)
        if cancel and request.method == "POST":
            route = "cancel"
        elif fetch and request.method == "POST":
            route = "poll"
        elif file and request.method == "GET":
            route = "content"
        else:
            return _error(404, f"no route {request.method} {request.path}")
        response = self._guard(request, route)
        if response is None:
            if cancel:
                response = self._cancel(cancel["name"], cancel["id"])
            elif fetch:
                response = self._fetch(fetch["resource"], str(request.json().get("operationName", "")))
            else:
                response = self._file(file["id"] if file else "")
        self.records.add_call(route, response.status)
        return response

    # Routes ------------------------------------------------------------------------------

    def _create(self, request: Request, publisher: str, model: str) -> Response:
        body = request.json()
        instances = body.get("instances") or [{}]
        instance = instances[0] if isinstance(instances[0], dict) else {}
        prompt = str(instance.get("prompt", ""))
        params: dict[str, Any] = {"model": model, **(body.get("parameters") or {})}
        script = self.faults.script_for(prompt)
        scripted = self.faults.create_status(prompt, script)
        images, problem = veo_rules.instance_images(instance, params, lite="lite" in model, inline_data=False)
        response = self._guard(request, "create") or _create_error(prompt, params, scripted, script, problem)
        job_id = None
        if response is None:
            op_id = self.new_id()
            name = self._operation_name(publisher, model, op_id)
            self.start_job(op_id, prompt, {**params, "name": name}, script, images=images)
            job_id = name
            response = json_response(200, {"name": name})
        self.records.add_create(
            CreateRecord(
                prompt=prompt,
                params=params,
                status=response.status,
                job_id=job_id,
                key_sent="x-goog-api-key" in request.headers,
                images=images,
            )
        )
        return response

    def _fetch(self, resource: str, operation_name: str) -> Response:
        prefix, _, op_id = operation_name.rpartition("/operations/")
        with self._lock:
            job = self.jobs.get(op_id)
            if job is None or prefix != resource or job.params.get("name") != operation_name:
                return _error(404, f"Operation {operation_name!r} not found.")
        self.pause_poll(job)
        with self._lock:
            done = self.advance(job)
        if not done:
            return json_response(200, {"name": operation_name, "done": False})
        return json_response(200, {"name": operation_name, "done": True, **self._result(job)})

    def _cancel(self, name: str, op_id: str) -> Response:
        with self._lock:
            job = self.jobs.get(op_id)
            if job is None or job.params.get("name") != name:
                return _error(404, f"Operation {name!r} not found.")
        self.cancel_job(op_id)
        return json_response(200, {})

    def _file(self, op_id: str) -> Response:
        with self._lock:
            job = self.jobs.get(op_id)
        if job is None or job.completed_at is None or job.script.outcome not in ("completed", "empty"):
            return _error(404, "File not found.")
        return Response(200, self.video(job, "veo"), content_type="video/mp4")

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

    def _operation_name(self, publisher: str, model: str, op_id: str) -> str:
        return (
            f"projects/{self.project}/locations/{self.location}/publishers/{publisher}"
            f"/models/{model}/operations/{op_id}"
        )

    def _result(self, job: FakeJob) -> dict[str, Any]:
        if job.cancelled_at is not None:
            return {"error": {"code": 1, "message": "Operation was cancelled."}}
        outcome = job.script.outcome
        if outcome == "failed":
            return {"error": {"code": 13, "message": job.script.message or "Video generation failed."}}
        if outcome == "filtered":
            reasons = [job.script.message or _FILTER_REASON]
            return {
                "response": {
                    "@type": _RESPONSE_TYPE,
                    "raiMediaFilteredCount": 1,
                    "raiMediaFilteredReasons": reasons,
                }
            }
        video: dict[str, str] = {"mimeType": "video/mp4"}
        if self.video_delivery == "uri":
            video["gcsUri"] = f"{self.uri_origin or self.origin}/files/{job.id}.mp4"
        else:
            video["bytesBase64Encoded"] = base64.b64encode(self.video(job, "veo")).decode()
        return {"response": {"@type": _RESPONSE_TYPE, "videos": [video]}}


def _create_error(
    prompt: str, params: dict[str, Any], scripted: int | None, script: Script, image_problem: str | None
) -> Response | None:
    problem = _parameter_problem(prompt, params) or image_problem
    if problem is not None:
        return _error(400, problem)
    if scripted is None:
        return None
    return _error(scripted, script.message, retry_after=script.retry_after)


def _parameter_problem(prompt: str, params: dict[str, Any]) -> str | None:
    """Why Vertex refuses this prompt and these parameters, or ``None``."""
    if not prompt:
        return "A prompt is required."
    if params.get("aspectRatio", "16:9") not in ASPECT_RATIOS:
        return f"Unsupported aspect ratio {params['aspectRatio']!r}."
    if params.get("resolution", "720p") not in RESOLUTIONS:
        return f"Unsupported resolution {params['resolution']!r}."
    if not 4 <= int(params.get("durationSeconds", 8)) <= 8:
        return f"Unsupported duration {params['durationSeconds']!r}; use 4 to 8 seconds."
    return None


def _error(status: int, message: str | None = None, *, retry_after: float | None = None) -> Response:
    name, default = _ERRORS.get(status, ("INTERNAL", "Internal error encountered."))
    error = {"code": status, "message": message or default, "status": name}
    response = json_response(status, {"error": error})
    if retry_after is not None:
        response.headers["retry-after"] = f"{retry_after:g}"
    return response


def _key_invalid() -> Response:
    return json_response(
        400,
        {
            "error": {
                "code": 400,
                "message": "API key not valid. Please pass a valid API key.",
                "status": "INVALID_ARGUMENT",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                        "domain": "googleapis.com",
                    }
                ],
            }
        },
    )
