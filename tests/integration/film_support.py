"""What the film tests share: clips stored as the generation worker stores them (a completed job
and its MP4 in S3, from the fake providers' media), film rows, S3 listings, and a pipeline
that feeds queued film steps back to the compiler's handler as Lambda's SQS trigger does."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3

from devstack.fakes import ManualClock
from devstack.fakes.media import render_video
from tests.support import FakeLambdaContext, load_function, sqs_event
from tools import samples
from tools.queues import InMemoryQueueSender, SentMessage
from videogen.data.db import session_scope
from videogen.data.models import CompiledVideo
from videogen.data.repositories import compiled_videos
from videogen.films.compiler import FilmCompiler
from videogen.films.steps import ChosenClip
from videogen.messaging.messages import FilmStepMessage
from videogen.runtime.config import get_settings
from videogen.storage import bucket

USER = "film-user"


def scenes(count: int) -> list[dict[str, str]]:
    """A storyboard's scenes: scene-1 ... scene-<count>."""
    return [{"id": f"scene-{n}", "prompt": f"Ada, scene {n}"} for n in range(1, count + 1)]


SCENES = scenes(3)


def s3() -> Any:
    return boto3.client("s3", region_name="us-east-1")


def put_object(key: str, data: bytes) -> None:
    s3().put_object(Bucket=get_settings().videos_bucket, Key=key, Body=data, ContentType="video/mp4")


def keys_under(prefix: str) -> list[str]:
    """Every object key under ``prefix``, sorted."""
    listed = s3().list_objects_v2(Bucket=get_settings().videos_bucket, Prefix=prefix)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def normalized_objects(user_id: str = USER) -> list[str]:
    return [k for k in keys_under(bucket.user_prefix(user_id)) if "/normalized/" in k]


def film_objects(user_id: str = USER) -> list[str]:
    return [k for k in keys_under(bucket.user_prefix(user_id)) if "/films/" in k]


def store_clip(
    make_job: Callable[..., Any],
    storyboard_id: uuid.UUID,
    scene_id: str,
    provider: str = "openai",
    *,
    user_id: str = USER,
    data: bytes | None = None,
    job_id: uuid.UUID | None = None,
    **columns: Any,
) -> Any:
    """A completed job of ``scene_id`` whose video (the fake ``provider``'s clip, or ``data``)
    is in S3 where the worker stores it."""
    job_id = job_id or uuid.uuid4()
    # Where the worker stores a job's video under the per-storyboard layout (main's video_key).
    key = f"{bucket.storyboard_prefix(user_id, storyboard_id)}jobs/{job_id}/video.mp4"
    put_object(key, render_video(f"{storyboard_id} {scene_id}", provider) if data is None else data)
    return make_job(
        user_id,
        storyboard_id,
        id=job_id,
        scene_id=scene_id,
        provider=provider,
        status="completed",
        video_url=key,
        progress=100,
        completed_at=datetime.now(UTC),
        **columns,
    )


def store_clips(make_job: Callable[..., Any], storyboard_id: uuid.UUID, *providers: str) -> list[Any]:
    """A completed clip of scene-1, scene-2, ... by each of ``providers`` in turn."""
    return [
        store_clip(make_job, storyboard_id, f"scene-{n}", provider) for n, provider in enumerate(providers, 1)
    ]


def film_row(film_id: uuid.UUID | str) -> CompiledVideo:
    with session_scope() as s:
        film = compiled_videos.get_by_id(s, uuid.UUID(str(film_id)))
    assert film is not None
    return film


def film_body(film_id: uuid.UUID | str, step: str, clip: int | None = None) -> str:
    fields = {"filmId": str(film_id), "step": step} | ({} if clip is None else {"clip": clip})
    return FilmStepMessage.model_validate(fields).to_body()


@dataclass
class FilmPipeline:
    """The compiler's handler fed from an in-memory queue, with a clock the test moves.

    ``drain()`` delivers every queued step, a batch of one as the template's trigger does,
    until the queue is empty; ``times=2`` delivers each message twice.
    """

    clock: ManualClock = field(default_factory=ManualClock)
    sender: InMemoryQueueSender[FilmStepMessage] = field(default_factory=InMemoryQueueSender[FilmStepMessage])
    delivered: int = 0

    @property
    def compiler(self) -> FilmCompiler:
        return FilmCompiler(sender=self.sender, clock=self.clock)

    def deliver(self, *bodies: str) -> list[str]:
        """Run one SQS batch through the compiler's handler; returns the failed bodies."""
        event = sqs_event(bodies)
        handler = load_function("film_compiler").build_handler(self.compiler)
        result = handler(event, FakeLambdaContext())
        failed = {item["itemIdentifier"] for item in result["batchItemFailures"]}
        return [r["body"] for r in event["Records"] if r["messageId"] in failed]

    def take(self) -> list[SentMessage[FilmStepMessage]]:
        """Messages sent since the last ``take``."""
        messages = self.sender.sent[self.delivered :]
        self.delivered = len(self.sender.sent)
        return messages

    def steps(self) -> list[tuple[str, int | None]]:
        """(step, clip) of the messages sent since the last ``take``, without taking them."""
        return [(m.message.step, m.message.clip) for m in self.sender.sent[self.delivered :]]

    def drain(self, *, times: int = 1, rounds: int = 20) -> None:
        """Deliver queued steps (each ``times`` times, one per batch) until none are left."""
        for _ in range(rounds):
            messages = self.take()
            if not messages:
                return
            for message in messages:
                for _ in range(times):
                    assert self.deliver(message.body) == []
        raise AssertionError(f"the queue did not drain in {rounds} rounds")


def seed_sample_film(
    make_job: Callable[..., Any], storyboard_id: uuid.UUID, job_id: uuid.UUID | None = None
) -> CompiledVideo:
    """A completed clip of the samples' scene in S3 (as job ``job_id``) and the samples' pending
    film of it: what events/films.* and events/film_compiler.* refer to."""
    board = storyboard_id
    job = store_clip(make_job, board, samples.SAMPLE_SCENE_ID, user_id=samples.SAMPLE_USER, job_id=job_id)
    clip = ChosenClip(scene_id=samples.SAMPLE_SCENE_ID, job_id=job.id, key=job.video_url)
    with session_scope() as s:
        s.add(
            CompiledVideo(
                id=uuid.UUID(samples.SAMPLE_FILM_ID),
                user_id=samples.SAMPLE_USER,
                storyboard_id=board,
                scenes_order=[samples.SAMPLE_SCENE_ID],
                clips=[clip.to_json()],
            )
        )
    return film_row(samples.SAMPLE_FILM_ID)
