"""functions/migrate: the CloudFormation custom resource that migrates the schema on deploy.

CloudFormation's presigned ResponseURL is played by a loopback HTTP server that records the PUT;
the database is the session's real PostgreSQL (a fresh database per test that migrates), the
application role's secret lives in the moto server's Secrets Manager.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from devstack.postgres import EmbeddedPostgres, free_port
from migrations import deploy
from tests.conftest import AwsResources
from tools.functions import load_function
from tools.harness import load_event, reset_process_state
from videogen.data.db import get_engine

REPO_ROOT = Path(__file__).resolve().parents[2]


migrate = load_function("migrate")
HEAD = ScriptDirectory.from_config(Config(str(REPO_ROOT / "migrations" / "alembic.ini"))).get_current_head()


@dataclass
class CloudFormationEndpoint:
    """A loopback stand-in for the presigned ResponseURL: records every PUT."""

    url: str
    responses: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def only_response(self) -> dict[str, Any]:
        assert len(self.responses) == 1, self.responses
        return self.responses[0]


@pytest.fixture
def cloudformation() -> Iterator[CloudFormationEndpoint]:
    endpoint = CloudFormationEndpoint(url="")

    class Recorder(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            endpoint.responses.append(json.loads(body))
            endpoint.headers.append(dict(self.headers))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}/cloudformation-response?X-Amz-Signature=x"
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class FakeLambdaContext:
    """The Lambda context's clock: ``remaining_seconds`` from its creation."""

    remaining_seconds: float
    log_stream_name: str = "2026/11/25/[$LATEST]0123456789abcdef"
    aws_request_id: str = "req-1"
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return int((self.remaining_seconds - (time.monotonic() - self.started)) * 1000)


@dataclass
class FakeClock:
    """A monotonic clock that advances only when something sleeps on it."""

    time: float = 0.0
    pauses: list[float] = field(default_factory=list)

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.time += seconds


def cfn_event(request_type: str, url: str, **properties: Any) -> dict[str, Any]:
    """The sample custom resource request (events/migrate.<type>.json) answering to ``url``."""
    event = load_event(f"migrate.{request_type.lower()}")
    event["ResponseURL"] = url
    event["RequestId"] = str(uuid.uuid4())
    event["ResourceProperties"].update(properties)
    return event


@pytest.fixture
def database_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """``database_url(url)`` points the migrate function's settings at ``url`` for one test."""

    def point(url: str) -> None:
        monkeypatch.setenv("DATABASE_URL", url)
        reset_process_state()

    yield point
    monkeypatch.undo()
    reset_process_state()


@pytest.fixture
def empty_database(postgres: EmbeddedPostgres) -> Iterator[str]:
    """A new, empty database on the session's PostgreSQL; dropped (with test roles) afterwards."""
    name = f"migrate_{uuid.uuid4().hex[:10]}"
    pg_admin = create_engine(postgres.url("postgres"), isolation_level="AUTOCOMMIT")
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield postgres.url(name)
    reset_process_state()
    with pg_admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text("DROP ROLE IF EXISTS videogen_app_ct"))
    pg_admin.dispose()


def test_delete_reports_success_without_touching_the_database(
    cloudformation: CloudFormationEndpoint, database_url: Callable[[str], None]
) -> None:
    # Given a database that cannot be reached at all
    database_url(f"postgresql+psycopg://nobody:pw@127.0.0.1:{free_port()}/none")
    # When CloudFormation deletes the resource
    result = migrate.lambda_handler(cfn_event("Delete", cloudformation.url), FakeLambdaContext(60))
    # Then it answers SUCCESS for the same physical id, having done nothing
    response = cloudformation.only_response()
    assert result["Status"] == "SUCCESS"
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == "schema-SchemaMigration"
    assert response["LogicalResourceId"] == "SchemaMigration"
    assert cloudformation.headers[0].get("Content-Type", "") == ""


