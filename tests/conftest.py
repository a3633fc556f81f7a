"""Fixtures that own the real things: a PostgreSQL per test session, a clean schema per test,
moto for AWS (a loopback moto server, so presigned URLs are fetchable), fake providers.

Unit tests (tests/unit) never open sockets; see tests/unit/conftest.py.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from devstack.postgres import EmbeddedPostgres, free_port
from tools.harness import StatementCounter, reset_process_state
from tools.samples import SAMPLE_WEBHOOK_SECRET

REPO_ROOT = Path(__file__).resolve().parents[1]
TABLES = (
    "video_jobs",
    "generation_batches",
    "compiled_videos",
    "user_api_keys",
    "user_quotas",
    "storyboards",
    "storage_cleanups",
)

# No test may ever reach a real AWS account: fake credentials for the whole session.
_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "videogen-tests",
    "POWERTOOLS_METRICS_NAMESPACE": "VideogenTests",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
    "API_KEY_HMAC_SECRET": "test-hmac-secret-not-for-production",
    "WEBHOOK_SIGNING_SECRET": SAMPLE_WEBHOOK_SECRET,
}
for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "DATABASE_URL", "DB_HOST", "DB_SECRET_ARN"):
    os.environ.pop(_name, None)
os.environ.update(_TEST_ENV)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto`` (make test): two workers more than there are cores, and a worker per e2e group
    (tests/e2e/conftest.py) at least. The e2e tests spend most of their time waiting (on the fakes'
    clock, a stopped PostgreSQL, Chromium): with a worker per core, the cores were idle a third of
    the time; with two more, about a seventh."""
    from tests.e2e.conftest import E2E_GROUPS  # noqa: PLC0415

    return max(len(E2E_GROUPS) + 1, (os.process_cpu_count() or 1) + 2)


@pytest.fixture(scope="session")
def postgres() -> Iterator[EmbeddedPostgres]:
    """A throwaway PostgreSQL 15 for the session, migrated to head with Alembic."""
    from alembic import command  # noqa: PLC0415
    from alembic.config import Config  # noqa: PLC0415

    root = Path(tempfile.mkdtemp(prefix="videogen-pg-"))
    root.chmod(0o755)  # the postgres user must reach its data directory inside
    pg = EmbeddedPostgres(root / "data", free_port(), log_file=root / "postgres.log")
    pg.start()
    try:
        pg.create_database("videogen_test")
        os.environ["DATABASE_URL"] = pg.url("videogen_test")
        reset_process_state()
        command.upgrade(Config(str(REPO_ROOT / "migrations" / "alembic.ini")), "head")
        yield pg
    finally:
        from videogen.data import db  # noqa: PLC0415

        db.reset_engine()
        pg.stop("immediate")


@pytest.fixture
def clean_db(postgres: EmbeddedPostgres) -> EmbeddedPostgres:
    """Every test starts from empty tables (schema kept)."""
    from videogen.data.db import get_engine  # noqa: PLC0415

    with get_engine().begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
    return postgres


@pytest.fixture
def count_statements(clean_db: EmbeddedPostgres) -> Callable[[], Any]:
    """``with count_statements() as c: ...; assert c.count == 1``, on the process engine."""
    from videogen.data.db import get_engine  # noqa: PLC0415

    def start() -> Any:
        engine = get_engine()
        with engine.connect() as conn:  # warm the pool: connecting is not a statement we count
            conn.execute(text("SELECT 1"))
        return StatementCounter().watch(engine)

    return start


@dataclass
class AwsResources:
    """What the moto server holds for one test: generation and film queues + DLQ, storage cleanup
    queue, bucket, KMS key."""

    endpoint: str
    queue_url: str
    dlq_url: str
    cleanup_queue_url: str
    bucket: str
    kms_key_id: str
    film_queue_url: str

    def client(self, service: Any) -> Any:
        import boto3  # noqa: PLC0415

        return boto3.client(service, region_name="us-east-1", endpoint_url=self.endpoint)

    def queued_bodies(self, queue_url: str | None = None) -> list[str]:
        """Drain the queue (delayed messages included) and return the message bodies."""
        sqs = self.client("sqs")
        url = queue_url or self.queue_url
        bodies: list[str] = []
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            messages = got.get("Messages", [])
            if not messages:
                return bodies
            for m in messages:
                bodies.append(m["Body"])
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A moto server on loopback for the session (presigned URLs must be fetchable over HTTP)."""
    from moto.server import ThreadedMotoServer  # noqa: PLC0415

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsResources]:
    """Fresh SQS queues (generation + DLQ, storage cleanup), S3 bucket and KMS key in moto;
    settings pointed at them."""
    import json  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    import boto3  # noqa: PLC0415

    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"))  # noqa: S310
    kwargs: dict[str, Any] = {"region_name": "us-east-1", "endpoint_url": moto_server}
    sqs = boto3.client("sqs", **kwargs)
    dlq_url = sqs.create_queue(QueueName="generation-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName="generation",
        Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"}),
        },
    )["QueueUrl"]
    cleanup_queue_url = sqs.create_queue(QueueName="storage-cleanup")["QueueUrl"]
    film_queue_url = sqs.create_queue(QueueName="film")["QueueUrl"]
    boto3.client("s3", **kwargs).create_bucket(Bucket="videos")
    key_id = boto3.client("kms", **kwargs).create_key(Description="api keys")["KeyMetadata"]["KeyId"]
    resources = AwsResources(
        moto_server, queue_url, dlq_url, cleanup_queue_url, "videos", key_id, film_queue_url
    )
    for name, value in {
        "AWS_ENDPOINT_URL": moto_server,
        "GENERATION_QUEUE_URL": queue_url,
        "STORAGE_CLEANUP_QUEUE_URL": cleanup_queue_url,
        "FILM_QUEUE_URL": film_queue_url,
        "VIDEOS_BUCKET": "videos",
        "API_KEYS_KMS_KEY_ID": key_id,
    }.items():
        monkeypatch.setenv(name, value)
    reset_process_state()
    yield resources
    monkeypatch.undo()
    reset_process_state()


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """``configure(max_jobs_in_flight_per_user=2)``: set settings through the environment."""

    def apply(**settings: object) -> None:
        for name, value in settings.items():
            monkeypatch.setenv(name.upper(), str(value))
        reset_process_state()

    yield apply
    monkeypatch.undo()
    reset_process_state()
