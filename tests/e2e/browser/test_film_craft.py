"""Film craft in Chromium: captions typed on the cards (one line, at most 200 characters), a
crossfade chosen in the film panel and shown between the shots, a film compiled with both that
plays with its captions and lasts the clips less the overlap; music uploaded from the film panel
and laid under a film."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import media_duration, scene, screenshot, unique, wait_saved
from tests.film_media_support import render_music

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

JOB_TIMEOUT_MS = 60_000
SORA_KEY = {"apiKey": "sk-local-0000000000000000wxyz"}
CUES = """(label) => {
  const track = document.querySelector(`video[aria-label="${label}"]`)?.textTracks[0];
  return track && track.cues ? track.cues.length : 0;
}"""


def director(web, prompts: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """A new user with a Sora key and a storyboard of ``prompts``."""
    user = unique("director")
    web.api("PUT", "/api/keys/openai", SORA_KEY, user=user)
    return user, web.new_storyboard(user, name="Harbour", prompts=prompts)


def generate_all(page: Page, cost: str) -> None:
    page.get_by_role("button", name="Generate all scenes").click()
    page.get_by_role("dialog").get_by_role("button", name=f"Generate for {cost}").click()


def clip_seconds(page: Page, n: int) -> float:
    label = f"Scene {n} clip"
    expect(page.get_by_label(label, exact=True)).to_be_visible(timeout=JOB_TIMEOUT_MS)
    return media_duration(page, f'video[aria-label="{label}"]')


def test_a_crossfaded_film_with_captions_plays_them_and_lasts_the_clips_less_the_overlap(web):
    user, board = director(web, ("A boat leaves the harbour", "The lighthouse blinks"))
    page = web.open_storyboard(user, board["id"])

    # When captions are typed on the cards: one over the limit stops at 200 characters
    caption = scene(page, 1).get_by_label("Scene 1 caption", exact=True)
    caption.fill("x" * 198)
    caption.press_sequentially("abcde")
    expect(caption).to_have_value("x" * 198 + "ab")
    # and a line break cannot be entered, typed or pasted
    caption.fill("")
    caption.press_sequentially("The boat")
    caption.press("Enter")
    caption.press_sequentially(" leaves")
    expect(caption).to_have_value("The boat leaves")
    second = page.get_by_label("Scene 2 caption", exact=True)
    second.fill("The light\nblinks")
    assert "\n" not in second.input_value()
    second.fill("The light blinks")
    page.get_by_label("Scene 2 caption start").fill("0.5")
    page.get_by_label("Scene 2 caption end").fill("0.2")
    expect(scene(page, 2)).to_contain_text("The caption's end comes after its start.")
    page.get_by_label("Scene 2 caption end").fill("3")
    expect(scene(page, 2)).not_to_contain_text("The caption's end comes after its start.")
    wait_saved(page)
    scenes = web.storyboard(user, board["id"])["scenes"]
    assert [s.get("caption") for s in scenes] == ["The boat leaves", "The light blinks"]
    assert (scenes[1]["captionStartMs"], scenes[1]["captionEndMs"]) == (500, 3000)

    # And a crossfade of 0.5 s is chosen: the timeline shows it between the shots
    film = page.get_by_role("region", name="Film")
    expect(film.get_by_label("Crossfade length")).to_be_disabled()
    film.get_by_label("Transition", exact=True).select_option("crossfade")
    film.get_by_label("Crossfade length").fill("0.5")
    film.get_by_label("Crossfade length").press("Tab")
    transition = film.locator('[data-transition][data-from="scene-1"][data-to="scene-2"]')
    expect(transition).to_have_text("Crossfade 0.5 s")
    expect(transition).to_have_attribute("data-transition", "crossfade")
    expect(film.locator(".timeline-total")).to_contain_text("7.5 s · 2 shots in the film")

    # Then, the clips made, the film compiled with it completes
    generate_all(page, "$0.80")
    lengths = [clip_seconds(page, n) for n in (1, 2)]
    film.get_by_role("button", name="Compile film").click()
    expect(film).to_contain_text("Ready", timeout=JOB_TIMEOUT_MS)
    films = web.api("GET", f"/api/storyboards/{board['id']}/compiled-videos", user=user)["compiledVideos"]
    assert films[0]["transition"] == {"type": "crossfade", "durationMs": 500}
    assert films[0]["captionsUrl"]
    expect(film).to_contain_text("Crossfade 0.5 s between shots · No music")

    # and plays with its captions, the clips' length less the overlap
    video = film.get_by_label("Film 1", exact=True)
    expect(video.locator("track")).to_have_attribute("kind", "captions")
    assert abs(media_duration(page, 'video[aria-label="Film 1"]') - (sum(lengths) - 0.5)) <= 0.2
    page.wait_for_function(f"() => ({CUES})('Film 1') === 2", timeout=JOB_TIMEOUT_MS)
    screenshot(film, "film-craft")

    # And the choice is still there on the next visit
    page.reload()
    expect(page.get_by_label("Transition", exact=True)).to_have_value("crossfade")
    expect(page.get_by_label("Crossfade length")).to_have_value("0.5")


def test_music_uploaded_in_the_film_panel_goes_under_the_film(web, tmp_path: Path):
    user, board = director(web, ("A storm rolls in",))
    page = web.open_storyboard(user, board["id"])
    film = page.get_by_role("region", name="Film")
    expect(film.get_by_label("Music volume")).to_be_disabled()

    # When a file that is not audio is dropped on the music zone, it is refused on the spot
    notes = tmp_path / "notes.txt"
    notes.write_text("not music")
    film.get_by_label("Upload music").set_input_files(str(notes))
    expect(film).to_contain_text("notes.txt is not an MP3, AAC/M4A, WAV or Ogg audio file.")

    # When a short theme is uploaded, it becomes the film's music; volume and ducking are set
    theme = render_music(tmp_path / "harbour theme.wav", 3.0)
    film.get_by_label("Upload music").set_input_files(str(theme))
    expect(film.get_by_label("Music", exact=True).locator("option:checked")).to_have_text(
        "harbour theme", timeout=JOB_TIMEOUT_MS
    )
    expect(page.get_by_label("Listen to harbour theme")).to_be_visible()  # listed with the references
    film.get_by_label("Music volume").fill("-6")
    film.get_by_label("Music volume").press("Tab")
    film.get_by_label("Duck under the clips' sound").uncheck()

    # Then the film compiled with it has that music
    generate_all(page, "$0.40")
    clip_seconds(page, 1)
    film.get_by_role("button", name="Compile film").click()
    expect(film).to_contain_text("Ready", timeout=JOB_TIMEOUT_MS)
    answer = web.api("GET", f"/api/storyboards/{board['id']}/compiled-videos", user=user)["compiledVideos"][0]
    references = web.api("GET", f"/api/storyboards/{board['id']}/references", user=user)["references"]
    assert [r["kind"] for r in references] == ["music"]
    assert answer["music"] == {"referenceId": references[0]["id"], "volumeDb": -6, "duck": False}
    assert answer["captionsUrl"] is None
    expect(film).to_contain_text("Music: harbour theme at -6 dB")
    expect(film.get_by_label("Film 1", exact=True).locator("track")).to_have_count(0)

    # And "No music" takes it off the next film
    film.get_by_role("button", name="No music").click()
    expect(film.get_by_label("Music", exact=True)).to_have_value("")
    wait_saved(page)
