"""POST /api/webhooks/{source}: a provider says a job finished. Verify, queue, nothing else.

Public (no JWT authorizer: the provider calls it), and with no database, no VPC and no user
key: the URL's token (``videogen.webhooks.callbacks``) is checked first and names the job; then
the provider's signature over the raw body (``videogen.webhooks.verify``); then a ``push`` step
for the job goes on the generation queue with no delay, and the worker asks the provider with
the user's key, as a poll does. The event itself changes nothing: at worst a forged or replayed
one moves one poll forward, once per job. A job deleted meanwhile is answered 200 like any other
(the function cannot tell, and a 2xx ends the provider's retries); the worker drops its step.

OpenAI-compatible endpoints push to a URL registered once per stored key instead
(``/api/webhooks/openai?key=<id>&token=<t>``): the token names the key, its Standard Webhooks
secret is read from Secrets Manager (none: 404), and a verified ``video.completed`` or
``video.failed`` queues ``{"keyId", "providerJobId", "step": "push"}``; the worker finds that
video among the key owner's jobs. Other event types are acknowledged and change nothing.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from videogen.api import contract
from videogen.api.resolver import ApiResolver, api_handler, error_response, make_resolver
from videogen.api.schemas.webhooks import WebhookReceived
from videogen.messaging.messages import (
    EndpointPushMessage,
    GenerationMessage,
    QueueSender,
    SqsQueueSender,
    StepMessage,
)
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
    "the job and a token bound to it (for `openai`, the URL registered at the endpoint carries the "
    "stored key's id and a token bound to it: `webhookUrl` of `GET /api/keys`). Checked in this "
    "order: the token, the body's size, the body is JSON, the provider's signature (Gemini API: an "
    "RS256 JWT in `Webhook-Signature`; fal: Ed25519 in `X-Fal-Webhook-Signature` over the request "
    "id, user id, timestamp and the body's SHA-256, with the provider's published keys; "
    "OpenAI-compatible endpoints: Standard Webhooks `webhook-signature` under the secret saved with "
    "the key), and its time within 5 minutes. Nothing in the body is trusted: the worker reads the "
    "job's state from the provider. An `openai` event other than `video.completed` or "
    "`video.failed` is acknowledged and changes nothing. The route has its own throttle and the "
    "edge's per-address limit (429).",
    authenticated=False,
    body=True,
    invalid="Also: a body that is not a JSON object, a fal body naming another request than "
    "its signature, or an endpoint's video event without `data.id`.",
    errors={
        401: (
            "No signature, or one that does not verify: a wrong key, an algorithm other than the "
            "provider's, a timestamp more than 5 minutes off, a body altered after signing.",
            {"error": "the signature does not verify with any published fal key"},
        ),
        404: (
            "No job (for `openai`: no stored key keeping a webhook secret) has this token on this "
            "source's route, or the source is unknown.",
            UNKNOWN,
        ),
        503: (
            "Or the provider's published keys (or the key's webhook secret) could not be read: "
            "the provider retries.",
            {"error": "Service temporarily unavailable, try again"},
        ),
    },
)


# No length limits: anything but a known source, a job id and its token is a 404 alike.
SourceName = Annotated[str, Path(description="Who calls: `gemini`, `fal` or `openai`.")]
JobParam = Annotated[str | None, Query(description="The job's id, from the callback URL.")]
KeyParam = Annotated[
    str | None, Query(description="`openai`: the stored key's id, from the URL registered at the endpoint.")
]
TokenParam = Annotated[
    str | None, Query(description="The job's token, from the callback URL.", max_length=64)
]


def build_app(sender: QueueSender[GenerationMessage] | None = None) -> ApiResolver:
    """The resolver; ``sender`` defaults to the real SQS queue (tests pass an in-memory one)."""
    app = make_resolver(require_identity=False)

    def send(message: GenerationMessage) -> None:
        (sender or SqsQueueSender[GenerationMessage]()).send(message)

    @app.post("/api/webhooks/<source>", **OPERATION)
    def receive(
        source: SourceName, job: JobParam = None, token: TokenParam = None, key: KeyParam = None
    ) -> Response[Any]:
        fields: dict[str, object] = {"source": source}
        if source == callbacks.ENDPOINT_SOURCE:
            return _from_endpoint(app, send, key, token, fields)
        known = next((s for s in callbacks.SOURCES if s == source), None)
        job_id = callbacks.token_matches(known, job, token) if known else None
        if known is None or job_id is None:
            return _refused(HTTPStatus.NOT_FOUND, "No such callback", fields, {"source": source})
        fields["job_id"] = str(job_id)
        try:
            event = verify.verify(known, _raw_body(app), app.current_event.headers)
        except verify.Refused as refused:
            return _refused(HTTPStatus(refused.status), refused.reason, fields)
        send(StepMessage(job_id=job_id, step="push"))
        emit_metric("WebhooksAccepted", {"source": known})
        logger.info(
            "webhook verified; the job's poll moved to now", extra=fields | {"event_id": event.event_id}
        )
        return Response(200, content_types.APPLICATION_JSON, WebhookReceived())

    return app


def _from_endpoint(
    app: ApiResolver,
    send: Callable[[GenerationMessage], None],
    key: str | None,
    token: str | None,
    fields: dict[str, object],
) -> Response[Any]:
    """An OpenAI-compatible endpoint's event on the URL registered for a stored key."""
    key_id = callbacks.token_matches(callbacks.ENDPOINT_SOURCE, key, token)
    if key_id is None:
        return _refused(HTTPStatus.NOT_FOUND, "No such callback", fields, {"source": fields["source"]})
    fields["key_id"] = str(key_id)
    try:
        event = verify.verify_endpoint(key_id, _raw_body(app), app.current_event.headers)
    except verify.Refused as refused:
        details = {"source": fields["source"]} if refused.status == HTTPStatus.NOT_FOUND else None
        return _refused(HTTPStatus(refused.status), refused.reason, fields, details)
    fields |= {"event_id": event.event_id, "event_type": event.type}
    if event.video_id is None:
        logger.info("webhook verified; not a video event, nothing to do", extra=fields)
        return Response(200, content_types.APPLICATION_JSON, WebhookReceived())
    send(EndpointPushMessage(key_id=key_id, provider_job_id=event.video_id))
    emit_metric("WebhooksAccepted", {"source": callbacks.ENDPOINT_SOURCE})
    logger.info("webhook verified; the job's poll moved to now", extra=fields | {"video_id": event.video_id})
    return Response(200, content_types.APPLICATION_JSON, WebhookReceived())


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
    known = (*callbacks.SOURCES, callbacks.ENDPOINT_SOURCE)
    source = fields["source"] if fields["source"] in known else "unknown"
    emit_metric("WebhooksRefused", {"source": str(source)})
    logger.info("webhook refused", extra=fields | {"status": int(status), "reason": reason})
    return error_response(status, reason, details)


app = build_app()
lambda_handler = api_handler(app)
