"""Figure 1: warm latency per API route, against the floor, with statements and round trips.

For each route the contenders run interleaved (rotating order, so drift hits all alike):

- ``handler``: the function's ``lambda_handler`` invoked in-process with the route's sample
  event from events/ (Powertools resolver, validation, identity, connection, repository,
  response model, JSON), exactly as Lambda calls it in a warm container.
- ``repo``: the layer underneath, for attribution only: ``statements.connection`` (autocommit
  for the one-statement routes, one transaction for generate, as their handlers use it) + the
  repository call the handler makes (no Powertools, no request or response JSON).
- ``floor``: plain psycopg on one open connection doing the same SQL work. Reads and single
  statement writes run in autocommit (a single statement is its own transaction); generate's
  three statements run in one transaction (``conn.transaction()``: BEGIN and COMMIT). Like the
  app, the floor disables server-side prepared statements (``prepare_threshold=None``): RDS
  Proxy forbids them to both, so the floor is not given an advantage the app cannot have.

Writes keep the tables the same size: create and generate delete their row afterwards, delete
gets a fresh row before each call, patch sends the current version in ``If-Match``; that
untimed work runs on a separate admin connection. Generate sends its queue message to an
``InMemoryQueueSender`` (the latency of moto's SQS is not ours to measure); the one send per
request is still counted. Delete sends its storage cleanup to moto's SQS (the storyboards
function takes no sender), so its floor makes the same send with a plain boto3 client.

Statements are counted with SQLAlchemy's ``before_cursor_execute``; round trips on the wire
with a libpq protocol trace of the connection (one ``ReadyForQuery`` per round trip).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
import psycopg
from psycopg.types.json import Jsonb

from bench import lambdas
from bench.measure import Contender, interleave, quiet_stdout, wire_trace
from bench.report import Report, Row, ratio
from tools import samples
from tools.harness import StatementCounter

USER = samples.SAMPLE_USER
BOARD_ID = uuid.UUID(samples.SAMPLE_STORYBOARD_ID)
JOB_ID = uuid.UUID(samples.SAMPLE_JOB_ID)
CHARACTER = {"name": "Ada", "description": "a curious engineer in a yellow raincoat"}
SCENES = [
    {"id": "scene-1", "prompt": "Ada opens the lab door at dawn"},
    {"id": "scene-2", "prompt": "Ada watches the prototype take off"},
]
LATENCY_BUDGET = 2.0

# Plain SQL of the floor: the same tables, rows, columns and conditions as the repositories.
SQL_STATUS = "SELECT * FROM video_jobs WHERE id = %s AND user_id = %s"
SQL_BOARD = "SELECT * FROM storyboards WHERE id = %s AND user_id = %s"
SQL_BOARD_JOBS = "SELECT * FROM video_jobs WHERE storyboard_id = %s AND user_id = %s ORDER BY created_at, id"
SQL_LIST = "SELECT * FROM storyboards WHERE user_id = %s ORDER BY updated_at DESC, id DESC LIMIT %s"
SQL_SEARCH = (
    "SELECT * FROM storyboards WHERE user_id = %s AND name ILIKE %s ESCAPE '\\' "
    "ORDER BY updated_at DESC, id DESC LIMIT %s"
)
SQL_CREATE = (
    "INSERT INTO storyboards (id, user_id, name, preset_key, character, scenes) "
    "VALUES (%s, %s, %s, %s, %s, %s) RETURNING *"
)
SQL_PATCH = (
    "UPDATE storyboards SET name = %s, version = version + 1, updated_at = clock_timestamp() "
    "WHERE id = %s AND user_id = %s AND version = %s RETURNING *"
)
SQL_DELETE = """
WITH deleted AS (DELETE FROM storyboards WHERE id = %(s)s AND user_id = %(u)s RETURNING id, user_id)
INSERT INTO storage_cleanups (id, user_id, storyboard_id, prefix, keys)
SELECT %(c)s, deleted.user_id, deleted.id, %(p)s, (
    SELECT coalesce(jsonb_agg(DISTINCT named.key), '[]'::jsonb) FROM (
        SELECT video_url AS key FROM video_jobs WHERE storyboard_id = %(s)s AND user_id = %(u)s
        UNION ALL SELECT thumbnail_url FROM video_jobs WHERE storyboard_id = %(s)s AND user_id = %(u)s
        UNION ALL SELECT final_video_url FROM compiled_videos WHERE storyboard_id = %(s)s AND user_id = %(u)s
    ) AS named WHERE named.key LIKE %(k)s)
