"""/api/storyboards: create, list and search, get with jobs, patch (If-Match), delete."""

from __future__ import annotations

import uuid
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query

from videogen import edge
from videogen.db import session_scope
from videogen.http import api_handler, current_user, make_resolver, metrics
from videogen.repositories import storyboards
from videogen.schemas import (
    DeleteResult,
    StoryboardCreate,
    StoryboardDetailEnvelope,
    StoryboardEnvelope,
    StoryboardList,
    StoryboardOut,
    StoryboardPatch,
    StoryboardWithJobsOut,
    VideoJobOut,
    scenes_json,
)

app = make_resolver()


@app.post("/api/storyboards", status_code=201)
def create_storyboard(body: Annotated[StoryboardCreate, Body()]) -> StoryboardEnvelope:
    user_id = current_user(app)
    with session_scope(autocommit=True) as s:  # one statement
        board = storyboards.create(
            s,
            user_id,
            name=body.name,
            preset_key=body.preset_key,
            character=body.character,
            scenes=scenes_json(body.scenes),
        )
    metrics.add_metric(name="StoryboardsCreated", unit="Count", value=1)
    return StoryboardEnvelope(storyboard=StoryboardOut.model_validate(board))


@app.get("/api/storyboards")
def list_storyboards(
    limit: Annotated[int, Query(ge=1, le=storyboards.MAX_PAGE_SIZE)] = storyboards.DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> StoryboardList:
    user_id = current_user(app)
    with session_scope(autocommit=True) as s:
        page = storyboards.list_for_user(s, user_id, limit=limit, cursor=cursor, name_contains=q or None)
    return StoryboardList(
        storyboards=[StoryboardOut.model_validate(b) for b in page.items], next_cursor=page.next_cursor
    )


@app.get("/api/storyboards/<id>")
def get_storyboard(id: uuid.UUID) -> StoryboardDetailEnvelope:
    user_id = current_user(app)
    with session_scope(autocommit=True) as s:
        found = storyboards.get_with_jobs(s, user_id, id)
    out = StoryboardOut.model_validate(found.storyboard)
    jobs = [VideoJobOut.model_validate(j) for j in found.video_jobs]
    return StoryboardDetailEnvelope(storyboard=StoryboardWithJobsOut(**out.__dict__, video_jobs=jobs))


@app.patch("/api/storyboards/<id>")
def patch_storyboard(
    id: uuid.UUID,
    body: Annotated[StoryboardPatch, Body()],
    if_match: Annotated[str | None, Header(alias="if-match", pattern=edge.IF_MATCH_PATTERN)] = None,
) -> StoryboardEnvelope:
    user_id = current_user(app)
    with session_scope(autocommit=True) as s:  # one statement
        board = storyboards.update(
            s, user_id, id, body.changes(), expected_version=edge.parse_version(if_match)
        )
    return StoryboardEnvelope(storyboard=StoryboardOut.model_validate(board))


@app.delete("/api/storyboards/<id>")
def delete_storyboard(id: uuid.UUID) -> DeleteResult:
    user_id = current_user(app)
    with session_scope(autocommit=True) as s:  # one statement
        storyboards.delete(s, user_id, id)
    return DeleteResult(message="Storyboard deleted")


lambda_handler = api_handler(app)
