"""``POST /api/webhooks/{source}``: what a provider's webhook is answered."""

from __future__ import annotations

from typing import Literal

from videogen.api.schemas.storyboards import WireModel


class WebhookReceived(WireModel):
    """The event was verified and its job's poll moved to now (or it was already moved)."""

    received: Literal[True] = True
