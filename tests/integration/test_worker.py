"""The generation worker through its SQS handler: real PostgreSQL, moto (KMS, S3), the fake
providers over HTTP, an in-memory queue and a clock the test moves (no sleeping, no timing)."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from typing import Any

import pytest

from devstack.fakes import FakeSoraServer, Script
from tests.integration.generation_support import (
    KEYS,
    USER,
    CrashAfterCreate,
    Fakes,
    Pipeline,
    TimeoutAfterCreate,
    WorkerCrash,
    WrappedProvider,
    bodies,
    job_fields,
    job_row,
    set_status,
    settings_for,
    step_body,
    store_key,
    wrapped_providers,
)
from tests.support import emf_documents
from videogen.generation.steps import OUTCOME_UNKNOWN
from videogen.runtime.config import get_settings
from videogen.storage import bucket

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")


@pytest.fixture
def pipeline(env: Fakes) -> Pipeline:
    return Pipeline()


def _object_keys(aws: Any) -> list[str]:
    return [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=aws.bucket).get("Contents", [])]


# --- submit ---------------------------------------------------------------------------------


# sora: no typical time, so the backoff's first 10 s (its 1 s poll hint is only a floor);
# veo (veo-3.1-fast, typical 60 s): short of the typical time.
@pytest.mark.parametrize(("provider", "first_poll"), [("openai", 10), ("veo", 36)])
def test_submit_stores_the_provider_job_and_schedules_the_first_poll(
    pipeline, new_job, env, provider, first_poll
):
    # Given a pending job
    job = new_job(provider)

    # When its submit step runs
    assert pipeline.deliver(step_body(job.id, "submit")) == []

    # Then the provider got one create, the job is processing with its id, a poll is queued
    stored = job_row(job.id)
    assert (stored.status, stored.attempts) == ("processing", 1)
    assert stored.provider_job_id == env[provider].creates[0].job_id
    [poll] = pipeline.take()
    assert json.loads(poll.body) == {"jobId": str(job.id), "step": "poll"}
    assert poll.delay_seconds == first_poll


def test_the_providers_poll_hint_is_a_floor_of_the_poll_delays(aws, configure, make_job):
    # A hint past the 60 s the schedule waits at most: polling sooner than asked gains nothing
    with FakeSoraServer(complete_after_polls=2, poll_after_ms=90_000) as fake:
        configure(
            openai_default_base_url=fake.base_url,
            provider_endpoint_allowlist="127.0.0.1",
            allow_http_provider_endpoints=True,
            provider_timeout_seconds=5,
            function_timeout_seconds=180,
        )
        store_key(USER, "openai")
        job = make_job(USER, **job_fields("openai", "p"))
        pipeline = Pipeline()

        pipeline.deliver(step_body(job.id, "submit"))
        [first] = pipeline.take()
        pipeline.clock.advance(first.delay_seconds)
        pipeline.deliver(first.body)
        [second] = pipeline.take()

    assert (first.delay_seconds, second.delay_seconds) == (90, 90)


def test_a_duplicate_submit_finds_nothing_to_claim_and_creates_nothing(pipeline, new_job, env):
    job = new_job()
    pipeline.deliver(step_body(job.id, "submit"))
    pipeline.take()

    assert pipeline.deliver(step_body(job.id, "submit"), step_body(job.id, "submit")) == []

    assert env.sora.create_count() == 1
    assert pipeline.take() == []
    assert job_row(job.id).attempts == 1


def test_a_submit_without_an_active_key_fails_with_what_to_do(pipeline, make_job, env):
    job = make_job("user-without-keys", **job_fields("openai", "p"))

    assert pipeline.deliver(step_body(job.id, "submit")) == []

    failed = job_row(job.id)
    assert failed.status == "failed"
    assert failed.error_message == "No active openai API key; add one with PUT /api/keys/openai"
    assert env.sora.create_count() == 0


@pytest.mark.parametrize("provider", ["openai", "veo"])
def test_a_rejected_key_fails_the_job_with_a_key_message(pipeline, make_job, env, provider):
    store_key("user-revoked", provider, KEYS[provider] + "-invalid")  # the fakes reject "invalid" keys
    job = make_job("user-revoked", **job_fields(provider, "p"))

    pipeline.deliver(step_body(job.id, "submit"))

    failed = job_row(job.id)
    assert failed.status == "failed"
    assert "rejected your API key" in (failed.error_message or "")
    assert f"PUT /api/keys/{provider}" in (failed.error_message or "")
    assert pipeline.take() == []


@pytest.mark.parametrize("provider", ["openai", "veo"])
def test_a_refused_prompt_fails_with_the_providers_reason(pipeline, new_job, env, provider):
    job = new_job(provider, "something forbidden [refused]")

    pipeline.deliver(step_body(job.id, "submit"))

    failed = job_row(job.id)
    assert failed.status == "failed"
    assert "refused the request" in (failed.error_message or "")
    assert env[provider].create_count() == 1


@pytest.mark.parametrize(
    ("provider", "marker"), [("openai", "[429]"), ("openai", "[500]"), ("veo", "[429]"), ("veo", "[500]")]
)
def test_a_busy_provider_gets_one_create_per_attempt_and_the_job_succeeds_later(
    pipeline, new_job, env, provider, marker
):
    # Given a provider answering the first create with 429 (Retry-After: 2) or 500
    prompt = f"a crowded market {marker}"
    job = new_job(provider, prompt)

    # When the submit runs
    pipeline.deliver(step_body(job.id, "submit"))

    # Then exactly one create reached the provider (no SDK retry), the job waits as pending,
    # and a delayed submit honours Retry-After
    assert env[provider].create_count(prompt) == 1
    assert job_row(job.id).status == "pending"
    [retry] = pipeline.queued()
    assert json.loads(retry.body)["step"] == "submit"
    assert retry.delay_seconds >= (2 if marker == "[429]" else 1)

    # When the queue is drained
    pipeline.drain()

    # Then the second attempt was accepted and the job completed
    done = job_row(job.id)
    assert (done.status, done.attempts) == ("completed", 2)
    assert env[provider].create_count(prompt) == 2
    assert len([r for r in env[provider].creates if r.job_id]) == 1


def test_a_provider_busy_past_the_attempt_limit_fails_the_job(pipeline, new_job, env, configure):
    configure(**settings_for(env, submit_max_attempts=3))
    env.sora.script("[busy]", Script(create_status=503, create_status_times=None))
    job = new_job("openai", "always busy [busy]")

    pipeline.deliver(step_body(job.id, "submit"))
    pipeline.drain()

    failed = job_row(job.id)
    assert failed.status == "failed"
    assert (failed.error_message or "").startswith("the provider stayed busy after 3 attempts")
    assert env.sora.create_count() == 3


# --- crash and ambiguity: never a second create ----------------------------------------------


@pytest.mark.parametrize(("provider", "outcome"), [("openai", "completed"), ("veo", "failed")])
def test_a_crash_between_create_and_storing_the_id_never_creates_twice(new_job, env, provider, outcome):
    # Given a worker that dies right after the provider accepted the job
    job = new_job(provider)
    crashing = Pipeline(providers=wrapped_providers(CrashAfterCreate))
    with pytest.raises(WorkerCrash):
        crashing.deliver(step_body(job.id, "submit"))
    assert job_row(job.id).status == "submitting"

    # When SQS redelivers the submit once the mark is stale, to a healthy worker
    healthy = Pipeline(clock=crashing.clock)
    healthy.clock.advance(get_settings().submit_stale_after_seconds + 1)
    healthy.deliver(step_body(job.id, "submit"))
    healthy.drain()

    # Then recovery looked the job up instead of creating it again: sora finds and finishes
    # it; veo cannot list jobs, so the job fails honestly
    assert env[provider].create_count() == 1
    settled = job_row(job.id)
    assert settled.status == outcome
    if outcome == "failed":
        assert settled.error_message == OUTCOME_UNKNOWN
    else:
        assert settled.provider_job_id == env.sora.creates[0].job_id


def test_a_submit_arriving_while_another_worker_is_mid_create_does_nothing(new_job, env):
    job = new_job("openai")
    with pytest.raises(WorkerCrash):
        Pipeline(providers=wrapped_providers(CrashAfterCreate)).deliver(step_body(job.id, "submit"))

    # A duplicate arriving before the mark is stale: that worker may still be in its call
    pipeline = Pipeline()
    pipeline.deliver(step_body(job.id, "submit"))

    assert job_row(job.id).status == "submitting"
    assert env.sora.create_count() == 1
    assert pipeline.take() == []


@pytest.mark.parametrize(("provider", "outcome"), [("openai", "completed"), ("veo", "failed")])
def test_a_create_timeout_goes_to_recovery_not_to_a_second_create(new_job, env, provider, outcome):
    # Given a create whose answer timed out (the provider did accept it)
    job = new_job(provider)
    pipeline = Pipeline(providers=wrapped_providers(TimeoutAfterCreate))
    pipeline.deliver(step_body(job.id, "submit"))

    # Then the job waits in submitting, and a submit comes back once the mark is stale
    assert job_row(job.id).status == "submitting"
    [later] = pipeline.queued()
    assert later.delay_seconds > get_settings().submit_stale_after_seconds

    # When it comes back (to a worker whose creates would work)
    pipeline.providers = None
    pipeline.drain()

    # Then recovery decided: one create in all
    assert env[provider].create_count() == 1
    assert job_row(job.id).status == outcome


# --- poll -------------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["openai", "veo"])
def test_polls_aim_at_the_end_then_the_video_lands_in_s3_with_its_cost(pipeline, new_job, env, aws, provider):
    job = new_job(provider)

    pipeline.deliver(step_body(job.id, "submit"))
    delays = []
    while messages := pipeline.take():
        delays += [m.delay_seconds for m in messages]
        pipeline.clock.advance(max(m.delay_seconds for m in messages))
        assert pipeline.deliver(*(m.body for m in messages)) == []

    done = job_row(job.id)
    assert (done.status, done.progress) == ("completed", 100)
    # The fake finishes on the third poll. sora: 10 s with no reading yet, then aimed at the end
    # its progress (33 %, 66 %) points to; veo: short of its typical 60 s, then 15 s apart.
    assert delays == {"openai": [10, 11, 10], "veo": [36, 15, 15]}[provider]
    assert done.video_url == bucket.video_key(USER, job.storyboard_id, job.id)
    expected = {"openai": ("0.4000", True), "veo": ("1.2000", False)}[provider]
    assert str(done.cost) == expected[0]  # sora-2 4 s at $0.10; veo fast 8 s at $0.15
    assert (done.thumbnail_url is not None) is expected[1]
    assert done.completed_at is not None
    keys = _object_keys(aws)
    assert done.video_url in keys
    video = aws.client("s3").get_object(Bucket=aws.bucket, Key=done.video_url)["Body"].read()
    assert video[4:8] == b"ftyp"
    if done.thumbnail_url:
        assert done.thumbnail_url in keys
        assert done.thumbnail_url.endswith(".png")


class _MeetAtTheVideo(WrappedProvider):
    """A real provider whose video downloads wait until three of them are under way."""

    meeting = threading.Barrier(3, timeout=10)

    def download(self, provider_job_id: str, variant: Any) -> Any:
        if variant == "video":
            self.meeting.wait()  # one download at a time never gets past: the job fails
        return self._inner.download(provider_job_id, variant)


def test_the_finished_videos_of_one_batch_are_stored_side_by_side(new_job, env, aws):
    # Given three jobs whose polls travel in the same batches, to the worker as deployed
    _MeetAtTheVideo.meeting.reset()
    pipeline = Pipeline(providers=wrapped_providers(_MeetAtTheVideo))
    jobs = [new_job("openai", f"scene {n}") for n in range(3)]
    pipeline.deliver(*(step_body(job.id, "submit") for job in jobs))

    # When each round's polls arrive together until the provider is done
    while messages := pipeline.take():
        pipeline.clock.advance(max(m.delay_seconds for m in messages))
        assert pipeline.deliver(*(m.body for m in messages)) == []

    # Then the three videos went up at the same time (else the barrier broke), and all landed
    assert [job_row(job.id).status for job in jobs] == ["completed"] * 3
    assert {job_row(job.id).video_url for job in jobs} <= set(_object_keys(aws))


def test_poll_delays_stop_growing_at_the_maximum(pipeline, new_job, env):
    env.sora.script("[slow]", Script(complete_after_polls=8))
    job = new_job("openai", "a slow scene [slow]")

    pipeline.deliver(step_body(job.id, "submit"))
    delays = []
    for _ in range(12):
        messages = pipeline.take()
        if not messages:
            break
        delays += [m.delay_seconds for m in messages]
        pipeline.clock.advance(max(m.delay_seconds for m in messages))
        pipeline.deliver(*(m.body for m in messages))

    # 11 % after 10 s points 80 s on; 22 % after 51 s, further than the 60 s maximum
    assert delays == [10, 41, 60, 60, 60, 60, 60, 60, 51]
    assert job_row(job.id).status == "completed"


def test_a_poll_delivered_three_times_polls_the_provider_once(pipeline, new_job, env):
    job = new_job("openai")
    pipeline.deliver(step_body(job.id, "submit"))
    [poll] = pipeline.take()
    pipeline.clock.advance(poll.delay_seconds)

    pipeline.deliver(poll.body, poll.body, poll.body)

    assert env.sora.count("poll") == 1
    assert len(pipeline.take()) == 1  # one chain, not three
    assert job_row(job.id).metadata_["polls"] == 1


def test_progress_is_recorded_while_the_provider_works(pipeline, new_job, env):
    job = new_job("openai")
    pipeline.deliver(step_body(job.id, "submit"))
    [poll] = pipeline.take()
    pipeline.clock.advance(poll.delay_seconds)

    pipeline.deliver(poll.body)

    running = job_row(job.id)
    assert running.status == "processing"
    assert 0 < running.progress < 100


@pytest.mark.parametrize("status", ["completed", "failed"])
def test_a_poll_for_a_finished_job_is_acknowledged_and_asks_nothing(pipeline, new_job, env, status):
    job = new_job("openai")
    pipeline.deliver(step_body(job.id, "submit"))
    pipeline.take()
    set_status(job.id, status)

    assert pipeline.deliver(step_body(job.id, "poll")) == []

    assert env.sora.count("poll") == 0
    assert pipeline.take() == []


@pytest.mark.parametrize(
    ("provider", "marker", "reason"),
    [
        ("openai", "[fail]", "video_generation_failed: The video could not be generated"),
        ("openai", "[filtered]", "moderation_blocked"),
        ("veo", "[fail]", "veo failed the operation"),
        ("veo", "[filtered]", "veo's safety filter blocked the video"),
    ],
)
def test_a_provider_failure_fails_the_job_with_its_reason(pipeline, new_job, provider, marker, reason):
    job = new_job(provider, f"a scene {marker}")

    pipeline.deliver(step_body(job.id, "submit"))
    pipeline.drain()

    failed = job_row(job.id)
    assert failed.status == "failed"
    assert reason in (failed.error_message or "")
    assert failed.video_url is None


@pytest.mark.parametrize("provider", ["openai", "veo"])
def test_completed_with_an_empty_file_is_a_failure_and_stores_nothing(pipeline, new_job, env, aws, provider):
    job = new_job(provider, "an empty scene [empty]")

    pipeline.deliver(step_body(job.id, "submit"))
    pipeline.drain()

    failed = job_row(job.id)
    assert failed.status == "failed"
    assert failed.error_message == "the provider returned an empty video (0 bytes)"
    assert failed.cost is None
    # Neither the video nor the thumbnail that went up beside it is left behind
    assert not [key for key in _object_keys(aws) if str(job.id) in key]


@pytest.mark.parametrize("provider", ["openai", "veo"])
def test_a_provider_that_never_finishes_fails_after_the_maximum_wait(
    pipeline, new_job, env, configure, provider
):
    configure(**settings_for(env, generation_max_wait_seconds=120))
    job = new_job(provider, "an endless scene [never]")

    pipeline.deliver(step_body(job.id, "submit"))
    pipeline.drain()

    failed = job_row(job.id)
    assert failed.status == "failed"
    assert failed.error_message == "the provider did not finish within 2 minutes"


def test_a_busy_provider_while_polling_pushes_the_next_poll_back(pipeline, new_job, env):
    job = new_job("openai")
    pipeline.deliver(step_body(job.id, "submit"))
    [poll] = pipeline.take()
    pipeline.clock.advance(poll.delay_seconds)
    # A Retry-After past two minutes: the SDK does not wait it out, the worker must.
    env.sora.fail_next("poll", 503, retry_after=300)

    pipeline.deliver(poll.body)

    assert job_row(job.id).status == "processing"
    [later] = pipeline.queued()
    assert later.delay_seconds == 300
    pipeline.drain()
    assert job_row(job.id).status == "completed"


def test_a_busy_provider_while_downloading_retries_the_copy_later(pipeline, new_job, env, aws):
    job = new_job("openai")
    env.sora.fail_next("content", 503, times=3)

    pipeline.deliver(step_body(job.id, "submit"))
    pipeline.drain()

    done = job_row(job.id)
    assert done.status == "completed"
    assert done.video_url in _object_keys(aws)


def test_s3_trouble_fails_only_that_record_and_sqs_redelivery_finishes_the_job(
    pipeline, new_job, env, configure, aws
):
    # Given a job the provider finishes on its first poll, and S3 refusing uploads
    env.sora.script("[quick]", Script(complete_after_polls=0))
    job = new_job("openai", "a quick scene [quick]")
    pipeline.deliver(step_body(job.id, "submit"))
    [poll] = pipeline.take()
    pipeline.clock.advance(poll.delay_seconds)
    configure(**settings_for(env, videos_bucket="no-such-bucket"))
    other = new_job("openai", "another scene")

    # When the poll runs in a batch with another job's submit
    failed = pipeline.deliver(poll.body, step_body(other.id, "submit"))

    # Then only the poll's record failed, and the job still waits to be stored
    assert failed == [poll.body]
    assert job_row(job.id).status == "processing"
    assert job_row(other.id).status == "processing"

    # When SQS redelivers it after its visibility timeout, with S3 back
    configure(**settings_for(env, videos_bucket=aws.bucket))
    pipeline.clock.advance(get_settings().poll_max_delay_seconds)
    assert pipeline.deliver(poll.body) == []

    # Then the job completes
    assert job_row(job.id).status == "completed"


# --- the batch --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "poison",
    [
        "not json",
        '{"jobId": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "step": "submit", "apiKey": "x"}',
        '{"jobId": "not-a-uuid", "step": "submit"}',
        '{"jobId": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "step": "publish"}',
        '{"job_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "step": "submit"}',
    ],
)
def test_a_poison_record_is_the_only_one_reported_failed(pipeline, new_job, env, poison):
    first, second = new_job("openai", "scene one"), new_job("veo", "scene two")

    failed = pipeline.deliver(step_body(first.id, "submit"), poison, step_body(second.id, "submit"))

    assert failed == [poison]
    assert job_row(first.id).status == job_row(second.id).status == "processing"


def test_a_step_for_a_job_that_no_longer_exists_is_acknowledged(pipeline, env):
    gone = uuid.uuid4()

    assert pipeline.deliver(step_body(gone, "submit"), step_body(gone, "poll")) == []
    assert pipeline.take() == []


def test_every_message_three_times_and_out_of_order_creates_each_job_once(pipeline, new_job, env):
    jobs = [new_job("openai", "scene one"), new_job("veo", "scene two"), new_job("openai", "scene three")]
    submits = [step_body(job.id, "submit") for job in jobs]

    # Polls that arrive before their job was submitted, then every submit three times, reversed
    pipeline.deliver(*[step_body(job.id, "poll") for job in jobs])
    pipeline.deliver(*reversed(submits * 3))
    pipeline.drain(times=3, reverse=True)

    assert [job_row(job.id).status for job in jobs] == ["completed"] * 3
    assert env.sora.create_count("scene one") == env.sora.create_count("scene three") == 1
    assert env.veo.create_count("scene two") == 1


# --- metrics and secrets ----------------------------------------------------------------------


def test_jobs_and_latency_are_counted_per_provider(pipeline, new_job, env, capfd):
    sora_job, veo_job = new_job("openai", "scene one"), new_job("veo", "a scene [fail]")
    capfd.readouterr()

    pipeline.deliver(step_body(sora_job.id, "submit"), step_body(veo_job.id, "submit"))
    pipeline.drain()

    documents = emf_documents(capfd.readouterr().out)
    counted = set()
    for doc in documents:
        [directive] = doc["_aws"]["CloudWatchMetrics"]
        assert "provider" in directive["Dimensions"][0]  # each document: one provider, one metric
        [metric] = directive["Metrics"]
        counted.add((metric["Name"], doc["provider"], metric["Unit"]))
    assert counted == {
        ("JobsSubmitted", "openai", "Count"),
        ("JobsSubmitted", "veo", "Count"),
        ("JobsCompleted", "openai", "Count"),
        ("GenerationLatency", "openai", "Seconds"),
        ("JobsFailed", "veo", "Count"),
    }


def test_the_decrypted_key_never_reaches_logs_or_queue_messages(pipeline, new_job, env, capfd, caplog):
    caplog.set_level(logging.DEBUG)
    jobs = [new_job("openai", "scene one"), new_job("veo", "scene two"), new_job("openai", "busy [429]")]
    env.sora.fail_next("poll", 503, times=3)

    for job in jobs:
        pipeline.deliver(step_body(job.id, "submit"))
    pipeline.drain()

    output = capfd.readouterr()
    records = [repr(record.__dict__) for record in caplog.records]  # messages and structured fields
    for key in KEYS.values():
        assert all(key not in record for record in records)
        assert key not in output.out
        assert key not in output.err
        assert all(key not in body for body in pipeline.sender.bodies())
    assert {json.dumps(b, sort_keys=True) for b in bodies(pipeline.sender.sent)} <= {
        json.dumps({"jobId": str(job.id), "step": step}, sort_keys=True)
        for job in jobs
        for step in ("submit", "poll")
    }
    completed = [r for r in caplog.records if r.getMessage() == "job completed"]
    assert {r.job_id for r in completed} == {str(jobs[0].id), str(jobs[1].id), str(jobs[2].id)}
    assert {r.provider for r in completed} == {"openai", "veo"}
