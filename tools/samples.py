"""The sample events in events/: ``python -m tools.samples`` (re)writes them.

File names are ``<function>.<case>.<status>.json``: the function folder the event is for, what
it shows, and the HTTP status its handler answers once the seed data below exists (the
events test seeds it and checks every file). Use one with
``sam local invoke StoryboardsFunction -e events/storyboards.create.201.json``. The migrate
function's custom resource requests are ``migrate.<request type>.json``.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

from tools.events import json_request, write_event
from videogen.api.schemas.storyboards import STORYBOARD_EXAMPLE
from videogen.webhooks import callbacks

SAMPLE_WEBHOOK_SECRET = "test-webhook-secret-not-for-production-0123456789"  # noqa: S105 (tests' value)
"""The webhook secret the tests run with (tests/conftest.py), under which the webhook samples'
tokens are made; a deployed stack has its own, so there they answer 404."""
SAMPLE_USER = "user-123"
SAMPLE_STORYBOARD_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
SAMPLE_JOB_ID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
SAMPLE_SCENE_ID = "scene-1"
SAMPLE_CLEANUP_ID = "5f0c6b1e-3a2d-4c8e-9b7a-1d2e3f4a5b6c"
"""The storage cleanup ``events/storage_cleanup.sqs.json`` carries (written by hand, as the
SQS samples are)."""
SAMPLE_SCENE_WITHOUT_CLIP = "scene-2"
SAMPLE_FILM_ID = "9a4c6e2b-5d1f-4a8e-b3c7-2f6d8e0a1b4c"
MISSING_ID = "3b241101-e2bb-4255-8caf-4136c566a962"

_BOARD = f"/api/storyboards/{SAMPLE_STORYBOARD_ID}"
_BOARD_ROUTE = "/api/storyboards/{id}"
_NEW_STORYBOARD = STORYBOARD_EXAMPLE


def _storyboards() -> dict[str, dict[str, Any]]:
    get = ("GET", "/api/storyboards")
    post = ("POST", "/api/storyboards")
    return {
        "create.201": json_request(*post, f"POST {post[1]}", body=_NEW_STORYBOARD),
        "create-unauthenticated.401": json_request(*post, f"POST {post[1]}", body=_NEW_STORYBOARD, sub=None),
        "create-invalid.400": json_request(
            *post,
            f"POST {post[1]}",
            body={"name": "", "presetKey": "x", "scenes": [{"id": "a"}, {"id": "a"}]},
        ),
        "create-unknown-field.400": json_request(
            *post, f"POST {post[1]}", body=_NEW_STORYBOARD | {"userId": "x"}
        ),
        "create-malformed-json.400": json_request(*post, f"POST {post[1]}", body='{"name": "Pilot",'),
        "create-not-json.415": json_request(
            *post, f"POST {post[1]}", body="name=Pilot", headers={"content-type": "text/plain"}
        ),
        "list.200": json_request(*get, f"GET {get[1]}", query={"limit": "10"}),
        "search.200": json_request(*get, f"GET {get[1]}", query={"q": "pilot"}),
        "list-bad-limit.400": json_request(*get, f"GET {get[1]}", query={"limit": "1000"}),
        "get.200": json_request(
            "GET", _BOARD, f"GET {_BOARD_ROUTE}", path_parameters={"id": SAMPLE_STORYBOARD_ID}
        ),
        "get-other-user.404": json_request(
            "GET", _BOARD, f"GET {_BOARD_ROUTE}", path_parameters={"id": SAMPLE_STORYBOARD_ID}, sub="user-999"
        ),
        "patch.200": json_request(
            "PATCH",
            _BOARD,
            f"PATCH {_BOARD_ROUTE}",
            path_parameters={"id": SAMPLE_STORYBOARD_ID},
            body={"name": "Pilot episode (v2)"},
            headers={"if-match": "1"},
        ),
        "patch-stale-version.412": json_request(
            "PATCH",
            _BOARD,
            f"PATCH {_BOARD_ROUTE}",
            path_parameters={"id": SAMPLE_STORYBOARD_ID},
            body={"name": "Lost update"},
            headers={"if-match": "99"},
        ),
        "patch-empty.400": json_request(
            "PATCH", _BOARD, f"PATCH {_BOARD_ROUTE}", path_parameters={"id": SAMPLE_STORYBOARD_ID}, body={}
        ),
        "delete.200": json_request(
            "DELETE", _BOARD, f"DELETE {_BOARD_ROUTE}", path_parameters={"id": SAMPLE_STORYBOARD_ID}
        ),
        "delete-missing.404": json_request(
            "DELETE",
            f"/api/storyboards/{MISSING_ID}",
            f"DELETE {_BOARD_ROUTE}",
            path_parameters={"id": MISSING_ID},
        ),
    }


def _generate() -> dict[str, dict[str, Any]]:
    path = "/api/video/generate"
    route = f"POST {path}"
    body = {"storyboardId": SAMPLE_STORYBOARD_ID, "sceneId": SAMPLE_SCENE_ID, "provider": "openai"}
    return {
        "openai.202": json_request("POST", path, route, body=body, headers={"idempotency-key": "sample-1"}),
        "unauthenticated.401": json_request("POST", path, route, body=body, sub=None),
        "invalid-duration.400": json_request("POST", path, route, body=body | {"durationSeconds": 5}),
        "retired-model.400": json_request(
            "POST", path, route, body=body | {"provider": "veo", "model": "veo-3.0-generate-001"}
        ),
        "missing-scene.400": json_request("POST", path, route, body=body | {"sceneId": "no-such-scene"}),
        "no-active-key.409": json_request("POST", path, route, body=body | {"provider": "veo"}),
        "other-users-storyboard.404": json_request("POST", path, route, body=body, sub="user-999"),
        **_generate_storyboard(),
    }


def _generate_storyboard() -> dict[str, dict[str, Any]]:
    path = f"{_BOARD}/generate"
    route = f"POST {_BOARD_ROUTE}/generate"

    def call(body: dict[str, Any], sub: str | None = SAMPLE_USER, **kwargs: Any) -> dict[str, Any]:
        params = {"id": SAMPLE_STORYBOARD_ID}
        return json_request("POST", path, route, path_parameters=params, body=body, sub=sub, **kwargs)

    return {
        "storyboard.202": call({"provider": "openai"}, headers={"idempotency-key": "sample-batch-1"}),
        "storyboard-scenes.202": call(
            {"provider": "openai", "sceneIds": [SAMPLE_SCENE_ID], "regenerate": True}
        ),
        "storyboard-unknown-scene.400": call({"provider": "openai", "sceneIds": ["no-such-scene"]}),
        "storyboard-no-active-key.409": call({"provider": "veo"}),
        "storyboard-other-user.404": call({"provider": "openai"}, sub="user-999"),
    }


def _status() -> dict[str, dict[str, Any]]:
    route = "GET /api/video/status/{jobId}"

    def call(job_id: str, sub: str | None = SAMPLE_USER) -> dict[str, Any]:
        return json_request(
            "GET", f"/api/video/status/{job_id}", route, path_parameters={"jobId": job_id}, sub=sub
        )

    return {
        "get.200": call(SAMPLE_JOB_ID),
        "unauthenticated.401": call(SAMPLE_JOB_ID, sub=None),
        "other-user.404": call(SAMPLE_JOB_ID, sub="user-999"),
        "invalid-id.400": call("not-a-uuid"),
        "models.200": json_request("GET", "/api/models", "GET /api/models"),
    }


def _jobs() -> dict[str, dict[str, Any]]:
    jobs = ("GET", "/api/video/jobs", "GET /api/video/jobs")
    usage = ("GET", "/api/usage", "GET /api/usage")

    def cancel(job_id: str, sub: str | None = SAMPLE_USER) -> dict[str, Any]:
        path = f"/api/video/jobs/{job_id}/cancel"
        route = "POST /api/video/jobs/{jobId}/cancel"
        return json_request("POST", path, route, path_parameters={"jobId": job_id}, sub=sub)

    return {
        "list.200": json_request(*jobs, query={"limit": "10"}),
        "list-filtered.200": json_request(
            *jobs, query={"status": "pending", "storyboardId": SAMPLE_STORYBOARD_ID}
        ),
        "list-bad-status.400": json_request(*jobs, query={"status": "exploded"}),
        "cancel.200": cancel(SAMPLE_JOB_ID),
        "cancel-other-user.404": cancel(SAMPLE_JOB_ID, sub="user-999"),
        "cancel-unauthenticated.401": cancel(SAMPLE_JOB_ID, sub=None),
        "usage.200": json_request(*usage, query={"days": "7"}),
        "usage-bad-days.400": json_request(*usage, query={"days": "91"}),
    }


def _api_keys() -> dict[str, dict[str, Any]]:
    def put(body: Any, sub: str | None = SAMPLE_USER) -> dict[str, Any]:
        return json_request(
            "PUT",
            "/api/keys/openai",
            "PUT /api/keys/{provider}",
            path_parameters={"provider": "openai"},
            body=body,
            sub=sub,
        )

    return {
        # .invalid never resolves (RFC 6761): the sample saves the key unverified, on any machine.
        "put.200": put(
            {"apiKey": "sk-sample-0000000000000000wxyz", "baseUrl": "https://videos.gateway.invalid/v1"}
        ),
        "put-invalid.400": put({"apiKey": "short"}),
        "put-unauthenticated.401": put({"apiKey": "sk-sample-0000000000000000wxyz"}, sub=None),
        "list.200": json_request("GET", "/api/keys", "GET /api/keys"),
        "delete.200": json_request(
            "DELETE",
            "/api/keys/openai",
            "DELETE /api/keys/{provider}",
            path_parameters={"provider": "openai"},
        ),
        "delete-unknown-provider.400": json_request(
            "DELETE",
            "/api/keys/runway",
            "DELETE /api/keys/{provider}",
            path_parameters={"provider": "runway"},
        ),
    }


def _health() -> dict[str, dict[str, Any]]:
    ready = ("GET", "/api/health/ready", "GET /api/health/ready")
    return {
        "get.200": json_request("GET", "/api/health", "GET /api/health", sub=None),
        "ready.200": json_request(*ready),
        "ready-unauthenticated.401": json_request(*ready, sub=None),
    }


def _films() -> dict[str, dict[str, Any]]:
    compile_path, compile_route = f"{_BOARD}/compile", "POST /api/storyboards/{id}/compile"
    board = {"id": SAMPLE_STORYBOARD_ID}

    def compile_(body: Any = None, sub: str | None = SAMPLE_USER, **kwargs: Any) -> dict[str, Any]:
        return json_request(
            "POST", compile_path, compile_route, path_parameters=board, body=body, sub=sub, **kwargs
        )

    def get(path: str, route: str, ids: dict[str, str], sub: str = SAMPLE_USER) -> dict[str, Any]:
        return json_request("GET", path, route, path_parameters=ids, sub=sub)

    film = (f"/api/compiled-videos/{SAMPLE_FILM_ID}", "GET /api/compiled-videos/{id}", {"id": SAMPLE_FILM_ID})
    films = (f"{_BOARD}/compiled-videos", "GET /api/storyboards/{id}/compiled-videos", board)
    order = {"scenesOrder": [SAMPLE_SCENE_ID]}
    return {
        "compile.202": compile_(order, headers={"idempotency-key": "film-sample-1"}),
        "compile-scene-without-clip.409": compile_(),
        "compile-unknown-scene.400": compile_({"scenesOrder": [SAMPLE_SCENE_ID, "no-such-scene"]}),
        "compile-repeated-scene.400": compile_({"scenesOrder": [SAMPLE_SCENE_ID, SAMPLE_SCENE_ID]}),
        "compile-other-users-storyboard.404": compile_(order, sub="user-999"),
        "compile-unauthenticated.401": compile_(order, sub=None),
        "get.200": get(*film),
        "get-other-user.404": get(*film, sub="user-999"),
        "list.200": get(*films),
        "list-other-user.404": get(*films, sub="user-999"),
    }


def _custom_resource(request_type: str) -> dict[str, Any]:
    """A CloudFormation custom resource request for the migrate function."""
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:videogen-dev-migrate",
        "ResponseURL": (
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/"
            "arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/videogen-dev/sample"
            "?X-Amz-Signature=sample"
        ),
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/videogen-dev/sample",
        "RequestId": "5d478078-13e9-4b7c-8d8f-6a3e0e9f1a11",
        "LogicalResourceId": "SchemaMigration",
        "ResourceType": "Custom::SchemaMigration",
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:videogen-dev-migrate",
            "CodeVersion": "1",
        },
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = "schema-SchemaMigration"
    return event


def migrate_samples() -> dict[str, dict[str, Any]]:
    """The migrate function's custom resource requests, by file stem."""
    return {f"migrate.{kind.lower()}": _custom_resource(kind) for kind in ("Create", "Update", "Delete")}


