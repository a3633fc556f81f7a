"""The film pipeline through the compiler's handler, on real PostgreSQL, moto's S3 and real MP4s
from the fake providers: the matching path (copy only), the mixed path (only the odd clips
normalized, the cache reused), duplicate delivery, claims, and films that cannot be made."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from devstack.fakes import ManualClock
from devstack.fakes.media import colour
from tests.film_media_support import near, pictures, streams
from tests.integration.film_support import (
    SCENES,
    USER,
    FilmPipeline,
    film_body,
    film_objects,
    film_row,
    normalized_objects,
    s3,
    store_clip,
    store_clips,
)
from videogen.data.db import session_scope
from videogen.data.models import CompiledVideo
from videogen.data.repositories import compiled_videos, storyboards
from videogen.films.request import create_film, enqueue_or_withdraw
from videogen.runtime.config import get_settings


@pytest.fixture
def board(aws, make_storyboard):
    return make_storyboard(USER, scenes=SCENES)


def request_film(
    pipeline: FilmPipeline, storyboard_id: uuid.UUID, order: list[str] | None = None
) -> uuid.UUID:
    """What the compile route does: the pending row, then its plan message."""
    with session_scope() as s:
        accepted = create_film(s, USER, storyboard_id, order)
    enqueue_or_withdraw(accepted, USER, pipeline.sender)
    return accepted.film_id


def compiled(storyboard_id: uuid.UUID, order: list[str] | None = None) -> CompiledVideo:
    """The film of ``order`` once every step ran, as its row ends."""
    pipeline = FilmPipeline()
    film_id = request_film(pipeline, storyboard_id, order)
    pipeline.drain()
    return film_row(film_id)


def download(key: str, folder: Path) -> Path:
    path = folder / "film.mp4"
    s3().download_file(get_settings().videos_bucket, key, str(path))
    return path


def scene_colours(board_id: uuid.UUID, order: list[str]) -> list[tuple[int, int, int]]:
    return [colour(f"{board_id} {scene}") for scene in order]


def colour_runs(film: Path) -> list[tuple[tuple[int, int, int], int]]:
    """The film's frames as runs of (the colour of a background pixel, frames)."""
    runs: list[tuple[tuple[int, int, int], int]] = []
    for picture in pictures(film):
        pixel = picture.at(2, 2)
        if runs and near(runs[-1][0], pixel):
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((pixel, 1))
    return runs


def test_a_film_of_matching_clips_is_copied_in_scene_order_without_re_encoding(board, make_job):
    # Given three scenes with Sora clips (all alike), and an order of their own
    store_clips(make_job, board.id, "openai", "openai", "openai")
    order = ["scene-3", "scene-1", "scene-2"]

    # When the film is compiled
    pipeline = FilmPipeline()
    film_id = request_film(pipeline, board.id, order)
    pipeline.drain()

    # Then it completed without normalizing anything
    film = film_row(film_id)
    assert film.status == "completed", film.error_message
    assert (film.normalize_clips, normalized_objects()) == ([], [])
    assert film_objects() == [film.final_video_url]
    assert film.duration_seconds == pytest.approx(6.0, abs=1e-6)
    # And it decodes frame by frame: each scene's 16 frames in the order asked, with sound
    with tempfile.TemporaryDirectory() as tmp:
        path = download(str(film.final_video_url), Path(tmp))
        assert film.file_size_bytes == path.stat().st_size
        runs = colour_runs(path)
        assert [count for _, count in runs] == [16, 16, 16]
        for (found, _), expected in zip(runs, scene_colours(board.id, order), strict=True):
            assert near(found, expected, tolerance=24), (found, expected)
        assert streams(path) == {"video": 1, "audio": 1}


