"""The config.json `make deploy` writes (tools/webdeploy.py) is exactly what the web app reads
(web/js/config.js, run in Node): every field it writes is used, none it needs is missing, and
the API it names is the page's own origin, so the CSP's connect-src 'self' covers it."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support import REPO
from tests.unit.test_webdeploy_plan import OUTPUTS
from tools.webdeploy import build_config

NODE = shutil.which("node")
CONFIG_JS = (REPO / "web" / "js" / "config.js").as_uri()


def parsed_by_the_app(config: Any) -> Any:
    """What web/js/config.js's ``parseConfig`` makes of ``config``: {"ok": ...} or {"error": ...}."""
    if NODE is None:
        pytest.fail("Node is not installed: the web app's config.js runs in it here")
    script = (
        f"import {{ parseConfig }} from {json.dumps(CONFIG_JS)};"
        "let input = ''; process.stdin.on('data', (c) => { input += c; }).on('end', () => {"
        "  try { console.log(JSON.stringify({ ok: parseConfig(JSON.parse(input)) })); }"
        "  catch (e) { console.log(JSON.stringify({ error: e.message })); } });"
    )
    done = subprocess.run(
        [NODE, "--experimental-default-type=module", "--input-type=module", "-e", script],
        input=json.dumps(config),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return json.loads(done.stdout)


def test_the_app_reads_every_field_the_deploy_step_writes():
    written = build_config(OUTPUTS)

    read = parsed_by_the_app(written)

    assert read == {"ok": written}


def test_the_api_is_the_pages_own_origin():
    written = build_config(OUTPUTS)
    api, page = urlsplit(written["apiBaseUrl"]), urlsplit(written["auth"]["redirectUri"])

    assert (api.scheme, api.netloc) == (page.scheme, page.netloc)
    assert api.path in ("", "/")


@pytest.mark.parametrize("missing", ["domain", "clientId", "redirectUri"])
def test_a_config_without_what_sign_in_needs_is_refused_by_name(missing):
    written = build_config(OUTPUTS)
    del written["auth"][missing]

    assert parsed_by_the_app(written) == {"error": f"config.json: auth.{missing} missing"}
