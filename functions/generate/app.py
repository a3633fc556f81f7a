"""POST /api/video/generate: validate, insert a pending job within the caller's caps, queue it."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from pydantic.json_schema import SkipJsonSchema

from videogen import contract
from videogen.db import session_scope
from videogen.generation.request import create_job, enqueue_or_withdraw
from videogen.http import ApiResolver, api_handler, current_user, logger, make_resolver, metrics
from videogen.queue import QueueSender, default_sender
from videogen.schemas import GenerateAccepted, GenerateRequest

IdempotencyKey = Annotated[
    str | SkipJsonSchema[None],
    Header(
        alias="idempotency-key",
        min_length=1,
        max_length=255,
        description="Makes a retry safe: the same key with the same request answers the first job "
        "again; with a different request, 409. Keys are the caller's own.",
    ),
]
OPERATION = contract.operation(
    "generateVideo",
    "Generate a scene's clip",
    (202, "The job is stored as `pending` and queued."),
    tags=["video"],
    description="Checks the request against the catalog, the caller's key and caps, stores a "
    "`pending` job and queues it; the worker then submits it to the provider and polls it.",
    body=True,
    invalid="Also refused: a `sceneId` the storyboard does not have, a scene without a prompt when "
    "the request brings none, and a model, duration or size the catalog does not allow for the "
    "provider (a retired model names its replacement).",
    errors={
        404: (
            "No storyboard of the caller has this `storyboardId`.",
            {"error": "Storyboard not found", "details": {"id": "0b6f1c64-3f47-4d3a-9a51-6f5d7c2e9b10"}},
        ),
        409: (
            "No active key for the provider (store one with PUT /api/keys/{provider}), or the "
            "`Idempotency-Key` was used for a different request (`details.jobId` is its job).",
            {
                "error": "No active sora API key: add one with PUT /api/keys/sora first",
                "details": {"provider": "sora"},
            },
        ),
        429: (
            "Or a cap of the caller: jobs in flight, or estimated spend per UTC day (`details.cap`).",
            {
                "error": "Too many videos in progress: 5 of 5 allowed at once; wait for one to finish",
                "details": {"cap": "jobsInFlight", "limit": 5, "current": 5},
            },
        ),
        503: (
            "Or the queue refused the job, which was then withdrawn: retry.",
            {"error": "Service temporarily unavailable, try again"},
        ),
    },
    links=contract.links({"GetVideoStatus": "getVideoStatus"}, "jobId", "$response.body#/jobId"),
)


def build_app(sender: QueueSender | None = None) -> ApiResolver:
    """The resolver; ``sender`` defaults to the real SQS queue (tests pass an in-memory one)."""
    app = make_resolver()

    @app.post("/api/video/generate", status_code=202, **OPERATION)
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
