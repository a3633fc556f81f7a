"""A scene continuing from the previous shot, as the rules see it before anything is stored: what
it needs, and what its clip's fingerprint names."""

from __future__ import annotations

import uuid

import pytest

from videogen import catalog
from videogen.data.repositories.continuations import SceneState
from videogen.errors import InvalidInput
from videogen.generation.continuity import clip_after
from videogen.references.scene_images import PreviousClip, chosen

VEO = catalog.find_model("veo-3.1-fast-generate-preview")
NO_FRAMES = catalog.find_model("veo-3.0-generate-001")  # retired; it took no image at all
CONTINUING = {"id": "s2", "prompt": "Ada walks in", "continueFrom": "previous"}


def test_a_model_that_takes_no_first_frame_cannot_continue_a_shot() -> None:
    assert NO_FRAMES is not None
    assert not NO_FRAMES.inputs.first_frame
    with pytest.raises(InvalidInput) as refused:
        chosen(CONTINUING, {}, NO_FRAMES, 8, PreviousClip("s1", uuid.uuid4()))
    assert refused.value.details == [
        {
            "field": "scene.continueFrom",
            "message": f"{NO_FRAMES.name} takes no first frame",
            "type": "model_input_unsupported",
        }
    ]


def test_the_fingerprint_names_the_clip_continued_and_a_last_frame_may_end_it() -> None:
    assert VEO is not None
    last = uuid.uuid4()
    before, after = uuid.uuid4(), uuid.uuid4()
    scene = CONTINUING | {"lastFrame": str(last)}

    one = chosen(scene, {"referenceIds": [str(uuid.uuid4())]}, VEO, 8, PreviousClip("s1", before))
    other = chosen(scene, {}, VEO, 8, PreviousClip("s1", after))

    assert one.key() == f"last:{last};continue:{before}"  # no character references with frames on Veo
    assert other.key() != one.key()


def test_a_batch_continues_the_job_it_makes_unless_the_scene_is_in_flight_or_up_to_date() -> None:
    new, flying, clip = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    state = SceneState(in_flight=None, newest_clip=clip, fingerprints=frozenset({"fp"}))

    assert clip_after(None, new, "fp", regenerate=False) == new
    assert clip_after(state, new, "fp", regenerate=False) == clip
    assert clip_after(state, new, "fp", regenerate=True) == new
    assert clip_after(state, new, "other", regenerate=False) == new
    assert clip_after(SceneState(flying, clip, frozenset()), new, "fp", regenerate=True) == flying