def test_unreachable_database_reports_failed_with_a_short_reason_and_does_not_hang(
    cloudformation: CloudFormationEndpoint, database_url: Callable[[str], None]
) -> None:
    # Given a database URL whose port is closed (and whose password must never be echoed)
    database_url(f"postgresql+psycopg://owner:hunter2-secret@127.0.0.1:{free_port()}/videogen")
    # When CloudFormation creates the resource with 20 s left before the Lambda timeout
    result = migrate.lambda_handler(cfn_event("Create", cloudformation.url), FakeLambdaContext(20))
    # Then it answers FAILED with the database's own error: the wait gave up within its share of
    # the budget, before the bounded run would have reported a timeout
    response = cloudformation.only_response()
    assert result["Status"] == response["Status"] == "FAILED"
    assert response["Reason"].startswith("OperationalError")
    assert "log stream" in response["Reason"]
    assert "hunter2" not in json.dumps(response)


def test_waiting_for_the_database_retries_with_growing_pauses_until_the_deadline(
    database_url: Callable[[str], None],
) -> None:
    # Given a database that never comes up, and a clock that moves only when the wait sleeps
    database_url(f"postgresql+psycopg://owner:pw@127.0.0.1:{free_port()}/videogen")
    clock = FakeClock()
    # When the migration waits for it until t = 10 s
    with pytest.raises(OperationalError):
        deploy.wait_for_database(get_engine(), until=10.0, clock=clock.now, sleep=clock.sleep)
    # Then it tried again after 1, 2 and 4 s, and gave up when the next pause (8 s) would end past 10 s
    assert clock.pauses == [1.0, 2.0, 4.0]


def test_work_that_outlives_the_budget_is_reported_as_timed_out(
    cloudformation: CloudFormationEndpoint,
) -> None:
    # Given a migration that does not finish until the test lets it
    release = threading.Event()

    def stuck(properties: Mapping[str, Any], seconds: float) -> str:
        release.wait()
        return "never"

    # When the function has only one second of budget
    context = FakeLambdaContext(migrate.RESPONSE_MARGIN_SECONDS + 1)
    try:
        outcome = migrate.handle(cfn_event("Update", cloudformation.url), context, apply=stuck)
        # Then CloudFormation hears FAILED while the work is still running
        assert not release.is_set()
        assert outcome.status == "FAILED"
        assert cloudformation.only_response()["Reason"].startswith("timed out")
    finally:
        release.set()


def test_create_migrates_an_empty_database_to_head_and_provisions_the_app_role(
    cloudformation: CloudFormationEndpoint,
    database_url: Callable[[str], None],
    empty_database: str,
    aws: AwsResources,
) -> None:
    # Given an empty database and the application role's secret in Secrets Manager
    database_url(empty_database)
    secret_arn = aws.client("secretsmanager").create_secret(
        Name=f"app-{uuid.uuid4().hex[:6]}",
        SecretString=json.dumps({"username": "videogen_app_ct", "password": "app-pass-1"}),
    )["ARN"]
    event = cfn_event("Create", cloudformation.url, AppUserSecretArn=secret_arn)

    # When CloudFormation creates the resource
    result = migrate.lambda_handler(event, FakeLambdaContext(120))

    # Then the schema is at head and CloudFormation is told which revision
    response = cloudformation.only_response()
    assert result["Status"] == "SUCCESS", response["Reason"]
    assert response["Data"] == {"Revision": HEAD}
    engine = create_engine(empty_database)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == HEAD
            # And the app role logs in with a SCRAM verifier and may only read and write rows
            password = conn.execute(
                text("SELECT rolpassword FROM pg_authid WHERE rolname = 'videogen_app_ct'")
            ).scalar_one()
            assert password.startswith("SCRAM-SHA-256$")

            def may(privilege: str, table: str) -> bool:
                query = text("SELECT has_table_privilege('videogen_app_ct', :t, :p)")
                return bool(conn.execute(query, {"t": table, "p": privilege}).scalar_one())

            assert may("INSERT", "storyboards")
            assert may("DELETE", "video_jobs")
            assert not may("TRUNCATE", "storyboards")
            assert not may("UPDATE", "alembic_version")
    finally:
        engine.dispose()

    # And an Update (a redeploy) is a no-op that still answers SUCCESS at the same revision
    migrate.lambda_handler(
        cfn_event("Update", cloudformation.url, AppUserSecretArn=secret_arn), FakeLambdaContext(120)
    )
    assert cloudformation.responses[-1]["Status"] == "SUCCESS"
    assert cloudformation.responses[-1]["Data"] == {"Revision": HEAD}
    assert cloudformation.responses[-1]["PhysicalResourceId"] == "schema-SchemaMigration"
