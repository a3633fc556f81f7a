"""Fake video providers: the OpenAI videos API (``sora``), Veo on Vertex AI (``veo``) and on the
Gemini API (``gemini``), and fal's queue (``fal``), each in its documented shapes.

Small working HTTP servers on loopback that the real adapters talk to in tests and in the
local stack; ``python -m devstack.fakes`` runs them all. See ``_server`` for what they
share: the scripting (``faults``: prompt markers such as ``[fail]``, ``script()``,
``fail_next()``), the records (``records``: ``creates``, ``create_count()``, ``count()``), and
``jobs`` for when a job finishes (after polls, or seconds on the server's ``clock``: a
``ManualClock`` lets a test move it), and ``webhooks`` for the signed completion webhooks the
Gemini and fal fakes push to the URLs a create names (``webhook_deliveries``, ``deliver_due()``).
"""

from __future__ import annotations

from devstack.fakes._server import FakeProviderServer
from devstack.fakes.fal import FakeFalServer
from devstack.fakes.gemini import FakeGeminiServer
from devstack.fakes.jobs import MARKERS, ManualClock, Script
from devstack.fakes.records import CreateRecord, Delivery
from devstack.fakes.sora import FakeSoraServer
from devstack.fakes.veo import FakeVeoServer
from devstack.fakes.webhooks import JWKS_PATH

__all__ = [
    "JWKS_PATH",
    "MARKERS",
    "CreateRecord",
    "Delivery",
    "FakeFalServer",
    "FakeGeminiServer",
    "FakeProviderServer",
    "FakeSoraServer",
    "FakeVeoServer",
    "ManualClock",
    "Script",
]
