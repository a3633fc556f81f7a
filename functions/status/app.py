"""GET /api/video/status/{jobId}: one row, presigned URLs for what is in S3, the progress (estimated
for providers that report none)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from videogen import clips, storage
from videogen.db import session_scope
from videogen.http import api_handler, current_user, make_resolver
from videogen.repositories import video_jobs
from videogen.schemas import JobStatus, public_status

app = make_resolver()


@app.get("/api/video/status/<jobId>")
def get_status(jobId: uuid.UUID) -> JobStatus:
    user_id = current_user(app)
    with session_scope(autocommit=True) as s:
        job = video_jobs.get_status_for_user(s, user_id, jobId)
    progress, estimated = clips.shown_progress(job, datetime.now(UTC))
    return JobStatus(
        job_id=job.id,
        status=public_status(job.status),
        progress=progress,
        progress_estimated=estimated,
        video_url=storage.url_for(job.video_url),
        thumbnail_url=storage.url_for(job.thumbnail_url),
        cost=None if job.cost is None else float(job.cost),
        error=job.error_message,
        created_at=job.created_at,
        completed_at=job.completed_at,
    )


lambda_handler = api_handler(app)
