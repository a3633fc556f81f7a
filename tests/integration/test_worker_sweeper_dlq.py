"""The sweeper and the dead-letter consumer through their handlers: no job stays pending,
submitting or processing forever, and a job that already finished is never touched."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from devstack.poller import sqs_record
from tests.integration.generation_support import (
    NOTHING_SWEPT,
    CrashAfterCreate,
    Pipeline,
    WorkerCrash,
    job_row,
    set_status,
    step_body,
    wrapped_providers,
)
from tests.support import FakeLambdaContext, load_event, load_function, sqs_event
from videogen.data.db import session_scope
from videogen.data.models import VideoJob
from videogen.generation.steps import OUTCOME_UNKNOWN
from videogen.generation.worker import GenerationWorker
from videogen.messaging.messages import EndpointPushMessage
from videogen.runtime.config import get_settings

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")


def _sweep(pipeline: Pipeline) -> dict[str, int]:
    handler = load_function("sweeper").build_handler(pipeline.worker)
    return handler(load_event("sweeper.scheduled"), FakeLambdaContext())  # type: ignore[no-any-return]


def _dead_letters(worker: GenerationWorker, *bodies: str, receive_count: int = 6) -> dict[str, Any]:
    handler = load_function("dead_letters").build_handler(worker)
    event = sqs_event(bodies, receive_count=receive_count, template="dead_letters.sqs")
    return handler(event, FakeLambdaContext())  # type: ignore[no-any-return]


def _age(job_id: Any, seconds: int) -> None:
    """Move a job's timestamps back, as if it had been waiting that long."""
    shift = timedelta(seconds=seconds)
    with session_scope() as s:
        s.execute(
            update(VideoJob)
            .where(VideoJob.id == job_id)
            .values(created_at=VideoJob.created_at - shift, updated_at=VideoJob.updated_at - shift)
        )


# --- sweeper ----------------------------------------------------------------------------------


def _crash_after_create(*jobs: VideoJob) -> None:
    """Submit each job with a worker that dies once the provider accepted it."""
    crashing = Pipeline(providers=wrapped_providers(CrashAfterCreate))
    for job in jobs:
        with pytest.raises(WorkerCrash):
            crashing.deliver(step_body(job.id, "submit"))


@pytest.mark.parametrize(("provider", "outcome"), [("openai", "processing"), ("veo", "failed")])
def test_sweeper_recovers_a_job_stuck_submitting_without_creating_it_again(new_job, env, provider, outcome):
    # Given a worker that died after the provider accepted the job, its message gone, and
    # the submit mark now stale
    job = new_job(provider)
    _crash_after_create(job)
    _age(job.id, get_settings().submit_stale_after_seconds + 1)

    # When the sweeper runs
    sweeper = Pipeline()
    report = _sweep(sweeper)

    # Then recovery settled it: sora's job was found and is polled; veo's fails honestly
    assert report["recovered"] == 1
    assert env[provider].create_count() == 1
    settled = job_row(job.id)
    assert settled.status == outcome
    if provider == "openai":
        assert settled.provider_job_id == env.sora.creates[0].job_id
        assert [json.loads(m.body)["step"] for m in sweeper.queued()] == ["poll"]
        sweeper.drain()
        assert job_row(job.id).status == "completed"
    else:
        assert settled.error_message == OUTCOME_UNKNOWN
    assert env[provider].create_count() == 1


def test_sweeper_leaves_a_fresh_submit_mark_alone(new_job, env):
    job = new_job("openai")
    _crash_after_create(job)

    report = _sweep(Pipeline())

    assert report["recovered"] == 0
    assert job_row(job.id).status == "submitting"


def test_sweeper_keeps_going_when_one_recovery_fails(new_job, env):
    # Given two stuck sora jobs, and the provider's job list failing for a while
    jobs = [new_job("openai", "scene one"), new_job("openai", "scene two")]
    _crash_after_create(*jobs)
    for job in jobs:
        _age(job.id, get_settings().submit_stale_after_seconds + 1)
    env.sora.fail_next("list", 503, retry_after=0.01, times=3)  # the first lookup's three tries

    # When the sweeper runs
    report = _sweep(Pipeline())

    # Then the failing lookup is left for the next sweep and the other job was recovered
    assert (report["recovered"], report["errors"]) == (1, 1)
    assert sorted(job_row(job.id).status for job in jobs) == ["processing", "submitting"]
    assert env.sora.create_count() == 2


def test_sweeper_re_polls_a_processing_job_whose_poll_was_lost(new_job, env):
    job = new_job("openai")
    pipeline = Pipeline()
    pipeline.deliver(step_body(job.id, "submit"))
    pipeline.take()  # the poll message is lost
    pipeline.clock.advance(3 * get_settings().poll_max_delay_seconds + 1)

    report = _sweep(pipeline)

    assert report["repolled"] == 1
    [poll] = pipeline.queued()
    assert (json.loads(poll.body), poll.delay_seconds) == ({"jobId": str(job.id), "step": "poll"}, 0)
    pipeline.drain()
    assert job_row(job.id).status == "completed"


def test_sweeper_does_not_re_poll_a_job_whose_polls_are_on_time(new_job, env):
    job = new_job("openai")
    pipeline = Pipeline()
    pipeline.deliver(step_body(job.id, "submit"))
    pipeline.take()

    report = _sweep(pipeline)

    assert report["repolled"] == 0
    assert pipeline.queued() == []


