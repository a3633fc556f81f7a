"""Deleted means deleted: a storyboard's clips, thumbnails and films leave S3 (moto) after its
DELETE, through the storyboards handler, the storage cleanup queue and its consumer, and the
sweeper when the queue lost the message; nobody cleans another user's storyboard."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import requests
from sqlalchemy import select, update

from devstack.fakes import ManualClock
from tests.conftest import AwsResources
from tests.integration.generation_support import USER as WORKER_USER
from tests.integration.generation_support import (
    CrashAfterCreate,
    Pipeline,
    step_body,
    wrapped_providers,
)
from tests.support import FakeLambdaContext, invoke, load_event, load_function, sqs_event, with_changes
from tools.queues import InMemoryQueueSender
from videogen.data.db import session_scope
from videogen.data.models import CompiledVideo, StorageCleanup
from videogen.data.repositories import compiled_videos, storage_cleanups, video_jobs
from videogen.generation.worker import GenerationWorker
from videogen.messaging.messages import CleanupMessage
from videogen.providers.base import Variant
from videogen.storage import bucket, cleanup

storyboards_handler = load_function("storyboards").lambda_handler
cleanup_handler = load_function("storage_cleanup").lambda_handler
USER = "user-123"
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64


@dataclass
class Board:
    """A storyboard with media in S3: a clip and thumbnail in today's layout, a clip in the
    earlier ``videos/<user>/<job>/`` layout and a film (``named``: its rows name them), and a
    derived file under its prefix that no row names."""

    id: uuid.UUID
    named: list[str]
    derived: str

    @property
    def keys(self) -> list[str]:
        return [*self.named, self.derived]


@pytest.fixture
def s3(aws: AwsResources) -> Any:
    return aws.client("s3")


def _put(s3: Any, aws: AwsResources, key: str) -> str:
    s3.put_object(Bucket=aws.bucket, Key=key, Body=MP4)
    return key


def _keys(s3: Any, aws: AwsResources, prefix: str = bucket.VIDEOS_PREFIX) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=aws.bucket, Prefix=prefix)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


@pytest.fixture
def board_with_media(aws: AwsResources, s3: Any, make_storyboard: Any, make_job: Any) -> Any:
    def make(user_id: str = USER) -> Board:
        board = make_storyboard(user_id)
        job, legacy = make_job(user_id, board.id), make_job(user_id, board.id)
        video = _put(s3, aws, bucket.video_key(user_id, board.id, job.id))
        thumbnail = _put(s3, aws, bucket.thumbnail_key(user_id, board.id, job.id, "image/png"))
        derived = _put(s3, aws, bucket.job_prefix(user_id, board.id, job.id) + "normalized/1280x720.mp4")
        legacy_video = _put(s3, aws, f"{bucket.user_prefix(user_id)}{legacy.id}/video.mp4")
        film = _put(s3, aws, bucket.storyboard_prefix(user_id, board.id) + f"films/{uuid.uuid4()}/film.mp4")
        with session_scope() as s:
            video_jobs.transition(
                s,
                job.id,
                from_statuses=("pending",),
                to_status="completed",
                changes={"video_url": video, "thumbnail_url": thumbnail},
            )
            video_jobs.transition(
                s,
                legacy.id,
                from_statuses=("pending",),
                to_status="completed",
                changes={"video_url": legacy_video},
            )
            made = compiled_videos.create(s, user_id, storyboard_id=board.id, scenes_order=["s1"])
            assert made is not None
            s.execute(update(CompiledVideo).where(CompiledVideo.id == made.id).values(final_video_url=film))
        return Board(board.id, [video, thumbnail, legacy_video, film], derived)

    return make


def _delete(board_id: uuid.UUID, user: str = USER) -> Any:
    event = with_changes(
        load_event("storyboards.delete.200"), path_parameters={"id": str(board_id)}, sub=user
    )
    return invoke(storyboards_handler, event)


def _run_cleanups(bodies: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = cleanup_handler(
        sqs_event(bodies, template="storage_cleanup.sqs"), FakeLambdaContext()
    )
    return result


def _cleanup_rows() -> list[StorageCleanup]:
    with session_scope() as s:
        return list(s.execute(select(StorageCleanup)).scalars())


def test_deleting_a_storyboard_deletes_its_clips_thumbnails_and_films(aws, s3, board_with_media):
    # Given a storyboard with media in both key layouts, another of the same user, and another user's
    board = board_with_media()
    kept_own = board_with_media()
    kept_other = board_with_media("user-999")
    earlier_url = bucket.presign_get(board.keys[0])
    assert requests.get(earlier_url, timeout=10).status_code == 200

    # When it is deleted and the queued cleanup runs
    assert _delete(board.id).status == 200
    queued = aws.queued_bodies(aws.cleanup_queue_url)
    assert len(queued) == 1
    assert _run_cleanups(queued) == {"batchItemFailures": []}

    # Then every object it had is gone, an earlier presigned URL stops working, the rest stays
    assert _keys(s3, aws, bucket.storyboard_prefix(USER, board.id)) == set()
    assert not set(board.keys) & _keys(s3, aws)
    assert requests.get(earlier_url, timeout=10).status_code in (403, 404)
    assert set(kept_own.keys) | set(kept_other.keys) <= _keys(s3, aws)
    assert _cleanup_rows() == []


def test_the_cleanup_message_carries_ids_only(aws, board_with_media):
    board = board_with_media()

    _delete(board.id)

    (body,) = aws.queued_bodies(aws.cleanup_queue_url)
    (row,) = _cleanup_rows()
    assert body == CleanupMessage(cleanup_id=row.id).to_body()
    assert (row.user_id, row.storyboard_id) == (USER, board.id)
    assert row.prefix == bucket.storyboard_prefix(USER, board.id)
    assert sorted(row.keys) == sorted(board.named)


def test_a_failed_send_still_answers_200_and_the_sweeper_cleans_up_later(
    aws, s3, configure, board_with_media
):
    # Given the cleanup queue is out of reach when the storyboard is deleted
    board = board_with_media()
    configure(storage_cleanup_queue_url=aws.cleanup_queue_url + "-gone")
    assert _delete(board.id).status == 200
    assert set(board.keys) <= _keys(s3, aws)
    assert len(_cleanup_rows()) == 1

    # When the queue is back and the sweeper runs before the cleanup is stale: nothing yet
    configure(storage_cleanup_queue_url=aws.cleanup_queue_url)
    clock = ManualClock()
    sweeper = load_function("sweeper").build_handler(GenerationWorker(clock=clock))
    assert sweeper({}, FakeLambdaContext())["cleanups_resent"] == 0
    # and once it is stale, the sweeper sends it again and the consumer deletes everything
    clock.advance(timedelta(minutes=6).total_seconds())
    assert sweeper({}, FakeLambdaContext())["cleanups_resent"] == 1
    assert _run_cleanups(aws.queued_bodies(aws.cleanup_queue_url)) == {"batchItemFailures": []}

    # Then
    assert not set(board.keys) & _keys(s3, aws)
    assert _cleanup_rows() == []


def test_a_redelivered_cleanup_message_is_harmless(aws, s3, board_with_media):
    board = board_with_media()
    other = board_with_media()
    _delete(board.id)
    (body,) = aws.queued_bodies(aws.cleanup_queue_url)
    assert _run_cleanups([body]) == {"batchItemFailures": []}

    # When the same message arrives again, twice in one batch
    result = _run_cleanups([body, body])

    # Then it is acknowledged and nothing else is touched
    assert result == {"batchItemFailures": []}
    assert set(other.keys) <= _keys(s3, aws)


def test_nobody_cleans_another_users_storyboard(aws, s3, board_with_media):
    # Given alice's storyboard with media
    board = board_with_media("alice")

    # When bob deletes it, and a made-up cleanup id arrives on the queue
    assert _delete(board.id, user="bob").status == 404
    assert _run_cleanups([CleanupMessage(cleanup_id=uuid.uuid4()).to_body()]) == {"batchItemFailures": []}

    # Then nothing was recorded, queued or deleted
    assert _cleanup_rows() == []
    assert aws.queued_bodies(aws.cleanup_queue_url) == []
    assert set(board.keys) <= _keys(s3, aws)


def test_a_cleanup_never_deletes_outside_its_owners_prefix(aws, s3, make_storyboard):
    # Given a cleanup row naming another user's prefix and key (only a bug could write it)
    victim = make_storyboard("victim")
    prefix = bucket.storyboard_prefix("victim", victim.id)
    key = _put(s3, aws, prefix + "jobs/x/video.mp4")
    with session_scope() as s:
        cleanup_id = storage_cleanups.record(s, "attacker", victim.id, prefix=prefix, keys=[key])

    # When it is run
    result = _run_cleanups([CleanupMessage(cleanup_id=cleanup_id).to_body()])

    # Then it fails, nothing is deleted, and the row stays for someone to look at
    assert len(result["batchItemFailures"]) == 1
    assert key in _keys(s3, aws)
    assert len(_cleanup_rows()) == 1


def test_s3_trouble_keeps_the_cleanup_for_a_later_delivery(aws, s3, configure, board_with_media):
    board = board_with_media()
    _delete(board.id)
    bodies = aws.queued_bodies(aws.cleanup_queue_url)
    configure(videos_bucket="no-such-bucket")

    assert len(_run_cleanups(bodies)["batchItemFailures"]) == 1
    assert len(_cleanup_rows()) == 1

    configure(videos_bucket=aws.bucket)
    assert _run_cleanups(bodies) == {"batchItemFailures": []}
    assert not set(board.keys) & _keys(s3, aws)


def test_a_poison_cleanup_message_fails_its_record_alone(aws, board_with_media):
    board = board_with_media()
    _delete(board.id)
    (body,) = aws.queued_bodies(aws.cleanup_queue_url)
    event = sqs_event(['{"cleanupId": "nope"}', body], template="storage_cleanup.sqs")

    result = cleanup_handler(event, FakeLambdaContext())

    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert _cleanup_rows() == []


def _versions(s3: Any, aws: AwsResources, prefix: str) -> list[str]:
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=aws.bucket, Prefix=prefix)
    return [v["Key"] for page in pages for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]]


def test_a_delete_is_final_in_a_versioned_bucket_no_earlier_version_is_left(aws, s3, make_storyboard):
    # Given the bucket versioned as deployed, a clip overwritten once and a legacy key with two versions
    s3.put_bucket_versioning(Bucket=aws.bucket, VersioningConfiguration={"Status": "Enabled"})
    board = make_storyboard(USER)
    prefix = bucket.storyboard_prefix(USER, board.id)
    clip = _put(s3, aws, f"{prefix}jobs/{uuid.uuid4()}/video.mp4")
    _put(s3, aws, clip)
    legacy = _put(s3, aws, f"{bucket.user_prefix(USER)}{uuid.uuid4()}/video.mp4")
    _put(s3, aws, legacy)
    neighbour = _put(s3, aws, f"{legacy}.other")

    # When the prefix and the legacy key are deleted
    assert bucket.delete_prefix(prefix) == 1
    assert bucket.delete_keys([legacy]) == 1

    # Then no version (and no delete marker hiding one) is left; a key sharing the name's start stays
    assert _versions(s3, aws, prefix) == []
    assert _versions(s3, aws, legacy) == [neighbour]


def test_a_prefix_delete_goes_through_every_page_of_the_listing(aws, s3, make_storyboard):
    board = make_storyboard(USER)
    prefix = bucket.storyboard_prefix(USER, board.id)
    for _ in range(7):
        _put(s3, aws, f"{prefix}jobs/{uuid.uuid4()}/video.mp4")
    neighbour = _put(s3, aws, f"{bucket.user_prefix(USER)}{uuid.uuid4()}/video.mp4")

    assert bucket.delete_prefix(prefix, page_size=3) == 7

    assert _keys(s3, aws, bucket.user_prefix(USER)) == {neighbour}


@pytest.mark.parametrize("prefix", ["", "videos/", "videos/abc", "other/abc/"])
def test_a_prefix_delete_refuses_anything_but_a_folder_under_videos(aws, prefix):
    with pytest.raises(ValueError, match="refusing"):
        bucket.delete_prefix(prefix)


def test_orphaned_files_are_recorded_for_cleanup_when_s3_refuses_their_delete(
    aws, configure, make_storyboard
):
    board = make_storyboard(USER)
    configure(videos_bucket="no-such-bucket")

    cleanup.discard_orphans(USER, board.id, [bucket.video_key(USER, board.id, uuid.uuid4()), None])

    (row,) = _cleanup_rows()
    assert row.prefix == bucket.storyboard_prefix(USER, board.id)
    assert len(row.keys) == 1


def test_the_sweeper_resends_each_stale_cleanup_once_per_stale_period(aws, configure, board_with_media):
    for _ in range(3):
        _delete(board_with_media().id)
    sender: InMemoryQueueSender[CleanupMessage] = InMemoryQueueSender()
    clock = ManualClock()
    configure(sweep_batch_size=2)
    clock.advance(600)
    sweeper = load_function("sweeper").build_handler(GenerationWorker(clock=clock), sender)

    first, second = sweeper({}, FakeLambdaContext()), sweeper({}, FakeLambdaContext())

    assert (first["cleanups_resent"], second["cleanups_resent"]) == (2, 1)
    assert len({m.message.cleanup_id for m in sender.sent}) == 3


def _record(
    session: Any, user_id: str, storyboard_id: uuid.UUID, *, prefix: str, keys: list[str]
) -> uuid.UUID:
    from videogen.data.repositories import storage_cleanups  # noqa: PLC0415

    return storage_cleanups.record(session, user_id, storyboard_id, prefix=prefix, keys=keys)


# --- a clip stored while its storyboard is deleted -----------------------------------------------


def test_a_clip_stored_after_its_storyboard_was_deleted_is_deleted_again(aws, s3, new_job):
    # Given a job whose storyboard is deleted (and its cleanup run) while the worker downloads
    # the finished video from the provider
    job = new_job("openai")
    deleted: list[uuid.UUID] = []

    class DeleteDuringDownload(CrashAfterCreate):
        def submit(self, request: Any) -> Any:
            return self._inner.submit(request)

        def download(self, provider_job_id: str, variant: Variant) -> Any:
            if not deleted:
                deleted.append(job.storyboard_id)
                assert _delete(job.storyboard_id, user=WORKER_USER).status == 200
                assert _run_cleanups(aws.queued_bodies(aws.cleanup_queue_url)) == {"batchItemFailures": []}
            return self._inner.download(provider_job_id, variant)

    pipeline = Pipeline(providers=wrapped_providers(DeleteDuringDownload))

    # When the worker runs the job to its end
    assert pipeline.deliver(step_body(job.id, "submit")) == []
    pipeline.drain()

    # Then the video and thumbnail it uploaded after the cleanup are gone too
    assert deleted == [job.storyboard_id]
    assert _keys(s3, aws, bucket.user_prefix(WORKER_USER)) == set()
    assert _cleanup_rows() == []
