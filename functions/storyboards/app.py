"""/api/storyboards: create, list and search, get with jobs (presigned URLs, each scene's newest
clip and whether it is stale), patch (If-Match), delete (its files in S3 follow through a queued
storage cleanup)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from pydantic.json_schema import SkipJsonSchema

from videogen.api import contract, input_rule, job_view
from videogen.api.resolver import api_handler, current_user, make_resolver
from videogen.api.schemas.storyboards import (
    DeleteResult,
    StoryboardCreate,
    StoryboardDetailEnvelope,
    StoryboardEnvelope,
    StoryboardList,
    StoryboardPatch,
    StoryboardWithJobsOut,
    scenes_json,
)
from videogen.data import statements
from videogen.data.repositories import storyboards
from videogen.messaging.messages import cleanup_sender
from videogen.runtime.observability import metrics
from videogen.storage import cleanup

app = make_resolver()

TAGS = ["storyboards"]
NOT_FOUND = {
    404: (
        "No storyboard of the caller has this id (another user's answers the same).",
        {"error": "Storyboard not found", "details": {"id": "0b6f1c64-3f47-4d3a-9a51-6f5d7c2e9b10"}},
    )
}
FOLLOW = contract.links(
    {
        "GetStoryboard": "getStoryboard",
        "UpdateStoryboard": "updateStoryboard",
        "DeleteStoryboard": "deleteStoryboard",
    },
    "id",
    "$response.body#/storyboard/id",
)
StoryboardId = Annotated[uuid.UUID, Path(description="The storyboard's id")]
# Optional parameters are never null: SkipJsonSchema leaves null out of the document.
IfMatch = Annotated[
    str | SkipJsonSchema[None],
    Header(
        alias="if-match",
        json_schema_extra={"pattern": input_rule.IF_MATCH_PATTERN},  # enforced by input_rule.parse_version
        description='The version last read (`3`, `"3"` or `W/"3"`): the change applies only if it is '
        "still current, else 412. Without it the last writer wins.",
    ),
]


@app.post(
    "/api/storyboards",
    status_code=201,
    **contract.operation(
        "createStoryboard",
        "Create a storyboard",
        (201, "The storyboard as stored, at version 1."),
        tags=TAGS,
        body=True,
        links=FOLLOW,
    ),
)
def create_storyboard(body: Annotated[StoryboardCreate, Body()]) -> StoryboardEnvelope:
    user_id = current_user(app)
    with statements.connection() as db:  # one statement
        board = storyboards.create(
            db,
            user_id,
            name=body.name,
            preset_key=body.preset_key,
            character=body.character,
            scenes=scenes_json(body.scenes),
        )
    metrics.add_metric(name="StoryboardsCreated", unit="Count", value=1)
    return StoryboardEnvelope(storyboard=board)


@app.get(
    "/api/storyboards",
    **contract.operation(
        "listStoryboards",
        "List and search the caller's storyboards",
        (200, "A page of storyboards."),
        tags=TAGS,
        description="Most recently changed first, a page at a time (keyset pagination: pages stay "
        "consistent while storyboards change).",
        invalid="A `cursor` this API did not return is refused too.",
    ),
)
def list_storyboards(
    limit: Annotated[
        int, Query(ge=1, le=storyboards.MAX_PAGE_SIZE, description="Storyboards per page")
    ] = storyboards.DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        str | SkipJsonSchema[None], Query(max_length=512, description="The `nextCursor` of the previous page")
    ] = None,
    q: Annotated[
        str | SkipJsonSchema[None],
        Query(max_length=200, description="Only storyboards whose name contains this, any case"),
    ] = None,
) -> StoryboardList:
    user_id = current_user(app)
    with statements.connection() as db:
        page = storyboards.list_for_user(db, user_id, limit=limit, cursor=cursor, name_contains=q or None)
    return StoryboardList(storyboards=page.items, next_cursor=page.next_cursor)


@app.get(
    "/api/storyboards/<id>",
    **contract.operation(
        "getStoryboard",
        "Get a storyboard with its video jobs and each scene's clip",
        (
            200,
            "The storyboard, its jobs newest first (presigned URLs once done), each scene's newest clip.",
        ),
        tags=TAGS,
        description="`sceneClips` has one entry per scene: its newest job's status, progress, presigned "
        "video and thumbnail URLs when completed, its cost, and `stale: true` when the scene, the "
        "character or the preset changed since that clip was made.",
        errors=NOT_FOUND,
    ),
)
def get_storyboard(id: StoryboardId) -> StoryboardDetailEnvelope:
    user_id = current_user(app)
    with statements.connection() as db:
        found = storyboards.get_with_jobs(db, user_id, id)
    now = datetime.now(UTC)
    views = [(job, job_view.job_view(job, now)) for job in found.video_jobs]
    detail = StoryboardWithJobsOut(
        **found.storyboard.__dict__,
        video_jobs=[view for _, view in views],
        scene_clips=job_view.scene_clips(found.storyboard, views),
    )
    return StoryboardDetailEnvelope(storyboard=detail)


@app.patch(
    "/api/storyboards/<id>",
    **contract.operation(
        "updateStoryboard",
        "Change a storyboard",
        (200, "The storyboard as changed."),
        tags=TAGS,
        description="Changes the fields sent and bumps `version`, in one statement.",
        body=True,
        invalid=(
            f"`If-Match` must be a version: ASCII digits up to {input_rule.MAX_VERSION}, optionally quoted."
        ),
        errors=NOT_FOUND
        | {
            412: (
                "`If-Match` names a version that is no longer current; nothing changed.",
                {"error": "Storyboard was changed by someone else", "details": {"currentVersion": 4}},
            )
        },
    ),
)
def patch_storyboard(
    id: StoryboardId, body: Annotated[StoryboardPatch, Body()], if_match: IfMatch = None
) -> StoryboardEnvelope:
    user_id = current_user(app)
    with statements.connection() as db:  # one statement
        board = storyboards.update(
            db, user_id, id, body.changes(), expected_version=input_rule.parse_version(if_match)
        )
    return StoryboardEnvelope(storyboard=board)


@app.delete(
    "/api/storyboards/<id>",
    **contract.operation(
        "deleteStoryboard",
        "Delete a storyboard with its jobs, films and files",
        (200, "Deleted."),
        tags=TAGS,
        description="The rows go at once; the files in S3 (clips, thumbnails, films) follow through a "
        "queued storage cleanup, at least once: earlier presigned URLs then stop working.",
        errors=NOT_FOUND,
    ),
)
def delete_storyboard(id: StoryboardId) -> DeleteResult:
    # One statement (the delete and its cleanup row), then the cleanup's queue send.
    cleanup.delete_storyboard(current_user(app), id, cleanup_sender())
    return DeleteResult(message="Storyboard deleted")


lambda_handler = api_handler(app)
