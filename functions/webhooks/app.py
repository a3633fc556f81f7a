"""POST /api/webhooks/{source}: a provider says a job finished. Verify, queue, nothing else.

Public (no JWT authorizer: the provider calls it), and with no database, no VPC and no user
key: the URL's token (``videogen.webhooks.callbacks``) is checked first and names the job; then
the provider's signature over the raw body (``videogen.webhooks.verify``); then a ``push`` step
for the job goes on the generation queue with no delay, and the worker asks the provider with
the user's key, as a poll does. The event itself changes nothing: at worst a forged or replayed
one moves one poll forward, once per job. A job deleted meanwhile is answered 200 like any other
(the function cannot tell, and a 2xx ends the provider's retries); the worker drops its step.
"""

from __future__ import annotations

import base64
import binascii
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from videogen.api import contract
from videogen.api.resolver import ApiResolver, api_handler, error_response, make_resolver
from videogen.api.schemas.webhooks import WebhookReceived
from videogen.messaging.messages import QueueSender, StepMessage, default_sender
from videogen.runtime.observability import emit_metric, logger
from videogen.webhooks import callbacks, verify

TAGS = ["webhooks"]
UNKNOWN = {"error": "No such callback", "details": {"source": "fal"}}

OPERATION = contract.operation(
    "receiveWebhook",
    "A provider's completion webhook",
    (200, "Verified: the job's next poll is moved to now (once per job; later events change nothing)."),
    tags=TAGS,
    description="Called by the provider, not by the web app: the URL each create gives it carries "
    "the job and a token bound to it. Checked in this order: the token, the body's size, the body "
    "is JSON, the provider's signature (Gemini API: an RS256 JWT in `Webhook-Signature`; fal: "
    "Ed25519 in `X-Fal-Webhook-Signature` over the request id, user id, timestamp and the body's "
    "SHA-256) with the provider's published keys, and its time within 5 minutes. Nothing in the "
    "body is trusted: the worker reads the job's state from the provider. The route has its own "
    "throttle and the edge's per-address limit (429).",
    authenticated=False,
    body=True,
    invalid="Also: a body that is not a JSON object, or a fal body naming another request than "
    "its signature.",
    errors={
        401: (
            "No signature, or one that does not verify: a wrong key, an algorithm other than the "
            "provider's, a timestamp more than 5 minutes off, a body altered after signing.",
            {"error": "the signature does not verify with any published fal key"},
        ),
        404: ("No job has this token on this source's route (or the source is unknown).", UNKNOWN),
        503: (
            "Or the provider's published keys could not be fetched: the provider retries.",
            {"error": "Service temporarily unavailable, try again"},
        ),
    },
)


# No length limits: anything but a known source, a job id and its token is a 404 alike.
SourceName = Annotated[str, Path(description="Who calls: `gemini` or `fal`.")]
JobParam = Annotated[str | None, Query(description="The job's id, from the callback URL.")]
TokenParam = Annotated[
    str | None, Query(description="The job's token, from the callback URL.", max_length=64)
]


def build_app(sender: QueueSender | None = None) -> ApiResolver:
    """The resolver; ``sender`` defaults to the real SQS queue (tests pass an in-memory one)."""
    app = make_resolver(require_identity=False)

    @app.post("/api/webhooks/<source>", **OPERATION)
    def receive(source: SourceName, job: JobParam = None, token: TokenParam = None) -> Response[Any]:
        fields: dict[str, object] = {"source": source}
        known = next((s for s in callbacks.SOURCES if s == source), None)
        job_id = callbacks.token_matches(known, job, token) if known else None
        if known is None or job_id is None:
            return _refused(HTTPStatus.NOT_FOUND, "No such callback", fields, {"source": source})
        fields["job_id"] = str(job_id)
        try:
            event = verify.verify(known, _raw_body(app), app.current_event.headers)
        except verify.Refused as refused:
            return _refused(HTTPStatus(refused.status), refused.reason, fields)
        (sender or default_sender()).send(StepMessage(job_id=job_id, step="push"))
        emit_metric("WebhooksAccepted", {"source": known})
        logger.info(
            "webhook verified; the job's poll moved to now", extra=fields | {"event_id": event.event_id}
        )
        return Response(200, content_types.APPLICATION_JSON, WebhookReceived())

    return app


def _raw_body(app: ApiResolver) -> bytes:
    """The body's bytes as the provider signed them (API Gateway hands UTF-8 text, or base64)."""
    event = app.current_event
    text = event.body or ""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error:
            return b""
    return text.encode()


def _refused(
    status: HTTPStatus, reason: str, fields: dict[str, object], details: Any = None
) -> Response[Any]:
    source = fields["source"] if fields["source"] in callbacks.SOURCES else "unknown"
    emit_metric("WebhooksRefused", {"source": str(source)})
    logger.info("webhook refused", extra=fields | {"status": int(status), "reason": reason})
    return error_response(status, reason, details)


app = build_app()
lambda_handler = api_handler(app)