FROM deleted RETURNING id
"""
SQL_GEN_CONTEXT = (
    "SELECT s.scenes, s.character, s.preset_key, "
    "EXISTS (SELECT 1 FROM user_api_keys k WHERE k.user_id = %(u)s AND k.provider = %(p)s AND k.is_active), "
    "(SELECT j.id FROM video_jobs j WHERE j.user_id = %(u)s AND j.idempotency_key = %(k)s) "
    "FROM storyboards s WHERE s.id = %(s)s AND s.user_id = %(u)s"
)
SQL_GEN_LOCK = (
    "INSERT INTO user_quotas (user_id) VALUES (%s) ON CONFLICT (user_id) DO UPDATE SET updated_at = now()"
)
SQL_GEN_INSERT = """
WITH usage AS (
  SELECT count(*) FILTER (WHERE status IN ('pending', 'submitting', 'processing')) AS in_flight,
         coalesce(sum(coalesce(cost, estimated_cost))
                  FILTER (WHERE created_at >= %(day)s AND status <> 'failed'), 0) AS spent
  FROM video_jobs WHERE user_id = %(u)s
), inserted AS (
  INSERT INTO video_jobs (id, user_id, storyboard_id, scene_id, provider, model, prompt,
                          duration_seconds, size, estimated_cost, idempotency_key)
  SELECT %(id)s::uuid, %(u)s::varchar, %(s)s::uuid, %(scene)s::varchar, %(p)s::varchar,
         %(model)s::varchar, %(prompt)s::text, %(secs)s::int, %(size)s::varchar, %(cost)s::numeric,
         %(k)s::varchar
  FROM usage
  WHERE in_flight < %(max_jobs)s AND spent + %(cost)s <= %(max_spend)s
    AND NOT EXISTS (SELECT 1 FROM video_jobs WHERE user_id = %(u)s AND idempotency_key = %(k)s)
  RETURNING id
)
SELECT usage.in_flight, usage.spent,
       (SELECT id FROM video_jobs WHERE user_id = %(u)s AND idempotency_key = %(k)s),
       (SELECT id FROM inserted)
