"""A scene's reference images through the generate routes and the worker: what the model cannot
take is a 400 naming it (nothing stored), what it takes goes into the job (and its fingerprint)
and reaches the provider in its documented form."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select, update

from tests.integration.generation_support import USER, store_key
from tests.support import invoke, load_function, route_event
from tools.queues import InMemoryQueueSender
from videogen.api.resolver import api_handler
from videogen.data.db import session_scope
from videogen.data.models import Storyboard, VideoJob
from videogen.references.images import normalize
from videogen.storage.reference_objects import put, reference_keys

RED = (200, 30, 30)
GREEN = (20, 180, 60)


def png(colour: tuple[int, int, int], size: tuple[int, int] = (64, 36)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def ready_reference(aws: Any) -> Callable[..., uuid.UUID]:
    """``ready_reference(board, colour)``: a ready reference stored as completing one does."""
    from videogen.data.models import ReferenceImage  # noqa: PLC0415

    def make(board_id: uuid.UUID, colour: tuple[int, int, int] = RED, kind: str = "character") -> uuid.UUID:
        image = normalize(png(colour))
        reference_id = uuid.uuid4()
        keys = reference_keys(USER, board_id, reference_id)
        put(keys.image(image.content_type), image.body, image.content_type)
        put(keys.thumbnail, image.thumbnail, "image/jpeg")
        with session_scope() as s:
            s.add(
                ReferenceImage(
                    id=reference_id,
                    user_id=USER,
                    storyboard_id=board_id,
                    kind=kind,
                    label="Ada",
                    content_type=image.content_type,
                    declared_bytes=len(image.body),
                    status="ready",
                    width=image.width,
                    height=image.height,
                    stored_bytes=len(image.body),
                    sha256=image.sha256,
                )
            )
        return reference_id

    return make


@pytest.fixture
def board(aws: Any, make_storyboard: Callable[..., Any]) -> Any:
    store_key(USER, "veo", "AIza-images-test-0123456789abcdef", api="gemini")
    store_key(USER, "openai")
    return make_storyboard(
        USER, scenes=[{"id": "s1", "prompt": "Ada opens the lab door"}, {"id": "s2", "prompt": "Ada runs"}]
    )


def set_scenes(
    board_id: uuid.UUID, scenes: list[dict[str, Any]], character: dict[str, Any] | None = None
) -> None:
    values: dict[str, Any] = {"scenes": scenes}
    if character is not None:
        values["character"] = character
    with session_scope() as s:
        s.execute(update(Storyboard).where(Storyboard.id == board_id).values(**values))


def generate(
    board_id: uuid.UUID,
    scene: str,
    provider: str = "veo",
    sender: InMemoryQueueSender | None = None,
    **body: Any,
) -> Any:
    payload = {"storyboardId": str(board_id), "sceneId": scene, "provider": provider} | body
    event = route_event("POST /api/video/generate", user=USER, body=payload)
    app = load_function("generate").build_app(sender=sender or InMemoryQueueSender())
    return invoke(api_handler(app), event)


def jobs() -> list[VideoJob]:
    with session_scope() as s:
        return list(s.execute(select(VideoJob).order_by(VideoJob.created_at)).scalars())


def test_a_scene_with_a_first_and_last_frame_records_them_in_its_job(board: Any, ready_reference: Any):
    first, last = ready_reference(board.id, RED, "frame"), ready_reference(board.id, GREEN, "frame")
    set_scenes(
        board.id,
        [{"id": "s1", "prompt": "Ada opens the lab door", "firstFrame": str(first), "lastFrame": str(last)}],
    )

    answer = generate(board.id, "s1")

    assert answer.status == 202, answer.body
    (job,) = jobs()
    images = job.metadata_["images"]
    assert images["first"]["id"] == str(first)
    assert images["last"]["id"] == str(last)
    assert images["assets"] == []
    assert len(images["first"]["sha256"]) == 64


def test_the_characters_references_are_used_by_default_where_the_model_takes_them(
    board: Any, ready_reference: Any
):
    ref = ready_reference(board.id)
    set_scenes(
        board.id, [{"id": "s1", "prompt": "Ada"}], character={"name": "Ada", "referenceIds": [str(ref)]}
    )
    # Veo 3.1 Fast on the Gemini API takes up to 3, at 8 s
    assert generate(board.id, "s1", durationSeconds=8).status == 202
    # an OpenAI-compatible model takes none: the clip is made from the text alone
    assert generate(board.id, "s1", provider="openai").status == 202
    veo, sora = jobs()
    assert [a["id"] for a in veo.metadata_["images"]["assets"]] == [str(ref)]
    assert "images" not in sora.metadata_
    assert veo.fingerprint != sora.fingerprint


REFUSALS: dict[str, tuple[Callable[[uuid.UUID], dict[str, Any]], dict[str, Any], str]] = {
    "references on a model that takes none": (
        lambda ref: {"referenceIds": [str(ref)]},
        {"provider": "openai"},
        "takes no reference images",
    ),
    "references at a duration Veo refuses them": (
        lambda ref: {"referenceIds": [str(ref)]},
        {"durationSeconds": 4},
        "at 8 s only",
    ),
    "a last frame without a first": (lambda ref: {"lastFrame": str(ref)}, {}, "needs a first frame"),
    "references and frames together on Veo": (
        lambda ref: {"referenceIds": [str(ref)], "firstFrame": str(ref)},
        {"durationSeconds": 8},
        "reference images or frames, not both",
    ),
    "a reference the storyboard does not hold": (
        lambda ref: {"firstFrame": str(uuid.uuid4())},
        {},
        "does not hold ready",
    ),
    "a malformed reference id": (lambda ref: {"firstFrame": "not-a-uuid"}, {}, "Not a reference id"),
    "the first scene continuing from a previous shot": (
        lambda ref: {"continueFrom": "previous"},
        {},
        "first scene",
    ),
    "four references on Veo": (
        lambda ref: {"referenceIds": [str(ref), str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())]},
        {"durationSeconds": 8},
        "at most 3 reference images",
    ),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_what_the_model_cannot_take_is_a_400_naming_it_and_nothing_is_stored(
    board: Any, ready_reference: Any, case: str
):
    scene_fields, body, words = REFUSALS[case]
    ref = ready_reference(board.id)
    set_scenes(board.id, [{"id": "s1", "prompt": "Ada"} | scene_fields(ref)])
    sender = InMemoryQueueSender()

    answer = generate(board.id, "s1", sender=sender, **body)

    assert answer.status == 400, answer.body
    assert words in answer.body["error"]
    assert jobs() == []
    assert sender.sent == []


def test_a_reference_of_another_storyboard_is_refused(
    board: Any, ready_reference: Any, make_storyboard: Callable[..., Any]
):
    other = make_storyboard(USER)
    foreign = ready_reference(other.id)
    set_scenes(board.id, [{"id": "s1", "prompt": "Ada", "firstFrame": str(foreign)}])
    assert generate(board.id, "s1").status == 400
    assert jobs() == []


def test_a_changed_reference_marks_the_clip_stale(board: Any, ready_reference: Any):
    first, other = ready_reference(board.id, RED), ready_reference(board.id, GREEN)
    set_scenes(
        board.id,
        [{"id": "s1", "prompt": "Ada", "firstFrame": str(first)}, {"id": "s2", "prompt": "Ada runs"}],
    )
    assert generate(board.id, "s1").status == 202
    with session_scope() as s:
        s.execute(update(VideoJob).values(status="completed", video_url="videos/x.mp4"))
    detail = load_function("storyboards")

    def stale() -> bool:
        event = route_event("GET /api/storyboards/{id}", user=USER, id=str(board.id))
        clips = invoke(detail.lambda_handler, event).body["storyboard"]["sceneClips"]
        return bool(clips[0]["stale"])

    assert stale() is False
    set_scenes(
        board.id,
        [{"id": "s1", "prompt": "Ada", "firstFrame": str(other)}, {"id": "s2", "prompt": "Ada runs"}],
    )
    assert stale() is True


PROVIDER_CASES = {
    # provider, key api, model, seconds
    "veo on the Gemini API": ("veo", "gemini", "veo-3.1-fast-generate-preview", 8),
    "veo on Vertex AI": ("veo", "vertex", "veo-3.1-fast-generate-001", 8),
    "fal": ("fal", None, "seedance-2.0-fast", 5),
    "an OpenAI-compatible endpoint": ("openai", None, "sora-2", 4),
}


@pytest.fixture
def fakes(aws: Any, configure: Callable[..., None]) -> Any:
    from devstack.fakes import FakeFalServer, FakeGeminiServer, FakeSoraServer, FakeVeoServer  # noqa: PLC0415

    with (
        FakeGeminiServer(complete_after_polls=1) as gemini,
        FakeVeoServer(complete_after_polls=1) as vertex,
        FakeFalServer(complete_after_polls=1) as fal,
        FakeSoraServer(poll_after_ms=None, complete_after_polls=1) as sora,
    ):
        configure(
            gemini_base_url=gemini.base_url,
            vertex_base_url=vertex.base_url,
            fal_queue_base_url=fal.base_url,
            openai_default_base_url=sora.base_url,
            provider_endpoint_allowlist="127.0.0.1",
            allow_http_provider_endpoints=True,
            provider_timeout_seconds=5,
        )
        yield {"gemini": gemini, "vertex": vertex, "fal": fal, "openai": sora}


def first_frame_colour(video_key: str) -> tuple[int, ...]:
    import av  # noqa: PLC0415

    from videogen.storage.reference_objects import read  # noqa: PLC0415

    with av.open(io.BytesIO(read(video_key)), mode="r") as container:
        frame = next(container.decode(video=0))
        pixel = frame.to_image().getpixel((frame.width // 2, frame.height // 2))
    assert isinstance(pixel, tuple)
    return pixel


@pytest.mark.parametrize("case", PROVIDER_CASES)
def test_a_first_frame_reaches_each_provider_in_its_form_and_the_clip_starts_from_it(
    fakes: Any, make_storyboard: Callable[..., Any], ready_reference: Any, case: str
):
    from tests.integration.generation_support import Pipeline  # noqa: PLC0415

    provider, api, model, seconds = PROVIDER_CASES[case]
    store_key(USER, provider, f"{provider}-images-test-0123456789abcdef", api=api)
    board = make_storyboard(USER, scenes=[])
    frame = ready_reference(board.id, RED, "frame")
    set_scenes(board.id, [{"id": "s1", "prompt": "Ada opens the lab door", "firstFrame": str(frame)}])
    pipeline = Pipeline()
    answer = generate(
        board.id, "s1", provider=provider, sender=pipeline.sender, model=model, durationSeconds=seconds
    )
    assert answer.status == 202, answer.body

    pipeline.drain()

    (job,) = jobs()
    assert job.status == "completed", job.error_message
    fake = fakes["vertex" if api == "vertex" else ("gemini" if provider == "veo" else provider)]
    (received,) = fake.creates[-1].images
    assert received.role == "first"
    assert all(abs(a - b) <= 4 for a, b in zip(received.colour, RED, strict=True))
    assert all(abs(a - b) <= 12 for a, b in zip(first_frame_colour(job.video_url or ""), RED, strict=True))


def generate_all(
    board_id: uuid.UUID, provider: str = "veo", *, sender: InMemoryQueueSender | None = None, **body: Any
) -> Any:
    event = route_event(
        "POST /api/storyboards/{id}/generate", user=USER, body={"provider": provider} | body, id=str(board_id)
    )
    app = load_function("generate").build_app(sender=sender or InMemoryQueueSender())
    return invoke(api_handler(app), event)


def test_generating_the_whole_storyboard_gives_each_job_its_own_images(board: Any, ready_reference: Any):
    frame, character = ready_reference(board.id, RED, "frame"), ready_reference(board.id, GREEN)
    set_scenes(
        board.id,
        [
            {"id": "s1", "prompt": "Ada opens the door", "firstFrame": str(frame)},
            {"id": "s2", "prompt": "Ada runs"},
        ],
        character={"name": "Ada", "referenceIds": [str(character)]},
    )

    answer = generate_all(board.id, durationSeconds=8)

    assert answer.status == 202, answer.body
    by_scene = {job.scene_id: job.metadata_["images"] for job in jobs()}
    assert by_scene["s1"]["first"]["id"] == str(frame)  # a frame: Veo takes no references with it
    assert by_scene["s1"]["assets"] == []
    assert [a["id"] for a in by_scene["s2"]["assets"]] == [str(character)]
    # And once made, generating again skips both as up to date; another first frame redoes s1 only
    with session_scope() as s:
        s.execute(update(VideoJob).values(status="completed", video_url="videos/x.mp4"))
    again = generate_all(board.id, durationSeconds=8)
    assert {skip["reason"] for skip in again.body["skipped"]} == {"up-to-date"}
    other = ready_reference(board.id, GREEN, "frame")
    set_scenes(
        board.id,
        [
            {"id": "s1", "prompt": "Ada opens the door", "firstFrame": str(other)},
            {"id": "s2", "prompt": "Ada runs"},
        ],
        character={"name": "Ada", "referenceIds": [str(character)]},
    )
    redo = generate_all(board.id, durationSeconds=8)
    assert [job["sceneId"] for job in redo.body["jobs"]] == ["s1"]


def test_a_scene_of_the_batch_naming_what_the_model_cannot_take_refuses_the_whole_batch(
    board: Any, ready_reference: Any
):
    ref = ready_reference(board.id)
    set_scenes(
        board.id,
        [{"id": "s1", "prompt": "Ada"}, {"id": "s2", "prompt": "Ada runs", "referenceIds": [str(ref)]}],
    )

    answer = generate_all(board.id, provider="openai")

    assert answer.status == 400
    assert answer.body["error"].startswith("Scene s2:")
    assert jobs() == []


def test_a_scene_naming_a_music_reference_is_refused(board: Any, ready_reference: Any):
    # Given a ready music reference of the storyboard (a film's music bed, never a model's input)
    from videogen.data.models import ReferenceImage  # noqa: PLC0415

    music_id = ready_reference(board.id)
    with session_scope() as s:
        s.execute(
            update(ReferenceImage)
            .where(ReferenceImage.id == music_id)
            .values(kind="music", width=None, height=None, duration_seconds=3.0, content_type="audio/mpeg")
        )
    for fields in ({"firstFrame": str(music_id)}, {"referenceIds": [str(music_id)]}):
        set_scenes(board.id, [{"id": "s1", "prompt": "Ada"} | fields])
        sender = InMemoryQueueSender()

        # When a scene names it as a frame or a reference image
        answer = generate(board.id, "s1", sender=sender)

        # Then it is a 400 naming the field, and nothing is stored or queued
        assert answer.status == 400, answer.body
        assert answer.body["details"][0]["field"] == "scene.referenceIds"
        assert "music" in answer.body["details"][0]["message"]
        assert jobs() == []
        assert sender.sent == []
