"""/api/storyboards through the Lambda handler, with events from events/."""

from __future__ import annotations

import json

import pytest

from tests.support import emf_metric_names, invoke, load_event, load_function, with_changes

handler = load_function("storyboards").lambda_handler


def _create(sub: str = "user-123", **body_changes):
    event = load_event("storyboards.create.201")
    body = json.loads(event["body"]) | body_changes
    result = invoke(handler, with_changes(event, sub=sub, body=body))
    assert result.status == 201, result.body
    return result.body["storyboard"]


def _on(name: str, board_id: str, **changes):
    return with_changes(load_event(name), path_parameters={"id": board_id}, **changes)


def test_create_returns_201_with_the_success_envelope_in_camel_case():
    result = invoke(handler, load_event("storyboards.create.201"))

    assert result.status == 201
    assert result.body["success"] is True
    board = result.body["storyboard"]
    assert set(board) == {
        "id",
        "userId",
        "name",
        "presetKey",
        "character",
        "scenes",
        "version",
        "createdAt",
        "updatedAt",
    }
    assert (board["userId"], board["name"], board["version"]) == ("user-123", "Pilot episode", 1)
    assert result.headers["content-type"] == "application/json"


def test_create_ignores_no_user_id_from_the_body():
    event = load_event("storyboards.create.201")
    body = json.loads(event["body"]) | {"userId": "someone-else"}

    result = invoke(handler, with_changes(event, body=body))

    assert result.status == 400
    assert result.body["details"][0]["field"] == "body.userId"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "x" * 201}, "body.name"),
        ({"name": "   "}, "body.name"),
        ({"presetKey": ""}, "body.presetKey"),
        ({"presetKey": "p" * 65}, "body.presetKey"),
        ({"character": "not an object"}, "body.character"),
        ({"scenes": [{"id": "s"}] * 2}, "body.scenes"),
        ({"scenes": [{"id": f"s{i}"} for i in range(201)]}, "body.scenes"),
        ({"scenes": [{"prompt": "no id"}]}, "body.scenes.0.id"),
        ({"scenes": [{"id": "x" * 65}]}, "body.scenes.0.id"),
        ({"scenes": [{"id": 7}]}, "body.scenes.0.id"),
    ],
)
def test_invalid_storyboards_are_rejected_with_field_errors_and_nothing_stored(change, field):
    event = load_event("storyboards.create.201")
    body = json.loads(event["body"]) | change

    result = invoke(handler, with_changes(event, body=body))

    assert result.status == 400
    assert result.body["error"] == "Validation failed"
    assert field in [d["field"] for d in result.body["details"]]
    assert invoke(handler, load_event("storyboards.list.200")).body["storyboards"] == []


def test_body_over_256_kib_is_413():
    event = load_event("storyboards.create.201")
    body = json.loads(event["body"]) | {"character": {"bio": "x" * (256 * 1024)}}

    result = invoke(handler, with_changes(event, body=body))

    assert result.status == 413
    assert "error" in result.body


def test_get_returns_the_storyboard_with_its_video_jobs():
    board = _create()

    result = invoke(handler, _on("storyboards.get.200", board["id"]))

    assert result.status == 200
    assert result.body["storyboard"]["id"] == board["id"]
    assert result.body["storyboard"]["videoJobs"] == []


def test_list_is_the_callers_only_newest_first_with_a_working_cursor():
    first = _create(name="first")
    second = _create(name="second")
    _create(sub="user-999", name="not yours")

    page1 = invoke(handler, with_changes(load_event("storyboards.list.200"), query={"limit": "1"}))
    page2 = invoke(
        handler,
        with_changes(
            load_event("storyboards.list.200"), query={"limit": "1", "cursor": page1.body["nextCursor"]}
        ),
    )

    assert [b["id"] for b in page1.body["storyboards"]] == [second["id"]]
    assert [b["id"] for b in page2.body["storyboards"]] == [first["id"]]
    assert page2.body["nextCursor"] is None


def test_search_with_q_is_case_insensitive():
    _create(name="Pilot episode")
    _create(name="Finale")

    result = invoke(handler, load_event("storyboards.search.200"))

    assert [b["name"] for b in result.body["storyboards"]] == ["Pilot episode"]