def _references() -> dict[str, dict[str, Any]]:
    route = "/api/storyboards/{id}/references"
    path, board = f"{_BOARD}/references", {"id": SAMPLE_STORYBOARD_ID}
    body = {"kind": "character", "label": "Ada, front", "contentType": "image/png", "sizeBytes": 482133}
    other = {"id": MISSING_ID}
    complete = {"id": SAMPLE_STORYBOARD_ID, "refId": MISSING_ID}
    return {
        "create.201": json_request("POST", path, f"POST {route}", path_parameters=board, body=body),
        "create-too-large.400": json_request(
            "POST", path, f"POST {route}", path_parameters=board, body=body | {"sizeBytes": 50_000_000}
        ),
        "create-other-users-storyboard.404": json_request(
            "POST",
            f"/api/storyboards/{MISSING_ID}/references",
            f"POST {route}",
            path_parameters=other,
            body=body,
        ),
        "list.200": json_request("GET", path, f"GET {route}", path_parameters=board),
        "complete-unknown.404": json_request(
            "POST",
            f"{path}/{MISSING_ID}/complete",
            f"POST {route}/{{refId}}/complete",
            path_parameters=complete,
        ),
    }


def _webhooks() -> dict[str, dict[str, Any]]:
    job = uuid.UUID(SAMPLE_JOB_ID)
    token = callbacks.token("fal", job, SAMPLE_WEBHOOK_SECRET.encode())
    route = ("POST", "/api/webhooks/fal", "POST /api/webhooks/{source}")
    body = {"request_id": "764cabcf-b745-4b3e-ae38-1200304cf45b", "status": "OK", "payload": {}}

    def webhook(query: dict[str, str]) -> dict[str, Any]:
        return json_request(*route, path_parameters={"source": "fal"}, query=query, body=body, sub=None)

    # An OpenAI-compatible endpoint's registered URL names a stored key; this one keeps no secret.
    key_token = callbacks.token(callbacks.ENDPOINT_SOURCE, job, SAMPLE_WEBHOOK_SECRET.encode())
    endpoint_event = {
        "id": "evt_sample",
        "object": "event",
        "type": "video.completed",
        "data": {"id": "video_1"},
    }
    endpoint = json_request(
        "POST",
        "/api/webhooks/openai",
        "POST /api/webhooks/{source}",
        path_parameters={"source": callbacks.ENDPOINT_SOURCE},
        query={"key": SAMPLE_JOB_ID, "token": key_token},
        body=endpoint_event,
        sub=None,
    )
    return {
        "unknown-callback.404": webhook({"job": SAMPLE_JOB_ID, "token": "x" * callbacks.TOKEN_CHARS}),
        "unsigned.401": webhook({"job": SAMPLE_JOB_ID, "token": token}),
        "openai-key-without-secret.404": endpoint,
    }


def api_samples() -> dict[str, dict[str, Any]]:
    """Every API sample event by file stem."""
    groups = {
        "storyboards": _storyboards(),
        "generate": _generate(),
        "status_and_models": _status(),
        "jobs": _jobs(),
        "api_keys": _api_keys(),
        "health": _health(),
        "films": _films(),
        "references": _references(),
        "webhooks": _webhooks(),
    }
    return {f"{fn}.{case}": event for fn, cases in groups.items() for case, event in cases.items()}


def main(argv: list[str]) -> int:
    """Write every sample to the directory given (default: events/)."""
    directory = Path(argv[0] if argv else "events")
    directory.mkdir(exist_ok=True)
    written = api_samples() | migrate_samples()
    for name, event in written.items():
        write_event(directory, name, event)
    print(json.dumps({"written": len(written), "directory": str(directory)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
