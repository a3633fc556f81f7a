"""Every HTTP sample in events/ answers, through its function's handler, the status its name
promises (``<function>.<case>.<status>.json``), as ``sam local invoke -e`` would run it."""

from __future__ import annotations

import re

import pytest

from tests.support import EVENTS, invoke, load_event, load_function
from tools import samples

HTTP_SAMPLE = re.compile(r"^(?P<function>[a-z_]+)\.(?P<case>[a-z0-9-]+)\.(?P<status>\d{3})$")
HTTP_EVENTS = sorted(p.stem for p in EVENTS.glob("*.json") if HTTP_SAMPLE.match(p.stem))


def test_every_api_route_has_samples():
    functions = {HTTP_SAMPLE.match(name)["function"] for name in HTTP_EVENTS}  # type: ignore[index]
    assert functions == {
        "storyboards",
        "generate",
        "status_and_models",
        "jobs",
        "api_keys",
        "health",
        "films",
        "references",
        "webhooks",
    }


def test_sample_files_are_what_the_generator_writes():
    """events/ is written by `python -m tools.samples`; a hand edit would drift from it."""
    for name, event in (samples.api_samples() | samples.migrate_samples()).items():
        assert load_event(name) == event, f"events/{name}.json is stale: run python -m tools.samples"


@pytest.mark.parametrize("name", HTTP_EVENTS)
def test_sample_event_answers_the_status_in_its_name(seeded, name):
    match = HTTP_SAMPLE.match(name)
    assert match is not None
    handler = load_function(match["function"]).lambda_handler

    result = invoke(handler, load_event(name))

    assert result.status == int(match["status"]), result.body
    assert result.headers["content-type"] == "application/json"
