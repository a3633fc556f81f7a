"""Status, keys and health through their handlers."""

from __future__ import annotations

import json
import logging
import urllib.request
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from tests.support import invoke, load_event, load_function, with_changes
from videogen import keys
from videogen.data.db import session_scope
from videogen.data.models import UserApiKey
from videogen.data.repositories import api_keys, video_jobs
from videogen.errors import Conflict
from videogen.storage import bucket

status_handler = load_function("status_and_models").lambda_handler
keys_handler = load_function("api_keys").lambda_handler
health_handler = load_function("health").lambda_handler
PLAINTEXT = "sk-live-secret-0123456789abcdefWXYZ"

SAMPLE_BASE_URL = "https://videos.gateway.invalid/v1"
"""The endpoint of the api_keys.put.200 sample (never resolves: RFC 6761)."""


def _status_of(job_id, sub: str = "user-123"):
    return invoke(
        status_handler,
        with_changes(
            load_event("status_and_models.get.200"), sub=sub, path_parameters={"jobId": str(job_id)}
        ),
    )


def test_status_of_a_pending_job(make_job):
    job = make_job("user-123")

    result = _status_of(job.id)

    assert result.status == 200
    assert result.body == {
        "jobId": str(job.id),
        "status": "pending",
        "progress": 0,
        "progressEstimated": False,
        "videoUrl": None,
        "thumbnailUrl": None,
        "cost": None,
        "error": None,
        "createdAt": result.body["createdAt"],
        "completedAt": None,
    }


def test_status_shows_submitting_as_processing(make_job):
    job = make_job("user-123")
    with session_scope() as s:
        video_jobs.claim_for_submit(s, job.id)

    assert _status_of(job.id).body["status"] == "processing"


def test_status_of_a_completed_job_presigns_fetchable_urls(aws, make_job):
    job = make_job("user-123")
    key = bucket.video_key("user-123", job.storyboard_id, job.id)
    s3 = aws.client("s3")
    s3.put_object(Bucket=aws.bucket, Key=key, Body=b"\x00\x00\x00\x18ftypmp42rest-of-video")
    with session_scope() as s:
        video_jobs.transition(
            s,
            job.id,
            from_statuses=("pending",),
            to_status="completed",
            changes={
                "video_url": key,
                "progress": 100,
                "cost": Decimal("0.4"),
                "completed_at": datetime.now(UTC),
            },
        )

    result = _status_of(job.id)

    assert result.body["status"] == "completed"
    assert result.body["cost"] == pytest.approx(0.4)
    assert result.body["completedAt"] is not None
    with urllib.request.urlopen(result.body["videoUrl"]) as response:  # noqa: S310 (loopback moto)
        assert response.read().startswith(b"\x00\x00\x00\x18ftyp")


def test_status_is_one_statement(make_job, count_statements):
    job = make_job("user-123")

    with count_statements() as c:
        assert _status_of(job.id).status == 200

    assert c.count == 1


def test_status_of_another_users_job_is_404(make_job):
    job = make_job("owner")

    result = _status_of(job.id, sub="intruder")

    assert result.status == 404
    assert result.body["error"] == "Video job not found"


def test_put_key_stores_it_sealed_and_never_echoes_it(aws, caplog):
    caplog.set_level(logging.DEBUG)
    event = with_changes(
        load_event("api_keys.put.200"), body={"apiKey": PLAINTEXT, "baseUrl": SAMPLE_BASE_URL}
    )

    result = invoke(keys_handler, event)

    assert result.status == 200
    assert result.body["provider"] == "openai"
    assert result.body["last4"] == "WXYZ"
    assert result.body["isActive"] is True
    assert PLAINTEXT not in json.dumps(result.raw)
    assert PLAINTEXT not in caplog.text
    with session_scope() as s:
        row = api_keys.get(s, "user-123", "openai")
    assert row is not None
    assert row.is_active
    assert row.encrypted_key is not None
    assert row.key_hash is not None
    assert PLAINTEXT not in row.encrypted_key
    assert PLAINTEXT not in row.key_hash


def test_invalid_key_is_400_without_echoing_it(aws):
    secretish = "sk live with spaces 123456"

    result = invoke(
        keys_handler,
        with_changes(load_event("api_keys.put.200"), body={"apiKey": secretish, "baseUrl": SAMPLE_BASE_URL}),
    )

    assert result.status == 400
    assert secretish not in json.dumps(result.raw)


