"""Queue messages on SQS and videos in S3, against the session's moto server on loopback.

A real server (not in-process mocking) so that presigned URLs are fetched over HTTP exactly
as a browser would fetch them.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from pydantic import ValidationError

from tools.queues import InMemoryQueueSender
from videogen.messaging import messages as queue_messages
from videogen.messaging.messages import QueueUnavailable, SqsQueueSender, StepMessage
from videogen.runtime.config import get_settings
from videogen.storage import bucket, uploads
from videogen.storage.bucket import StorageUnavailable
from videogen.storage.uploads import EmptyUpload, InvalidMedia

REGION = "us-east-1"
# The smallest plausible MP4 start: a 24-byte ftyp box, then payload.
MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"


@dataclass
class Aws:
    endpoint: str
    bucket: str
    queue_url: str
    s3: Any
    sqs: Any

    def receive(self, queue_url: str | None = None) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=queue_url or self.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def receive_all(self) -> list[dict[str, Any]]:
        """Every visible message, ten a receive until none is left (received ones turn invisible)."""
        found: list[dict[str, Any]] = []
        while batch := self.receive():
            found += batch
        return found

    def delay_of_stored_message(self) -> int:
        """The DelaySeconds moto recorded for the one message on the queue."""
        from moto.sqs.models import sqs_backends  # noqa: PLC0415 (moto internals, tests only)

        name = self.queue_url.rsplit("/", 1)[1]
        messages = sqs_backends["123456789012"][REGION].queues[name]._messages
        assert len(messages) == 1
        message = messages[0]
        if not message.delayed_until:
            return 0
        return round((message.delayed_until - int(message.sent_timestamp or 0)) / 1000)

    def object_keys(self) -> list[str]:
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])]


def _forget_settings() -> None:
    get_settings.cache_clear()
    queue_messages.reset_clients()
    bucket.reset_clients()


@pytest.fixture
def cloud(aws: Any) -> Aws:
    """The session's moto server (conftest ``aws``: fresh queue, bucket, settings) seen from here."""
    return Aws(aws.endpoint, aws.bucket, aws.queue_url, aws.client("s3"), aws.client("sqs"))


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


# --- queue ------------------------------------------------------------------------------------


def poll() -> StepMessage:
    return StepMessage(job_id=uuid.uuid4(), step="poll")


def test_a_step_message_holds_the_job_id_and_step_and_nothing_else(cloud: Aws) -> None:
    job_id = uuid.uuid4()

    message_id = SqsQueueSender().send(StepMessage(job_id=job_id, step="submit"))

    [received] = cloud.receive()
    assert received["MessageId"] == message_id
    assert json.loads(received["Body"]) == {"jobId": str(job_id), "step": "submit"}
    assert "MessageAttributes" not in received
    assert StepMessage.from_body(received["Body"]) == StepMessage(job_id=job_id, step="submit")


def test_a_delayed_poll_stays_invisible_until_its_delay(cloud: Aws) -> None:
    SqsQueueSender().send(poll(), delay_seconds=30)

    assert cloud.receive() == []
    assert cloud.delay_of_stored_message() == 30


@pytest.mark.parametrize(("asked", "stored"), [(5000, 900), (900, 900), (-5, 0)])
def test_delays_are_clamped_to_what_sqs_accepts(cloud: Aws, asked: int, stored: int) -> None:
    SqsQueueSender().send(poll(), delay_seconds=asked)

    assert cloud.delay_of_stored_message() == stored


def test_an_explicit_queue_url_wins_over_the_setting(cloud: Aws) -> None:
    other = cloud.sqs.create_queue(QueueName="other-queue")["QueueUrl"]

    SqsQueueSender(other).send(poll())

    assert cloud.receive() == []
    assert len(cloud.receive(other)) == 1


