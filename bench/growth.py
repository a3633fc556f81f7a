"""Figure 3: list and search stay flat as one user's storyboards grow from 1k to 100k rows.

One throwaway database holds three users with 1k, 10k and 100k storyboards amid 100k rows of
1,000 other users (bulk inserted with ``generate_series``, then VACUUM ANALYZE). Every name is
``Storyboard <n> <word>``, the word cycling through eight (so "pilot" is in one name of eight:
a common term), and one name in a thousand also holds "zebra" (a rare term).

Through the storyboards handler (sample events, the caller switched), per user size: the
first page (``limit=10``, the sample list event), a later page by cursor (the cursor of the
user's 500th newest row), the sample search ``q=pilot`` and the rare ``q=zebra``; sizes and
queries interleaved round by round. Budget: p50 at 100k / p50 at 1k <= 1.5.

Evidence, all on the exact statement the handler sent (captured with ``before_cursor_execute``):

- ``EXPLAIN (ANALYZE, BUFFERS)`` at each size: the plan with its index names, and the shared
  buffers touched (a count of work that machine noise does not change);
- plan stability: the planner's choice for search rests on trigram statistics sampled by
  ANALYZE, so ANALYZE is re-run a few times and each plan seen is reported with its cost.

Search uses the schema's owner-scoped trigram index, GIN on ``(user_id, name gin_trgm_ops)``
(migration 0002, after this figure showed the name-only index reading every user's matches).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from bench import lambdas
from bench.measure import Contender, interleave, median, quiet_stdout
from bench.report import Report, Row, ratio
from bench.stack import Stack
from tools.harness import reset_process_state

DATABASE = "videogen_growth"
NOISE_ROWS = 100_000
NOISE_USERS = 1_000
CURSOR_DEPTH = 500
FLAT_BUDGET = 1.5
REANALYZE = 5
WORDS = "ARRAY['pilot', 'finale', 'teaser', 'trailer', 'episode', 'short', 'montage', 'intro']"
INSERT = f"""
INSERT INTO storyboards (id, user_id, name, preset_key, character, scenes, created_at, updated_at)
SELECT gen_random_uuid(), {{user}},
       'Storyboard ' || i || ' ' || ({WORDS})[1 + i %% 8]
       || CASE WHEN i %% 1000 = 0 THEN ' zebra' ELSE '' END,
       'cinematic', %(character)s, %(scenes)s,
       now() - i * interval '1 second', now() - i * interval '1 second'