def test_list_and_delete_keys(aws):
    invoke(keys_handler, load_event("api_keys.put.200"))

    listed = invoke(keys_handler, load_event("api_keys.list.200"))
    deleted = invoke(keys_handler, load_event("api_keys.delete.200"))
    after = invoke(keys_handler, load_event("api_keys.list.200"))

    assert [k["provider"] for k in listed.body["keys"]] == ["openai"]
    assert set(listed.body["keys"][0]) == {
        "provider",
        "isActive",
        "last4",
        "createdAt",
        "lastUsedAt",
        "api",
        "baseUrl",
        "verified",
        "verifiedAt",
        "webhookSecretAt",
        "webhookUrl",
    }
    # the sample's endpoint never resolves (.invalid): saved, marked unverified
    assert (listed.body["keys"][0]["baseUrl"], listed.body["keys"][0]["verified"]) == (SAMPLE_BASE_URL, False)
    assert deleted.status == 200
    assert after.body["keys"][0]["isActive"] is False


def test_a_removed_key_leaves_nothing_decryptable_in_its_row_and_can_be_stored_again(aws):
    # Given a stored key, removed
    invoke(
        keys_handler,
        with_changes(load_event("api_keys.put.200"), body={"apiKey": PLAINTEXT, "baseUrl": SAMPLE_BASE_URL}),
    )
    with session_scope() as s:
        row = api_keys.get(s, "user-123", "openai")
        assert row is not None
        sealed = row.encrypted_key
    assert sealed is not None

    assert invoke(keys_handler, load_event("api_keys.delete.200")).status == 200

    # Then its row holds neither the sealed key nor its HMAC, and the worker cannot use it
    with session_scope() as s:
        row = api_keys.get(s, "user-123", "openai")
        assert row is not None
        assert (row.encrypted_key, row.key_hash, row.is_active, row.last4) == (None, None, False, "WXYZ")
        with pytest.raises(Conflict):
            keys.decrypt_for_user(s, "user-123", "openai")
    # and the list still shows it, inactive, by its last four characters
    listed = invoke(keys_handler, load_event("api_keys.list.200")).body["keys"]
    assert [(k["provider"], k["isActive"], k["last4"]) for k in listed] == [("openai", False, "WXYZ")]
    # and the database refuses an inactive row with sealed material, or an active one without
    with pytest.raises(IntegrityError), session_scope() as s:
        s.execute(update(UserApiKey).where(UserApiKey.user_id == "user-123").values(encrypted_key=sealed))

    # When a new key is stored
    stored = invoke(keys_handler, load_event("api_keys.put.200"))

    # Then it is active and usable again
    assert (stored.status, stored.body["isActive"]) == (200, True)
    with session_scope() as s:
        assert keys.decrypt_for_user(s, "user-123", "openai").secret == "sk-sample-0000000000000000wxyz"


def test_another_user_cannot_see_or_delete_my_key(aws):
    invoke(keys_handler, load_event("api_keys.put.200"))

    listed = invoke(keys_handler, with_changes(load_event("api_keys.list.200"), sub="intruder"))
    deleted = invoke(keys_handler, with_changes(load_event("api_keys.delete.200"), sub="intruder"))

    assert listed.body["keys"] == []
    assert deleted.status == 404
    assert invoke(keys_handler, load_event("api_keys.list.200")).body["keys"][0]["isActive"] is True


def test_unknown_provider_is_400(aws):
    result = invoke(keys_handler, load_event("api_keys.delete-unknown-provider.400"))

    assert result.status == 400


def test_health_is_public_and_answers_without_the_database(configure):
    # Given a database that cannot be reached
    configure(database_url="postgresql+psycopg://postgres@127.0.0.1:1/none", db_connect_timeout_seconds=1)

    # When an anonymous caller asks for liveness
    result = invoke(health_handler, load_event("health.get.200"))

    # Then the function answers on its own: no connection was tried
    assert result.status == 200
    assert result.body == {"status": "healthy"}


def test_readiness_reports_the_database():
    result = invoke(health_handler, load_event("health.ready.200"))

    assert result.status == 200
    assert result.body == {"status": "healthy", "database": "connected"}


def test_readiness_is_503_when_the_database_is_down(configure):
    configure(database_url="postgresql+psycopg://postgres@127.0.0.1:1/none", db_connect_timeout_seconds=1)

    result = invoke(health_handler, load_event("health.ready.200"))

    assert result.status == 503
    assert result.body == {"status": "unhealthy", "database": "disconnected"}


def test_readiness_needs_an_identity():
    result = invoke(health_handler, load_event("health.ready-unauthenticated.401"))

    assert result.status == 401
    assert result.body == {"error": "Authentication required"}
