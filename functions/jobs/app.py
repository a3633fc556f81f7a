"""The caller's jobs: GET /api/video/jobs (keyset pages, newest first), POST
/api/video/jobs/{jobId}/cancel, and GET /api/usage (spend per day and provider, caps left)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from videogen import clips
from videogen.db import session_scope
from videogen.generation.cancel import cancel_job
from videogen.generation.usage import DEFAULT_DAYS, MAX_DAYS, usage_report
from videogen.http import ApiResolver, api_handler, current_user, make_resolver
from videogen.job_schemas import JobsPage, Usage
from videogen.queue import QueueSender, default_sender
from videogen.repositories import video_jobs
from videogen.schemas import JobStatus, PublicStatus

CANCEL_DESCRIPTION = (
    "A pending job is cancelled at once and costs nothing. A job already at its provider is "
    "marked cancelled at once and stopped there by the worker where the provider's API allows "
    "(Sora: DELETE /videos/{id}; Veo: the operation's :cancel); its estimated cost keeps counting "
    "against the day's cap, since neither provider confirms no charge. Completed or failed: 409. "
    "Already cancelled: its status, unchanged."
)


def build_app(sender: QueueSender | None = None) -> ApiResolver:
    """The resolver; ``sender`` defaults to the real SQS queue (tests pass an in-memory one)."""
    app = make_resolver()

    @app.get("/api/video/jobs")
    def list_jobs(
        status: Annotated[PublicStatus | None, Query()] = None,
        storyboardId: Annotated[uuid.UUID | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=video_jobs.MAX_PAGE_SIZE)] = video_jobs.DEFAULT_PAGE_SIZE,
        cursor: Annotated[str | None, Query(max_length=512)] = None,
    ) -> JobsPage:
        user_id = current_user(app)
        with session_scope(autocommit=True) as s:
            page = video_jobs.list_for_user(
                s, user_id, status=status, storyboard_id=storyboardId, limit=limit, cursor=cursor
            )
        now = datetime.now(UTC)
        return JobsPage(jobs=[clips.job_view(j, now) for j in page.items], next_cursor=page.next_cursor)

    @app.post("/api/video/jobs/<jobId>/cancel", description=CANCEL_DESCRIPTION)
    def cancel(jobId: uuid.UUID) -> JobStatus:
        user_id = current_user(app)
        job = cancel_job(user_id, jobId, sender or default_sender())
        return clips.job_status(job, datetime.now(UTC))

    @app.get("/api/usage")
    def usage(days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = DEFAULT_DAYS) -> Usage:
        user_id = current_user(app)
        with session_scope(autocommit=True) as s:
            return usage_report(s, user_id, days)

    return app


app = build_app()
lambda_handler = api_handler(app)