FROM generate_series(1, %(n)s) AS i
"""
CHARACTER = {"name": "Ada", "description": "a curious engineer in a yellow raincoat"}
SCENES = [
    {"id": "scene-1", "prompt": "Ada opens the lab door at dawn"},
    {"id": "scene-2", "prompt": "Ada watches the prototype take off"},
]
QUERIES = (
    ("list first page", {"limit": "10"}, False),
    ("list page by cursor", {"limit": "10"}, True),
    ("search common (q=pilot)", {"q": "pilot"}, False),
    ("search rare (q=zebra)", {"q": "zebra"}, False),
)


def user_of(size: int) -> str:
    return f"grow-{size}"


def load(conninfo: str, sizes: tuple[int, ...]) -> None:
    """Bulk insert the noise and the users, then VACUUM ANALYZE."""
    params = {"character": Jsonb(CHARACTER), "scenes": Jsonb(SCENES)}
    with psycopg.connect(conninfo, autocommit=True) as conn:
        noise = f"'other-' || (i %% {NOISE_USERS})"
        conn.execute(INSERT.format(user=noise), params | {"n": NOISE_ROWS})
        for size in sizes:
            conn.execute(INSERT.format(user="%(user)s"), params | {"n": size, "user": user_of(size)})
        conn.execute("VACUUM ANALYZE storyboards")


def cursor_at(conninfo: str, user: str) -> str:
    """The API's cursor after the user's ``CURSOR_DEPTH``-th newest storyboard."""
    from videogen.data.repositories import keyset  # noqa: PLC0415

    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute(
            "SELECT updated_at, id FROM storyboards WHERE user_id = %s "
            "ORDER BY updated_at DESC, id DESC OFFSET %s LIMIT 1",
            (user, CURSOR_DEPTH - 1),
        ).fetchone()
    assert row is not None
    return keyset.encode_cursor(row[0], row[1])


# --- plans --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    shape: str
    buffers: int
    ms: float


def describe_plan(node: dict[str, Any]) -> str:
    """``Limit > Index Scan[ix_storyboards_user_updated]``: node types down the plan, with indexes."""
    label = str(node["Node Type"])
    if "Index Name" in node:
        label += f"[{node['Index Name']}]"
    children = node.get("Plans", [])
    if not children:
        return label
    return f"{label} > " + " + ".join(describe_plan(c) for c in children)


def explain(conn: psycopg.Connection[Any], sql: tuple[str, Any]) -> Plan:
    """EXPLAIN (ANALYZE, BUFFERS) of a captured statement with its parameters."""
    row = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql[0], sql[1]).fetchone()
    assert row is not None
    doc = row[0] if not isinstance(row[0], str) else json.loads(row[0])
    top = doc[0]["Plan"]
    buffers = int(top.get("Shared Hit Blocks", 0)) + int(top.get("Shared Read Blocks", 0))
    return Plan(describe_plan(top), buffers, float(doc[0]["Execution Time"]))


class _Capture:
    """The last statement and parameters the engine sent."""

    statement = ""
    parameters: Any = None

    def __call__(self, conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        self.statement, self.parameters = statement, parameters


def capture_sql(handler: Any, ev: dict[str, Any]) -> tuple[str, Any]:
    """Run ``ev`` through ``handler`` once; the statement and parameters it sent."""
    from sqlalchemy import event  # noqa: PLC0415

    from videogen.data.db import get_engine  # noqa: PLC0415

    engine = get_engine()
    capture = _Capture()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        lambdas.invoke(handler, ev, 200)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return capture.statement, capture.parameters


def plan_stability(conninfo: str, sql: tuple[str, Any]) -> list[Plan]:
    """Re-ANALYZE ``REANALYZE`` times; the plan the statement got after each."""
    plans = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for _ in range(REANALYZE):
            conn.execute("ANALYZE storyboards")
            plans.append(explain(conn, sql))
    return plans


# --- timing -------------------------------------------------------------------------------------


@dataclass
class Query:
    """One kind of request, timed per user size, with its captured SQL and plan per size."""

    name: str
    by_size: dict[int, Contender] = field(default_factory=dict)
    sql: dict[int, tuple[str, Any]] = field(default_factory=dict)
    plans: dict[int, Plan] = field(default_factory=dict)


def _fresh_copies(ev: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    text = json.dumps(ev)
    return lambda: dict(json.loads(text))


@contextmanager
def _pointed_at(url: str) -> Iterator[None]:
    """The process settings (and so the handlers' engine) on ``url`` while the block runs."""
    previous = os.environ["DATABASE_URL"]
    os.environ["DATABASE_URL"] = url
    reset_process_state()
    try:
        yield
    finally:
        os.environ["DATABASE_URL"] = previous
        reset_process_state()


def build_queries(conninfo: str, sizes: tuple[int, ...], handler: Any) -> list[Query]:
    """Contenders for every query and size, SQL and plans captured."""
    cursors = {size: cursor_at(conninfo, user_of(size)) for size in sizes}
    queries = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for name, query, uses_cursor in QUERIES:
            q = Query(name)
            for size in sizes:
                sample = "storyboards.search.200" if "q" in query else "storyboards.list.200"
                params = query | ({"cursor": cursors[size]} if uses_cursor else {})
                ev = lambdas.event(sample, query=params, sub=user_of(size))
                q.by_size[size] = Contender(
                    f"{name}@{size}", lambda e: lambdas.invoke(handler, e, 200), setup=_fresh_copies(ev)
                )
                q.sql[size] = capture_sql(handler, ev)
                q.plans[size] = explain(conn, q.sql[size])
            queries.append(q)
    return queries


def measure(url: str, sizes: tuple[int, ...], rounds: int) -> list[Query]:
    """Time the queries through the handler, with the process pointed at ``url``."""
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with _pointed_at(url):
        handler = lambdas.load_function("storyboards").lambda_handler
        with quiet_stdout():
            queries = build_queries(conninfo, sizes, handler)
            interleave([c for q in queries for c in q.by_size.values()], rounds, warmup=3)
    return queries


# --- the figure ---------------------------------------------------------------------------------


def run(report: Report, stack: Stack, *, sizes: tuple[int, ...], rounds: int) -> None:
    """Load, time every query at every size, then check the search plans' stability."""
    counts = ", ".join(f"{s:,}" for s in sizes)
    print(
        f"\n== 3. growth: one user with {counts} storyboards amid {NOISE_ROWS:,} rows of "
        f"{NOISE_USERS:,} other users; {rounds} interleaved rounds"
    )
    url = stack.create_database(DATABASE)
    conninfo = stack.conninfo(url)
    load(conninfo, sizes)
    queries = measure(url, sizes, rounds)
    for q in queries:
        report.add(_row(q, sizes, budget=True))
    report.add(_same_answer_row(queries, sizes))
    for q in queries:
        if "search" in q.name:
            report.add(_stability_row(q, conninfo, sizes[-1], ""))


def _row(q: Query, sizes: tuple[int, ...], *, budget: bool, label: str = "") -> Row:
    small, large = sizes[0], sizes[-1]
    p50 = {size: median(c.samples) * 1000 for size, c in q.by_size.items()}
    r = ratio(p50[large], p50[small])
    times = ", ".join(f"{size // 1000}k {p50[size]:.2f} ms" for size in sizes)
    buffers = " / ".join(str(q.plans[size].buffers) for size in sizes)
    shapes = dict.fromkeys(q.plans[size].shape for size in sizes)
    return Row(
        f"3 growth {label}{q.name}: 100k vs 1k",
        p50[large],
        p50[small],
        r,
        f"ratio <= {FLAT_BUDGET:g}" if budget else "-",
        (r is not None and r <= FLAT_BUDGET) if budget else None,
        "ms",
        f"{times}; buffers {buffers}; plans: {' | '.join(shapes)}",
    )


def _same_answer_row(queries: list[Query], sizes: tuple[int, ...]) -> Row:
    """The rare search at the largest size against the common one at the smallest: both answer a
    full page, so this is the search's own growth without the answer's (1 row at 1k, 50 at 100k)."""
    by_name = {q.name: q for q in queries}
    rare, common = by_name["search rare (q=zebra)"], by_name["search common (q=pilot)"]
    large = median(rare.by_size[sizes[-1]].samples) * 1000
    small = median(common.by_size[sizes[0]].samples) * 1000
    return Row(
        "3 growth search rare @100k vs common @1k (a full page each)",
        large,
        small,
        ratio(large, small),
        "-",
        None,
        "ms",
        "q=zebra matches 1 / 10 / 100 rows at 1k / 10k / 100k: its page grows with them",
    )


def _stability_row(q: Query, conninfo: str, size: int, label: str) -> Row:
    plans = plan_stability(conninfo, q.sql[size])
    groups: dict[tuple[str, int], list[float]] = {}
    for p in plans:
        groups.setdefault((p.shape, p.buffers), []).append(p.ms)
    described = "; ".join(
        f"{len(ms)}x {shape} ({buffers} buffers, {median(ms):.2f} ms)"
        for (shape, buffers), ms in groups.items()
    )
    worst, best = max(p.buffers for p in plans), min(p.buffers for p in plans)
    return Row(
        f"3 growth {label}{q.name} @{size // 1000}k: plans over {REANALYZE} ANALYZEs",
        worst,
        best,
        ratio(worst, best),
        "-",
        None,
        "buffers",
        described,
    )