def test_a_mixed_film_normalizes_only_the_odd_clip_and_a_second_film_reuses_it(board, make_job):
    # Given two Sora clips (256x144 with sound) and a Veo clip (320x180, 12 fps, silent)
    store_clips(make_job, board.id, "openai", "veo", "openai")

    # When the film is compiled
    pipeline = FilmPipeline()
    first = request_film(pipeline, board.id)
    pipeline.drain()

    # Then only the Veo clip was normalized, to Sora's format, and the film plays through it
    film = film_row(first)
    assert film.status == "completed", film.error_message
    assert (film.normalize_clips, film.normalized_clips) == ([1], [1])
    cached = normalized_objects()
    assert len(cached) == 1
    assert film.duration_seconds == pytest.approx(6.0, abs=0.1)
    with tempfile.TemporaryDirectory() as tmp:
        path = download(str(film.final_video_url), Path(tmp))
        frames = list(pictures(path))
        assert {(p.width, p.height) for p in frames} == {(256, 144)}
        assert len(frames) == 48
        assert streams(path) == {"video": 1, "audio": 1}

    # When a second film of the same clips is compiled, in another order
    pipeline.take()
    second = request_film(pipeline, board.id, ["scene-2", "scene-1"])
    pipeline.deliver(*(m.body for m in pipeline.take()))

    # Then its plan found the normalized clip and went straight to assembling
    assert pipeline.steps() == [("assemble", None)]
    pipeline.drain()
    assert film_row(second).status == "completed"
    assert normalized_objects() == cached


def test_every_message_delivered_twice_still_makes_one_film(board, make_job):
    store_clips(make_job, board.id, "openai", "veo", "veo")
    pipeline = FilmPipeline()
    film_id = request_film(pipeline, board.id)

    pipeline.drain(times=2)

    film = film_row(film_id)
    assert film.status == "completed", film.error_message
    # one plan and one assemble claimed it; each clip normalized and counted once
    assert film.attempts == 2
    assert sorted(film.normalized_clips) == [0]  # two Veo clips set the target; Sora's is odd
    assert len(normalized_objects()) == 1
    assert film_objects() == [film.final_video_url]
    sent = [m.message.step for m in pipeline.sender.sent]
    assert (sent.count("plan"), sent.count("normalize"), sent.count("assemble")) == (1, 1, 1)


def test_a_missing_clip_fails_the_film_naming_its_scene(board, make_job):
    jobs = store_clips(make_job, board.id, "openai", "openai", "openai")
    s3().delete_object(Bucket=get_settings().videos_bucket, Key=jobs[1].video_url)

    film = compiled(board.id)

    assert (film.status, film.error_message) == ("failed", "scene scene-2: its clip is missing from storage")
    assert film_objects() == []


def test_a_clip_that_is_no_video_fails_the_film_naming_its_scene(board, make_job):
    store_clip(make_job, board.id, "scene-1")
    store_clip(make_job, board.id, "scene-2", data=b"\x00\x00\x00\x18ftypmp42" + bytes(4000))

    film = compiled(board.id, ["scene-1", "scene-2"])

    assert film.status == "failed"
    assert str(film.error_message).startswith("scene scene-2: its clip is not a usable video")


def test_a_clip_that_stops_decoding_midway_fails_the_film_at_its_check(board, make_job):
    # Given a clip whose index and first frames are fine but whose later samples are garbage
    good = store_clip(make_job, board.id, "scene-1")
    damaged = bytearray(
        s3().get_object(Bucket=get_settings().videos_bucket, Key=good.video_url)["Body"].read()
    )
    middle = len(damaged) * 3 // 4
    damaged[middle : middle + 600] = bytes(range(200)) * 3
    store_clip(make_job, board.id, "scene-2", data=bytes(damaged))

    film = compiled(board.id, ["scene-1", "scene-2"])

    assert film.status == "failed"
    assert str(film.error_message).startswith("scene scene-2: the film does not pass its check")
    assert film_objects() == []


def test_a_clip_gone_before_assembling_fails_the_film_naming_its_scene(board, make_job):
    jobs = store_clips(make_job, board.id, "openai", "openai", "openai")
    pipeline = FilmPipeline()
    film_id = request_film(pipeline, board.id)
    pipeline.deliver(*(m.body for m in pipeline.take()))  # plan
    s3().delete_object(Bucket=get_settings().videos_bucket, Key=jobs[2].video_url)

    pipeline.drain()

    film = film_row(film_id)
    assert (film.status, film.error_message) == ("failed", "scene scene-3: its clip is missing from storage")


