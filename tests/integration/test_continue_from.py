"""Scenes continuing from the previous shot, through the generate routes, the worker and the film
compiler's frame step: what cannot continue is a 400 naming ``scene.continueFrom`` (nothing
stored or queued); a continuing clip starts from the exact last frame of the clip before it;
generate-all runs such scenes after the scene they continue, and a failed shot fails those
waiting on it."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import av
import pytest
from sqlalchemy import select, update

from devstack.fakes import FakeVeoServer, ManualClock
from tests.integration import test_scene_images as scene_images
from tests.integration.generation_support import USER, store_key
from tests.support import FakeLambdaContext, invoke, load_event, load_function, route_event, sqs_event
from tools.queues import InMemoryQueueSender
from videogen.data.db import session_scope
from videogen.data.models import ReferenceImage, Storyboard, VideoJob
from videogen.films.compiler import FilmCompiler
from videogen.generation.worker import GenerationWorker
from videogen.messaging.messages import FrameMessage, StepMessage
from videogen.runtime.config import get_settings
from videogen.storage.reference_objects import read

SCENES = [
    {"id": "s1", "prompt": "Ada opens the lab door"},
    {"id": "s2", "prompt": "Ada walks in", "continueFrom": "previous"},
    {"id": "s3", "prompt": "Ada sits down", "continueFrom": "previous"},
]


@dataclass
class Stack:
    """The worker and the film compiler fed from their two in-memory queues, as SQS would."""

    clock: ManualClock = field(default_factory=ManualClock)
    generation: InMemoryQueueSender[StepMessage] = field(default_factory=InMemoryQueueSender)
    films: InMemoryQueueSender[Any] = field(default_factory=InMemoryQueueSender)
    taken: dict[str, int] = field(default_factory=lambda: {"generation": 0, "films": 0})

    def handlers(self) -> dict[str, Any]:
        worker = GenerationWorker(sender=self.generation, frames=self.films, clock=self.clock)
        compiler = FilmCompiler(sender=self.films, jobs=self.generation, clock=self.clock)
        return {
            "generation": load_function("generation_worker").build_handler(worker),
            "films": load_function("film_compiler").build_handler(compiler),
        }

    def drain(self, rounds: int = 60) -> list[str]:
        """Deliver every queued message until both queues are empty; the film queue's bodies."""
        handlers, film_bodies = self.handlers(), []
        for _ in range(rounds):
            moved = False
            for name, queue in (("generation", self.generation), ("films", self.films)):
                messages = queue.sent[self.taken[name] :]
                self.taken[name] = len(queue.sent)
                if not messages:
                    continue
                moved = True
                self.clock.advance(max(m.delay_seconds for m in messages))
                for message in messages:  # the film compiler takes one record at a time
                    result = handlers[name](sqs_event([message.body]), FakeLambdaContext())
                    assert result["batchItemFailures"] == [], message.body
                film_bodies += [m.body for m in messages] if name == "films" else []
            if not moved:
                return film_bodies
        raise AssertionError("the queues did not drain")


@pytest.fixture
def veo(aws: Any, configure: Callable[..., None]) -> Iterator[FakeVeoServer]:
    with FakeVeoServer(complete_after_polls=1) as fake:
        configure(
            vertex_base_url=fake.base_url,
            provider_endpoint_allowlist="127.0.0.1",
            allow_http_provider_endpoints=True,
            provider_timeout_seconds=5,
        )
        store_key(USER, "veo")
        yield fake


@pytest.fixture
def board(veo: FakeVeoServer, make_storyboard: Callable[..., Any]) -> Any:
    return make_storyboard(USER, scenes=SCENES)


def generate(board_id: uuid.UUID, scene: str, sender: InMemoryQueueSender[StepMessage]) -> Any:
    return scene_images.generate(board_id, scene, sender=sender)


def generate_all(board_id: uuid.UUID, sender: InMemoryQueueSender[StepMessage], **body: Any) -> Any:
    return scene_images.generate_all(board_id, sender=sender, **body)


def set_scenes(board_id: uuid.UUID, scenes: list[dict[str, Any]]) -> None:
    with session_scope() as s:
        s.execute(update(Storyboard).where(Storyboard.id == board_id).values(scenes=scenes))


