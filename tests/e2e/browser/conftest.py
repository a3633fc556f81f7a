"""The web app in a real browser: Debian's chromium driven by Playwright, against the local
stack of tests/e2e/conftest.py (one stack for the session, shared with the e2e tests).

Each test gets fresh browser contexts (own sessionStorage), its own user names, and fails
if a page throws an uncaught error. Screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Request, expect, sync_playwright

from tests.e2e.conftest import REPO_ROOT, RunningStack

ARTIFACTS = REPO_ROOT / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--no-sandbox",  # root in CI; the sandbox needs an unprivileged user
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SAVE_TIMEOUT_MS = 20_000
expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


@dataclass
class PatchLog:
    """The PATCH requests a page sent, and the most it had in flight at once."""

    sent: list[Request] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0

    def watch(self, page: Page) -> None:
        def started(request: Request) -> None:
            if request.method == "PATCH":
                self.sent.append(request)
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)

        def ended(request: Request) -> None:
            if request.method == "PATCH":
                self.in_flight -= 1

        page.on("request", started)
        page.on("requestfinished", ended)
        page.on("requestfailed", ended)

    @property
    def if_match(self) -> list[str | None]:
        return [r.headers.get("if-match") for r in self.sent]


@dataclass
class App:
    """Opens pages of the app on the running stack."""

    stack: RunningStack
    browser: Browser
    contexts: list[BrowserContext] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open(
        self,
        user: str | None = None,
        path: str = "/",
        *,
        width: int = 1280,
        height: int = 900,
        color_scheme: Literal["light", "dark"] = "light",
    ) -> Page:
        context = self.browser.new_context(
            base_url=self.stack.base_url,
            viewport={"width": width, "height": height},
            color_scheme=color_scheme,
        )
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        if user is not None:
            page.goto("/")
            sign_in(page, user)
        if path != "/" or user is None:
            page.goto(path)
        return page

    def open_storyboard(self, user: str, storyboard_id: str, *, width: int = 1280, height: int = 900) -> Page:
        """A signed-in page on the storyboard's editor, once it has loaded."""
        page = self.open(user, f"/storyboards/{storyboard_id}", width=width, height=height)
        expect(page.get_by_label("Storyboard name")).to_be_visible()
        return page

    def api(self, method: str, path: str, payload: Any = None, *, user: str) -> Any:
        answer = self.stack.call(method, path, payload, user=user)
        assert answer.status < 300, (answer.status, answer.raw)
        return answer.json

    def new_storyboard(
        self, user: str, name: str = "Pilot", prompts: tuple[str, ...] = ("",)
    ) -> dict[str, Any]:
        scenes = [{"id": f"scene-{i + 1}", "prompt": p} for i, p in enumerate(prompts)]
        body = {"name": name, "presetKey": "cinematic", "character": {}, "scenes": scenes}
        storyboard: dict[str, Any] = self.api("POST", "/api/storyboards", body, user=user)["storyboard"]
        return storyboard

    def storyboard(self, user: str, storyboard_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.api("GET", f"/api/storyboards/{storyboard_id}", user=user)["storyboard"]
        return found

    @staticmethod
    def wait_for(condition: Callable[[], bool], timeout_ms: float, what: str = "the condition") -> None:
        """Poll ``condition`` (over the API, say) until it holds; fail after ``timeout_ms``."""
        deadline = time.monotonic() + timeout_ms / 1000
        while not condition():
            assert time.monotonic() < deadline, f"{what} never held"
            time.sleep(0.2)


@pytest.fixture
def web(stack: RunningStack, browser: Browser) -> Iterator[App]:
    app = App(stack, browser)
    yield app
    for context in app.contexts:
        context.close()
    assert not app.errors, "uncaught errors in the page:\n" + "\n".join(app.errors)


def sign_in(page: Page, user: str) -> None:
    page.get_by_label("Dev user").fill(user)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My storyboards")).to_be_visible()


def save_status(page: Page) -> Any:
    return page.get_by_role("status")


def wait_saved(page: Page) -> None:
    expect(save_status(page)).to_have_text("Saved", timeout=SAVE_TIMEOUT_MS)


def scene(page: Page, n: int) -> Locator:
    """Scene ``n``'s card (from 1, in the current order): its fields, clip and status lines."""
    return page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=f"Scene {n}", exact=True))


PAINT_ALL = """() => {
  const parts = document.querySelectorAll(".scene, .films-section");
  for (const part of parts) part.style.contentVisibility = "visible";
}"""


def screenshot(target: Page | Locator, name: str) -> Path:
    """A PNG of the whole page, or of one element, under test-artifacts/browser/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if isinstance(target, Page):
        # Parts off screen are not painted (content-visibility: auto): paint them for the capture.
        target.evaluate(PAINT_ALL)
        target.screenshot(path=str(path), full_page=True)
    else:
        target.screenshot(path=str(path))
    return path


def media_duration(page: Page, selector: str = "video") -> float:
    """The ``duration`` of the first matching <video> once its metadata has loaded."""
    script = """(selector) => new Promise((resolve, reject) => {
      const video = document.querySelector(selector);
      if (video.readyState >= 1) return resolve(video.duration);
      video.addEventListener("loadedmetadata", () => resolve(video.duration), { once: true });
      const failed = () => reject(new Error("video error " + video.error?.code));
      video.addEventListener("error", failed, { once: true });
    })"""
    duration: float = page.evaluate(script, selector)
    return duration
