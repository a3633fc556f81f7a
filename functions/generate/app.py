"""POST /api/video/generate: validate, insert a pending job within the caller's caps, queue it."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from videogen.db import session_scope
from videogen.generation.request import create_job, enqueue_or_withdraw
from videogen.http import ApiResolver, api_handler, current_user, logger, make_resolver, metrics
from videogen.queue import QueueSender, default_sender
from videogen.schemas import GenerateAccepted, GenerateRequest

IdempotencyKey = Annotated[str | None, Header(alias="idempotency-key", min_length=1, max_length=255)]


def build_app(sender: QueueSender | None = None) -> ApiResolver:
    """The resolver; ``sender`` defaults to the real SQS queue (tests pass an in-memory one)."""
    app = make_resolver()

    @app.post("/api/video/generate", status_code=202)
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

    return app


app = build_app()
lambda_handler = api_handler(app)