def jobs() -> dict[str, VideoJob]:
    """Each scene's newest job."""
    with session_scope() as s:
        rows = s.execute(select(VideoJob).order_by(VideoJob.created_at)).scalars()
        return {job.scene_id: job for job in rows}


def frames_of(video_key: str) -> tuple[bytes, bytes]:
    """The RGB pixels of a stored clip's first and last frames."""
    with av.open(io.BytesIO(read(video_key)), mode="r") as container:
        decoded = [f.to_image().tobytes() for f in container.decode(video=0)]
    return decoded[0], decoded[-1]


def mean_colour(pixels: bytes) -> tuple[float, ...]:
    return tuple(sum(pixels[c::3]) / (len(pixels) / 3) for c in range(3))


def generated_first_clip(board: Any, stack: Stack) -> VideoJob:
    assert generate(board.id, "s1", stack.generation).status == 202
    stack.drain()
    first = jobs()["s1"]
    assert first.status == "completed", first.error_message
    return first


REFUSALS = {
    "the first scene": ([{**SCENES[0], "continueFrom": "previous"}], "s1", "first scene"),
    "a previous scene without a clip": (SCENES[:2], "s2", "s1 has no clip yet"),
    "a first frame as well": (
        [SCENES[0], {**SCENES[1], "firstFrame": str(uuid.uuid4())}],
        "s2",
        "leave firstFrame out",
    ),
    "anything but previous": ([SCENES[0], {**SCENES[1], "continueFrom": "s1"}], "s2", '"previous" only'),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_scene_that_cannot_continue_is_a_400_naming_the_field_and_nothing_is_queued(board: Any, case: str):
    scenes, scene, words = REFUSALS[case]
    set_scenes(board.id, scenes)
    sender: InMemoryQueueSender[StepMessage] = InMemoryQueueSender()

    answer = generate(board.id, scene, sender)

    assert answer.status == 400, answer.body
    assert words in answer.body["error"]
    assert [d["field"] for d in answer.body["details"]] == ["scene.continueFrom"]
    assert jobs() == {}
    assert sender.sent == []


def test_generating_only_a_continuing_scene_whose_previous_has_no_clip_is_refused(board: Any):
    sender: InMemoryQueueSender[StepMessage] = InMemoryQueueSender()

    answer = generate_all(board.id, sender, sceneIds=["s2"])

    assert answer.status == 400, answer.body
    assert "s1 has no clip yet" in answer.body["error"]
    assert jobs() == {}
    assert sender.sent == []


def test_a_continuing_clip_starts_from_the_exact_last_frame_of_the_previous_one(
    board: Any, veo: FakeVeoServer
):
    stack = Stack()
    first = generated_first_clip(board, stack)

    assert generate(board.id, "s2", stack.generation).status == 202
    film_bodies = stack.drain()

    second = jobs()["s2"]
    assert second.status == "completed", second.error_message
    assert [json.loads(b) for b in film_bodies] == [{"jobId": str(second.id), "step": "frame"}]
    with session_scope() as s:
        (frame,) = s.execute(
            select(ReferenceImage).where(ReferenceImage.source_job_id.is_not(None))
        ).scalars()
    assert (frame.kind, frame.status, frame.source_job_id) == ("frame", "ready", first.id)
    assert second.metadata_["images"]["first"]["id"] == str(frame.id)
    assert "awaiting_frame" not in second.metadata_
    # the model was given the previous clip's last frame, and its clip starts from it
    (received,) = veo.creates[-1].images
    assert received.role == "first"
    _, last_of_first = frames_of(first.video_url or "")
    first_of_second, _ = frames_of(second.video_url or "")
    expected = mean_colour(last_of_first)
    assert all(abs(a - b) <= 4 for a, b in zip(received.colour, expected, strict=True))
    assert all(abs(a - b) <= 6 for a, b in zip(mean_colour(first_of_second), expected, strict=True))


def test_the_derived_frame_is_reused_and_is_not_one_of_the_users_references(board: Any):
    stack = Stack()
    generated_first_clip(board, stack)
    for _ in range(2):
        assert generate(board.id, "s2", stack.generation).status == 202
        stack.drain()

    with session_scope() as s:
        derived = list(s.execute(select(ReferenceImage)).scalars())
    assert len(derived) == 1
    listing = route_event("GET /api/storyboards/{id}/references", user=USER, id=str(board.id))
    assert invoke(load_function("references").lambda_handler, listing).body["references"] == []


def test_generate_all_runs_continuing_scenes_after_the_scene_they_continue(board: Any, veo: FakeVeoServer):
    stack = Stack()

    answer = generate_all(board.id, stack.generation)

    assert answer.status == 202, answer.body
    made = jobs()
    assert [j["sceneId"] for j in answer.body["jobs"]] == ["s1", "s2", "s3"]
    assert made["s2"].metadata_["continue_from"] == {"jobId": str(made["s1"].id), "sceneId": "s1"}
    assert made["s3"].metadata_["continue_from"] == {"jobId": str(made["s2"].id), "sceneId": "s2"}
    stack.drain()
    done = jobs()
    assert {scene: job.status for scene, job in done.items()} == dict.fromkeys(
        ("s1", "s2", "s3"), "completed"
    )
    # each continuing shot went to the provider only once the shot before it had completed
    for before, after in (("s1", "s2"), ("s2", "s3")):
        submitted = datetime.fromisoformat(done[after].metadata_["submitted_at"])
        completed = done[before].completed_at
        assert completed is not None
        assert completed <= submitted
    assert [len(c.images) for c in veo.creates] == [0, 1, 1]
    # called again, nothing is redone: every scene is up to date with the clip it continues
    again = generate_all(board.id, InMemoryQueueSender())
    assert [s["reason"] for s in again.body["skipped"]] == ["up-to-date"] * 3


def test_a_failed_shot_fails_the_shots_waiting_on_it_naming_it(board: Any):
    stack = Stack()
    assert generate_all(board.id, stack.generation).status == 202
    first = jobs()["s1"]
    GenerationWorker(sender=stack.generation, frames=stack.films).fail(
        first.id, ("pending",), "refused", "test"
    )

    stack.drain()

    after = jobs()
    assert (after["s2"].status, after["s3"].status) == ("failed", "failed")
    assert "scene s1 " in (after["s2"].error_message or "")
    assert "scene s2 " in (after["s3"].error_message or "")


def test_regenerating_the_previous_shot_marks_the_continuing_one_stale(board: Any):
    stack = Stack()
    assert generate_all(board.id, stack.generation, sceneIds=["s1", "s2"]).status == 202
    stack.drain()

    def stale() -> dict[str, bool]:
        event = route_event("GET /api/storyboards/{id}", user=USER, id=str(board.id))
        clips = invoke(load_function("storyboards").lambda_handler, event).body["storyboard"]["sceneClips"]
        return {c["sceneId"]: c["stale"] for c in clips if c.get("jobId")}

    assert stale() == {"s1": False, "s2": False}
    assert generate_all(board.id, stack.generation, sceneIds=["s1"], regenerate=True).status == 202
    stack.drain()
    assert stale() == {"s1": False, "s2": True}


def test_a_previous_clip_gone_from_storage_fails_the_job_naming_the_scene(board: Any):
    stack = Stack()
    first = generated_first_clip(board, stack)
    from videogen.storage import bucket  # noqa: PLC0415

    bucket.delete_keys([first.video_url or ""])

    assert generate(board.id, "s2", stack.generation).status == 202
    stack.drain()

    second = jobs()["s2"]
    assert second.status == "failed"
    assert "scene s1: its clip is missing from storage" in (second.error_message or "")


def test_a_dead_frame_step_fails_its_job(board: Any):
    stack = Stack()
    generated_first_clip(board, stack)
    assert generate(board.id, "s2", stack.generation).status == 202
    second = jobs()["s2"]
    body = FrameMessage(job_id=second.id, step="frame").to_body()

    load_function("dead_letters").build_handler()(sqs_event([body]), FakeLambdaContext())

    assert jobs()["s2"].status == "failed"


def test_cancelling_a_shot_fails_the_shot_waiting_on_it_at_once(board: Any):
    stack = Stack()
    assert generate_all(board.id, stack.generation, sceneIds=["s1", "s2"]).status == 202
    first = jobs()["s1"]
    event = route_event("POST /api/video/jobs/{jobId}/cancel", user=USER, jobId=str(first.id))

    assert invoke(load_function("jobs").lambda_handler, event).status == 200

    after = jobs()
    assert (after["s1"].status, after["s2"].status) == ("cancelled", "failed")
    expected = "scene s1 did not complete, so there is no last frame to continue from"
    assert after["s2"].error_message == expected


def test_a_lost_frame_step_comes_back_with_the_sweeper(board: Any):
    stack = Stack()
    generated_first_clip(board, stack)
    assert generate(board.id, "s2", stack.generation).status == 202
    stack.handlers()["generation"](sqs_event([stack.generation.sent[-1].body]), FakeLambdaContext())
    stack.taken = {
        "generation": len(stack.generation.sent),
        "films": len(stack.films.sent),
    }  # the frame step is lost

    stack.clock.advance(get_settings().pending_stale_after_seconds + 1)
    GenerationWorker(sender=stack.generation, frames=stack.films, clock=stack.clock).sweep()
    stack.drain()

    assert jobs()["s2"].status == "completed"


def _sweep_after(board: Any, waited_seconds: int, s1_completed_seconds_ago: int | None) -> dict[str, Any]:
    """The three shots made by generate-all ``waited_seconds`` ago; the first one completed
    ``s1_completed_seconds_ago`` and the second one then submitted (processing), or (None) the
    first one still processing; one sweep."""
    assert generate_all(board.id, InMemoryQueueSender()).status == 202
    made = jobs()
    now = datetime.now(UTC)
    first: dict[str, Any] = {"status": "processing"}
    if s1_completed_seconds_ago is not None:
        first = {"status": "completed", "completed_at": now - timedelta(seconds=s1_completed_seconds_ago)}
    with session_scope() as s:
        s.execute(update(VideoJob).values(created_at=now - timedelta(seconds=waited_seconds)))
        s.execute(update(VideoJob).where(VideoJob.id == made["s1"].id).values(**first))
        if s1_completed_seconds_ago is not None:
            s.execute(update(VideoJob).where(VideoJob.id == made["s2"].id).values(status="processing"))
    worker = GenerationWorker(sender=InMemoryQueueSender(), frames=InMemoryQueueSender())
    report: dict[str, Any] = load_function("sweeper").build_handler(worker)(
        load_event("sweeper.scheduled"), FakeLambdaContext()
    )
    return report


def test_a_chain_of_shots_made_one_after_another_is_not_held_to_one_shots_wait(board: Any):
    # Given a generate-all made longer ago than a job may wait, whose first shot completed lately
    max_wait = get_settings().generation_max_wait_seconds

    report = _sweep_after(board, waited_seconds=max_wait + 600, s1_completed_seconds_ago=300)

    # Then the second shot, made since, and the third, waiting on it, are still going
    assert report["expired"] == 0
    assert {scene: job.status for scene, job in jobs().items()} == {
        "s1": "completed",
        "s2": "processing",
        "s3": "pending",
    }


def test_a_continuing_shot_still_going_a_whole_wait_after_the_previous_one_completed_fails(board: Any):
    max_wait = get_settings().generation_max_wait_seconds

    report = _sweep_after(board, waited_seconds=max_wait * 2, s1_completed_seconds_ago=max_wait + 60)

    # The second shot is overdue from the first one's completion; the third, waiting on it, fails
    assert report["expired"] == 1
    after = jobs()
    assert (after["s2"].status, after["s2"].error_message) == (
        "failed",
        "the provider did not finish within 60 minutes",
    )
    assert after["s3"].status == "failed"
    assert "scene s2 " in (after["s3"].error_message or "")


def test_an_overdue_first_shot_expires_and_fails_the_shots_waiting_on_it(board: Any):
    max_wait = get_settings().generation_max_wait_seconds

    report = _sweep_after(board, waited_seconds=max_wait + 60, s1_completed_seconds_ago=None)

    assert report["expired"] == 1
    after = jobs()
    assert (after["s1"].status, after["s1"].error_message) == (
        "failed",
        "the provider did not finish within 60 minutes",
    )
    assert (after["s2"].status, after["s3"].status) == ("failed", "failed")
    assert "scene s1 " in (after["s2"].error_message or "")
