"""The storyboard list in Chromium: newest first, search, load more, delete after a
confirmation; and another user seeing none of it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.browser.conftest import screenshot, unique

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_the_list_is_newest_first_searchable_and_loads_more(web):
    user = unique("lister")
    for number in range(1, 23):
        web.new_storyboard(user, name=f"Board {number:02d}")
    token = unique("zebra")
    web.new_storyboard(user, name=f"Crossing {token}")
    page = web.open(user)
    items = page.get_by_role("main").get_by_role("listitem")

    # The first page: 20, newest first
    expect(items).to_have_count(20)
    expect(items.first.get_by_role("link")).to_have_text(f"Crossing {token}")
    expect(items.nth(1).get_by_role("link")).to_have_text("Board 22")
    screenshot(page, "list")

    # Load more: the rest, focus on the first one loaded
    page.get_by_role("button", name="Load more").click()
    expect(items).to_have_count(23)
    expect(page.get_by_role("link", name="Board 03", exact=True)).to_be_focused()
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()

    # Search by name, case-insensitive
    page.get_by_label("Search storyboards").fill(token.upper())
    expect(items).to_have_count(1)
    expect(page.get_by_role("status")).to_have_text(f"1 storyboard matching “{token.upper()}”")
    page.get_by_label("Search storyboards").fill("")
    expect(items).to_have_count(20)


def test_deleting_a_storyboard_asks_first(web):
    user = unique("deleter")
    keep = web.new_storyboard(user, name="Keep me")
    doomed = web.new_storyboard(user, name="Delete me")
    page = web.open(user)
    delete = page.get_by_role("button", name="Delete Delete me")

    # When the user cancels, nothing happens and focus returns to the button
    delete.click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(delete).to_be_focused()
    assert web.stack.call("GET", f"/api/storyboards/{doomed['id']}", user=user).status == 200

    # When they confirm, it is gone from the list and from the server
    delete.click()
    page.get_by_role("dialog").get_by_role("button", name="Delete storyboard").click()
    expect(page.get_by_role("link", name="Delete me")).to_have_count(0)
    expect(page.get_by_role("link", name="Keep me")).to_be_focused()
    assert web.stack.call("GET", f"/api/storyboards/{doomed['id']}", user=user).status == 404
    assert web.stack.call("GET", f"/api/storyboards/{keep['id']}", user=user).status == 200


def test_another_user_sees_none_of_it(web):
    alice, bob = unique("alice"), unique("bob")
    token = unique("secret")
    board = web.new_storyboard(alice, name=f"Plan {token}", prompts=("Only Alice may read this",))
    web.api("PUT", "/api/keys/openai", {"apiKey": "sk-local-0000000000000000abcd"}, user=alice)
    page = web.open(bob)

    # Bob's list is empty, and a search for Alice's storyboard finds nothing
    expect(page.get_by_role("status")).to_contain_text("No storyboards yet")
    page.get_by_label("Search storyboards").fill(token)
    expect(page.get_by_role("status")).to_have_text(f"0 storyboards matching “{token}”")

    # Alice's storyboard, opened by its address, is not there for him
    page.goto(f"/storyboards/{board['id']}")
    expect(page.get_by_role("heading", name="Storyboard not available")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("not found")
    assert "Only Alice may read this" not in page.content()

    # Nor is her key
    page.get_by_role("navigation").get_by_role("link", name="Provider keys").click()
    expect(page.get_by_role("region", name="OpenAI-compatible")).to_contain_text("No key stored.")

    # And her storyboard is untouched
    assert web.storyboard(alice, board["id"])["version"] == 1
