"""CloudFormation custom resource: migrate the schema on deploy.

Create/Update: ``alembic upgrade head`` through RDS Proxy as the schema owner, then make sure the
application role (the ``AppUserSecretArn`` property's username) exists with its secret's password
and holds DML grants only. Delete: nothing; the data outlives this resource.

CloudFormation always gets an answer: the work runs in a thread bounded by the function's remaining
time, and the response (SUCCESS with the revision, or FAILED with a short reason that never holds a
secret) is sent from a ``finally``. Only the standard library is imported at module level, so a
broken layer becomes a FAILED response instead of an init error that leaves the stack waiting.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

logger = logging.getLogger("migrate")
logger.setLevel(logging.INFO)

RESPONSE_MARGIN_SECONDS = 15.0
"""Time kept back from the Lambda timeout to send the response (two short PUT attempts)."""
MAX_REASON_CHARS = 300
DML = "SELECT, INSERT, UPDATE, DELETE"

SecretReader = Callable[[str], Mapping[str, Any]]


class LambdaContextLike(Protocol):
    """The parts of the Lambda context this handler reads."""

    @property
    def log_stream_name(self) -> str: ...

    def get_remaining_time_in_millis(self) -> int: ...


@dataclass(frozen=True)
class Outcome:
    """What CloudFormation is told."""

    status: str  # SUCCESS | FAILED
    physical_resource_id: str
    reason: str = ""
    data: dict[str, str] = field(default_factory=dict)


# --- response to CloudFormation ---------------------------------------------------------------


def response_body(event: Mapping[str, Any], outcome: Outcome) -> bytes:
    """The JSON document CloudFormation expects at the presigned ``ResponseURL``."""
    return json.dumps(
        {
            "Status": outcome.status,
            "Reason": outcome.reason[:MAX_REASON_CHARS] or outcome.status,
            "PhysicalResourceId": outcome.physical_resource_id,
            "StackId": event.get("StackId", ""),
            "RequestId": event.get("RequestId", ""),
            "LogicalResourceId": event.get("LogicalResourceId", ""),
            "NoEcho": False,
            "Data": outcome.data,
        }
    ).encode()


def send_response(
    event: Mapping[str, Any], outcome: Outcome, *, timeout: float = 5.0, attempts: int = 2
) -> bool:
    """PUT the outcome to the presigned ``ResponseURL``; True once it was accepted."""
    url = str(event.get("ResponseURL", ""))
    if urllib.parse.urlsplit(url).scheme not in ("https", "http"):
        logger.error("no usable ResponseURL in the event; CloudFormation cannot be told")
        return False
    body = response_body(event, outcome)
    # An empty Content-Type: the presigned URL was signed without one.
    headers = {"Content-Type": "", "Content-Length": str(len(body))}
    for attempt in range(1, attempts + 1):
        # The scheme was checked above: http(s) only.
        request = urllib.request.Request(url, data=body, method="PUT", headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                logger.info("response sent", extra={"status": outcome.status, "http": response.status})
                return True
        except (urllib.error.URLError, OSError) as exc:
            logger.warning("sending the response failed", extra={"attempt": attempt, "error": repr(exc)})
            if attempt < attempts:
                time.sleep(1.0)
    return False


# --- failures, described without secrets -------------------------------------------------------


def describe_failure(exc: BaseException) -> str:
    """A short reason: the exception class and the first line of the database's own message.

    SQLAlchemy's text would add the SQL and its parameters; the DBAPI error (``orig``) holds
    only the server's message. Anything that mentions a password is cut down to the class name.
    """
    orig = getattr(exc, "orig", None)
    source = orig if isinstance(orig, BaseException) else exc
    message = str(source).strip().splitlines()[0] if str(source).strip() else ""
    if "password" in message.lower():
        message = ""
    name = type(source).__name__
    return f"{name}: {message}"[:200] if message else name


# --- the work ----------------------------------------------------------------------------------


def find_migrations_dir() -> Path:
    """``migrations/`` beside this file (as packaged by sam build) or at the repository root."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "migrations", here.parents[1] / "migrations"):
        if (candidate / "alembic.ini").is_file():
            return candidate
    raise FileNotFoundError("no migrations/alembic.ini packaged with the migrate function")


def read_secret_from_secrets_manager(arn: str) -> Mapping[str, Any]:
    """The JSON secret at ``arn`` (``username``, ``password``, ...)."""
    import boto3  # noqa: PLC0415 (layer import kept inside the guarded work)

    from videogen.config import get_settings  # noqa: PLC0415

    client = boto3.client("secretsmanager", region_name=get_settings().aws_region)
    secret = json.loads(client.get_secret_value(SecretId=arn)["SecretString"])
    if not isinstance(secret, dict):
        raise TypeError("the application role secret is not a JSON object")
    return secret


def wait_for_database(engine: Engine, until: float) -> None:
    """Retry connecting until ``until`` (monotonic): a new proxy target takes a while to register."""
    from sqlalchemy import text  # noqa: PLC0415
    from sqlalchemy.exc import OperationalError  # noqa: PLC0415

    delay = 1.0
    while True:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return
        except OperationalError as exc:
            if time.monotonic() + delay >= until:
                raise
            logger.warning("database not reachable yet", extra={"error": describe_failure(exc)})
            time.sleep(delay)
            delay = min(delay * 2, 15.0)