def test_a_missing_queue_is_reported_as_unavailable(cloud: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(QueueUnavailable):
        SqsQueueSender(cloud.queue_url + "-gone").send(poll())

    monkeypatch.delenv("GENERATION_QUEUE_URL")
    _forget_settings()
    with pytest.raises(QueueUnavailable, match="not configured"):
        SqsQueueSender().send(poll())


def test_an_unreachable_queue_is_reported_as_unavailable(cloud: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:1")  # nothing listens there
    _forget_settings()

    with pytest.raises(QueueUnavailable):
        SqsQueueSender().send(poll())


def test_a_batch_goes_out_ten_to_a_call_and_every_message_arrives(cloud: Aws) -> None:
    messages = [StepMessage(job_id=uuid.uuid4(), step="submit") for _ in range(23)]

    failed = SqsQueueSender().send_batch(messages)

    received = [json.loads(m["Body"])["jobId"] for m in cloud.receive_all()]
    assert failed == []
    assert sorted(received) == sorted(str(m.job_id) for m in messages)


def test_a_batch_the_queue_refuses_comes_back_whole(cloud: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    messages = [StepMessage(job_id=uuid.uuid4(), step="cancel") for _ in range(12)]

    assert SqsQueueSender(cloud.queue_url + "-gone").send_batch(messages) == messages
    monkeypatch.delenv("GENERATION_QUEUE_URL")
    _forget_settings()
    assert SqsQueueSender().send_batch(messages) == messages


@pytest.mark.parametrize(
    "body",
    [
        '{"job_id": "%s", "step": "submit"}',
        '{"jobId": "%s", "step": "submit", "apiKey": "sk-secret"}',
        '{"jobId": "%s", "step": "download"}',
        '{"jobId": "%s"}',
        '{"jobId": "not-a-uuid", "step": "poll"}',
        "not json %s",
    ],
)
def test_anything_but_the_exact_message_shape_is_refused(body: str) -> None:
    with pytest.raises(ValidationError):
        StepMessage.from_body(body.replace("%s", str(uuid.uuid4())))


def test_the_in_memory_sender_records_like_the_queue_and_can_fail() -> None:
    sender = InMemoryQueueSender()
    job_id = uuid.uuid4()

    sender.send(StepMessage(job_id=job_id, step="poll"), delay_seconds=1200)

    [sent] = sender.sent
    assert (sent.message.job_id, sent.delay_seconds) == (job_id, 900)
    assert sender.bodies() == [json.dumps({"jobId": str(job_id), "step": "poll"}, separators=(",", ":"))]
    with pytest.raises(QueueUnavailable):
        InMemoryQueueSender(fail=True).send(sent.message)


def test_the_in_memory_sender_can_fail_in_the_middle_of_a_batch() -> None:
    sender = InMemoryQueueSender(accept=2)
    messages = [StepMessage(job_id=uuid.uuid4(), step="submit") for _ in range(5)]

    failed = sender.send_batch(messages)

    assert [s.message for s in sender.sent] == messages[:2]
    assert failed == messages[2:]


# --- storage keys -----------------------------------------------------------------------------


@pytest.mark.parametrize("user_id", ["auth0|abc", "../../etc", "a/b", "名前", "user with spaces", "x" * 128])
def test_keys_are_safe_whatever_the_user_id(user_id: str) -> None:
    board_id, job_id = uuid.uuid4(), uuid.uuid4()

    video = bucket.video_key(user_id, board_id, job_id)
    thumbnail = bucket.thumbnail_key(user_id, board_id, job_id, "image/webp")

    assert re.fullmatch(rf"videos/[0-9a-f]{{64}}/{board_id}/jobs/{job_id}/video\.mp4", video)
    assert thumbnail == video.replace("video.mp4", "thumbnail.webp")
    assert video.startswith(bucket.storyboard_prefix(user_id, board_id))
    assert bucket.storyboard_prefix(user_id, board_id).startswith(bucket.user_prefix(user_id))
    assert bucket.is_storage_key(video)


def test_each_user_storyboard_and_job_has_its_own_key() -> None:
    board_id, job_id = uuid.uuid4(), uuid.uuid4()

    assert bucket.video_key("a", board_id, job_id) != bucket.video_key("b", board_id, job_id)
    assert bucket.video_key("a", board_id, job_id) != bucket.video_key("a", board_id, uuid.uuid4())
    assert bucket.video_key("a", board_id, job_id) != bucket.video_key("a", uuid.uuid4(), job_id)
    assert bucket.video_key("a", board_id, job_id) == bucket.video_key("a", str(board_id), str(job_id))


@pytest.mark.parametrize(
    ("user_id", "board_id", "job_id"),
    [
        ("", str(uuid.uuid4()), str(uuid.uuid4())),
        ("a", str(uuid.uuid4()), "../x"),
        ("a", "1/2", str(uuid.uuid4())),
        ("a", "..", str(uuid.uuid4())),
    ],
    ids=["no user", "job id a path", "board id a path", "board id a parent"],
)
def test_a_key_needs_a_user_and_real_ids(user_id: str, board_id: str, job_id: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (any ValueError: the message is the caller's)
        bucket.video_key(user_id, board_id, job_id)


def test_sniffing_tells_mp4_and_images_apart() -> None:
    assert uploads.is_mp4(MP4_HEAD)
    assert not uploads.is_mp4(b"<html><body>expired</body></html>")
    assert not uploads.is_mp4(b"")
    assert uploads.image_content_type(b"\xff\xd8\xff\xe0\x00\x10JFIF") == "image/jpeg"
    assert uploads.image_content_type(b"\x89PNG\r\n\x1a\n\x00\x00") == "image/png"
    assert uploads.image_content_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert uploads.image_content_type(MP4_HEAD) is None
    with pytest.raises(ValueError, match="unsupported"):
        bucket.thumbnail_key("a", uuid.uuid4(), uuid.uuid4(), "image/gif")


# --- uploads and presigned URLs ---------------------------------------------------------------


def test_a_streamed_video_lands_in_s3_and_its_presigned_url_returns_it(cloud: Aws) -> None:
    data = MP4_HEAD + os.urandom(300_000)
    key = bucket.video_key("user-a", uuid.uuid4(), uuid.uuid4())

    written = uploads.upload_stream(key, _chunks(data, 7_000), "video/mp4", validate_head=uploads.is_mp4)

    assert written == len(data)
    url = bucket.presign_get(key)
    assert url.startswith(cloud.endpoint)
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
    assert "X-Amz-Expires=900" in url
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["Content-Type"] == "video/mp4"


def test_a_large_video_goes_up_in_parts_without_changing_a_byte(cloud: Aws) -> None:
    data = MP4_HEAD + os.urandom(17 * 1024 * 1024)
    key = bucket.video_key("user-a", uuid.uuid4(), uuid.uuid4())

    written = uploads.upload_stream(key, _chunks(data, 64 * 1024), "video/mp4")

    assert written == len(data)
    head = cloud.s3.head_object(Bucket=cloud.bucket, Key=key)
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-3")  # three 8 MiB parts
    assert requests.get(bucket.presign_get(key, expires=60), timeout=30).content == data


def test_a_head_split_over_tiny_chunks_is_still_recognised(cloud: Aws) -> None:
    data = MP4_HEAD + b"payload"
    key = bucket.video_key("user-a", uuid.uuid4(), uuid.uuid4())

    written = uploads.upload_stream(key, _chunks(data, 1), "video/mp4", validate_head=uploads.is_mp4)

    assert written == len(data)
    assert cloud.s3.get_object(Bucket=cloud.bucket, Key=key)["Body"].read() == data


def test_an_empty_download_is_refused_and_nothing_is_stored(cloud: Aws) -> None:
    key = bucket.video_key("user-a", uuid.uuid4(), uuid.uuid4())

    with pytest.raises(EmptyUpload):
        uploads.upload_stream(key, iter([b"", b""]), "video/mp4")

    assert cloud.object_keys() == []


def test_a_download_that_is_not_an_mp4_is_refused_and_nothing_is_stored(cloud: Aws) -> None:
    key = bucket.video_key("user-a", uuid.uuid4(), uuid.uuid4())
    page = b"<?xml version='1.0'?><Error><Code>AccessDenied</Code></Error>"

    with pytest.raises(InvalidMedia):
        uploads.upload_stream(key, [page], "video/mp4", validate_head=uploads.is_mp4)

    assert cloud.object_keys() == []


def test_a_download_failing_midway_propagates_and_leaves_nothing_behind(cloud: Aws) -> None:
    class ProviderDropped(Exception):
        pass

    def dropping() -> Iterator[bytes]:
        yield MP4_HEAD + os.urandom(9 * 1024 * 1024)
        raise ProviderDropped("connection reset by provider")

    with pytest.raises(ProviderDropped):
        uploads.upload_stream(bucket.video_key("user-a", uuid.uuid4(), uuid.uuid4()), dropping(), "video/mp4")

    assert cloud.object_keys() == []
    assert cloud.s3.list_multipart_uploads(Bucket=cloud.bucket).get("Uploads", []) == []


def test_s3_trouble_is_reported_as_unavailable(cloud: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDEOS_BUCKET", "no-such-bucket")
    _forget_settings()
    with pytest.raises(StorageUnavailable):
        uploads.upload_stream("videos/x/y/video.mp4", [MP4_HEAD], "video/mp4")

    monkeypatch.delenv("VIDEOS_BUCKET")
    _forget_settings()
    with pytest.raises(StorageUnavailable, match="not configured"):
        bucket.presign_get("videos/x/y/video.mp4")


def test_stored_urls_become_fetchable_links(cloud: Aws) -> None:
    key = bucket.thumbnail_key("user-a", uuid.uuid4(), uuid.uuid4(), "image/png")
    uploads.upload_stream(key, [b"\x89PNG\r\n\x1a\n" + b"\x00" * 32], "image/png")

    link = bucket.url_for(key)

    assert link is not None
    assert requests.get(link, timeout=10).headers["Content-Type"] == "image/png"
    assert bucket.url_for(None) is None
    assert bucket.url_for("https://cdn.example.com/v.mp4") == "https://cdn.example.com/v.mp4"


def test_a_thumbnail_is_stored_under_the_extension_its_bytes_show(cloud: Aws) -> None:
    board_id, job_id = uuid.uuid4(), uuid.uuid4()

    key = uploads.upload_thumbnail("user-a", board_id, job_id, [b"\x89PNG\r\n", b"\x1a\n" + b"\x00" * 32])

    assert key == bucket.thumbnail_key("user-a", board_id, job_id, "image/png")
    assert requests.get(bucket.presign_get(key), timeout=10).headers["Content-Type"] == "image/png"


def test_a_thumbnail_that_is_no_image_is_refused_and_nothing_stored(cloud: Aws) -> None:
    with pytest.raises(InvalidMedia):
        uploads.upload_thumbnail("user-a", uuid.uuid4(), uuid.uuid4(), [b"<html>not an image</html>"])

    listed = cloud.s3.list_objects_v2(Bucket=cloud.bucket, Prefix=bucket.user_prefix("user-a"))
    assert listed.get("KeyCount", 0) == 0
