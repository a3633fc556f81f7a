"""What the webhook tests of every provider share: letting a fake finish its jobs until it has
pushed, and handing a recorded (or altered) delivery to the webhook function."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from devstack.fakes import ManualClock
from devstack.fakes.records import Delivery
from tests.support import HttpResult, invoke, load_function
from tools.events import http_api_event
from tools.queues import InMemoryQueueSender

DELIVERY_WAIT_SECONDS = 10


def first_webhook(clock: ManualClock, fake: Any, seconds: float) -> Delivery:
    """Move ``clock`` ``seconds`` on and let ``fake`` finish every job; the first webhook it sent."""
    clock.advance(seconds)
    fake.deliver_due()
    deadline = time.monotonic() + DELIVERY_WAIT_SECONDS
    while not fake.webhook_deliveries and time.monotonic() < deadline:
        time.sleep(0.02)
    delivered: Delivery = fake.webhook_deliveries[0]
    return delivered


def post_webhook(queue: InMemoryQueueSender[Any], delivery: Delivery, **changes: Any) -> HttpResult:
    """The webhook function's answer to ``delivery`` (its ``url``, ``headers`` or ``body``
    replaced by ``changes``), its pushes sent to ``queue``."""
    url = urlsplit(changes.get("url", delivery.url))
    headers = {"content-type": "application/json"} | changes.get("headers", delivery.headers)
    body = changes.get("body", delivery.body)
    event = http_api_event(
        "POST",
        url.path,
        route_key="POST /api/webhooks/{source}",
        path_parameters={"source": url.path.rsplit("/", 1)[-1]},
        query=dict(parse_qsl(url.query)),
        headers={k.lower(): v for k, v in headers.items()},
        body=body.decode("utf-8", errors="surrogateescape") if isinstance(body, bytes) else body,
    )
    webhooks = load_function("webhooks")
    return invoke(webhooks.api_handler(webhooks.build_app(queue)), event)