FROM usage
"""


@dataclass
class RouteBench:
    """One route: its three contenders, the statement budget, and how to count one request."""

    name: str
    handler: Contender
    repo: Contender
    floor: Contender
    max_statements: int
    exact: bool = True
    sends: Callable[[], int] | None = None

    @property
    def contenders(self) -> list[Contender]:
        return [self.handler, self.repo, self.floor]


class Env:
    """What every route bench needs: handlers, the floor and admin connections, fixtures."""

    def __init__(self, conninfo: str) -> None:
        from tools.queues import InMemoryQueueSender  # noqa: PLC0415

        self.floor_conn = psycopg.connect(conninfo, autocommit=True, prepare_threshold=None)
        self.admin = psycopg.connect(conninfo, autocommit=True)
        self.storyboards = lambdas.load_function("storyboards").lambda_handler
        self.status = lambdas.load_function("status_and_models").lambda_handler
        generate = lambdas.load_function("generate")
        from videogen.api.resolver import api_handler  # noqa: PLC0415

        self.sender = InMemoryQueueSender()
        self.generate = api_handler(generate.build_app(sender=self.sender))

    def close(self) -> None:
        self.floor_conn.close()
        self.admin.close()

    def new_board(self, name: str = "Disposable") -> uuid.UUID:
        self.admin.execute("DELETE FROM storage_cleanups")  # what deletes left behind
        board_id = uuid.uuid4()
        self.admin.execute(
            "INSERT INTO storyboards (id, user_id, name, preset_key, character, scenes) "
            "VALUES (%s, %s, %s, 'cinematic', %s, %s)",
            (board_id, USER, name, Jsonb(CHARACTER), Jsonb(SCENES)),
        )
        return board_id

    def drop_board(self, board_id: Any) -> None:
        self.admin.execute("DELETE FROM storyboards WHERE id = %s", (board_id,))

    def drop_job(self, job_id: Any) -> None:
        self.admin.execute("DELETE FROM video_jobs WHERE id = %s", (job_id,))


def _connection(*, transaction: bool = False) -> AbstractContextManager[Any]:
    """``statements.connection`` as the handlers use it (one-statement routes in autocommit)."""
    from videogen.data import statements  # noqa: PLC0415

    return statements.connection(transaction=transaction)


# --- seed -------------------------------------------------------------------------------------


def seed(env: Env) -> None:
    """The sample user's storyboard with three jobs and a Sora key (as the sample events expect),
    59 more storyboards of theirs (every fourth named "... pilot ...") and 500 of other users."""
    from videogen import keys  # noqa: PLC0415
    from videogen.data.repositories import api_keys  # noqa: PLC0415

    a = env.admin
    a.execute(
        "INSERT INTO storyboards (id, user_id, name, preset_key, character, scenes) "
        "VALUES (%s, %s, 'Pilot episode', 'cinematic', %s, %s)",
        (BOARD_ID, USER, Jsonb(CHARACTER), Jsonb(SCENES)),
    )
    bulk = (
        "INSERT INTO storyboards (id, user_id, name, preset_key, character, scenes, updated_at) "
        "SELECT gen_random_uuid(), {user}, 'Storyboard ' || i || CASE WHEN i %% 4 = 0 THEN ' pilot' "
        "ELSE '' END, 'cinematic', %s, %s, now() - i * interval '1 minute' FROM generate_series(1, %s) i"
    )
    a.execute(bulk.format(user="%s"), (USER, Jsonb(CHARACTER), Jsonb(SCENES), 59))
    a.execute(bulk.format(user="'other-' || (i %% 50)"), (Jsonb(CHARACTER), Jsonb(SCENES), 500))
    for n, job_id in enumerate((JOB_ID, uuid.uuid4(), uuid.uuid4())):
        a.execute(
            "INSERT INTO video_jobs (id, user_id, storyboard_id, scene_id, provider, model, prompt, "
            "created_at) VALUES (%s, %s, %s, 'scene-1', 'openai', 'sora-2', 'Ada opens the lab door', "
            "now() - %s * interval '1 minute')",
            (job_id, USER, BOARD_ID, 10 - n),
        )
    sealed = keys.seal(USER, "openai", "sk-bench-0000000000000000wxyz")
    from videogen.data.db import session_scope  # noqa: PLC0415

    with session_scope() as s:
        api_keys.store(
            s,
            USER,
            "openai",
            encrypted_key=sealed.encrypted_key,
            key_hash=sealed.key_hash,
            last4=sealed.last4,
        )
    a.execute("ANALYZE")


# --- reads --------------------------------------------------------------------------------------


def _read_route(
    env: Env,
    name: str,
    *,
    handler: Any,
    event: Callable[[], dict[str, Any]],
    repo: Callable[[Any], Any],
    floor: Callable[[psycopg.Connection[Any]], Any],
    max_statements: int,
    exact: bool = True,
) -> RouteBench:
    def run_repo(_: Any) -> Any:
        with _connection() as db:
            return repo(db)

    return RouteBench(
        name,
        handler=Contender("handler", lambda ev: lambdas.invoke(handler, ev, 200), setup=event),
        repo=Contender("repo", run_repo),
        floor=Contender("floor", lambda _: floor(env.floor_conn)),
        max_statements=max_statements,
        exact=exact,
    )


def status_route(env: Env) -> RouteBench:
    from videogen.data.repositories import video_jobs  # noqa: PLC0415

    return _read_route(
        env,
        "status",
        handler=env.status,
        event=lambda: lambdas.event("status_and_models.get.200"),
        repo=lambda s: video_jobs.get_status_for_user(s, USER, JOB_ID),
        floor=lambda c: c.execute(SQL_STATUS, (JOB_ID, USER)).fetchone(),
        max_statements=1,
    )


def get_route(env: Env) -> RouteBench:
    from videogen.data.repositories import storyboards  # noqa: PLC0415

    def floor(c: psycopg.Connection[Any]) -> Any:
        board = c.execute(SQL_BOARD, (BOARD_ID, USER)).fetchone()
        return board, c.execute(SQL_BOARD_JOBS, (BOARD_ID, USER)).fetchall()

    return _read_route(
        env,
        "get storyboard",
        handler=env.storyboards,
        event=lambda: lambdas.event("storyboards.get.200"),
        repo=lambda s: storyboards.get_with_jobs(s, USER, BOARD_ID),
        floor=floor,
        max_statements=2,
        exact=False,
    )


def list_route(env: Env) -> RouteBench:
    from videogen.data.repositories import storyboards  # noqa: PLC0415

    limit = int(lambdas.event("storyboards.list.200")["queryStringParameters"]["limit"])
    return _read_route(
        env,
        "list",
        handler=env.storyboards,
        event=lambda: lambdas.event("storyboards.list.200"),
        repo=lambda s: storyboards.list_for_user(s, USER, limit=limit),
        floor=lambda c: c.execute(SQL_LIST, (USER, limit + 1)).fetchall(),
        max_statements=1,
    )


def search_route(env: Env) -> RouteBench:
    from videogen.data.repositories import storyboards  # noqa: PLC0415

    q = lambdas.event("storyboards.search.200")["queryStringParameters"]["q"]
    limit = storyboards.DEFAULT_PAGE_SIZE
    return _read_route(
        env,
        "search",
        handler=env.storyboards,
        event=lambda: lambdas.event("storyboards.search.200"),
        repo=lambda s: storyboards.list_for_user(s, USER, limit=limit, name_contains=q),
        floor=lambda c: c.execute(SQL_SEARCH, (USER, f"%{q}%", limit + 1)).fetchall(),
        max_statements=1,
    )


# --- writes -------------------------------------------------------------------------------------


def _write_layer(
    call: Callable[[Any, Any], Any],
    setup: Callable[[], Any] = lambda: None,
    teardown: Callable[[Any, Any], None] = lambda prepared, result: None,
) -> Contender:
    """``call(connection, prepared)`` on an autocommit ``statements.connection``, as the
    one-statement write handlers run it."""

    def in_scope(prepared: Any) -> Any:
        with _connection() as db:
            return call(db, prepared)

    return Contender("repo", in_scope, setup=setup, teardown=teardown)


def create_route(env: Env) -> RouteBench:
    from videogen.data.repositories import storyboards  # noqa: PLC0415

    def call(s: Any, _: Any) -> Any:
        return storyboards.create(
            s, USER, name="Pilot episode", preset_key="cinematic", character=CHARACTER, scenes=SCENES
        ).id

    def floor(_: Any) -> Any:
        values = (uuid.uuid4(), USER, "Pilot episode", "cinematic", Jsonb(CHARACTER), Jsonb(SCENES))
        return env.floor_conn.execute(SQL_CREATE, values).fetchone()[0]  # type: ignore[index]

    def handler_teardown(_: Any, result: Any) -> None:
        env.drop_board(result["storyboard"]["id"])

    def drop(_: Any, board_id: Any) -> None:
        env.drop_board(board_id)

    repo = _write_layer(call, teardown=drop)
    return RouteBench(
        "create",
        handler=Contender(
            "handler",
            lambda ev: lambdas.invoke(env.storyboards, ev, 201),
            setup=lambda: lambdas.event("storyboards.create.201"),
            teardown=handler_teardown,
        ),
        repo=repo,
        floor=Contender("floor", floor, teardown=drop),
        max_statements=1,
    )


def patch_route(env: Env) -> RouteBench:
    from videogen.data.repositories import storyboards  # noqa: PLC0415

    who = ("handler", "repo", "floor")
    boards = {w: env.new_board("Pilot episode") for w in who}
    versions = dict.fromkeys(boards, 1)

    def handler(ev: Any) -> Any:
        versions["handler"] = lambdas.invoke(env.storyboards, ev, 200)["storyboard"]["version"]

    def handler_event() -> dict[str, Any]:
        return lambdas.event(
            "storyboards.patch.200",
            path_parameters={"id": str(boards["handler"])},
            headers={"if-match": str(versions["handler"])},
        )

    def call(s: Any, layer: str) -> None:
        board = storyboards.update(
            s, USER, boards[layer], {"name": "Pilot episode (v2)"}, expected_version=versions[layer]
        )
        versions[layer] = board.version

    def floor(_: Any) -> None:
        row = env.floor_conn.execute(
            SQL_PATCH, ("Pilot episode (v2)", boards["floor"], USER, versions["floor"])
        ).fetchone()
        if row is None:
            raise AssertionError("floor patch found a stale version")
        versions["floor"] += 1

    repo = _write_layer(call, setup=lambda: "repo")
    return RouteBench(
        "patch",
        handler=Contender("handler", handler, setup=handler_event),
        repo=repo,
        floor=Contender("floor", floor),
        max_statements=1,
    )


def delete_route(env: Env) -> RouteBench:
    from videogen.data.repositories import storyboards  # noqa: PLC0415

    def handler_event() -> dict[str, Any]:
        return lambdas.event("storyboards.delete.200", path_parameters={"id": str(env.new_board())})

    from videogen.messaging.messages import CleanupMessage  # noqa: PLC0415
    from videogen.storage import bucket  # noqa: PLC0415

    sqs = boto3.client("sqs", region_name="us-east-1")  # AWS_ENDPOINT_URL: the bench's moto
    queue_url = os.environ["STORAGE_CLEANUP_QUEUE_URL"]

    def call(s: Any, board_id: uuid.UUID) -> None:
        storyboards.delete(s, USER, board_id)

    def floor(board_id: uuid.UUID) -> None:
        params = {
            "s": board_id,
            "u": USER,
            "c": uuid.uuid4(),
            "p": bucket.storyboard_prefix(USER, board_id),
            "k": f"{bucket.user_prefix(USER)}%",
        }
        cleanup_id = env.floor_conn.execute(SQL_DELETE, params).fetchone()
        if cleanup_id is None:
            raise AssertionError("floor delete found nothing")
        sqs.send_message(QueueUrl=queue_url, MessageBody=CleanupMessage(cleanup_id=cleanup_id[0]).to_body())

    repo = _write_layer(call, setup=env.new_board)
    return RouteBench(
        "delete",
        handler=Contender(
            "handler", lambda ev: lambdas.invoke(env.storyboards, ev, 200), setup=handler_event
        ),
        repo=repo,
        floor=Contender("floor", floor, setup=env.new_board),
        max_statements=1,
    )


def _generate_floor_params(key: str) -> dict[str, Any]:
    from videogen import catalog  # noqa: PLC0415
    from videogen.generation.prompt import compose_prompt  # noqa: PLC0415
    from videogen.runtime.config import get_settings  # noqa: PLC0415

    today = datetime.now(UTC).date()
    resolved = catalog.resolve("openai", None, None, None, today)
    settings = get_settings()
    return {
        "u": USER,
        "p": "openai",
        "k": key,
        "s": BOARD_ID,
        "id": uuid.uuid4(),
        "scene": "scene-1",
        "model": resolved.model,
        "prompt": compose_prompt(SCENES[0], CHARACTER, "cinematic"),
        "secs": resolved.duration_seconds,
        "size": resolved.size,
        "cost": catalog.estimate_cost(resolved),
        "day": datetime.combine(today, datetime.min.time(), tzinfo=UTC),
        "max_jobs": settings.max_jobs_in_flight_per_user,
        "max_spend": Decimal(settings.max_daily_spend_per_user_usd),
    }


def generate_route(env: Env) -> RouteBench:
    from videogen.api.schemas.jobs import GenerateRequest  # noqa: PLC0415
    from videogen.generation.request import create_job  # noqa: PLC0415
    from videogen.messaging.messages import StepMessage  # noqa: PLC0415

    body = {"storyboardId": str(BOARD_ID), "sceneId": "scene-1", "provider": "openai"}
    template = _generate_floor_params("template")

    def handler_event() -> dict[str, Any]:
        env.sender.sent.clear()
        return lambdas.event("generate.openai.202", headers={"idempotency-key": str(uuid.uuid4())})

    def repo(_: Any) -> Any:
        req = GenerateRequest.model_validate(body)
        with _connection(transaction=True) as db:
            accepted = create_job(db, USER, req, idempotency_key=str(uuid.uuid4()))
        env.sender.send(StepMessage(job_id=accepted.job_id, step="submit"))
        return accepted.job_id

    def floor(_: Any) -> Any:
        params = template | {"k": str(uuid.uuid4()), "id": uuid.uuid4()}
        conn = env.floor_conn
        with conn.transaction():
            conn.execute(SQL_GEN_CONTEXT, params).fetchone()
            conn.execute(SQL_GEN_LOCK, (USER,))
            row = conn.execute(SQL_GEN_INSERT, params).fetchone()
        if row is None or row[3] is None:
            raise AssertionError(f"floor generate inserted nothing: {row}")
        return row[3]

    return RouteBench(
        "generate",
        handler=Contender(
            "handler",
            lambda ev: lambdas.invoke(env.generate, ev, 202)["jobId"],
            setup=handler_event,
            teardown=lambda _, job_id: env.drop_job(job_id),
        ),
        repo=Contender("repo", repo, teardown=lambda _, job_id: env.drop_job(job_id)),
        floor=Contender("floor", floor, teardown=lambda _, job_id: env.drop_job(job_id)),
        max_statements=3,
        exact=False,
        sends=lambda: len(env.sender.sent),
    )


ROUTES = (
    status_route,
    get_route,
    list_route,
    search_route,
    create_route,
    patch_route,
    delete_route,
    generate_route,
)


# --- counting -----------------------------------------------------------------------------------


@dataclass
class Counts:
    statements: int
    round_trips: int
    requests: list[str]
    floor_round_trips: int
    sends: int | None


def count_one_request(env: Env, bench: RouteBench) -> Counts:
    """One more handler request with statements counted and the wire traced; one floor call traced."""
    from videogen.data.db import get_engine  # noqa: PLC0415

    engine = get_engine()
    with engine.connect() as c:
        dbapi = c.connection.dbapi_connection
    counter = StatementCounter()
    with counter.watch(engine), wire_trace(dbapi) as app_trace:
        bench.handler.once(record=False)
    with wire_trace(env.floor_conn) as floor_trace:
        bench.floor.once(record=False)
    return Counts(
        statements=counter.count,
        round_trips=app_trace[0].round_trips,
        requests=app_trace[0].requests(),
        floor_round_trips=floor_trace[0].round_trips,
        sends=bench.sends() if bench.sends else None,
    )


# --- the figure ---------------------------------------------------------------------------------


def _rows(bench: RouteBench, counts: Counts) -> list[Row]:
    h, r, f = bench.handler, bench.repo, bench.floor
    p50 = ratio(h.p(0.5), f.p(0.5))
    stmt_budget = f"{'==' if bench.exact else '<='} {bench.max_statements}"
    stmt_ok = (
        counts.statements == bench.max_statements
        if bench.exact
        else counts.statements <= bench.max_statements
    )
    send_note = ""
    if counts.sends is not None:
        stmt_budget += " +1 send"
        stmt_ok = stmt_ok and counts.sends == 1
        send_note = f"{counts.sends} queue send"
    name = f"1 warm {bench.name}"
    within = p50 is not None and p50 <= LATENCY_BUDGET
    p95 = ratio(h.p(0.95), f.p(0.95))
    rows = [
        Row(f"{name}: handler p50", h.p(0.5), f.p(0.5), p50, f"ratio <= {LATENCY_BUDGET:g}", within, "ms"),
        Row(f"{name}: handler p95", h.p(0.95), f.p(0.95), p95, "-", None, "ms"),
        Row(f"{name}: connection+repo p50", r.p(0.5), f.p(0.5), ratio(r.p(0.5), f.p(0.5)), "-", None, "ms"),
        Row(f"{name}: statements", counts.statements, None, None, stmt_budget, stmt_ok, "stmts", send_note),
        Row(
            f"{name}: round trips",
            counts.round_trips,
            counts.floor_round_trips,
            ratio(counts.round_trips, counts.floor_round_trips),
            "-",
            None,
            "trips",
            " | ".join(counts.requests),
        ),
    ]
    return rows


def run(report: Report, conninfo: str, *, iterations: int, warmup: int) -> None:
    """Seed, then time every route (handler, repo, floor interleaved) and count one request."""
    print(f"\n== 1. warm latency per route ({iterations} interleaved iterations after {warmup} warm-up)")
    env = Env(conninfo)
    try:
        seed(env)
        for build in ROUTES:
            bench = build(env)
            with quiet_stdout():
                interleave(bench.contenders, iterations, warmup)
                counts = count_one_request(env, bench)
            for row in _rows(bench, counts):
                report.add(row)
    finally:
        env.close()
