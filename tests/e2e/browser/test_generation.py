"""Provider keys and one-scene generation in Chromium: a key stored through a password field
and shown only by its last four characters, a scene generated once its estimated cost is
confirmed, followed live, played inline, and found again after reloads."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.browser.conftest import media_duration, scene, screenshot, unique

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SORA_KEY = "sk-local-0000000000000000wxyz"
JOB_TIMEOUT_MS = 60_000


def test_provider_keys_are_stored_replaced_and_removed_showing_only_their_last_four(web):
    user = unique("keys")
    page = web.open(user, "/keys")
    veo = page.get_by_role("region", name="Google Veo")
    expect(veo).to_contain_text("No key stored.")

    # When a key for the Gemini API is typed into the password field and saved
    field = veo.get_by_label("Google Veo API key")
    assert field.get_attribute("type") == "password"
    field.fill("AIza-local-000000000000001234")
    expect(veo.get_by_label("The key is for")).to_have_value("gemini")
    veo.get_by_role("button", name="Save Google Veo key").click()

    # Then only its last four characters are shown, checked by the provider, and the field is empty again
    expect(veo).to_contain_text(
        "Stored: a key ending in 1234, for Gemini API (a Google AI Studio key), checked by"
    )
    expect(field).to_have_value("")
    assert "AIza-local" not in page.content()

    # When it is replaced by a Vertex AI key (which the provider cannot check), then removed
    field.fill("AIza-local-000000000000005678")
    veo.get_by_label("The key is for").select_option("vertex")
    veo.get_by_role("button", name="Replace Google Veo key").click()
    expect(veo).to_contain_text("ending in 5678, for Vertex AI express mode, unverified")
    veo.get_by_role("button", name="Remove Google Veo key").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove key").click()

    # Then none is stored, here and on the server
    expect(veo).to_contain_text("No key stored.")
    keys = web.api("GET", "/api/keys", user=user)["keys"]
    assert not [k for k in keys if k["provider"] == "veo" and k["isActive"]]
    screenshot(page, "keys")


def test_a_generated_scene_plays_inline_and_is_found_again_after_reloads(web):
    user = unique("director")
    board = web.new_storyboard(user, prompts=("A paper boat sails across a puddle",))
    page = web.open_storyboard(user, board["id"])

    # Without a key: a clear error (once the cost is confirmed), and the way to add one
    page.get_by_role("button", name="Generate scene 1").click()
    dialog = page.get_by_role("dialog", name="Generate scene 1?")
    expect(dialog).to_contain_text("Estimated cost: $0.40")
    expect(dialog).to_contain_text("OpenAI-compatible sora-2, 1280x720, 4 s at $0.10 per second")
    dialog.get_by_role("button", name="Generate for $0.40").click()
    expect(page.get_by_role("alert")).to_contain_text("No active openai API key")
    page.get_by_role("link", name="Add a provider key").click()
    page.get_by_label("OpenAI-compatible API key").fill(SORA_KEY)
    page.get_by_role("button", name="Save OpenAI-compatible key").click()
    expect(page.get_by_text("Stored: a key ending in wxyz")).to_be_visible()
    # (with the webhook URL to register at the endpoint, and a field for its signing secret)
    expect(page.get_by_text("Webhook URL to register at the endpoint: http")).to_contain_text(
        "/api/webhooks/openai?key="
    )
    expect(page.get_by_label("Webhook signing secret (optional)")).to_have_attribute("type", "password")
    page.go_back()

    # When the scene is generated: the estimate is shown while it runs (in the scene's card;
    # the screen-reader announcer may say the same words)
    page.get_by_role("button", name="Generate scene 1").click()
    dialog.get_by_role("button", name="Generate for $0.40").click()
    expect(scene(page, 1)).to_contain_text("estimated cost $0.40")

    # and the page is reloaded while the job runs: it picks the job up again
    page.reload()
    clip = page.get_by_label("Scene 1 clip")
    expect(clip).to_be_visible(timeout=JOB_TIMEOUT_MS)
    expect(page.get_by_text("Ready · cost $0.40")).to_be_visible()

    # Then the clip plays inline
    assert media_duration(page) > 0
    # (wait_for_function would poll with eval, which the app's CSP refuses: wait inside the page)
    played = """video => { video.muted = true; return video.play().then(() => new Promise(resolve => {
      const tick = () => (video.currentTime > 0 ? resolve(video.currentTime) : requestAnimationFrame(tick));
      tick();
    })); }"""
    assert clip.evaluate(played) > 0
    screenshot(page, "editor-clip")

    # and a later visit shows the completed clip without generating again
    page.reload()
    expect(page.get_by_label("Scene 1 clip")).to_be_visible()
    assert media_duration(page) > 0
    jobs = web.storyboard(user, board["id"])["videoJobs"]
    assert [j["status"] for j in jobs] == ["completed"]
