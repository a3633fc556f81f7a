"""An API Gateway HTTP API emulator: template.yaml's routes in front of the functions' runtimes.

:mod:`.api` answers a request as API Gateway does, in payload format 2.0 (:mod:`.payload`) and
with the HttpApi's CORS (:mod:`.cors`); :mod:`.server` serves it over HTTP on loopback, and
``python -m devstack.gateway`` (:mod:`.__main__`) runs it for the local stack.
"""

from __future__ import annotations

from devstack.gateway.api import Gateway, Router
from devstack.gateway.payload import Request, Response, build_event, http_response
from devstack.gateway.server import serve

__all__ = ["Gateway", "Request", "Response", "Router", "build_event", "http_response", "serve"]
