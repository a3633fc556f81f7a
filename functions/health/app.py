"""GET /api/health: anonymous liveness, no database; GET /api/health/ready: the database check.

Liveness is what an uptime probe or a load balancer may call as often as it likes: it answers
from the function alone, so an anonymous caller spends neither a database connection nor more
than the route's own throttle. Readiness asks the database (one ``SELECT 1``), needs an
identity like every other route, and answers 503 when the database is unreachable.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types

from videogen.api import contract
from videogen.api.resolver import api_handler, current_user, make_resolver
from videogen.api.schemas.storyboards import Health, Liveness
from videogen.data.db import check_database_connection
from videogen.runtime.observability import logger

app = make_resolver(require_identity=False)
TAGS = ["health"]

READY = contract.operation(
    "getHealthReady",
    "Whether the API can reach its database",
    (200, "Up, with its database."),
    tags=TAGS,
    description="One `SELECT 1`; needs an identity, so that anonymous callers cannot spend "
    "database connections on it.",
)
READY["responses"][503] = contract.answer(
    "The database is unreachable (or API Gateway got no answer in time: `{message}`).",
    Health | contract.GatewayMessage,
    {"status": "unhealthy", "database": "disconnected"},
)


@app.get(
    "/api/health",
    **contract.operation(
        "getHealth",
        "Whether the API answers (liveness)",
        (200, "Up. Says nothing about the database: see getHealthReady."),
        tags=TAGS,
        description="Needs no identity and touches no database; its route has a throttle of its own.",
        authenticated=False,
    ),
)
def health() -> Liveness:
    return Liveness(status="healthy")


@app.get("/api/health/ready", **READY)
def ready() -> Response[Health]:
    current_user(app)  # 401 without an identity: the database check is not for anonymous callers
    db = check_database_connection()
    if db["connected"]:
        body = Health(status="healthy", database="connected")
        return Response(200, content_types.APPLICATION_JSON, body)
    logger.warning("readiness check: database unreachable", extra={"error_type": db["error"]})
    body = Health(status="unhealthy", database="disconnected")
    return Response(503, content_types.APPLICATION_JSON, body)


lambda_handler = api_handler(app)