def ensure_app_role(conn: Connection, role: str, password: str) -> None:
    """Create or update the application role (login, the secret's password) with DML grants only.

    The password goes to the server as a SCRAM verifier computed here, never in clear text.
    Tables created later by the schema owner get the same grants through default privileges.
    """
    import psycopg  # noqa: PLC0415
    from psycopg import sql  # noqa: PLC0415
    from sqlalchemy import text  # noqa: PLC0415

    owner = conn.execute(text("SELECT current_user")).scalar_one()
    if role == owner:
        raise ValueError("the application role must differ from the schema owner")
    raw = cast("psycopg.Connection[Any]", conn.connection.dbapi_connection)
    verifier = raw.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    database = conn.execute(text("SELECT current_database()")).scalar_one()
    ident = sql.Identifier(role)
    statements = [
        sql.SQL("{} ROLE {} WITH LOGIN PASSWORD {}").format(
            sql.SQL("ALTER" if exists else "CREATE"), ident, sql.Literal(verifier)
        ),
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), ident),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident),
        sql.SQL(f"GRANT {DML} ON ALL TABLES IN SCHEMA public TO {{}}").format(ident),
        sql.SQL(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {DML} ON TABLES TO {{}}").format(ident),
        # Only migrations move the schema version.
        sql.SQL("REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {}").format(ident),
    ]
    with raw.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
    logger.info("application role ready", extra={"role": role, "role_created": exists is None})


def upgrade_schema(
    properties: Mapping[str, Any],
    *,
    deadline: float,
    migrations_dir: Path | None = None,
    read_secret: SecretReader = read_secret_from_secrets_manager,
) -> str:
    """Upgrade to head (and provision the app role) in one transaction; the resulting revision."""
    from alembic import command  # noqa: PLC0415
    from alembic.config import Config  # noqa: PLC0415
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415
    from sqlalchemy import text  # noqa: PLC0415

    from videogen.db import get_engine  # noqa: PLC0415

    directory = migrations_dir or find_migrations_dir()
    config = Config(str(directory / "alembic.ini"))
    config.set_main_option("script_location", str(directory).replace("%", "%%"))
    secret_arn = str(properties.get("AppUserSecretArn") or "")
    app_secret = read_secret(secret_arn) if secret_arn else None

    engine = get_engine()
    wait_for_database(engine, until=time.monotonic() + (deadline - time.monotonic()) / 2)
    with engine.begin() as conn:
        # The server ends the transaction itself before our deadline: no lock is left queued.
        remaining_ms = max(int((deadline - time.monotonic()) * 1000) - 2000, 1000)
        conn.execute(text(f"SET LOCAL statement_timeout = {remaining_ms}"))
        conn.execute(text("SET LOCAL lock_timeout = '30s'"))
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        if app_secret is not None:
            ensure_app_role(conn, str(app_secret["username"]), str(app_secret["password"]))
        heads = MigrationContext.configure(conn).get_current_heads()
    return "+".join(sorted(heads)) or "base"


# --- the handler -------------------------------------------------------------------------------

Apply = Callable[[Mapping[str, Any], float], str]
"""(resource properties, monotonic deadline) -> revision."""


def _default_apply(properties: Mapping[str, Any], deadline: float) -> str:
    return upgrade_schema(properties, deadline=deadline)


def run_bounded(work: Callable[[], Outcome], seconds: float, timed_out: Outcome) -> Outcome:
    """``work()`` in a daemon thread; ``timed_out`` if it has not finished within ``seconds``."""
    box: list[Outcome] = []

    def target() -> None:
        box.append(work())

    thread = threading.Thread(target=target, name="migrate", daemon=True)
    thread.start()
    thread.join(max(seconds, 0.0))
    return box[0] if box else timed_out


def handle(
    event: Mapping[str, Any],
    context: LambdaContextLike,
    *,
    apply: Apply = _default_apply,
    send: Callable[[Mapping[str, Any], Outcome], bool] = send_response,
) -> Outcome:
    """Dispatch one custom resource request and always answer it."""
    request_type = str(event.get("RequestType", ""))
    physical_id = str(
        event.get("PhysicalResourceId") or f"schema-{event.get('LogicalResourceId', 'migration')}"
    )
    log_hint = f" (log stream {context.log_stream_name})"
    remaining = context.get_remaining_time_in_millis() / 1000
    # Keep the margin for the response; with less time than that, still give quick work a second.
    budget = max(remaining - RESPONSE_MARGIN_SECONDS, min(remaining / 2, 1.0))
    outcome = Outcome("FAILED", physical_id, "the migration did not finish" + log_hint)

    def work() -> Outcome:
        try:
            if request_type == "Delete":
                return Outcome("SUCCESS", physical_id, "nothing to do on delete")
            if request_type not in ("Create", "Update"):
                return Outcome("FAILED", physical_id, f"unsupported request type {request_type!r}")
            revision = apply(event.get("ResourceProperties") or {}, time.monotonic() + budget)
            logger.info("schema at head", extra={"revision": revision, "request": request_type})
            return Outcome("SUCCESS", physical_id, f"schema at {revision}", {"Revision": revision})
        except Exception as exc:
            logger.exception("migration failed")
            return Outcome("FAILED", physical_id, describe_failure(exc) + log_hint)

    timed_out = Outcome("FAILED", physical_id, f"timed out after {budget:.0f} s" + log_hint)
    try:
        outcome = run_bounded(work, budget, timed_out)
    finally:
        send(event, outcome)
    return outcome


def lambda_handler(event: dict[str, Any], context: LambdaContextLike) -> dict[str, str]:
    """Lambda entry point (the custom resource's ServiceToken)."""
    outcome = handle(event, context)
    return {"Status": outcome.status, "Reason": outcome.reason}
