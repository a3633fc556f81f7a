"""Statements per request through the handlers (docs/architecture.md, "Performance budgets"): get with
jobs at most 2 (presigned clips and scene summaries included); create, patch, delete and list
(search too) exactly 1 each; whole-storyboard generate 3, or 4 with an Idempotency-Key, for one
scene or forty (plus one SendMessageBatch per ten jobs); cancel 1; jobs page 1; usage 1; the
catalog none.

Status (1) and generate (at most 3 plus one queue send) are counted through their handlers in
test_api_status_keys_health.py and test_api_generate.py; the repositories alone in test_db.py.
The timings themselves live in ``make bench`` and are never asserted.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.integration.generation_support import store_key
from tests.support import invoke, load_event, load_function, with_changes
from tools.queues import InMemoryQueueSender
from videogen.api.resolver import api_handler
from videogen.storage import bucket

handler = load_function("storyboards").lambda_handler
jobs = load_function("jobs")
generate = load_function("generate")
USER = "user-123"


def _on(name: str, board_id: object, **changes):
    return with_changes(load_event(name), path_parameters={"id": str(board_id)}, **changes)


def test_get_storyboard_with_jobs_is_at_most_two_statements(make_storyboard, make_job, count_statements):
    board = make_storyboard(USER)
    make_job(USER, board.id)
    make_job(USER, board.id)

    with count_statements() as c:
        result = invoke(handler, _on("storyboards.get.200", board.id))

    assert result.status == 200
    assert len(result.body["storyboard"]["videoJobs"]) == 2
    assert c.count <= 2


def test_get_storyboard_with_presigned_clips_is_still_at_most_two_statements(
    aws, make_storyboard, make_job, count_statements
):
    scenes = [{"id": f"s{n}", "prompt": f"Shot {n}"} for n in range(6)]
    board = make_storyboard(USER, scenes=scenes)
    for scene in scenes:
        job = make_job(USER, board.id, scene_id=scene["id"], status="completed", cost=Decimal("0.4"))
        key = bucket.video_key(USER, board.id, job.id)
        make_job(USER, board.id, scene_id=scene["id"], status="completed", video_url=key)

    with count_statements() as c:
        result = invoke(handler, _on("storyboards.get.200", board.id))

    assert [clip["videoUrl"] is not None for clip in result.body["storyboard"]["sceneClips"]] == [True] * 6
    assert c.count <= 2


def _batch(board: Any, key: str | None) -> dict[str, Any]:
    event = with_changes(
        load_event("generate.storyboard.202"),
        path_parameters={"id": str(board.id)},
        body={"provider": "openai", "regenerate": True},
    )
    event["headers"].pop("idempotency-key")
    if key is not None:
        event["headers"]["idempotency-key"] = key
    return event


def test_whole_storyboard_generate_statements_do_not_grow_with_the_batch(
    aws, make_storyboard, count_statements, configure
):
    configure(max_jobs_in_flight_per_user=100, max_daily_spend_per_user_usd=100)
    store_key(USER, "openai")
    one = make_storyboard(USER, scenes=[{"id": "s0", "prompt": "Shot 0"}])
    forty = make_storyboard(USER, scenes=[{"id": f"s{n}", "prompt": f"Shot {n}"} for n in range(40)])
    sender = InMemoryQueueSender()
    batch_handler = api_handler(generate.build_app(sender=sender))

    counts, queued = [], []
    for board, key in ((one, None), (forty, None), (forty, "retry-key")):
        with count_statements() as c:
            result = invoke(batch_handler, _batch(board, key))
        counts.append(c.count)
        queued.append(len(result.body["jobs"]))

    # context, quota lock, one INSERT for all the jobs; with an Idempotency-Key, the stored answer
    assert counts == [3, 3, 4]
    assert queued == [1, 40, 0]  # the third finds every scene in flight
    assert len(sender.sent) == 41


def test_cancel_is_two_statements(make_job, count_statements):
    job = make_job(USER)
    event = with_changes(load_event("jobs.cancel.200"), path_parameters={"jobId": str(job.id)})

    with count_statements() as c:
        result = invoke(api_handler(jobs.build_app(sender=InMemoryQueueSender())), event)

    assert result.body["status"] == "cancelled"
    # The cancel, then failing the shots waiting to continue from its clip (none here)
    assert c.count == 2


def test_a_jobs_page_and_the_usage_report_are_one_statement_each(make_job, count_statements):
    for _ in range(3):
        make_job(USER)

    with count_statements() as page:
        listed = invoke(jobs.lambda_handler, with_changes(load_event("jobs.list.200"), query={"limit": "2"}))
    with count_statements() as usage:
        assert invoke(jobs.lambda_handler, load_event("jobs.usage.200")).status == 200

    assert (len(listed.body["jobs"]), listed.body["nextCursor"] is not None) == (2, True)
    assert (page.count, usage.count) == (1, 1)


def test_create_is_one_statement(count_statements):
    with count_statements() as c:
        result = invoke(handler, load_event("storyboards.create.201"))

    assert result.status == 201
    assert c.count == 1


def test_patch_with_if_match_is_one_statement(make_storyboard, count_statements):
    board = make_storyboard(USER)

    with count_statements() as c:
        result = invoke(handler, _on("storyboards.patch.200", board.id))

    assert result.status == 200
    assert result.body["storyboard"]["version"] == 2
    assert c.count == 1


def test_delete_is_one_statement(make_storyboard, count_statements):
    board = make_storyboard(USER)

    with count_statements() as c:
        result = invoke(handler, _on("storyboards.delete.200", board.id))

    assert result.status == 200
    assert c.count == 1


def test_list_page_with_a_next_cursor_is_one_statement(make_storyboard, count_statements):
    for n in range(3):
        make_storyboard(USER, name=f"Storyboard {n}")

    with count_statements() as c:
        result = invoke(handler, with_changes(load_event("storyboards.list.200"), query={"limit": "2"}))

    assert result.status == 200
    assert len(result.body["storyboards"]) == 2
    assert result.body["nextCursor"] is not None
    assert c.count == 1


def test_list_by_cursor_is_one_statement(make_storyboard, count_statements):
    for n in range(3):
        make_storyboard(USER, name=f"Storyboard {n}")
    first = invoke(handler, with_changes(load_event("storyboards.list.200"), query={"limit": "2"}))

    with count_statements() as c:
        result = invoke(
            handler,
            with_changes(
                load_event("storyboards.list.200"), query={"limit": "2", "cursor": first.body["nextCursor"]}
            ),
        )

    assert result.status == 200
    assert len(result.body["storyboards"]) == 1
    assert c.count == 1


def test_search_is_one_statement(make_storyboard, count_statements):
    make_storyboard(USER, name="Pilot episode")
    make_storyboard(USER, name="Finale")

    with count_statements() as c:
        result = invoke(handler, load_event("storyboards.search.200"))

    assert result.status == 200
    assert [b["name"] for b in result.body["storyboards"]] == ["Pilot episode"]
    assert c.count == 1
