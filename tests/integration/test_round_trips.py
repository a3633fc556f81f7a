"""Statements per request through the storyboards handler (ARCHITECTURE.md "Performance budgets"):
get with jobs at most 2; create, patch, delete and list (search too) exactly 1 each.

Status (1) and generate (at most 3 plus one queue send) are counted through their handlers in
test_api_status_keys_health.py and test_api_generate.py; the repositories alone in test_db.py.
The timings themselves live in ``make bench`` and are never asserted.
"""

from __future__ import annotations

from tests.support import invoke, load_event, load_function, with_changes

handler = load_function("storyboards").lambda_handler
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
