"""The film pipeline's pure rules: the scene order, a film's progress, its queue messages, its
chosen clips as the row keeps them, and where its objects go."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from videogen.api.schemas.films import progress
from videogen.data.models import CompiledVideo
from videogen.errors import InvalidInput
from videogen.films.request import scene_order
from videogen.films.steps import ChosenClip, scene_error
from videogen.messaging.messages import FilmStepMessage
from videogen.storage import bucket

SCENES = ["intro", "middle", "end"]


def test_the_order_defaults_to_the_storyboards_and_may_reorder_or_leave_out_scenes():
    assert scene_order(None, SCENES) == SCENES
    assert scene_order(["end", "intro"], SCENES) == ["end", "intro"]


@pytest.mark.parametrize(
    ("requested", "scenes", "details"),
    [
        ([], SCENES, [("body.scenesOrder", "empty")]),
        (None, [], [("path.id", "storyboard_without_scenes")]),
        (
            ["end", "intro", "end", "end", "intro"],
            SCENES,
            [(f"body.scenesOrder.{n}", "scene_repeated") for n in (2, 3, 4)],
        ),
        (
            ["intro", "outro", "credits"],
            SCENES,
            [(f"body.scenesOrder.{n}", "scene_not_found") for n in (1, 2)],
        ),
    ],
)
def test_an_order_that_is_empty_repeats_or_names_unknown_scenes_is_refused_naming_them(
    requested, scenes, details
):
    with pytest.raises(InvalidInput) as refused:
        scene_order(requested, scenes)

    assert [(d["field"], d["type"]) for d in refused.value.details] == details


def _film(**columns: object) -> CompiledVideo:
    values: dict[str, object] = {
        "status": "processing",
        "step": "plan",
        "normalize_clips": [],
        "normalized_clips": [],
        "claimed_at": None,
    }
    return CompiledVideo(**(values | columns))


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ({"status": "pending"}, 0),
        ({}, 5),
        ({"step": "normalize", "normalize_clips": [1, 4, 6, 9]}, 10),
        ({"step": "normalize", "normalize_clips": [1, 4, 6, 9], "normalized_clips": [4]}, 27),
        ({"step": "normalize", "normalize_clips": [1, 4, 6, 9], "normalized_clips": [4, 1, 9]}, 62),
        ({"step": "assemble"}, 80),
        ({"step": "assemble", "claimed_at": datetime.now(UTC)}, 90),
        ({"step": "assemble", "status": "completed"}, 100),
        ({"step": "normalize", "status": "failed", "normalize_clips": [1, 2], "normalized_clips": [2]}, 45),
    ],
)
def test_progress_follows_the_steps_and_the_clips_normalized(columns, expected):
    assert progress(_film(**columns)) == expected


def test_film_messages_carry_ids_only_and_a_clip_with_normalize_alone():
    film_id = uuid.uuid4()

    assert json.loads(FilmStepMessage(film_id=film_id, step="plan").to_body()) == {
        "filmId": str(film_id),
        "step": "plan",
    }
    assert json.loads(FilmStepMessage(film_id=film_id, step="normalize", clip=3).to_body())["clip"] == 3
    for bad in (
        {"filmId": str(film_id), "step": "normalize"},
        {"filmId": str(film_id), "step": "plan", "clip": 0},
        {"filmId": str(film_id), "step": "normalize", "clip": -1},
        {"filmId": str(film_id), "step": "render"},
        {"filmId": str(film_id), "step": "plan", "userId": "u"},
    ):
        with pytest.raises(ValidationError):
            FilmStepMessage.from_body(json.dumps(bad))


def test_chosen_clips_round_trip_through_the_row_and_errors_name_their_scene():
    clip = ChosenClip(scene_id="intro", job_id=uuid.uuid4(), key="videos/a/b/video.mp4")
    film = CompiledVideo(clips=[clip.to_json()])

    assert set(clip.to_json()) == {"sceneId", "jobId", "key"}
    assert ChosenClip.of(film) == [clip]
    assert clip.film_key == clip.key
    assert clip.model_copy(update={"normalized_key": "videos/n.mp4"}).film_key == "videos/n.mp4"
    assert scene_error([clip], 0, "gone") == "scene intro: gone"
    assert scene_error([clip], None, "the film is too long") == "the film is too long"


def test_films_and_normalized_clips_live_under_their_storyboard():
    board, film, job = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    prefix = bucket.storyboard_prefix("user|1", board)

    assert prefix == f"{bucket.user_prefix('user|1')}{board}/"
    assert bucket.film_key("user|1", board, film) == f"{prefix}films/{film}/film.mp4"
    assert bucket.normalized_key("user|1", board, job, "ab12") == f"{prefix}jobs/{job}/normalized/ab12.mp4"
    for bad in ("../x", "a/b", ""):
        with pytest.raises(ValueError, match="cache key"):
            bucket.normalized_key("user|1", board, job, bad)
    with pytest.raises(ValueError, match="badly formed"):
        bucket.film_key("user|1", "../other", film)
