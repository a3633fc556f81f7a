"""The caller's jobs: GET /api/video/jobs (keyset pages, newest first), POST
/api/video/jobs/{jobId}/cancel, and GET /api/usage (spend per day and provider, caps left)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic.json_schema import SkipJsonSchema

from videogen.api import contract, job_view
from videogen.api.resolver import ApiResolver, api_handler, current_user, make_resolver
from videogen.api.schemas.jobs import JobsPage, JobStatus, Usage
from videogen.api.schemas.storyboards import JobStatusName
from videogen.data.db import session_scope
from videogen.data.repositories import video_jobs
from videogen.generation.cancel import cancel_job
from videogen.generation.usage import DEFAULT_DAYS, MAX_DAYS, usage_report
from videogen.messaging.messages import QueueSender, default_sender

TAGS = ["video"]
JobId = Annotated[uuid.UUID, Path(description="The job's id, as generate answered it")]
JOB_NOT_FOUND = (
    "No job of the caller has this id (another user's answers the same).",
    {"error": "Video job not found", "details": {"jobId": "5d0c7b9e-2f0a-4e55-8a8e-0c1f5b7f3a21"}},
)
LIST = contract.operation(
    "listVideoJobs",
    "List the caller's video jobs",
    (200, "A page of jobs, newest first; `nextCursor` fetches the next one (null on the last)."),
    tags=TAGS,
    description="Filters: `status` (a job status) and `storyboardId`. Completed jobs carry presigned "
    "video and thumbnail URLs.",
    invalid="Also refused: a `cursor` this API did not return.",
)
CANCEL = contract.operation(
    "cancelVideoJob",
    "Cancel a video job",
    (200, "The job's status: `cancelled`."),
    tags=TAGS,
    description="A pending job is cancelled at once and costs nothing. A job already at its provider "
    "is marked cancelled at once and stopped there by the worker where the provider's API allows "
    "(Sora: DELETE /videos/{id}; Veo: the operation's :cancel); its estimated cost keeps counting "
    "against the day's cap, since neither provider confirms no charge. Already cancelled: its "
    "status, unchanged.",
    body=True,  # takes none, but a POST's body that is not JSON is refused (415) before routing
    errors={
        404: JOB_NOT_FOUND,
        409: (
            "The job already completed or failed: there is nothing to cancel.",
            {
                "error": "The job is already completed: only a job in flight can be cancelled",
                "details": {"jobId": "5d0c7b9e-2f0a-4e55-8a8e-0c1f5b7f3a21", "status": "completed"},
            },
        ),
    },
)
USAGE = contract.operation(
    "getUsage",
    "The caller's spend and caps",
    (
        200,
        "Per UTC day and provider, the cost of completed clips and the estimate of jobs in flight; "
        "today's remaining daily cap and jobs in flight against their cap.",
    ),
    tags=["usage"],
    description="Counts spend exactly as the caps do when a generate request is checked.",
)


def build_app(sender: QueueSender | None = None) -> ApiResolver:
    """The resolver; ``sender`` defaults to the real SQS queue (tests pass an in-memory one)."""
    app = make_resolver()

    @app.get("/api/video/jobs", **LIST)
    def list_jobs(
        status: Annotated[
            JobStatusName | SkipJsonSchema[None], Query(description="Only jobs in this status")
        ] = None,
        storyboardId: Annotated[
            uuid.UUID | SkipJsonSchema[None], Query(description="Only jobs of this storyboard")
        ] = None,
        limit: Annotated[
            int, Query(ge=1, le=video_jobs.MAX_PAGE_SIZE, description="Jobs per page")
        ] = video_jobs.DEFAULT_PAGE_SIZE,
        cursor: Annotated[
            str | SkipJsonSchema[None],
            Query(max_length=512, description="`nextCursor` of the previous page"),
        ] = None,
    ) -> JobsPage:
        user_id = current_user(app)
        with session_scope(autocommit=True) as s:
            page = video_jobs.list_for_user(
                s, user_id, status=status, storyboard_id=storyboardId, limit=limit, cursor=cursor
            )
        now = datetime.now(UTC)
        return JobsPage(jobs=[job_view.job_view(j, now) for j in page.items], next_cursor=page.next_cursor)

    @app.post("/api/video/jobs/<jobId>/cancel", **CANCEL)
    def cancel(jobId: JobId) -> JobStatus:
        user_id = current_user(app)
        job = cancel_job(user_id, jobId, sender or default_sender())
        return job_view.job_status(job, datetime.now(UTC))

    @app.get("/api/usage", **USAGE)
    def usage(
        days: Annotated[
            int, Query(ge=1, le=MAX_DAYS, description="How many UTC days back, today included")
        ] = DEFAULT_DAYS,
    ) -> Usage:
        user_id = current_user(app)
        with session_scope(autocommit=True) as s:
            return usage_report(s, user_id, days)

    return app


app = build_app()
lambda_handler = api_handler(app)
