"""Every HTTP sample in events/ answers, through its function's handler, the status its name
promises (``<function>.<case>.<status>.json``), as ``sam local invoke -e`` would run it."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.integration.film_support import seed_sample_film
from tests.integration.generation_support import store_key
from tests.support import EVENTS, invoke, load_event, load_function
from tools import samples
from videogen.db import session_scope
from videogen.models import Storyboard

HTTP_SAMPLE = re.compile(r"^(?P<function>[a-z_]+)\.(?P<case>[a-z0-9-]+)\.(?P<status>\d{3})$")
HTTP_EVENTS = sorted(p.stem for p in EVENTS.glob("*.json") if HTTP_SAMPLE.match(p.stem))


@pytest.fixture
def seeded(aws, make_job):
    """The data the samples refer to: the sample user's storyboard (a scene with a completed clip,
    one without), a film of that clip, the sample job (pending: the status and cancel samples'),
    a Sora key."""
    with session_scope() as s:
        s.add(
            Storyboard(
                id=uuid.UUID(samples.SAMPLE_STORYBOARD_ID),
                user_id=samples.SAMPLE_USER,
                name="Pilot episode",
                preset_key="cinematic",
                character={"name": "Ada"},
                scenes=[
                    {"id": samples.SAMPLE_SCENE_ID, "prompt": "Ada opens the lab door"},
                    {"id": samples.SAMPLE_SCENE_WITHOUT_CLIP, "prompt": "Ada looks up"},
                ],
            )
        )
    seed_sample_film(make_job, uuid.UUID(samples.SAMPLE_STORYBOARD_ID))
    make_job(
        samples.SAMPLE_USER,
        uuid.UUID(samples.SAMPLE_STORYBOARD_ID),
        scene_id=samples.SAMPLE_SCENE_ID,
        id=uuid.UUID(samples.SAMPLE_JOB_ID),
    )
    store_key(samples.SAMPLE_USER, "sora")


def test_every_api_route_has_samples():
    functions = {HTTP_SAMPLE.match(name)["function"] for name in HTTP_EVENTS}  # type: ignore[index]
    assert functions == {"storyboards", "generate", "status", "jobs", "api_keys", "health", "films"}


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
