"""The web app's provider and preset lists (web/js/catalog.js) mirror the server's until the
catalog route exists: a preset the server does not know would silently become its key in words,
a provider it does not know a 400."""

from __future__ import annotations

import re

from tests.support import REPO
from videogen.catalog import PROVIDERS
from videogen.generation.prompt import PRESET_STYLES

CATALOG_JS = (REPO / "web" / "js" / "catalog.js").read_text()


def js_list(name: str, key: str) -> list[str]:
    block = re.search(rf"export const {name} = \[(.*?)\];", CATALOG_JS, re.S)
    assert block is not None, name
    return re.findall(rf'{key}: "([^"]+)"', block.group(1))


def test_web_presets_are_the_servers_presets():
    assert js_list("PRESETS", "key") == list(PRESET_STYLES)


def test_web_providers_are_the_catalogs_providers():
    assert js_list("PROVIDERS", "id") == list(PROVIDERS)


def test_the_default_preset_is_one_of_them():
    default = re.search(r'export const DEFAULT_PRESET = "([^"]+)";', CATALOG_JS)

    assert default is not None
    assert default.group(1) in PRESET_STYLES
