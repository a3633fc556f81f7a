"""POST /api/video/generate (one clip) and POST /api/storyboards/{id}/generate (every scene that
needs one): validate, insert pending jobs within the caller's caps, queue them."""

from __future__ import annotations

import uuid
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from videogen.db import session_scope
from videogen.generation import batch
from videogen.generation.request import create_job, enqueue_or_withdraw
from videogen.http import ApiResolver, api_handler, current_user, logger, make_resolver, metrics
from videogen.job_schemas import BatchGenerateAccepted, BatchGenerateRequest
from videogen.queue import QueueSender, default_sender
from videogen.schemas import GenerateAccepted, GenerateRequest

IdempotencyKey = Annotated[str | None, Header(alias="idempotency-key", min_length=1, max_length=255)]
GENERATE_DESCRIPTION = (
    "Queues one clip. The answer's `status` is `queued`, the earlier front end's word for the job "
    "status `pending` that GET /api/video/status/{jobId} and every other route report."
)
BATCH_DESCRIPTION = (
    "Queues a clip for every scene (or those in `sceneIds`), in storyboard order, skipping a scene "
    "with a job in flight (`in-flight`), with a completed clip of its current text and model "
    "(`up-to-date`, unless `regenerate`) or without text (`no-prompt`): calling it again resumes. "
    "The caps are checked for the whole batch: one that would pass a cap is refused whole (429, "
    "`details.scenesThatFit`) and nothing is queued. Jobs whose message the queue refused are "
    "withdrawn and skipped as `queue-unavailable` (503 when none could be queued). "
    "`Idempotency-Key` returns the first answer."
)


def build_app(sender: QueueSender | None = None) -> ApiResolver:
    """The resolver; ``sender`` defaults to the real SQS queue (tests pass an in-memory one)."""
    app = make_resolver()

    @app.post("/api/video/generate", status_code=202, description=GENERATE_DESCRIPTION)
    def generate(
        body: Annotated[GenerateRequest, Body()], idempotency_key: IdempotencyKey = None
    ) -> Response[GenerateAccepted]:
        user_id = current_user(app)
        with session_scope() as s:
            accepted = create_job(s, user_id, body, idempotency_key=idempotency_key)
        if accepted.created:
            enqueue_or_withdraw(accepted, user_id, sender or default_sender())
            metrics.add_metric(name="JobsQueued", unit="Count", value=1)
            logger.info("job queued", extra={"job_id": str(accepted.job_id), "provider": body.provider})
        result = GenerateAccepted(
            job_id=accepted.job_id, prompt=accepted.prompt, estimated_cost=float(accepted.estimated_cost)
        )
        return Response(202, content_types.APPLICATION_JSON, result)

    @app.post("/api/storyboards/<id>/generate", status_code=202, description=BATCH_DESCRIPTION)
    def generate_storyboard(
        id: uuid.UUID, body: Annotated[BatchGenerateRequest, Body()], idempotency_key: IdempotencyKey = None
    ) -> Response[BatchGenerateAccepted]:
        user_id = current_user(app)
        with session_scope() as s:
            made = batch.create_batch(s, user_id, id, body, idempotency_key=idempotency_key)
        answer = batch.enqueue_or_withdraw(
            made, user_id, sender or default_sender(), idempotency_key=idempotency_key
        )
        if made.created and answer.jobs:
            metrics.add_metric(name="JobsQueued", unit="Count", value=len(answer.jobs))
            logger.info(
                "batch queued",
                extra={"storyboard_id": str(id), "provider": body.provider, "jobs": len(answer.jobs)},
            )
        return Response(202, content_types.APPLICATION_JSON, answer)

    return app


app = build_app()
lambda_handler = api_handler(app)
