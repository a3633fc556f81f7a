"""Reference images in Chromium: a PNG made here goes up through the page (declared, posted to
S3 with the presigned form, checked by the server), shows as its thumbnail, is marked for the
character and chosen as a scene's first frame (both saved by auto-save), the scene's controls
say why the chosen model cannot take the rest, and it is deleted; a file that is no image
is refused with the server's reason and leaves nothing listed."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import scene, screenshot, unique, wait_saved

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

FILE_NAME = "ada-front.png"


def png(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 60, 30)).save(out, "PNG")
    return out.getvalue()


def choose_model(page: Page, provider: str, model: str) -> None:
    page.get_by_label("Video provider").select_option(label=provider)
    page.get_by_label("Model").select_option(model)


def test_a_reference_image_is_uploaded_chosen_for_the_character_and_a_scene_then_deleted(web):
    user = unique("refs")
    board = web.new_storyboard(user, prompts=("Ada opens the lab door",))
    page = web.open_storyboard(user, board["id"])
    refs_path = f"/api/storyboards/{board['id']}/references"
    panel = page.get_by_role("region", name="Reference images")
    choose_model(page, "OpenAI-compatible", "sora-2")

    # When a PNG is chosen, its label taken from the file name and edited, then uploaded
    panel.get_by_label("Add reference images").set_input_files(
        files=[{"name": FILE_NAME, "mimeType": "image/png", "buffer": png()}]
    )
    label = panel.get_by_label(f"Label of {FILE_NAME}")
    expect(label).to_have_value("ada-front")
    label.fill("Ada, front")
    panel.get_by_label(f"Kind of {FILE_NAME}").select_option("character")
    panel.get_by_role("button", name=f"Upload {FILE_NAME}").click()

    # Then its thumbnail (loaded from S3) and label are listed, and the server holds it ready
    thumbnail = panel.get_by_role("img", name="Thumbnail of Ada, front")
    expect(thumbnail).to_be_visible()
    assert thumbnail.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    item = panel.get_by_role("listitem").filter(has=page.get_by_role("img", name="Thumbnail of Ada, front"))
    expect(item).to_contain_text("Ada, front")
    [stored_ref] = web.api("GET", refs_path, user=user)["references"]
    assert (stored_ref["label"], stored_ref["kind"], stored_ref["status"]) == (
        "Ada, front",
        "character",
        "ready",
    )

    # When it is marked for the character and chosen as scene 1's first frame
    panel.get_by_role("checkbox", name="Use for the character").check()
    card = scene(page, 1)
    card.get_by_label("Scene 1 first frame").select_option(label="Ada, front (character)")
    wait_saved(page)

    # Then the saved storyboard carries both choices
    stored = web.storyboard(user, board["id"])
    assert stored["character"]["referenceIds"] == [stored_ref["id"]]
    assert stored["scenes"][0]["firstFrame"] == stored_ref["id"]

    # and what Sora 2 cannot take is disabled, with the reason next to it
    references = card.get_by_role("group", name="Scene 1 references")
    expect(references.get_by_role("checkbox", name="The character's")).to_be_disabled()
    expect(references).to_have_accessible_description(re.compile(r"^Sora 2 .*takes no reference images$"))
    last_frame = card.get_by_label("Scene 1 last frame")
    expect(last_frame).to_be_disabled()
    expect(last_frame).to_have_accessible_description(re.compile(r"^Sora 2 .*takes no last frame$"))
    expect(card.get_by_text(re.compile(r"takes no last frame"))).to_be_visible()
    screenshot(page, "references")

    # When a model taking a last frame (and references, but not with frames) is chosen
    choose_model(page, "Google Veo", "veo-3.1-generate-preview")

    # Then the last frame may be chosen, and the references say why not
    expect(last_frame).to_be_enabled()
    expect(references).to_have_accessible_description("Veo 3.1 takes reference images or frames, not both")

    # When the reference is deleted, once confirmed
    panel.get_by_role("button", name="Delete reference Ada, front").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete reference").click()

    # Then it is gone from the page, the server, and the storyboard's choices
    expect(thumbnail).to_have_count(0)
    # (with no reference left, the card offers no image choice, only where to add them)
    expect(card.get_by_label("Scene 1 first frame")).to_have_count(0)
    expect(card).to_contain_text("add reference images with the character")
    wait_saved(page)
    assert web.api("GET", refs_path, user=user)["references"] == []
    stored = web.storyboard(user, board["id"])
    assert "referenceIds" not in stored["character"]
    assert "firstFrame" not in stored["scenes"][0]


def test_a_file_the_server_refuses_is_explained_and_leaves_nothing_listed(web):
    user = unique("refs")
    board = web.new_storyboard(user)
    page = web.open_storyboard(user, board["id"])
    panel = page.get_by_role("region", name="Reference images")
    expect(panel).to_contain_text("No reference images yet.")

    # When a file named like a PNG but holding text is uploaded
    panel.get_by_label("Add reference images").set_input_files(
        files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"not an image at all"}]
    )
    panel.get_by_role("button", name="Upload notes.png").click()

    # Then the server's reason is shown, and nothing is listed, here or on the server
    alert = panel.get_by_role("alert")
    expect(alert).to_contain_text("notes.png was not added.")
    expect(alert).to_contain_text("The upload was refused and removed")
    expect(panel.get_by_role("button", name="Upload notes.png")).to_have_count(0)
    expect(panel.get_by_role("button", name=re.compile(r"^Delete reference"))).to_have_count(0)
    expect(panel).to_contain_text("No reference images yet.")
    assert web.api("GET", f"/api/storyboards/{board['id']}/references", user=user)["references"] == []


def test_a_scene_continues_from_the_previous_shot_with_a_switch(web):
    user = unique("continue")
    board = web.new_storyboard(user, prompts=("Ada opens the lab door", "Ada walks in"))
    page = web.open_storyboard(user, board["id"])
    choose_model(page, "OpenAI-compatible", "sora-2")

    # The first scene has nothing to continue: its switch is off, saying why
    first = scene(page, 1).get_by_role("switch", name="Continue from the previous shot in scene 1")
    expect(first).to_be_disabled()
    expect(first).to_have_accessible_description("The first scene has no previous shot to continue")

    # When the second scene is switched to continue from the first
    second = scene(page, 2).get_by_role("switch", name="Continue from the previous shot in scene 2")
    second.check()
    wait_saved(page)

    # Then it is saved, and its own first frame gives way to the previous shot's last one
    assert web.storyboard(user, board["id"])["scenes"][1]["continueFrom"] == "previous"
    first_frame = scene(page, 2).get_by_label("Scene 2 first frame")
    expect(first_frame).to_be_disabled()
    expect(first_frame).to_have_accessible_description("It starts from the previous shot's last frame")
