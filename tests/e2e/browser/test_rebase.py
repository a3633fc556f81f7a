""" "Keep my version" after a conflict: the user's edits re-applied onto the server's newer
version (web/js/document.js, run in Chromium as the app runs it). What the user changed wins;
what only the server changed stays."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def doc(*scenes: tuple[str, str], name: str = "Pilot", **character: str) -> dict[str, Any]:
    return {
        "name": name,
        "presetKey": "cinematic",
        "character": character,
        "scenes": [{"id": i, "prompt": p} for i, p in scenes],
    }


BASE = doc(("a", "A"), ("b", "B"), name="Pilot", description="tall")


@pytest.fixture(scope="module")
def page(stack, browser) -> Any:
    context = browser.new_context(base_url=stack.base_url)
    opened = context.new_page()
    opened.goto("/config.json")  # any page of the app's origin can import its modules
    yield opened
    context.close()


def call(page: Page, function: str, *docs: dict[str, Any]) -> Any:
    script = f"async (docs) => (await import('/js/document.js')).{function}(...docs)"
    return page.evaluate(script, list(docs))


def prompts(result: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s["id"], s["prompt"]) for s in result["scenes"]]


def test_edits_of_different_scenes_both_stay(page):
    theirs = doc(("a", "A by the server"), ("b", "B"), description="tall")
    mine = doc(("a", "A"), ("b", "B by me"), description="tall")

    assert prompts(call(page, "rebase", BASE, mine, theirs)) == [("a", "A by the server"), ("b", "B by me")]
    rows = call(page, "differences", BASE, mine, theirs)
    assert [(r["label"], r["changedBy"]) for r in rows] == [
        ("Scene 1 prompt", "server"),
        ("Scene 2 prompt", "you"),
    ]


def test_scenes_added_on_both_sides_keep_their_places(page):
    theirs = doc(("a", "A"), ("b", "B"), ("c", "C by the server"), description="tall")
    mine = doc(("a", "A"), ("d", "D by me"), ("b", "B"), description="tall")

    merged = prompts(call(page, "rebase", BASE, mine, theirs))

    assert merged == [("a", "A"), ("d", "D by me"), ("b", "B"), ("c", "C by the server")]


def test_the_users_new_order_wins_and_a_scene_the_server_added_follows_its_neighbour(page):
    theirs = doc(("a", "A"), ("c", "C by the server"), ("b", "B"), description="tall")
    mine = doc(("b", "B"), ("a", "A"), description="tall")

    merged = prompts(call(page, "rebase", BASE, mine, theirs))

    assert merged == [("b", "B"), ("a", "A"), ("c", "C by the server")]


def test_a_scene_the_server_removed_comes_back_when_the_user_edited_it(page):
    theirs = doc(("a", "A"), description="tall")
    mine = doc(("a", "A"), ("b", "B edited by me"), description="tall")

    assert prompts(call(page, "rebase", BASE, mine, theirs)) == [("a", "A"), ("b", "B edited by me")]


def test_character_fields_merge_key_by_key_and_the_users_name_wins(page):
    theirs = doc(("a", "A"), ("b", "B"), name="Server title", description="short", look="red coat")
    mine = doc(("a", "A"), ("b", "B"), name="My title", name_of_character="Ada")

    merged = call(page, "rebase", BASE, mine, theirs)

    assert merged["name"] == "My title"
    # the user deleted "description" (so it goes) and added a field; the server's new one stays
    assert merged["character"] == {"look": "red coat", "name_of_character": "Ada"}
