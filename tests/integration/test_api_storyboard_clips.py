"""GET /api/storyboards/{id} as a page of clips needs it: presigned URLs on every job, each scene's
newest clip, whether it is stale, and an estimated progress for Veo, which reports none."""

from __future__ import annotations

import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.support import invoke, load_event, load_function, with_changes
from videogen.generation.prompt import compose_prompt, fingerprint
from videogen.storage import bucket

storyboards_handler = load_function("storyboards").lambda_handler
status_handler = load_function("status_and_models").lambda_handler
USER = "user-123"
CHARACTER = {"name": "Ada", "description": "a curious engineer"}
SCENES = [{"id": "s1", "prompt": "Ada opens the lab door"}, {"id": "s2", "prompt": "Ada waves"}]


@pytest.fixture
def board(make_storyboard):
    return make_storyboard(USER, scenes=SCENES, character=CHARACTER, preset_key="cinematic")


def _clip_columns(
    scene: dict[str, Any], model: str = "sora-2", size: str = "1280x720", seconds: int = 4
) -> dict[str, Any]:
    prompt = compose_prompt(scene, CHARACTER, "cinematic")
    return {
        "scene_id": scene["id"],
        "model": model,
        "prompt": prompt,
        "size": size,
        "duration_seconds": seconds,
        "fingerprint": fingerprint(prompt, model, size, seconds),
    }


def _detail(board, sub: str = USER):
    event = with_changes(load_event("storyboards.get.200"), sub=sub, path_parameters={"id": str(board.id)})
    return invoke(storyboards_handler, event)


def _completed_with_video(aws, make_job, board, scene: dict[str, Any]):
    job_id = uuid.uuid4()
    video = bucket.video_key(USER, board.id, job_id)
    thumbnail = bucket.thumbnail_key(USER, board.id, job_id)
    s3 = aws.client("s3")
    s3.put_object(Bucket=aws.bucket, Key=video, Body=b"\x00\x00\x00\x18ftypmp42rest-of-video")
    s3.put_object(Bucket=aws.bucket, Key=thumbnail, Body=b"\xff\xd8\xff-jpeg")
    columns = _clip_columns(scene) | {"video_url": video, "thumbnail_url": thumbnail, "progress": 100}
    return make_job(USER, board.id, id=job_id, status="completed", cost=Decimal("0.4"), **columns)


def test_jobs_and_scene_clips_carry_presigned_urls(aws, make_job, board):
    job = _completed_with_video(aws, make_job, board, SCENES[0])

    result = _detail(board)

    assert result.status == 200
    detail = result.body["storyboard"]
    [entry] = detail["videoJobs"]
    assert entry["id"] == str(job.id)
    assert entry["status"] == "completed"
    with urllib.request.urlopen(entry["videoUrl"]) as response:  # noqa: S310 (loopback moto)
        assert response.read().startswith(b"\x00\x00\x00\x18ftyp")
    with urllib.request.urlopen(entry["thumbnailUrl"]) as response:  # noqa: S310 (loopback moto)
        assert response.read().startswith(b"\xff\xd8\xff")
    first, second = detail["sceneClips"]
    assert first == {
        "sceneId": "s1",
        "jobId": str(job.id),
        "status": "completed",
        "progress": 100,
        "progressEstimated": False,
        "videoUrl": entry["videoUrl"],
        "thumbnailUrl": entry["thumbnailUrl"],
        "cost": pytest.approx(0.4),
        "stale": False,
    }
    assert second == {
        "sceneId": "s2",
        "jobId": None,
        "status": None,
        "progress": None,
        "progressEstimated": False,
        "videoUrl": None,
        "thumbnailUrl": None,
        "cost": None,
        "stale": False,
    }


def test_the_scene_clip_is_the_newest_job_of_the_scene(make_job, board):
    make_job(USER, board.id, status="failed", **_clip_columns(SCENES[0]))
    newer = make_job(USER, board.id, status="processing", **_clip_columns(SCENES[0]))

    clip = _detail(board).body["storyboard"]["sceneClips"][0]

    assert (clip["jobId"], clip["status"]) == (str(newer.id), "processing")


def test_changing_the_character_makes_every_clip_stale(make_job, board):
    for scene in SCENES:
        make_job(USER, board.id, status="completed", **_clip_columns(scene))
    patch = with_changes(
        load_event("storyboards.patch.200"),
        path_parameters={"id": str(board.id)},
        body={"character": CHARACTER | {"description": "a retired pilot"}},
    )
    patch["headers"].pop("if-match")
    assert invoke(storyboards_handler, patch).status == 200

    clips = _detail(board).body["storyboard"]["sceneClips"]

    assert [c["stale"] for c in clips] == [True, True]


def test_a_clip_made_from_an_explicit_prompt_is_stale(make_job, board):
    columns = _clip_columns(SCENES[0]) | {"prompt": "A paper plane over Lisbon"}
    columns["fingerprint"] = fingerprint("A paper plane over Lisbon", "sora-2", "1280x720", 4)
    make_job(USER, board.id, status="completed", **columns)

    assert _detail(board).body["storyboard"]["sceneClips"][0]["stale"] is True


@pytest.mark.parametrize(("elapsed", "shown"), [(0, 0), (30, 45), (60, 90), (600, 98)])
def test_veo_progress_is_estimated_from_the_typical_time_and_never_100(make_job, board, elapsed, shown):
    # veo-3.1-fast-generate-001 typically takes 60 s (catalog); Veo reports no progress of its own
    submitted = datetime.now(UTC) - timedelta(seconds=elapsed)
    columns = _clip_columns(SCENES[0], model="veo-3.1-fast-generate-001", seconds=8)
    job = make_job(
        USER,
        board.id,
        provider="veo",
        status="processing",
        metadata_={"submitted_at": submitted.isoformat()},
        **columns,
    )

    entry = _detail(board).body["storyboard"]["videoJobs"][0]
    status = invoke(
        status_handler,
        with_changes(load_event("status_and_models.get.200"), path_parameters={"jobId": str(job.id)}),
    ).body

    for seen in (entry, status):
        assert seen["progressEstimated"] is True
        assert shown <= seen["progress"] <= shown + 2  # the request itself takes a moment
        assert seen["progress"] < 100


def test_sora_progress_is_the_providers_own(make_job, board):
    make_job(USER, board.id, status="processing", progress=37, **_clip_columns(SCENES[0]))

    entry = _detail(board).body["storyboard"]["videoJobs"][0]

    assert (entry["progress"], entry["progressEstimated"]) == (37, False)


def test_another_users_storyboard_is_404(board):
    assert _detail(board, sub="intruder").status == 404
