"""GET /api/health: no identity needed; 503 when the database is unreachable."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types

from videogen import contract
from videogen.db import check_database_connection
from videogen.http import api_handler, logger, make_resolver
from videogen.schemas import Health

app = make_resolver(require_identity=False)


OPERATION = contract.operation(
    "getHealth",
    "Whether the API and its database are up",
    (200, "Up, with its database."),
    tags=["health"],
    description="Needs no identity.",
    authenticated=False,
)
OPERATION["responses"][503] = contract.answer(
    "The database is unreachable (or API Gateway got no answer in time: `{message}`).",
    Health | contract.GatewayMessage,
    {"status": "unhealthy", "database": "disconnected"},
)


@app.get("/api/health", **OPERATION)
def health() -> Response[Health]:
    db = check_database_connection()
    if db["connected"]:
        body = Health(status="healthy", database="connected")
        return Response(200, content_types.APPLICATION_JSON, body)
    logger.warning("health check: database unreachable", extra={"error_type": db["error"]})
    body = Health(status="unhealthy", database="disconnected")
    return Response(503, content_types.APPLICATION_JSON, body)


lambda_handler = api_handler(app)
