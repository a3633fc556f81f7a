"""GET /api/video/status/{jobId}: one row, presigned URLs for what is in S3."""

from __future__ import annotations

import uuid
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from videogen import contract, storage
from videogen.db import session_scope
from videogen.http import api_handler, current_user, make_resolver
from videogen.repositories import video_jobs
from videogen.schemas import JobStatus, public_status

app = make_resolver()
JobId = Annotated[uuid.UUID, Path(description="The job's id, as generate answered it")]


@app.get(
    "/api/video/status/<jobId>",
    **contract.operation(
        "getVideoStatus",
        "Follow a video job",
        (200, "The job's status, progress and, once completed, presigned URLs."),
        tags=["video"],
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
    with session_scope(autocommit=True) as s:
        job = video_jobs.get_status_for_user(s, user_id, jobId)
    return JobStatus(
        job_id=job.id,
        status=public_status(job.status),
        progress=job.progress,
        video_url=storage.url_for(job.video_url),
        thumbnail_url=storage.url_for(job.thumbnail_url),
        cost=None if job.cost is None else float(job.cost),
        error=job.error_message,
        created_at=job.created_at,
        completed_at=job.completed_at,
    )


lambda_handler = api_handler(app)
