"""The engine, connection check, dbcheck CLI, migrations and round-trip budgets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, event, inspect, text

from devstack.postgres import free_port
from tests.conftest import AwsResources
from videogen.data.db import build_engine, check_database_connection, get_engine, session_scope
from videogen.data.models import Base
from videogen.data.repositories import storyboards
from videogen.generation.prompt import fingerprint
from videogen.runtime.aws import SecretUnavailable
from videogen.runtime.config import Settings

REPO = Path(__file__).resolve().parents[2]


def _alembic_config() -> Config:
    return Config(str(REPO / "migrations" / "alembic.ini"))


def test_engine_is_shaped_for_rds_proxy():
    engine = get_engine()

    assert engine is get_engine()  # one engine per process, reused
    assert engine.pool.size() == 1  # type: ignore[attr-defined]
    assert engine.pool._max_overflow == 0  # type: ignore[attr-defined]
    with engine.connect() as conn:
        assert conn.connection.dbapi_connection.prepare_threshold is None  # type: ignore[union-attr]


def _kill_pooled_backend() -> None:
    with get_engine().connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with create_engine(get_engine().url).connect() as killer:
        killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def test_a_connection_that_died_while_idle_is_replaced_before_use(configure, make_storyboard):
    configure(db_ping_after_idle_seconds=0)
    board = make_storyboard("user-a")
    _kill_pooled_backend()

    with session_scope(autocommit=True) as s:
        assert storyboards.get(s, "user-a", board.id).id == board.id


def test_autocommit_scope_sends_no_begin_or_commit(make_storyboard):
    board = make_storyboard("user-a")
    sent: list[str] = []

    def trace(conn, cursor, statement, *args):
        sent.append(statement)

    event.listen(get_engine(), "before_cursor_execute", trace)
    try:
        with session_scope(autocommit=True) as s:
            storyboards.get(s, "user-a", board.id)
            in_transaction = s.connection().connection.dbapi_connection.info.transaction_status  # type: ignore[union-attr]
    finally:
        event.remove(get_engine(), "before_cursor_execute", trace)

    assert len(sent) == 1
    assert in_transaction == 0  # psycopg TransactionStatus.IDLE: autocommit, no BEGIN sent


def test_iam_source_uses_tls_and_a_fresh_token_per_new_connection():
    settings = Settings(
        database_url=None, db_host="proxy.example.internal", db_user="app", db_name="videogen"
    )
    engine = build_engine(settings)
    tokens: list[str] = []

    class Captured(Exception):
        pass

    @event.listens_for(engine, "do_connect")  # runs after the token listener
    def capture(dialect, conn_rec, cargs, cparams):
        tokens.append(cparams["password"])
        raise Captured

    for _ in range(2):
        with pytest.raises(Captured):
            engine.connect()
    engine.dispose()

    assert engine.url.query["sslmode"] == "require"
    assert engine.url.password is None  # the token never sits in the URL
    assert len(tokens) == 2
    assert all(t.startswith("proxy.example.internal:5432/?Action=connect&DBUser=app") for t in tokens)


def test_secret_source_connects_with_the_credentials_in_secrets_manager(aws: AwsResources) -> None:
    secret = {"username": "owner", "password": "pw-from-secret", "host": "cluster.internal", "port": 6543}
    arn = aws.client("secretsmanager").create_secret(Name="db-owner", SecretString=json.dumps(secret))["ARN"]

    engine = build_engine(Settings(database_url=None, db_secret_arn=arn, db_name="videogen"))
    engine.dispose()

    url = engine.url
    assert (url.username, url.password, url.host, url.port) == (
        "owner",
        "pw-from-secret",
        "cluster.internal",
        6543,
    )
    assert url.database == "videogen"  # not in the secret: from settings
    assert url.query["sslmode"] == "require"


def test_secret_source_refuses_a_secret_that_is_not_a_json_object_without_echoing_it(
    aws: AwsResources,
) -> None:
    arn = aws.client("secretsmanager").create_secret(Name="db-plain", SecretString="hunter2-plain")["ARN"]

    with pytest.raises(SecretUnavailable) as raised:
        build_engine(Settings(database_url=None, db_secret_arn=arn))

    assert "hunter2" not in str(raised.value)


def test_check_database_connection_reports_connected():
    assert check_database_connection() == {"connected": True, "error": None}


def test_check_database_connection_never_raises_when_unreachable():
    url = f"postgresql+psycopg://postgres:secret-password@127.0.0.1:{free_port()}/nothing"
    engine = build_engine(Settings(database_url=url, db_connect_timeout_seconds=1))
    from videogen.data import db  # noqa: PLC0415

    original = db._engine
    db._engine = engine
    try:
        result = check_database_connection()
    finally:
        db._engine = original
        engine.dispose()

    assert result["connected"] is False
    assert "secret-password" not in str(result["error"])


def test_session_scope_rolls_back_when_the_block_raises(make_storyboard):
    board = make_storyboard("user-a", name="kept")

    def update_then_fail() -> None:
        with session_scope() as s:
            storyboards.update(s, "user-a", board.id, {"name": "lost"})
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        update_then_fail()

    with session_scope() as s:
        assert storyboards.get(s, "user-a", board.id).name == "kept"


def _dbcheck(database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "DB_CONNECT_TIMEOUT_SECONDS": "2"}
    return subprocess.run(
        [sys.executable, "-m", "videogen.data.check"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_dbcheck_prints_storyboard_count(make_storyboard):
    make_storyboard("user-a")
    make_storyboard("user-b")

    result = _dbcheck(os.environ["DATABASE_URL"])

    assert result.returncode == 0, result.stderr
    assert "2 storyboard(s)" in result.stdout


def test_dbcheck_exits_1_with_a_message_when_unreachable():
    result = _dbcheck(f"postgresql+psycopg://postgres:hunter2@127.0.0.1:{free_port()}/videogen")

    assert result.returncode == 1
    assert "database unreachable" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout


def test_migrations_go_down_to_base_and_up_again_and_match_the_models(postgres):
    postgres.create_database("videogen_migrations")
    url = postgres.url("videogen_migrations")
    engine = create_engine(url)
    config = _alembic_config()
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            command.downgrade(config, "base")
            assert set(inspect(conn).get_table_names()) == {"alembic_version"}
            command.upgrade(config, "head")
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
    finally:
        engine.dispose()

    assert diff == []


def test_revision_0005_fingerprints_existing_jobs_as_the_code_does_and_downgrades(postgres):
    postgres.create_database("videogen_backfill")
    engine = create_engine(postgres.url("videogen_backfill"))
    config = _alembic_config()
    prompt = "Ada opens the lab door.\nStyle: cinematic, \u00e9t\u00e9."
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0004")
            conn.execute(
                text(
                    "INSERT INTO storyboards (id, user_id, name, preset_key) "
                    "VALUES ('0f8fad5b-d9cb-469f-a165-70867728950e', 'u', 'n', 'p')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO video_jobs (id, user_id, storyboard_id, scene_id, provider, model, prompt, "
                    "duration_seconds, size) VALUES ('7c9e6679-7425-40de-944b-e07fc1f90ae7', 'u', "
                    "'0f8fad5b-d9cb-469f-a165-70867728950e', 's1', 'sora', 'sora-2', :prompt, 4, '1280x720')"
                ),
                {"prompt": prompt},
            )
            command.upgrade(config, "head")
            stored = conn.execute(text("SELECT fingerprint FROM video_jobs")).scalar_one()
            conn.execute(text("UPDATE video_jobs SET status = 'cancelled'"))
            command.downgrade(config, "0004")
            after = conn.execute(text("SELECT status, error_message FROM video_jobs")).one()
    finally:
        engine.dispose()

    assert stored == fingerprint(prompt, "sora-2", "1280x720", 4)
    assert tuple(after) == ("failed", "cancelled by the user")


def test_revision_0007_samples_storyboard_names_for_stable_search_plans_and_downgrades(postgres):
    postgres.create_database("videogen_statistics")
    engine = create_engine(postgres.url("videogen_statistics"))
    config = _alembic_config()
    target = text(
        "SELECT attstattarget FROM pg_attribute WHERE attrelid = 'storyboards'::regclass AND attname = 'name'"
    )
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            at_head = conn.execute(target).scalar_one()
            command.downgrade(config, "0006")
            after = conn.execute(target).scalar_one()
    finally:
        engine.dispose()

    assert at_head == 300
    assert after in (-1, None)  # the server's default_statistics_target again


def test_revision_0008_renames_sora_wipes_its_keys_marks_google_keys_vertex_and_downgrades(postgres):
    postgres.create_database("videogen_providers")
    engine = create_engine(postgres.url("videogen_providers"))
    config = _alembic_config()
    keys = text(
        "SELECT provider, is_active, encrypted_key, key_hash, api, base_url, verified_at "
        "FROM user_api_keys ORDER BY provider"
    )
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0007")
            conn.execute(
                text(
                    "INSERT INTO user_api_keys (id, user_id, provider, encrypted_key, key_hash, last4) "
                    "VALUES "
                    "('11111111-1111-4111-8111-111111111111', 'u', 'sora', 'v1.a.b.c', 'h1', 'abcd'), "
                    "('22222222-2222-4222-8222-222222222222', 'u', 'veo', 'v1.d.e.f', 'h2', 'wxyz')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO storyboards (id, user_id, name, preset_key) "
                    "VALUES ('0f8fad5b-d9cb-469f-a165-70867728950e', 'u', 'n', 'p')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO video_jobs (id, user_id, storyboard_id, scene_id, provider, model, prompt) "
                    "VALUES ('7c9e6679-7425-40de-944b-e07fc1f90ae7', 'u', "
                    "'0f8fad5b-d9cb-469f-a165-70867728950e', 's1', 'sora', 'sora-2', 'p')"
                )
            )
            command.upgrade(config, "0008")
            upgraded = [tuple(row) for row in conn.execute(keys)]
            job_provider = conn.execute(text("SELECT provider FROM video_jobs")).scalar_one()
            command.downgrade(config, "0007")
            downgraded = (
                conn.execute(text("SELECT provider FROM user_api_keys ORDER BY provider")).scalars().all()
            )
            job_after = conn.execute(text("SELECT provider FROM video_jobs")).scalar_one()
    finally:
        engine.dispose()

    # the sora key named no endpoint and was sealed for "sora": wiped, to be stored again
    assert upgraded == [
        ("openai", False, None, None, None, None, None),
        ("veo", True, "v1.d.e.f", "h2", "vertex", None, None),
    ]
    assert job_provider == "openai"
    assert (downgraded, job_after) == (["sora", "veo"], "sora")


class TestRoundTripBudgets:
    """Statement counts from the architecture's performance budgets."""

    def test_create_update_delete_are_one_statement_each(self, count_statements):
        with count_statements() as c, session_scope() as s:
            board = storyboards.create(s, "user-a", name="n", preset_key="p", character={}, scenes=[])
        assert c.count == 1
        with count_statements() as c, session_scope() as s:
            storyboards.update(s, "user-a", board.id, {"name": "m"}, expected_version=1)
        assert c.count == 1
        with count_statements() as c, session_scope() as s:
            storyboards.delete(s, "user-a", board.id)
        assert c.count == 1

    def test_get_with_jobs_is_at_most_two_and_list_is_one(self, count_statements, make_job):
        job = make_job("user-a")
        with count_statements() as c, session_scope() as s:
            storyboards.get_with_jobs(s, "user-a", job.storyboard_id)
        assert c.count <= 2
        with count_statements() as c, session_scope() as s:
            storyboards.list_for_user(s, "user-a")
        assert c.count == 1
