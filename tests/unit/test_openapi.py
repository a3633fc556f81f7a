"""docs/openapi.json is generated from the resolvers; a stale copy fails here."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from tools import openapi
from videogen.api import contract, input_rule
from videogen.catalog import PROVIDERS

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
# Built at collection, before sockets are off: importing the functions sets up the X-Ray SDK,
# whose emitter opens a UDP socket.
RENDERED = openapi.render()


OPEN_ROUTES = ("GET /api/health", "POST /api/webhooks/{source}")
"""Called without an identity: liveness probes, and providers' webhooks (signed instead)."""


def test_committed_openapi_document_matches_the_code():
    assert DOC.read_text() == RENDERED, "docs/openapi.json is stale: run `make openapi`"


def test_every_route_of_the_api_is_documented():
    paths = json.loads(RENDERED)["paths"]

    assert set(paths) == {
        "/api/health",
        "/api/health/ready",
        "/api/keys",
        "/api/keys/{provider}",
        "/api/storyboards",
        "/api/storyboards/{id}",
        "/api/storyboards/{id}/generate",
        "/api/models",
        "/api/usage",
        "/api/storyboards/{id}/compile",
        "/api/storyboards/{id}/references",
        "/api/storyboards/{id}/references/{refId}",
        "/api/storyboards/{id}/references/{refId}/complete",
        "/api/storyboards/{id}/compiled-videos",
        "/api/compiled-videos/{id}",
        "/api/video/generate",
        "/api/video/jobs",
        "/api/video/jobs/{jobId}/cancel",
        "/api/video/status/{jobId}",
        "/api/webhooks/{source}",
    }
    assert set(paths["/api/storyboards/{id}"]) == {"get", "patch", "delete"}


def _operations(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def test_the_document_is_valid_openapi_3_1():
    document = json.loads(RENDERED)

    validate(document)  # openapi-spec-validator: raises on any violation, dangling $refs included
    assert document["openapi"] == "3.1.0"


def test_every_operation_has_a_stable_id_a_summary_and_a_tag():
    ids = {name: op["operationId"] for name, op in _operations(json.loads(RENDERED))}

    assert ids == {
        "GET /api/health": "getHealth",
        "GET /api/health/ready": "getHealthReady",
        "GET /api/models": "listModels",
        "GET /api/usage": "getUsage",
        "GET /api/keys": "listApiKeys",
        "PUT /api/keys/{provider}": "putApiKey",
        "DELETE /api/keys/{provider}": "deleteApiKey",
        "GET /api/storyboards": "listStoryboards",
        "POST /api/storyboards": "createStoryboard",
        "GET /api/storyboards/{id}": "getStoryboard",
        "PATCH /api/storyboards/{id}": "updateStoryboard",
        "DELETE /api/storyboards/{id}": "deleteStoryboard",
        "POST /api/storyboards/{id}/generate": "generateStoryboard",
        "POST /api/storyboards/{id}/compile": "compileStoryboard",
        "POST /api/storyboards/{id}/references": "createReference",
        "GET /api/storyboards/{id}/references": "listReferences",
        "POST /api/storyboards/{id}/references/{refId}/complete": "completeReference",
        "DELETE /api/storyboards/{id}/references/{refId}": "deleteReference",
        "GET /api/storyboards/{id}/compiled-videos": "listCompiledVideos",
        "GET /api/compiled-videos/{id}": "getCompiledVideo",
        "POST /api/video/generate": "generateVideo",
        "GET /api/video/jobs": "listVideoJobs",
        "POST /api/video/jobs/{jobId}/cancel": "cancelVideoJob",
        "POST /api/webhooks/{source}": "receiveWebhook",
        "GET /api/video/status/{jobId}": "getVideoStatus",
    }
    for name, operation in _operations(json.loads(RENDERED)):
        assert not operation["summary"].startswith(name.split()[0]), name  # not Powertools' "GET /path"
        assert operation["tags"], name


def test_no_operation_documents_a_422_the_api_never_sends():
    document = json.loads(RENDERED)

    assert "422" not in json.dumps([op["responses"] for _, op in _operations(document)])
    assert not {"HTTPValidationError", "ValidationError"} & set(document["components"]["schemas"])


def test_every_operation_documents_the_errors_every_request_can_meet():
    for name, operation in _operations(json.loads(RENDERED)):
        answers = operation["responses"]
        expected = {"400", "413", "429", "500", "503"}
        if name not in OPEN_ROUTES:
            expected.add("401")
        if name.split()[0] in ("POST", "PUT", "PATCH"):
            expected.add("415")
        assert expected <= set(answers), name
        assert answers["400"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ValidationFailed"
        }
        for status in expected - {"400", "503"}:
            assert answers[status]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ApiError"
            }, (name, status)


