"""CloudFormation custom resource: migrate the schema on deploy.

Create/Update: ``alembic upgrade head`` through RDS Proxy as the schema owner, then make sure the
application role (the ``AppUserSecretArn`` property's username) exists with its secret's password
and holds DML grants only: that database work is ``migrations/deploy.py``; this module speaks
CloudFormation only. Delete: nothing; the data outlives this resource.

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
from typing import Any, Protocol

logger = logging.getLogger("migrate")
logger.setLevel(logging.INFO)

RESPONSE_MARGIN_SECONDS = 15.0
"""Time kept back from the Lambda timeout to send the response (two short PUT attempts)."""
MAX_REASON_CHARS = 300


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


# --- the handler -------------------------------------------------------------------------------

Apply = Callable[[Mapping[str, Any], float], str]
"""(resource properties, seconds the work may take) -> revision."""


def migrate_schema(properties: Mapping[str, Any], seconds: float) -> str:
    """The database work (migrations/deploy.py, packaged beside this file), imported only now:
    a broken layer then fails this request instead of the function's init."""
    from migrations import deploy  # noqa: PLC0415

    return deploy.upgrade(
        seconds=seconds, app_secret_arn=str(properties.get("AppUserSecretArn") or "") or None
    )


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
    apply: Apply = migrate_schema,
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
            revision = apply(event.get("ResourceProperties") or {}, budget)
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
