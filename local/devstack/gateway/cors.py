"""CORS as API Gateway applies an HttpApi's CorsConfiguration: response headers and preflight answers.

The configuration's parameters are the template's (``--parameter`` sets them, e.g.
``CorsAllowedOrigins`` from the stack's ``CORS_ORIGINS``). ``x-dev-user`` is added to the allowed
headers, since locally it replaces ``authorization``.
"""

from __future__ import annotations

from devstack.gateway.payload import DEV_USER_HEADER, Response
from devstack.template import Cors


def cors_headers(cors: Cors | None, origin: str | None) -> dict[str, str]:
    """The CORS headers API Gateway adds to a response for ``origin`` (none if not allowed)."""
    if cors is None or not origin:
        return {}
    if "*" in cors.allow_origins:
        allowed = "*"
    elif origin in cors.allow_origins:
        allowed = origin
    else:
        return {}
    headers = {"access-control-allow-origin": allowed}
    if cors.allow_credentials:
        headers["access-control-allow-credentials"] = "true"
    if cors.expose_headers:
        headers["access-control-expose-headers"] = ",".join(cors.expose_headers)
    return headers


def preflight(cors: Cors, origin: str | None) -> Response:
    """API Gateway's answer to a preflight OPTIONS request."""
    headers = cors_headers(cors, origin)
    if headers:
        headers.pop("access-control-expose-headers", None)
        headers["access-control-allow-methods"] = ",".join(cors.allow_methods) or "*"
        headers["access-control-allow-headers"] = ",".join((*cors.allow_headers, DEV_USER_HEADER))
        if cors.max_age is not None:
            headers["access-control-max-age"] = str(cors.max_age)
    return Response(204, headers)