def test_every_route_but_liveness_and_webhooks_needs_the_jwt_or_locally_x_dev_user():
    document = json.loads(RENDERED)

    assert document["components"]["securitySchemes"]["bearerJwt"]["bearerFormat"] == "JWT"
    assert document["components"]["securitySchemes"]["devUser"]["name"] == "X-Dev-User"
    for name, operation in _operations(document):
        expected: list[dict[str, list[str]]] | None = (
            None if name in OPEN_ROUTES else [{"bearerJwt": []}, {"devUser": []}]
        )
        assert operation.get("security") == expected, name


def test_statuses_and_providers_are_enums_of_what_the_code_answers():
    schemas = json.loads(RENDERED)["components"]["schemas"]

    for model in ("VideoJobOut", "JobStatus"):
        assert schemas[model]["properties"]["status"]["enum"] == [
            "pending",
            "processing",
            "completed",
            "failed",
            "cancelled",
        ]
    assert schemas["GenerateAccepted"]["properties"]["status"]["const"] == "queued"
    for model in ("VideoJobOut", "ApiKeySummary", "ApiKeyDeleted", "GenerateRequest"):
        assert schemas[model]["properties"]["provider"]["enum"] == list(PROVIDERS)
    assert schemas["ApiError"]["anyOf"] == [
        {"$ref": "#/components/schemas/ErrorBody"},
        {"$ref": "#/components/schemas/GatewayMessage"},
    ]


def _schemas(node):
    """Every schema-like dict of the document (examples left out)."""
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            yield item
            pending.extend(v for k, v in item.items() if k not in ("examples", "example"))


def test_the_edge_rule_is_stated_in_every_string_and_number_schema():
    document = json.loads(RENDERED)

    for schema in [*_schemas(document["paths"]), *_schemas(document["components"])]:
        kind = schema.get("type")
        if kind == "string" and not {"format", "enum", "const"} & schema.keys():
            patterns = [schema.get("pattern"), *(p.get("pattern") for p in schema.get("allOf", []))]
            assert contract.NO_NUL in patterns or schema.get("pattern") == input_rule.IF_MATCH_PATTERN, schema
        if kind in ("integer", "number") and not {"enum", "const"} & schema.keys():
            assert abs(schema["minimum"]) <= input_rule.MAX_SAFE_INTEGER, schema
            assert abs(schema["maximum"]) <= input_rule.MAX_SAFE_INTEGER, schema
        assert schema.get("additionalProperties") is not True, schema


@pytest.mark.parametrize(
    "value", ["1", '"7"', 'W/"42"', "2147483647", "2147483648", "9" * 11, "\u00b2", "1.0", "-1", '"3', "0"]
)
def test_the_documented_if_match_pattern_is_the_rule_the_code_applies(value):
    [header] = [
        p
        for p in json.loads(RENDERED)["paths"]["/api/storyboards/{id}"]["patch"]["parameters"]
        if p["name"] == "if-match"
    ]
    documented = re.search(header["schema"]["pattern"], value) is not None

    try:
        input_rule.parse_version(value)
        applied = True
    except input_rule.Refused:
        applied = False

    assert documented == applied


def test_a_references_kind_and_file_are_coupled_in_the_document_as_the_service_checks_them():
    from videogen.references.music import AUDIO_TYPES  # noqa: PLC0415
    from videogen.runtime.config import Settings  # noqa: PLC0415

    schema = openapi.build_document()["components"]["schemas"]["ReferenceCreate"]
    music, image = schema["then"]["properties"], schema["else"]["properties"]

    assert schema["if"] == {"properties": {"kind": {"const": "music"}}}
    assert set(music["contentType"]["enum"]) == AUDIO_TYPES
    assert not set(image["contentType"]["enum"]) & AUDIO_TYPES
    # the limits stated are the settings' defaults, which the service checks
    assert image["sizeBytes"]["maximum"] == Settings.model_fields["reference_max_bytes"].default
    music_max = Settings.model_fields["reference_music_max_bytes"].default
    assert schema["properties"]["sizeBytes"]["maximum"] == music_max
