"""The web app's presets (web/js/catalog.js) mirror the server's: GET /api/models lists providers,
models, sizes and prices (the app reads those from it) but not presets, and a preset the server
does not know would silently become its key in words."""

from __future__ import annotations

import re

from tests.support import REPO
from videogen.generation.prompt import PRESET_STYLES

CATALOG_JS = (REPO / "web" / "js" / "catalog.js").read_text()


def test_web_presets_are_the_servers_presets():
    block = re.search(r"export const PRESETS = \[(.*?)\];", CATALOG_JS, re.S)

    assert block is not None
    assert re.findall(r'key: "([^"]+)"', block.group(1)) == list(PRESET_STYLES)


def test_the_default_preset_is_one_of_them():
    default = re.search(r'export const DEFAULT_PRESET = "([^"]+)";', CATALOG_JS)

    assert default is not None
    assert default.group(1) in PRESET_STYLES


def test_the_app_keeps_no_copy_of_the_providers_models_or_prices():
    # They come from GET /api/models: a copied list here would drift from videogen.catalog.
    for copied in ("sora-2", "veo-3", "1280x720", "usdPerSecond:"):
        assert copied not in CATALOG_JS, copied
