"""POST /api/video/generate (one clip) and POST /api/storyboards/{id}/generate (every scene that
needs one): validate, insert pending jobs within the caller's caps, queue them."""

from __future__ import annotations

import uuid
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body

from videogen.api import contract
from videogen.api.resolver import ApiResolver, api_handler, current_user, make_resolver
from videogen.api.schemas.jobs import (
    BatchGenerateAccepted,
    BatchGenerateRequest,
    GenerateAccepted,
    GenerateRequest,
)
from videogen.data import statements
from videogen.data.db import session_scope
from videogen.generation import batch
from videogen.generation.request import create_job, enqueue_or_withdraw
from videogen.messaging.messages import QueueSender, default_sender
from videogen.runtime.observability import logger, metrics

OPERATION = contract.operation(
    "generateVideo",
    "Generate a scene's clip",
    (202, "The job is stored as `pending` and queued."),
    tags=["video"],
    description="Checks the request against the catalog, the caller's key and caps, stores a "
    "`pending` job and queues it; the worker then submits it to the provider and polls it. The "
    "answer's `status` is `queued`, the earlier front end's word for the job status `pending` that "
    "GET /api/video/status/{jobId} and every other route report.",
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
                "error": "No active openai API key: add one with PUT /api/keys/openai first",
                "details": {"provider": "openai"},
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
BATCH_OPERATION = contract.operation(
    "generateStoryboard",
    "Generate the clips of a whole storyboard",
    (202, "What was queued (`jobs`, each `pending`) and what was skipped, with why."),
    tags=["video"],
    description="Queues a clip for every scene (or those in `sceneIds`), in storyboard order, skipping "
    "a scene with a job in flight (`in-flight`), with a completed clip of its current text and model "
    "(`up-to-date`, unless `regenerate`) or without text (`no-prompt`): calling it again resumes. "
    "The caps are checked for the whole batch: one that would pass a cap is refused whole (429, "
    "`details.scenesThatFit`) and nothing is queued. Jobs whose message the queue refused are "
    "withdrawn and skipped as `queue-unavailable` (503 when none could be queued). "
    "`Idempotency-Key` returns the first answer to the same request (the same storyboard and body), "
    "and 409 to a different one.",
    body=True,
    invalid="Also refused: a `sceneIds` entry the storyboard does not have, repeated or empty "
    "`sceneIds`, and a model, duration or size the catalog does not allow for the provider.",
    errors={
        404: (
            "No storyboard of the caller has this id (another user's answers the same).",
            {"error": "Storyboard not found", "details": {"id": "0b6f1c64-3f47-4d3a-9a51-6f5d7c2e9b10"}},
        ),
        409: (
            "No active key for the provider (store one with PUT /api/keys/{provider}), or the "
            "`Idempotency-Key` was used for a different request (`details.jobIds`: the first "
            "batch's jobs).",
            {
                "error": "No active openai API key: add one with PUT /api/keys/openai first",
                "details": {"provider": "openai"},
            },
        ),
        429: (
            "Or the batch would pass a cap of the caller (jobs in flight, estimated spend per UTC "
            "day): `details.scenesThatFit` says how many scenes fit.",
            {
                "error": "This batch of 5 clips would pass a cap: 2 fit",
                "details": {"cap": "jobsInFlight", "limit": 5, "current": 3, "scenesThatFit": 2},
            },
        ),
        503: (
            "Or the queue refused every job of the batch, which were then withdrawn: retry.",
            {"error": "Service temporarily unavailable, try again"},
        ),
    },
)


def build_app(sender: QueueSender | None = None) -> ApiResolver:
    """The resolver; ``sender`` defaults to the real SQS queue (tests pass an in-memory one)."""
    app = make_resolver()

    @app.post("/api/video/generate", status_code=202, **OPERATION)
    def generate(
        body: Annotated[GenerateRequest, Body()], idempotency_key: contract.IdempotencyKey = None
    ) -> Response[GenerateAccepted]:
        user_id = current_user(app)
        with statements.connection(transaction=True) as db:  # three statements, one transaction
            accepted = create_job(db, user_id, body, idempotency_key=idempotency_key)
        if accepted.created:
            enqueue_or_withdraw(accepted, user_id, sender or default_sender())
            metrics.add_metric(name="JobsQueued", unit="Count", value=1)
            logger.info("job queued", extra={"job_id": str(accepted.job_id), "provider": body.provider})
        result = GenerateAccepted(
            job_id=accepted.job_id, prompt=accepted.prompt, estimated_cost=float(accepted.estimated_cost)
        )
        return Response(202, content_types.APPLICATION_JSON, result)

    @app.post("/api/storyboards/<id>/generate", status_code=202, **BATCH_OPERATION)
    def generate_storyboard(
        id: uuid.UUID,
        body: Annotated[BatchGenerateRequest, Body()],
        idempotency_key: contract.IdempotencyKey = None,
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
