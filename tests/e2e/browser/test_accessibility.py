"""Every view checked by axe-core (vendored: node_modules/axe-core, from package.json) against
WCAG 2.2 AA, in the light and the dark colour scheme, at 375, 768 and 1440 px: sign-in, the
storyboard list, the editor's board with clips, its film (timeline and a compiled film playing)
and the provider keys; and the confirmation dialog. A screenshot of each lands in
test-artifacts/browser/."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, Literal

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.browser.conftest import App, screenshot, unique
from tests.e2e.conftest import REPO_ROOT, RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTHS = (375, 768, 1440)
FITS = "document.documentElement.scrollWidth <= window.innerWidth"
JOB_TIMEOUT_S = 90
WANTED = {"scene-4": "failed", "scene-5": "processing"}  # the fake provider's prompt markers
AXE_RUN = """async ({ selector, tags }) => {
  const results = await axe.run(document.querySelector(selector), {
    runOnly: { type: "tag", values: tags }, resultTypes: ["violations"],
  });
  if (!results.passes.length) throw new Error("axe checked nothing");
  return results.violations.map((v) => ({
    rule: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(" ")}: ${n.failureSummary}`),
  }));
}"""


def until(condition: Callable[[], Any], what: str) -> Any:
    """Poll ``condition`` (an API read) until it gives something truthy."""
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while not (found := condition()):
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.5)
    return found


@pytest.fixture(scope="module")
def filmed(stack: RunningStack) -> Iterator[tuple[str, str]]:
    """A user with a Sora key and a storyboard of five scenes: three with clips (one stale), one
    failed, one being made (cancelled after the module's tests); and a crossfaded film with captions."""
    user = unique("axe")

    def call(method: str, path: str, payload: Any = None) -> Any:
        answer = stack.call(method, path, payload, user=user)
        assert answer.status < 300, (answer.status, answer.raw)
        return answer.json

    call("PUT", "/api/keys/openai", {"apiKey": "sk-local-0000000000000000wxyz"})
    scenes: list[dict[str, Any]] = [
        {
            "id": "scene-1",
            "prompt": "Ada opens the lab door at dawn, light spilling over the benches",
            "caption": "Dawn at the lab",
        },
        {
            "id": "scene-2",
            "prompt": "The prototype hums; sparks jump between the coils",
            "durationSeconds": 8,
        },
        {
            "id": "scene-3",
            "prompt": "Ada watches the prototype lift off over the harbour",
            "caption": "Lift-off",
            "captionStartMs": 500,
        },
        {"id": "scene-4", "prompt": "[fail] The prototype crashes into the sea"},
        {"id": "scene-5", "prompt": "[never] Ada waits on the pier"},
    ]
    character = {
        "name": "Ada",
        "description": "A curious engineer",
        "appearance": "Yellow raincoat, cropped hair",
    }
    body = {"name": "The prototype", "presetKey": "cinematic", "character": character, "scenes": scenes}
    board = call("POST", "/api/storyboards", body)["storyboard"]
    call("POST", f"/api/storyboards/{board['id']}/generate", {"provider": "openai", "durationSeconds": 4})

    def clips_done() -> bool:
        clips = call("GET", f"/api/storyboards/{board['id']}")["storyboard"]["sceneClips"]
        status = {c["sceneId"]: c["status"] for c in clips}
        return status == {**dict.fromkeys(("scene-1", "scene-2", "scene-3"), "completed"), **WANTED}

    until(clips_done, "three clips, a failed one and one being made")
    crossfade = {"type": "crossfade", "durationMs": 500}
    order = {"scenesOrder": ["scene-1", "scene-3"], "transition": crossfade}
    film = call("POST", f"/api/storyboards/{board['id']}/compile", order)
    until(
        lambda: call("GET", f"/api/compiled-videos/{film['compiledVideoId']}")["status"] == "completed",
        "a film",
    )
    # A stale clip: scene 3's prompt changed since it was made
    scenes[2]["prompt"] += ", at dusk"
    call("PATCH", f"/api/storyboards/{board['id']}", {"scenes": scenes})
    yield user, board["id"]
    clips = call("GET", f"/api/storyboards/{board['id']}")["storyboard"]["sceneClips"]
    (making,) = [c["jobId"] for c in clips if c["sceneId"] == "scene-5"]
    call("POST", f"/api/video/jobs/{making}/cancel")


def axe_violations(page: Page, selector: str = "body") -> list[dict[str, Any]]:
    page.evaluate(
        AXE.read_text()
    )  # evaluated by the browser's debugger: the page's CSP allows no such script
    violations: list[dict[str, Any]] = page.evaluate(AXE_RUN, {"selector": selector, "tags": WCAG_22_AA})
    return violations


def film_region(page: Page) -> Locator:
    return page.get_by_role("region", name="Film")


def show_list(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("status")).to_contain_text("storyboard")


def show_keys(page: Page) -> None:
    page.goto("/keys")
    expect(page.get_by_role("region", name="OpenAI-compatible")).to_contain_text("ending in wxyz")


def show_editor(page: Page, board_id: str) -> None:
    page.goto(f"/storyboards/{board_id}")
    for n in (1, 2, 3):
        expect(page.get_by_label(f"Scene {n} clip", exact=True)).to_be_visible()
    # Cards off screen are not rendered (content-visibility): scene 5 is below the fold at 375 px
    page.get_by_label("Scene 5 progress").scroll_into_view_if_needed()
    expect(page.get_by_label("Scene 5 progress")).to_be_visible()
    expect(page.get_by_role("region", name="Reference images")).to_contain_text("No reference images yet.")
    expect(page.get_by_role("region", name="Spend today")).to_contain_text("spent or reserved")
    expect(film_region(page).get_by_label("Film 1", exact=True)).to_be_visible()
    expect(film_region(page).get_by_label("Film 1", exact=True).locator("track")).to_have_count(1)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_view_passes_axe_wcag_22_aa_at_three_widths(
    web: App, filmed: tuple[str, str], scheme: Literal["light", "dark"]
):
    user, board_id = filmed
    assert AXE.exists(), "axe-core is not installed: run `make js-deps` (npm ci)"
    guest = web.open(color_scheme=scheme)
    page = web.open(user, color_scheme=scheme)
    found: dict[str, list[dict[str, Any]]] = {}

    for width in WIDTHS:
        guest.set_viewport_size({"width": width, "height": 900})
        expect(guest.get_by_label("Dev user")).to_be_visible()
        found[f"sign-in {width}"] = axe_violations(guest)
        screenshot(guest, f"view-sign-in-{width}px-{scheme}")

        page.set_viewport_size({"width": width, "height": 900})

        show_list(page)
        found[f"list {width}"] = axe_violations(page)
        screenshot(page, f"view-list-{width}px-{scheme}")

        show_keys(page)
        found[f"keys {width}"] = axe_violations(page)
        screenshot(page, f"view-keys-{width}px-{scheme}")

        show_editor(page, board_id)
        assert page.evaluate(FITS), f"the editor is wider than {width} px"
        found[f"editor {width}"] = axe_violations(page)
        screenshot(page, f"view-board-{width}px-{scheme}")
        film = film_region(page)
        film.scroll_into_view_if_needed()
        found[f"film {width}"] = axe_violations(page, ".films-section")
        screenshot(film, f"view-film-{width}px-{scheme}")

    # The confirmation dialog, over the board
    page.get_by_role("button", name="Remove scene 1").click()
    dialog = page.get_by_role("dialog", name="Remove scene 1?")
    expect(dialog).to_be_visible()
    found["dialog"] = axe_violations(page, "#confirm-dialog")
    screenshot(dialog, f"view-dialog-{scheme}")
    dialog.get_by_role("button", name="Cancel").click()

    assert {view: v for view, v in found.items() if v} == {}
