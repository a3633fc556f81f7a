"""Integration tests run against the session's real PostgreSQL, each from empty tables."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devstack.postgres import EmbeddedPostgres


@pytest.fixture(autouse=True)
def _clean_database(clean_db: EmbeddedPostgres) -> None:
    """Empty tables before every integration test."""


@pytest.fixture
def make_storyboard() -> Callable[..., Any]:
    """Factory: ``make_storyboard(user_id, name=..., scenes=...)`` inserts and returns a Storyboard."""
    from videogen.data.db import session_scope  # noqa: PLC0415
    from videogen.data.repositories import storyboards  # noqa: PLC0415

    def make(user_id: str = "user-a", **overrides: Any) -> Any:
        values: dict[str, Any] = {
            "name": "Storyboard",
            "preset_key": "cinematic",
            "character": {"name": "Ada", "description": "a curious engineer"},
            "scenes": [{"id": "s1", "prompt": "Ada opens the lab door"}],
        } | overrides
        with session_scope() as s:
            return storyboards.create(s, user_id, **values)

    return make


@pytest.fixture
def make_job(make_storyboard: Callable[..., Any]) -> Callable[..., Any]:
    """Factory: ``make_job(user_id, storyboard_id=None, **columns)`` inserts a pending video job.

    Production inserts jobs only through the generate route's capped insert; tests insert
    the row they need directly.
    """
    from sqlalchemy import insert  # noqa: PLC0415

    from videogen.data.db import session_scope  # noqa: PLC0415
    from videogen.data.models import VideoJob  # noqa: PLC0415

    def make(user_id: str = "user-a", storyboard_id: uuid.UUID | None = None, **overrides: Any) -> Any:
        if storyboard_id is None:
            storyboard_id = make_storyboard(user_id).id
        values: dict[str, Any] = {
            "id": uuid.uuid4(),
            "user_id": user_id,
            "storyboard_id": storyboard_id,
            "scene_id": "s1",
            "provider": "openai",
            "model": "sora-2",
            "prompt": "Ada opens the lab door",
        } | overrides
        with session_scope() as s:
            return s.execute(insert(VideoJob).values(**values).returning(VideoJob)).scalar_one()

    return make


@pytest.fixture
def fakes() -> Iterator[Any]:
    """Both fake providers (Sora, Veo) on loopback for one test."""
    from tests.integration.generation_support import start_fakes  # noqa: PLC0415

    yield from start_fakes()


@pytest.fixture
def env(aws: Any, fakes: Any, configure: Callable[..., None]) -> Any:
    """Settings pointed at moto and the fakes; ``USER`` holds a key for each provider."""
    from tests.integration.generation_support import USER, settings_for, store_key  # noqa: PLC0415

    configure(**settings_for(fakes))
    store_key(USER, "openai")
    store_key(USER, "veo")
    return fakes


@pytest.fixture
def new_job(make_job: Callable[..., Any], env: Any) -> Callable[..., Any]:
    """``new_job(provider, prompt, **columns)``: ``USER``'s pending job as the generate route
    would insert it (the provider's test model and duration, 1280x720)."""
    from tests.integration.generation_support import USER, job_fields  # noqa: PLC0415

    def make(provider: str = "openai", prompt: str = "Ada opens the lab door", **columns: Any) -> Any:
        return make_job(USER, **job_fields(provider, prompt) | columns)

    return make


@pytest.fixture
def seeded(aws: Any, make_job: Callable[..., Any]) -> None:
    """The data the samples of events/ refer to (``sample_support.seed_samples``)."""
    from tests.integration.sample_support import seed_samples  # noqa: PLC0415

    seed_samples(make_job)