def test_a_step_held_by_a_live_worker_is_left_alone_and_taken_over_once_stale(board, make_job):
    # Given a film whose plan another worker claimed just now
    store_clip(make_job, board.id, "scene-1")
    pipeline = FilmPipeline()
    film_id = request_film(pipeline, board.id, ["scene-1"])
    pipeline.take()
    with session_scope() as s:
        assert compiled_videos.claim(s, film_id, "plan", stale_before=pipeline.clock()) is not None

    # When the plan message comes: nothing happens
    assert pipeline.deliver(film_body(film_id, "plan")) == []
    assert (film_row(film_id).step, pipeline.steps()) == ("plan", [])

    # When it comes again after the claim went stale: it is taken over, and the film completes
    pipeline.clock.advance(get_settings().film_step_lease_seconds + 1)
    assert pipeline.deliver(film_body(film_id, "plan")) == []
    pipeline.drain()
    film = film_row(film_id)
    assert (film.status, film.attempts) == ("completed", 3)


def test_late_and_unknown_messages_are_acknowledged_and_poison_is_refused(board, make_job):
    store_clip(make_job, board.id, "scene-1")
    pipeline = FilmPipeline()
    film_id = request_film(pipeline, board.id, ["scene-1"])
    pipeline.drain()
    done = film_row(film_id)

    late = [film_body(film_id, "plan"), film_body(film_id, "assemble"), film_body(film_id, "normalize", 0)]
    assert pipeline.deliver(*late, film_body(uuid.uuid4(), "plan")) == []
    assert film_row(film_id).completed_at == done.completed_at

    poison = '{"filmId": "%s", "step": "normalize"}' % film_id  # noqa: UP031 (no clip: not a step)
    assert pipeline.deliver(poison, '{"jobId": "x"}') == [poison, '{"jobId": "x"}']


def test_a_storyboard_deleted_mid_film_takes_the_film_with_it_and_its_steps_stop(board, make_job):
    # Given a film planned, its normalize step queued
    store_clips(make_job, board.id, "openai", "veo", "openai")
    pipeline = FilmPipeline()
    film_id = request_film(pipeline, board.id)
    pipeline.deliver(*(m.body for m in pipeline.take()))
    assert pipeline.steps() == [("normalize", 1)]

    # When the storyboard is deleted, then the queued steps run
    with session_scope() as s:
        storyboards.delete(s, USER, board.id)
    pipeline.drain()

    # Then the film's row is gone and no film was written
    with session_scope() as s:
        assert compiled_videos.get_by_id(s, film_id) is None
    assert (film_objects(), normalized_objects()) == ([], [])


class DeleteWhenStored(ManualClock):
    """A clock that, asked the time once what the step stores is in S3, first deletes the film's
    storyboard with its rows: a user deleting it while the step finishes (the delete's cleanup
    ran before the object landed, so only the step itself can still remove it)."""

    def __init__(self, storyboard_id: uuid.UUID, stored: Callable[[], list[str]]) -> None:
        super().__init__()
        self.storyboard_id = storyboard_id
        self.stored = stored
        self.deleted = False

    def __call__(self) -> datetime:
        if not self.deleted and self.stored():
            self.deleted = True
            with session_scope() as s:
                storyboards.delete(s, USER, self.storyboard_id)
        return super().__call__()


def test_a_film_stored_for_a_storyboard_deleted_meanwhile_is_deleted_again(board, make_job):
    # Given a film being made
    store_clips(make_job, board.id, "openai", "openai", "openai")
    pipeline = FilmPipeline()
    request_film(pipeline, board.id)
    pipeline.clock = DeleteWhenStored(board.id, film_objects)

    # When its storyboard is deleted just after the assemble step stored the film
    pipeline.drain()

    # Then the step finds its film gone and deletes what it stored: nothing is left in S3
    assert pipeline.clock.deleted
    assert film_objects() == []