def test_a_made_up_cursor_is_400():
    result = invoke(handler, with_changes(load_event("storyboards.list.200"), query={"cursor": "nonsense"}))

    assert result.status == 400
    assert result.body["error"] == "Invalid cursor"


def test_patch_with_current_version_applies_and_bumps_version():
    board = _create()

    result = invoke(handler, _on("storyboards.patch.200", board["id"]))

    assert result.status == 200
    assert result.body["success"] is True
    assert result.body["storyboard"]["name"] == "Pilot episode (v2)"
    assert result.body["storyboard"]["version"] == 2
    assert result.body["storyboard"]["scenes"] == board["scenes"]


def test_patch_with_stale_version_is_rejected_with_412_and_nothing_changes():
    board = _create()
    invoke(handler, _on("storyboards.patch.200", board["id"]))

    result = invoke(handler, _on("storyboards.patch.200", board["id"], body={"name": "lost update"}))

    assert result.status == 412
    assert result.body["details"]["currentVersion"] == 2
    got = invoke(handler, _on("storyboards.get.200", board["id"]))
    assert got.body["storyboard"]["name"] == "Pilot episode (v2)"


def test_patch_without_if_match_applies_last_writer_wins():
    board = _create()
    event = _on("storyboards.patch.200", board["id"])
    event["headers"].pop("if-match")

    result = invoke(handler, event)

    assert result.status == 200
    assert result.body["storyboard"]["version"] == 2


@pytest.mark.parametrize("body", [{}, {"name": None}, {"version": 3}])
def test_empty_null_or_unknown_patch_is_400(body):
    board = _create()

    result = invoke(handler, _on("storyboards.patch.200", board["id"], body=body))

    assert result.status == 400
    assert invoke(handler, _on("storyboards.get.200", board["id"])).body["storyboard"]["version"] == 1


def test_bad_if_match_is_400():
    board = _create()

    result = invoke(handler, _on("storyboards.patch.200", board["id"], headers={"If-Match": "abc"}))

    assert result.status == 400


def test_delete_removes_the_storyboard():
    board = _create()

    result = invoke(handler, _on("storyboards.delete.200", board["id"]))

    assert result.status == 200
    assert result.body == {"success": True, "message": "Storyboard deleted"}
    assert invoke(handler, _on("storyboards.get.200", board["id"])).status == 404


@pytest.mark.parametrize(
    "event_name", ["storyboards.get.200", "storyboards.patch.200", "storyboards.delete.200"]
)
def test_another_user_gets_404_and_the_storyboard_is_unchanged(event_name):
    board = _create(sub="owner")

    result = invoke(handler, _on(event_name, board["id"], sub="intruder"))

    assert result.status == 404
    assert result.body["error"] == "Storyboard not found"
    got = invoke(handler, _on("storyboards.get.200", board["id"], sub="owner"))
    assert (got.body["storyboard"]["name"], got.body["storyboard"]["version"]) == ("Pilot episode", 1)


def test_a_non_uuid_id_is_400_not_500():
    result = invoke(handler, _on("storyboards.get.200", "not-a-uuid"))

    assert result.status == 400


def test_unknown_route_is_a_json_404():
    event = with_changes(load_event("storyboards.list.200"))
    event["routeKey"] = "GET /api/nothing"
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/api/nothing"

    result = invoke(handler, event)

    assert result.status == 404
    assert result.body == {"error": "Not found"}


def test_database_down_is_503_without_internals(configure):
    configure(
        database_url="postgresql+psycopg://postgres:pw-secret@127.0.0.1:1/none", db_connect_timeout_seconds=1
    )

    result = invoke(handler, load_event("storyboards.list.200"))

    assert result.status == 503
    assert "pw-secret" not in json.dumps(result.body)
    assert set(result.body) == {"error"}


def test_a_created_storyboard_is_counted_once_and_a_read_publishes_nothing(capfd):
    capfd.readouterr()
    board = _create()
    assert emf_metric_names(capfd.readouterr().out) == ["StoryboardsCreated"]

    assert invoke(handler, _on("storyboards.get.200", board["id"])).status == 200
    assert emf_metric_names(capfd.readouterr().out) == []  # nothing left over from the create
