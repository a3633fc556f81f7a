"""The progress shown for providers that report none: estimated from elapsed time, never 100."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from videogen.api.job_view import estimated_progress, shown_progress

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass
class Job:
    status: str = "processing"
    progress: int = 0
    provider: str = "veo"
    model: str = "veo-3.1-generate-001"  # typically 120 s
    created_at: datetime = NOW - timedelta(seconds=300)
    metadata_: dict[str, Any] = field(default_factory=dict)


@pytest.mark.parametrize(
    ("elapsed", "typical", "expected"),
    [(-5, 60, 0), (0, 60, 0), (30, 60, 45), (60, 60, 90), (120, 60, 94), (6000, 60, 98)],
)
def test_estimate_reaches_90_at_the_typical_time_then_creeps_towards_99(elapsed, typical, expected):
    assert estimated_progress(elapsed, typical) == expected


def test_the_estimate_never_reaches_100():
    assert 98 <= max(estimated_progress(s, 60) for s in range(0, 10**7, 997)) < 100


def test_veo_progress_runs_from_submission_not_from_creation():
    job = Job(metadata_={"submitted_at": (NOW - timedelta(seconds=60)).isoformat()})

    assert shown_progress(job, NOW) == (45, True)


def test_without_a_submission_time_the_creation_time_is_the_clock():
    assert shown_progress(Job(), NOW) == (estimated_progress(300, 120), True)


@pytest.mark.parametrize(
    "job",
    [
        Job(provider="openai", model="sora-2", progress=37),
        Job(status="pending", progress=0),
        Job(status="completed", progress=100),
        Job(status="cancelled", progress=0),
        Job(model="no-such-model", progress=5),
    ],
)
def test_real_or_final_progress_is_shown_as_stored(job):
    assert shown_progress(job, NOW) == (job.progress, False)
