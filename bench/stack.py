"""What the benchmarks run against, started and torn down by the run itself.

A throwaway PostgreSQL from the machine's binaries (``devstack.postgres``) in a temporary
directory, migrated to head with Alembic; a moto server in its own process (so its work does
not share our GIL) holding the generation queue + DLQ, the videos bucket and the KMS key; and
the environment every function reads, pointed at them. ``Stack.stop()`` undoes all of it and
is safe to call after a partial start.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import suppress
from pathlib import Path
from typing import Any

from devstack.postgres import EmbeddedPostgres, free_port
from tools.harness import reset_process_state

REPO = Path(__file__).resolve().parents[1]
DATABASE = "videogen_bench"

# Fake credentials and quiet, local Powertools: nothing here may reach a real AWS account.
BASE_ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_SESSION_TOKEN": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "videogen-bench",
    "POWERTOOLS_METRICS_NAMESPACE": "VideogenBench",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
    "API_KEY_HMAC_SECRET": "bench-hmac-secret-not-for-production",
}
CLEARED_ENV = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "DATABASE_URL", "DB_HOST", "DB_SECRET_ARN")


def apply_base_env() -> None:
    """Set the environment before anything imports videogen (settings are read once)."""
    for name in CLEARED_ENV:
        os.environ.pop(name, None)
    os.environ.update(BASE_ENV)


def migrate(database_url: str) -> None:
    """``alembic upgrade head`` on ``database_url`` (the process settings point there meanwhile)."""
    from alembic import command  # noqa: PLC0415
    from alembic.config import Config  # noqa: PLC0415

    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = database_url
    reset_process_state()
    try:
        command.upgrade(Config(str(REPO / "migrations" / "alembic.ini")), "head")
    finally:
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous
        reset_process_state()


class Stack:
    """PostgreSQL + moto + environment for one benchmark run."""

    def __init__(self) -> None:
        self.root: Path | None = None
        self.pg: EmbeddedPostgres | None = None
        self.moto: subprocess.Popen[bytes] | None = None
        self.endpoint = ""
        self.queue_url = ""
        self.cleanup_queue_url = ""
        self.bucket = "videos"
        self.kms_key_id = ""
        self.database_url = ""

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> Stack:
        apply_base_env()
        self.root = Path(tempfile.mkdtemp(prefix="videogen-bench-"))
        self.root.chmod(0o755)  # the postgres user must reach its data directory inside
        self.pg = EmbeddedPostgres(self.root / "data", free_port(), log_file=self.root / "postgres.log")
        self.pg.start()
        self.database_url = self.create_database(DATABASE)
        os.environ["DATABASE_URL"] = self.database_url
        self._start_moto()
        self._create_aws_resources()
        reset_process_state()
        return self

    def stop(self) -> None:
        with suppress(Exception):
            reset_process_state()
        if self.moto is not None:
            self.moto.terminate()
            try:
                self.moto.wait(10)
            except subprocess.TimeoutExpired:
                self.moto.kill()
                self.moto.wait(5)
            self.moto = None
        if self.pg is not None:
            self.pg.stop("immediate")
            self.pg = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- PostgreSQL -----------------------------------------------------------------------

    def create_database(self, name: str) -> str:
        """Create and migrate database ``name``; its SQLAlchemy URL."""
        assert self.pg is not None
        self.pg.create_database(name)
        url = self.pg.url(name)
        migrate(url)
        return url

    def conninfo(self, url: str | None = None) -> str:
        """A plain libpq URL (for psycopg.connect) of the bench database or ``url``."""
        return (url or self.database_url).replace("postgresql+psycopg://", "postgresql://")

    def server_version(self) -> str:
        import psycopg  # noqa: PLC0415

        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"

    # --- moto -----------------------------------------------------------------------------

    def _start_moto(self) -> None:
        assert self.root is not None
        port = free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        log = (self.root / "moto.log").open("wb")
        self.moto = subprocess.Popen(
            [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1).close()  # noqa: S310
                return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise TimeoutError("moto server did not start")

    def client(self, service: Any) -> Any:
        import boto3  # noqa: PLC0415

        return boto3.client(service, region_name="us-east-1", endpoint_url=self.endpoint)

    def _create_aws_resources(self) -> None:
        sqs = self.client("sqs")
        dlq_url = sqs.create_queue(QueueName="generation-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})
        self.queue_url = sqs.create_queue(
            QueueName="generation", Attributes={"VisibilityTimeout": "30", "RedrivePolicy": redrive}
        )["QueueUrl"]
        self.cleanup_queue_url = sqs.create_queue(QueueName="storage-cleanup")["QueueUrl"]
        self.client("s3").create_bucket(Bucket=self.bucket)
        self.kms_key_id = self.client("kms").create_key(Description="api keys")["KeyMetadata"]["KeyId"]
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": self.endpoint,
                "GENERATION_QUEUE_URL": self.queue_url,
                "STORAGE_CLEANUP_QUEUE_URL": self.cleanup_queue_url,
                "VIDEOS_BUCKET": self.bucket,
                "API_KEYS_KMS_KEY_ID": self.kms_key_id,
            }
        )

    def purge_queue(self) -> None:
        """Drop whatever the generation queue holds (moto honours PurgeQueue at once)."""
        self.client("sqs").purge_queue(QueueUrl=self.queue_url)
