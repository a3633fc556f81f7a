"""GET /api/video/status/{jobId}: one row, presigned URLs for what is in S3, the progress (estimated
for providers that report none). GET /api/models: the model catalog, from videogen.catalog alone
(no database), cacheable."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path

from videogen.api import contract, job_view
from videogen.api.resolver import api_handler, current_user, make_resolver
from videogen.api.schemas.catalog import Catalog
from videogen.api.schemas.jobs import JobStatus
from videogen.data import statements
from videogen.data.repositories import video_jobs

CATALOG_CACHE_CONTROL = "public, max-age=3600"
"""The catalog changes with a deploy or at a retirement date: an hour's staleness is harmless."""

app = make_resolver()
JobId = Annotated[uuid.UUID, Path(description="The job's id, as generate answered it")]


@app.get(
    "/api/video/status/<jobId>",
    **contract.operation(
        "getVideoStatus",
        "Follow a video job",
        (200, "The job's status, progress and, once completed, presigned URLs."),
        tags=["video"],
        description="`progressEstimated` is true when the provider reports no progress (Veo): the "
        "figure then comes from the time elapsed against the model's typical generation time, and "
        "stays below 100 until the video is stored.",
        errors={
            404: (
                "No job of the caller has this id (another user's answers the same).",
                {
                    "error": "Video job not found",
                    "details": {"jobId": "5d0c7b9e-2f0a-4e55-8a8e-0c1f5b7f3a21"},
                },
            )
        },
    ),
)
def get_status(jobId: JobId) -> JobStatus:
    user_id = current_user(app)
    with statements.connection() as db:
        job = video_jobs.get_status_for_user(db, user_id, jobId)
    return job_view.job_status(job, datetime.now(UTC))


@app.get(
    "/api/models",
    **contract.operation(
        "listModels",
        "The model catalog",
        (200, "Providers and their models, durations, sizes and prices (with source and date)."),
        tags=["catalog"],
        description="Current models, and retired ones with their replacement and retirement date. "
        f"Needs no database; answered with `Cache-Control: {CATALOG_CACHE_CONTROL}`.",
    ),
)
def list_models() -> Response[Catalog]:
    catalog = Catalog.on(datetime.now(UTC).date())
    headers = {"Cache-Control": CATALOG_CACHE_CONTROL}
    return Response(200, content_types.APPLICATION_JSON, catalog, headers=headers)


lambda_handler = api_handler(app)
