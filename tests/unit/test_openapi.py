"""docs/openapi.json is generated from the resolvers; a stale copy fails here."""

from __future__ import annotations

from pathlib import Path

from tools import openapi

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_openapi_document_matches_the_code():
    assert DOC.read_text() == openapi.render(), "docs/openapi.json is stale: run `make openapi`"


def test_every_route_of_the_api_is_documented():
    paths = openapi.build_document()["paths"]

    assert set(paths) == {
        "/api/health",
        "/api/keys",
        "/api/keys/{provider}",
        "/api/storyboards",
        "/api/storyboards/{id}",
        "/api/storyboards/{id}/compile",
        "/api/storyboards/{id}/compiled-videos",
        "/api/compiled-videos/{id}",
        "/api/video/generate",
        "/api/video/status/{jobId}",
    }
    assert set(paths["/api/storyboards/{id}"]) == {"get", "patch", "delete"}