def test_sweeper_re_sends_the_submit_of_a_job_left_pending(new_job, env):
    job, fresh = new_job("veo"), new_job("openai")
    _age(job.id, get_settings().pending_stale_after_seconds + 1)
    pipeline = Pipeline()

    report = _sweep(pipeline)

    assert report["resubmitted"] == 1
    assert [json.loads(m.body) for m in pipeline.queued()] == [{"jobId": str(job.id), "step": "submit"}]
    pipeline.drain()
    assert job_row(job.id).status == "completed"
    assert job_row(fresh.id).status == "pending"


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("pending", "generation did not start within 60 minutes"),
        ("submitting", "the provider did not finish within 60 minutes"),
        ("processing", "the provider did not finish within 60 minutes"),
    ],
)
def test_sweeper_fails_active_jobs_past_the_maximum_wait(new_job, env, status, message):
    job = new_job("openai")
    set_status(job.id, status)
    pipeline = Pipeline()
    pipeline.clock.advance(get_settings().generation_max_wait_seconds + 1)

    report = _sweep(pipeline)

    assert report["expired"] == 1
    failed = job_row(job.id)
    assert (failed.status, failed.error_message) == ("failed", message)
    assert env.sora.create_count() == 0


@pytest.mark.parametrize("status", ["completed", "failed"])
def test_sweeper_never_touches_finished_jobs(new_job, env, status):
    job = new_job("openai")
    set_status(job.id, status)
    pipeline = Pipeline()
    pipeline.clock.advance(get_settings().generation_max_wait_seconds * 2)

    report = _sweep(pipeline)

    assert report == NOTHING_SWEPT
    assert job_row(job.id).status == status
    assert pipeline.take() == []


# --- dead-letter consumer ---------------------------------------------------------------------


@pytest.mark.parametrize("status", ["pending", "submitting", "processing"])
def test_a_dead_letter_fails_its_active_job_with_the_attempts(new_job, env, status):
    job = new_job("veo")
    set_status(job.id, status)

    result = _dead_letters(GenerationWorker(), step_body(job.id, "poll"), receive_count=6)

    assert result == {"batchItemFailures": []}
    failed = job_row(job.id)
    assert (failed.status, failed.error_message) == ("failed", "generation gave up after 5 attempts")


def test_a_step_sqs_gave_up_on_reaches_the_dlq_consumer_which_fails_the_job(new_job, env, aws):
    # Given a poll whose every delivery failed (the template's maxReceiveCount is 5, as here)
    job = new_job("openai")
    set_status(job.id, "processing")
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=aws.queue_url, MessageBody=step_body(job.id, "poll"))
    for _ in range(5):
        got = sqs.receive_message(QueueUrl=aws.queue_url, VisibilityTimeout=0, AttributeNames=["All"])
        assert len(got["Messages"]) == 1  # received, not deleted: it comes back
    assert sqs.receive_message(QueueUrl=aws.queue_url).get("Messages", []) == []  # moved to the DLQ

    # When the DLQ consumer gets it, as Lambda's trigger hands it over
    [dead] = sqs.receive_message(QueueUrl=aws.dlq_url, AttributeNames=["All"])["Messages"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=aws.dlq_url, AttributeNames=["QueueArn"])["Attributes"]
    event = {"Records": [sqs_record(dead, dlq_arn["QueueArn"])]}
    result = load_function("dead_letters").lambda_handler(event, FakeLambdaContext())

    # Then the job failed, counting the worker's five attempts
    assert result == {"batchItemFailures": []}
    failed = job_row(job.id)
    assert (failed.status, failed.error_message) == ("failed", "generation gave up after 5 attempts")


@pytest.mark.parametrize("status", ["completed", "failed"])
def test_a_dead_letter_for_a_finished_job_changes_nothing(new_job, env, status):
    job = new_job("openai")
    set_status(job.id, status)

    _dead_letters(GenerationWorker(), step_body(job.id, "submit"), step_body(job.id, "submit"))

    assert job_row(job.id).status == status
    assert job_row(job.id).error_message is None


def test_a_redelivered_dead_letter_keeps_the_first_reason(new_job, env):
    job = new_job("openai")

    _dead_letters(GenerationWorker(), step_body(job.id, "submit"), receive_count=6)
    _dead_letters(GenerationWorker(), step_body(job.id, "submit"), receive_count=7)

    assert job_row(job.id).error_message == "generation gave up after 5 attempts"


def test_a_dead_letter_that_is_not_a_step_is_dropped_and_the_rest_handled(new_job, env):
    job = new_job("openai")

    result = _dead_letters(GenerationWorker(), "not json", step_body(job.id, "poll"), '{"jobId": 1}')

    assert result == {"batchItemFailures": []}
    assert job_row(job.id).status == "failed"


def test_a_dead_letter_for_a_deleted_job_is_acknowledged(env):
    result = _dead_letters(GenerationWorker(), step_body("3b241101-e2bb-4255-8caf-4136c566a962", "poll"))

    assert result == {"batchItemFailures": []}


def test_an_endpoints_push_that_gave_up_fails_nothing_and_the_jobs_polls_go_on(new_job, env):
    # Given a processing job that an endpoint's push named, the push having failed five times
    job = new_job("openai")
    set_status(job.id, "processing")
    push = EndpointPushMessage(key_id=uuid.uuid4(), provider_job_id="video_gave_up").to_body()

    result = _dead_letters(GenerationWorker(), push, receive_count=6)

    # Then it is acknowledged and the job is untouched: a push is only a hint, polls carry on
    assert result == {"batchItemFailures": []}
    assert job_row(job.id).status == "processing"
