"""The editor in Chromium: auto-save (one PATCH per burst of typing, If-Match, the version
advancing, the text stored exactly as typed), keyboard reordering, a conflict between two
pages resolved without losing either text, an unreachable API, closing the tab."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.browser.conftest import SAVE_TIMEOUT_MS, PatchLog, save_status, screenshot, unique, wait_saved

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_typing_is_saved_with_one_patch_per_burst(web):
    user = unique("writer")
    page = web.open(user)
    patches = PatchLog()
    patches.watch(page)

    # Given a new storyboard, its name field focused
    page.get_by_role("button", name="New storyboard").click()
    expect(page.get_by_label("Storyboard name")).to_be_focused()
    storyboard_id = page.url.rsplit("/", 1)[1]
    wait_saved(page)

    # When the user types a burst: the name, then the first scene's prompt
    page.keyboard.type("Moon landing", delay=15)
    page.get_by_label("Scene 1 prompt").click()
    page.keyboard.type("Ada steps onto the grey dust, slowly.", delay=15)
    expect(save_status(page)).to_have_text("Unsaved changes")
    wait_saved(page)

    # Then one PATCH carried it, guarded by the version read, and the server holds it as typed
    assert patches.if_match == ["1"]
    stored = web.storyboard(user, storyboard_id)
    assert stored["version"] == 2
    assert stored["name"] == "Moon landing"
    assert stored["scenes"][0]["prompt"] == "Ada steps onto the grey dust, slowly."

    # When a second burst adds a scene with a prompt and a duration, and names the character
    page.get_by_role("button", name="Add scene").click()
    expect(page.get_by_label("Scene 2 prompt")).to_be_focused()
    page.keyboard.type("The flag unfurls in no wind", delay=15)
    page.get_by_label("Scene 2 duration (seconds)").select_option("8")
    page.get_by_label("Character name").fill("Ada")
    wait_saved(page)

    # Then one more PATCH, from the new version, never two in flight
    assert patches.if_match == ["1", "2"]
    assert patches.most_in_flight == 1
    stored = web.storyboard(user, storyboard_id)
    assert stored["version"] == 3
    assert [s["prompt"] for s in stored["scenes"]] == [
        "Ada steps onto the grey dust, slowly.",
        "The flag unfurls in no wind",
    ]
    assert stored["scenes"][1]["durationSeconds"] == 8
    assert stored["character"] == {"name": "Ada"}
    screenshot(page, "editor")


def test_scenes_reorder_from_the_keyboard_and_their_names_follow(web):
    user = unique("editor")
    board = web.new_storyboard(user, prompts=("First", "Second", "Third"))
    page = web.open_storyboard(user, board["id"])
    expect(page.get_by_label("Scene 1 prompt")).to_have_value("First")

    # When the first scene is moved down twice with the keyboard
    page.get_by_role("button", name="Move down scene 1").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Scene 2 prompt")).to_have_value("First")
    expect(page.get_by_role("button", name="Move down scene 2")).to_be_focused()
    page.keyboard.press("Enter")

    # Then it is last, focus stayed with it, and "Scene N" names follow the new order
    expect(page.get_by_label("Scene 3 prompt")).to_have_value("First")
    expect(page.get_by_label("Scene 1 prompt")).to_have_value("Second")
    expect(page.get_by_role("button", name="Move up scene 3")).to_be_focused()

    # When the middle scene is removed, after a confirmation
    page.get_by_role("button", name="Remove scene 2").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove scene").click()
    wait_saved(page)

    # Then the server holds the new order without it
    assert [s["prompt"] for s in web.storyboard(user, board["id"])["scenes"]] == ["Second", "First"]


def two_pages_one_saved(web, user, board, label, text):
    """Two pages on one storyboard; the first has saved ``text`` into the field ``label``.
    Returns the second page (still at the old version) and the log of its PATCHes."""
    first = web.open_storyboard(user, board["id"])
    second = web.open_storyboard(user, board["id"])
    patches = PatchLog()
    patches.watch(second)
    first.get_by_label(label).fill(text)
    wait_saved(first)
    return second, patches


def test_a_conflict_between_two_pages_is_resolved_without_losing_either_text(web):
    user = unique("twotabs")
    board = web.new_storyboard(user, prompts=("Opening", "Closing"))

    # Given another page saved an edit of scene 1
    second, patches = two_pages_one_saved(
        web, user, board, "Scene 1 prompt", "Opening at dawn, typed in the first tab"
    )

    # When the second page, still at version 1, edits scene 2
    second.get_by_label("Scene 2 prompt").fill("Closing at dusk, typed in the second tab")

    # Then it shows the conflict: what changed on the server beside the user's version
    expect(save_status(second)).to_contain_text("Conflict", timeout=SAVE_TIMEOUT_MS)
    panel = second.get_by_role("region", name="This storyboard was changed elsewhere")
    expect(panel.get_by_role("heading", name="This storyboard was changed elsewhere")).to_be_focused()
    expect(panel).to_contain_text("Opening at dawn, typed in the first tab")
    expect(panel).to_contain_text("Closing at dusk, typed in the second tab")
    screenshot(second, "conflict")
    screenshot(panel, "conflict-panel")

    # When the user keeps their version
    panel.get_by_role("button", name="Keep my version").click()
    wait_saved(second)

    # Then their edit was re-applied onto the server's version and saved with its If-Match
    assert patches.if_match == ["1", "2"]
    stored = web.storyboard(user, board["id"])
    assert stored["version"] == 3
    assert [s["prompt"] for s in stored["scenes"]] == [
        "Opening at dawn, typed in the first tab",
        "Closing at dusk, typed in the second tab",
    ]
    expect(second.get_by_label("Scene 1 prompt")).to_have_value("Opening at dawn, typed in the first tab")


def test_taking_the_servers_version_in_a_conflict_drops_only_the_users_edit(web):
    user = unique("twotabs")
    board = web.new_storyboard(user, name="Draft title", prompts=("Scene",))
    second, patches = two_pages_one_saved(web, user, board, "Storyboard name", "Title from the first tab")

    # When both changed the name and the second page takes the server's version
    second.get_by_label("Storyboard name").fill("Title from the second tab")
    panel = second.get_by_role("region", name="This storyboard was changed elsewhere")
    expect(panel).to_contain_text("changed on both sides", timeout=SAVE_TIMEOUT_MS)
    panel.get_by_role("button", name="Use the server's version").click()

    # Then the page shows the server's version, saved, and nothing more was sent
    wait_saved(second)
    expect(second.get_by_label("Storyboard name")).to_have_value("Title from the first tab")
    assert len(patches.sent) == 1
    assert web.storyboard(user, board["id"])["version"] == 2


def one_scene_editor(web, who: str) -> tuple[str, dict[str, Any], Page]:
    """A new user, their storyboard with one scene ("Before"), and a page on its editor."""
    user = unique(who)
    board = web.new_storyboard(user, prompts=("Before",))
    return user, board, web.open_storyboard(user, board["id"])


def patches_answered(answer: Callable[[Route], None]) -> Callable[[Route], None]:
    """A route handler: PATCH requests get ``answer``, every other request goes through."""

    def handle(route: Route) -> None:
        if route.request.method == "PATCH":
            answer(route)
        else:
            route.continue_()

    return handle


def test_edits_made_while_the_api_is_unreachable_are_kept_and_saved_when_it_is_back(web):
    user, board, page = one_scene_editor(web, "offline")

    def unreachable(route: Route) -> None:
        route.abort("internetdisconnected")

    # Given the API cannot be reached
    page.route("**/api/**", unreachable)

    # When the user edits, and edits again while offline
    page.get_by_label("Scene 1 prompt").fill("Typed while the API was down")
    expect(save_status(page)).to_contain_text("Offline", timeout=SAVE_TIMEOUT_MS)
    page.get_by_label("Scene 1 prompt").fill("Typed while the API was down, and more")
    expect(save_status(page)).to_contain_text("Offline")
    assert web.storyboard(user, board["id"])["version"] == 1

    # Then, the API back, the edits are saved without the user doing anything
    page.unroute("**/api/**", unreachable)
    wait_saved(page)
    stored = web.storyboard(user, board["id"])
    assert stored["scenes"][0]["prompt"] == "Typed while the API was down, and more"
    assert stored["version"] == 2


def test_unsaved_edits_survive_a_reload_while_saving_fails(web):
    user, board, page = one_scene_editor(web, "reload")
    page.on("dialog", lambda dialog: dialog.accept())

    refuse_saves = patches_answered(lambda route: route.abort("internetdisconnected"))

    # Given saves fail and the user reloads with an edit not saved
    page.route("**/api/**", refuse_saves)
    page.get_by_label("Scene 1 prompt").fill("Typed before the reload")
    expect(save_status(page)).to_contain_text("Offline", timeout=SAVE_TIMEOUT_MS)
    page.reload()

    # Then the edit is still there (this tab's draft), and saved once saving works again
    expect(page.get_by_label("Scene 1 prompt")).to_have_value("Typed before the reload")
    page.unroute("**/api/**", refuse_saves)
    wait_saved(page)
    assert web.storyboard(user, board["id"])["scenes"][0]["prompt"] == "Typed before the reload"


def test_edits_outlive_a_session_that_ends_mid_edit(web):
    user, board, page = one_scene_editor(web, "expired")

    session_over = patches_answered(lambda route: route.fulfill(status=401, json={"message": "Unauthorized"}))

    # Given the session ends while an edit is being saved
    page.route("**/api/**", session_over)
    page.get_by_label("Scene 1 prompt").fill("Typed as the session ended")
    expect(page.get_by_role("alert")).to_contain_text("Your session has ended", timeout=SAVE_TIMEOUT_MS)
    page.unroute("**/api/**", session_over)

    # When the user signs in again, on the same address
    page.get_by_label("Dev user").fill(user)
    page.get_by_role("button", name="Sign in").click()

    # Then the editor is back with the edit, and saves it
    expect(page.get_by_label("Scene 1 prompt")).to_have_value("Typed as the session ended")
    wait_saved(page)
    assert web.storyboard(user, board["id"])["scenes"][0]["prompt"] == "Typed as the session ended"


def test_leaving_with_unsaved_edits_warns_and_still_saves_them(web):
    user, board, page = one_scene_editor(web, "closer")
    dialogs: list[str] = []

    def answer(dialog):
        dialogs.append(dialog.type)
        dialog.accept()

    page.on("dialog", answer)

    # When the user types and leaves the page at once (before the 2 s auto-save)
    page.get_by_label("Scene 1 prompt").click()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("Last words before closing")
    page.goto("about:blank")  # leaving the app (page.close does not report the dialog in headless mode)

    # Then the browser warned, and the keepalive save reached the server anyway
    web.wait_for(
        lambda: web.storyboard(user, board["id"])["scenes"][0]["prompt"] == "Last words before closing",
        SAVE_TIMEOUT_MS,
        "the edit reaching the server",
    )
    assert dialogs == ["beforeunload"]


def test_the_app_fits_a_375_px_wide_screen(web):
    user = unique("phone")
    board = web.new_storyboard(
        user, name="A storyboard with a rather long name for a phone", prompts=("One",)
    )
    page = web.open(user, width=375, height=812)
    fits = "document.documentElement.scrollWidth <= window.innerWidth"

    expect(page.get_by_role("link", name=board["name"])).to_be_visible()
    assert page.evaluate(fits)
    screenshot(page, "list-375px")

    page.get_by_role("link", name=board["name"]).click()
    expect(page.get_by_label("Scene 1 prompt")).to_have_value("One")
    assert page.evaluate(fits)
    screenshot(page, "editor-375px")
