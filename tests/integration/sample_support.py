"""The data the samples of events/ refer to, seeded through the repositories' own models."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from tests.integration.film_support import seed_sample_film
from tests.integration.generation_support import store_key
from tools import samples
from videogen.data.db import session_scope
from videogen.data.models import Storyboard


def seed_samples(make_job: Callable[..., Any]) -> None:
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
    store_key(samples.SAMPLE_USER, "openai")
