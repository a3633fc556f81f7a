"""Every non-HTTP sample in events/ (SQS batches, the schedule) through its function's real
Lambda entry point, as ``sam local invoke -e`` would run it, against the samples' seed data:
a pending job, and a deleted storyboard's cleanup with one object left in S3."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.integration.film_support import film_row, seed_sample_film
from tests.integration.generation_support import NOTHING_SWEPT, Fakes, job_row, settings_for, store_key
from tests.support import EVENTS, FakeLambdaContext, load_event, load_function
from tools import samples
from videogen.data.db import session_scope
from videogen.data.models import StorageCleanup
from videogen.messaging.messages import FilmStepMessage, FrameMessage, StepMessage
from videogen.storage import bucket, uploads

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")

SAMPLE_JOB = uuid.UUID(samples.SAMPLE_JOB_ID)
SAMPLE_CLEANUP = uuid.UUID(samples.SAMPLE_CLEANUP_ID)
DELETED_BOARD = uuid.UUID("2b1a0c9d-8e7f-4a6b-9c5d-4e3f2a1b0c9d")
LEFT_OVER = bucket.video_key(samples.SAMPLE_USER, DELETED_BOARD, SAMPLE_JOB)
SAMPLE_FILM = uuid.UUID(samples.SAMPLE_FILM_ID)


def _worker_batch(result: Any, fakes: Fakes) -> None:
    # The submit reached the provider once; the poll in the same batch came before its time.
    assert result == {"batchItemFailures": []}
    job = job_row(SAMPLE_JOB)
    assert job.status == "processing"
    assert job.provider_job_id == fakes.sora.creates[0].job_id
    assert fakes.sora.create_count() == 1


def _dead_letter(result: Any, fakes: Fakes) -> None:
    assert result == {"batchItemFailures": []}
    job = job_row(SAMPLE_JOB)
    assert (job.status, job.error_message) == ("failed", "generation gave up after 5 attempts")


def _sweep(result: Any, fakes: Fakes) -> None:
    # The sample job and film were just queued and the cleanup just recorded: nothing is stuck.
    assert result == NOTHING_SWEPT
    assert job_row(SAMPLE_JOB).status == "pending"
    assert film_row(SAMPLE_FILM).status == "pending"


def _film_plan(result: Any, fakes: Fakes) -> None:
    # One clip: it sets the target, nothing to normalize, the film waits to be assembled.
    assert result == {"batchItemFailures": []}
    film = film_row(SAMPLE_FILM)
    assert (film.status, film.step, film.normalize_clips) == ("processing", "assemble", [])


def _frame(result: Any, fakes: Fakes) -> None:
    # The sample job continues no shot: the frame step has nothing to make and sends its submit.
    assert result == {"batchItemFailures": []}
    job = job_row(SAMPLE_JOB)
    assert (job.status, job.metadata_.get("images")) == ("pending", None)


def _film_dead_letter(result: Any, fakes: Fakes) -> None:
    assert result == {"batchItemFailures": []}
    film = film_row(SAMPLE_FILM)
    assert (film.status, film.error_message) == (
        "failed",
        "the film's assemble step gave up after 3 attempts",
    )


def _storage_cleanup(result: Any, fakes: Fakes) -> None:
    assert result == {"batchItemFailures": []}
    with session_scope() as s:
        assert s.get(StorageCleanup, SAMPLE_CLEANUP) is None
    assert requests.get(bucket.presign_get(LEFT_OVER), timeout=10).status_code == 404


EXPECTATIONS: dict[str, Callable[[Any, Fakes], None]] = {
    "generation_worker.sqs-batch": _worker_batch,
    "dead_letters.sqs": _dead_letter,
    "dead_letters.film-sqs": _film_dead_letter,
    "sweeper.scheduled": _sweep,
    "storage_cleanup.sqs": _storage_cleanup,
    "film_compiler.sqs": _film_plan,
    "film_compiler.frame-sqs": _frame,
}
NON_HTTP_EVENTS = sorted(
    p.stem
    for pattern in (
        "generation_worker.*.json",
        "dead_letters.*.json",
        "sweeper.*.json",
        "film_*.json",
        "storage_cleanup.*.json",
    )
    for p in EVENTS.glob(pattern)
)


@pytest.fixture
def seeded(aws: Any, fakes: Fakes, configure: Any, make_storyboard: Any, make_job: Any) -> Fakes:
    """The samples' user, storyboard and pending job, a Sora key, the fakes configured, and the
    sample cleanup of a deleted storyboard with one object left."""
    configure(**settings_for(fakes))
    board = make_storyboard(samples.SAMPLE_USER, scenes=[{"id": samples.SAMPLE_SCENE_ID, "prompt": "Ada"}])
    make_job(
        samples.SAMPLE_USER,
        storyboard_id=board.id,
        scene_id=samples.SAMPLE_SCENE_ID,
        id=SAMPLE_JOB,
        duration_seconds=4,
        size="1280x720",
    )
    store_key(samples.SAMPLE_USER, "openai")
    uploads.upload_stream(LEFT_OVER, [b"\x00\x00\x00\x18ftypmp42"], bucket.VIDEO_CONTENT_TYPE)
    with session_scope() as s:
        s.add(
            StorageCleanup(
                id=SAMPLE_CLEANUP,
                user_id=samples.SAMPLE_USER,
                storyboard_id=DELETED_BOARD,
                prefix=bucket.storyboard_prefix(samples.SAMPLE_USER, DELETED_BOARD),
                keys=[],
            )
        )
    seed_sample_film(make_job, board.id)
    return fakes


def test_every_generation_sample_has_an_expected_outcome():
    assert sorted(EXPECTATIONS) == NON_HTTP_EVENTS


@pytest.mark.parametrize("name", NON_HTTP_EVENTS)
def test_sample_event_runs_through_its_handler(seeded, name):
    handler = load_function(name.split(".", 1)[0]).lambda_handler

    result = handler(load_event(name), FakeLambdaContext())

    EXPECTATIONS[name](result, seeded)


@pytest.mark.parametrize(
    ("name", "model", "subject"),
    [
        ("generation_worker.sqs-batch", StepMessage, SAMPLE_JOB),
        ("dead_letters.sqs", StepMessage, SAMPLE_JOB),
        ("dead_letters.film-sqs", FilmStepMessage, SAMPLE_FILM),
        ("film_compiler.sqs", FilmStepMessage, SAMPLE_FILM),
        ("film_compiler.frame-sqs", FrameMessage, SAMPLE_JOB),
    ],
)
def test_sqs_samples_carry_step_messages_as_sqs_delivers_them(name, model, subject):
    for record in load_event(name)["Records"]:
        message = model.from_body(record["body"])
        subject_id = message.film_id if isinstance(message, FilmStepMessage) else message.job_id
        assert subject_id == subject
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()  # noqa: S324
        assert record["eventSource"] == "aws:sqs"
        assert record["eventSourceARN"].startswith("arn:aws:sqs:us-east-1:123456789012:")
        assert int(record["attributes"]["ApproximateReceiveCount"]) >= 1
