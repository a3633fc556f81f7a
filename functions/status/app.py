"""GET /api/video/status/{jobId}: one row, presigned URLs for what is in S3, the progress (estimated
for providers that report none). GET /api/models: the model catalog, from videogen.catalog alone
(no database), cacheable."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aws_lambda_powertools.event_handler import Response, content_types

from videogen import clips
from videogen.catalog_schemas import Catalog
from videogen.db import session_scope
from videogen.http import api_handler, current_user, make_resolver
from videogen.repositories import video_jobs
from videogen.schemas import JobStatus

CATALOG_CACHE_CONTROL = "public, max-age=3600"
"""The catalog changes with a deploy or at a retirement date: an hour's staleness is harmless."""

app = make_resolver()


@app.get("/api/video/status/<jobId>")
def get_status(jobId: uuid.UUID) -> JobStatus:
    user_id = current_user(app)
    with session_scope(autocommit=True) as s:
        job = video_jobs.get_status_for_user(s, user_id, jobId)
    return clips.job_status(job, datetime.now(UTC))


@app.get("/api/models")
def list_models() -> Response[Catalog]:
    catalog = Catalog.on(datetime.now(UTC).date())
    headers = {"Cache-Control": CATALOG_CACHE_CONTROL}
    return Response(200, content_types.APPLICATION_JSON, catalog, headers=headers)


lambda_handler = api_handler(app)
