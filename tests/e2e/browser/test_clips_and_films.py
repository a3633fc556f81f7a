"""Clips and films in Chromium: a whole storyboard generated once its cost is confirmed, followed
live to three playing clips, an edited scene marked stale, today's spend, a film compiled in the
order chosen from the keyboard, played and downloaded; cancelling a job in flight, and one that
finished meanwhile; the caps and a film without clips explained; another user seeing none of it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.browser.conftest import media_duration, scene, screenshot, unique, wait_saved
from tests.e2e.conftest import http

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

JOB_TIMEOUT_MS = 60_000
SORA_KEY = {"apiKey": "sk-local-0000000000000000wxyz"}
FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def director(web, prompts: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """A new user with a Sora key and a storyboard of ``prompts``."""
    user = unique("director")
    web.api("PUT", "/api/keys/openai", SORA_KEY, user=user)
    return user, web.new_storyboard(user, name="Harbour", prompts=prompts)


def played_clip(page: Page, label: str) -> float:
    """Wait for the <video> named ``label``; its duration once its metadata has loaded."""
    expect(page.get_by_label(label, exact=True)).to_be_visible(timeout=JOB_TIMEOUT_MS)
    return media_duration(page, f'video[aria-label="{label}"]')


def test_a_storyboard_is_generated_after_confirming_its_cost_then_compiled_played_and_downloaded(web):
    user, board = director(web, ("A boat leaves the harbour", "The lighthouse blinks", "A storm rolls in"))
    page = web.open_storyboard(user, board["id"])
    spend = page.get_by_role("region", name="Spend today")
    expect(spend).to_contain_text("$0.00 spent or reserved of the $50.00 daily cap")
    dialog = page.get_by_role("dialog")

    # When "Generate all scenes" shows the cost and the user says no (Escape)
    page.get_by_role("button", name="Generate all scenes").click()
    expect(dialog).to_contain_text("Estimated cost: $1.20 for 3 scenes")
    expect(dialog).to_contain_text("Scene 3: 4 s, $0.40")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert web.storyboard(user, board["id"])["videoJobs"] == []

    # When they confirm from the keyboard
    page.get_by_role("button", name="Generate all scenes").click()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Generate for $1.20")).to_be_focused()
    page.keyboard.press("Enter")

    # Then what was queued is shown with the server's estimate, and three clips play
    clips = page.get_by_role("region", name="Clips")
    expect(clips).to_contain_text("Queued 3 scenes (scene 1, 2, 3). The server's estimate: $1.20.")
    for n in (1, 2, 3):
        assert played_clip(page, f"Scene {n} clip") > 0
        expect(scene(page, n)).to_contain_text("Ready · cost $0.40")
    expect(spend).to_contain_text("$1.20 spent or reserved")
    expect(spend).to_contain_text("Jobs in flight: 0 of 5")
    assert web.api("GET", "/api/usage", user=user)["today"]["spent"] == 1.2
    screenshot(page, "editor-clips")
    screenshot(page.locator(".generate-and-spend"), "clips-and-spend")

    # When scene 2 is edited: its clip is marked stale, the others are not
    page.get_by_label("Scene 2 prompt").fill("The lighthouse blinks twice, slowly")
    wait_saved(page)
    expect(scene(page, 2).get_by_text("Stale")).to_be_visible()
    for n in (1, 3):
        expect(scene(page, n).get_by_text("Stale")).to_be_hidden()

    # and "Generate all scenes" would now make scene 2 only (the user declines)
    page.get_by_role("button", name="Generate all scenes").click()
    expect(dialog).to_contain_text("Estimated cost: $0.40 for 1 scene")
    expect(dialog).to_contain_text("Scene 1 skipped: its clip is up to date")
    dialog.get_by_role("button", name="Cancel").click()

    # When the film leaves scene 1 out and puts scene 3 first, from the keyboard
    film = page.get_by_role("region", name="Film")
    film.get_by_role("button", name="Move earlier scene 3").focus()
    page.keyboard.press("Enter")
    expect(film.get_by_role("button", name="Move earlier scene 3")).to_be_focused()
    film.get_by_label("Include scene 1").focus()
    page.keyboard.press("Space")
    film.get_by_role("button", name="Compile film").click()

    # Then the film is made of scenes 3 and 2, plays, and downloads
    expect(film).to_contain_text("Ready", timeout=JOB_TIMEOUT_MS)
    expect(film).to_contain_text("scenes 3, 2")
    assert played_clip(page, "Film 1") > 0
    films = web.api("GET", f"/api/storyboards/{board['id']}/compiled-videos", user=user)["compiledVideos"]
    assert [f["scenesOrder"] for f in films] == [["scene-3", "scene-2"]]
    download = http("GET", film.get_by_role("link", name="Download film 1").get_attribute("href"))
    assert download.status == 200
    assert download.raw[4:8] == b"ftyp"
    screenshot(page, "editor-film")
    screenshot(film, "film")

    # And another user sees none of it: not the storyboard, its film, or its spend
    other = unique("other")
    page_of_other = web.open(other, f"/storyboards/{board['id']}")
    expect(page_of_other.get_by_role("heading", name="Storyboard not available")).to_be_visible()
    assert web.stack.call("GET", f"/api/compiled-videos/{films[0]['id']}", user=other).status == 404
    own = web.new_storyboard(other, prompts=("Mine",))
    page_of_other.goto(f"/storyboards/{own['id']}")
    expect(page_of_other.get_by_role("region", name="Spend today")).to_contain_text("$0.00 spent")
    expect(page_of_other.get_by_role("region", name="Film")).to_contain_text("No film yet.")
    expect(page_of_other.locator("video")).to_have_count(0)


def storyboard_reads_refused(route: Route) -> None:
    """GETs of the storyboard fail (the page cannot see a job finish); everything else goes through."""
    if route.request.method == "GET":
        route.abort("internetdisconnected")
    else:
        route.continue_()


def generate_scene(page: Page, n: int) -> None:
    page.get_by_role("button", name=f"Generate scene {n}").click()
    page.get_by_role("dialog").get_by_role("button", name="Generate for $0.40").click()


def test_a_job_in_flight_is_cancelled_and_one_that_finished_meanwhile_is_explained(web):
    user, board = director(web, ("[never] A kite that never lands", "A quick sketch"))
    page = web.open_storyboard(user, board["id"], width=375, height=812)

    # When scene 1's job (one the fake provider never finishes) is cancelled
    generate_scene(page, 1)
    expect(scene(page, 1)).to_contain_text("estimated cost $0.40")
    scene(page, 1).get_by_role("button", name="Cancel scene 1").click()

    # Then it is cancelled, here and on the server, and nothing plays
    expect(scene(page, 1)).to_contain_text("Cancelled")
    expect(scene(page, 1).get_by_role("button", name="Cancel scene 1")).to_be_hidden()
    (job,) = web.storyboard(user, board["id"])["videoJobs"]
    assert job["status"] == "cancelled"

    # When scene 2's job finishes while the page cannot see it, and the user cancels it
    page.route(f"**/api/storyboards/{board['id']}", storyboard_reads_refused)
    generate_scene(page, 2)
    cancel = scene(page, 2).get_by_role("button", name="Cancel scene 2")
    expect(cancel).to_be_visible()
    web.wait_for(lambda: scene_job_status(web, user, board["id"], "scene-2") == "completed", JOB_TIMEOUT_MS)
    cancel.click()

    # Then the 409 is explained, and the clip is shown once the page can read again
    expect(scene(page, 2).get_by_role("alert")).to_contain_text(
        "Scene 2's clip is already completed: only a job in flight can be cancelled"
    )
    page.unroute(f"**/api/storyboards/{board['id']}", storyboard_reads_refused)
    assert played_clip(page, "Scene 2 clip") > 0
    assert page.evaluate(FITS)
    screenshot(page, "editor-375px-clips")


def scene_job_status(web, user: str, board_id: str, scene_id: str) -> str | None:
    clips = web.storyboard(user, board_id)["sceneClips"]
    status: str | None = next(c["status"] for c in clips if c["sceneId"] == scene_id)
    return status


def test_a_batch_over_the_cap_and_a_film_without_clips_are_explained(web):
    user, board = director(web, tuple(f"Shot {n}" for n in range(1, 7)))
    page = web.open_storyboard(user, board["id"])

    # When six scenes are asked for at once (five may be in flight)
    page.get_by_role("button", name="Generate all scenes").click()
    page.get_by_role("dialog").get_by_role("button", name="Generate for $2.40").click()

    # Then the refusal says how many fit, and nothing was queued
    refusal = page.get_by_role("region", name="Clips").get_by_role("alert")
    expect(refusal).to_contain_text("Too many videos in progress")
    expect(refusal).to_contain_text("Scenes that fit now: 5 of 6.")
    assert web.storyboard(user, board["id"])["videoJobs"] == []

    # When a film is asked for before any clip exists: the scenes are named
    film = page.get_by_role("region", name="Film")
    film.get_by_label("Include scene 6").uncheck()
    film.get_by_role("button", name="Compile film").click()
    expect(film.get_by_role("alert")).to_contain_text(
        "No film yet: scene 1, scene 2, scene 3, scene 4, scene 5 have no finished clip"
    )
    films = web.api("GET", f"/api/storyboards/{board['id']}/compiled-videos", user=user)
    assert films["compiledVideos"] == []
