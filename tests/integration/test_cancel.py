"""POST /api/video/jobs/{jobId}/cancel in every state, through the jobs handler and the worker's
own entry point, against the fake providers over HTTP: what the user sees, what the provider
was asked, what it costs, and that later messages of a cancelled job do nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from tests.integration.generation_support import (
    USER,
    CrashAfterCreate,
    Fakes,
    Pipeline,
    bodies,
    job_row,
    set_status,
    step_body,
    wrapped_providers,
)
from tests.support import invoke, load_event, load_function, with_changes
from tools.queues import InMemoryQueueSender
from videogen.api.resolver import api_handler
from videogen.data.db import session_scope
from videogen.data.models import VideoJob
from videogen.generation.steps import Outcome
from videogen.providers import GenerationRequest, Submission

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")

jobs_module = load_function("jobs")


def _cancel(job_id: Any, sender: InMemoryQueueSender, sub: str = USER) -> Any:
    event = with_changes(load_event("jobs.cancel.200"), sub=sub, path_parameters={"jobId": str(job_id)})
    return invoke(api_handler(jobs_module.build_app(sender=sender)), event)


def _submitted(pipeline: Pipeline, job: Any) -> Any:
    """Run the job's submit step: it is processing at the provider afterwards."""
    assert pipeline.deliver(step_body(job.id, "submit")) == []
    assert job_row(job.id).status == "processing"
    return job_row(job.id)


def _provider_cancel(job_id: Any) -> dict[str, Any]:
    state: dict[str, Any] = job_row(job_id).metadata_.get("provider_cancel") or {}
    return state


def test_a_pending_job_is_cancelled_at_once_free_and_never_reaches_the_provider(env: Fakes, new_job: Any):
    pipeline = Pipeline()
    job = new_job("openai")

    result = _cancel(job.id, pipeline.sender)
    late_submit = pipeline.deliver(step_body(job.id, "submit"))

    assert result.status == 200
    assert result.body["status"] == "cancelled"
    assert result.body["cost"] == 0
    assert pipeline.sender.sent == []  # nothing for the worker to stop
    assert late_submit == []
    assert env.sora.create_count() == 0
    assert job_row(job.id).status == "cancelled"


@pytest.mark.parametrize("provider", ["openai", "veo"])
def test_a_processing_job_is_cancelled_at_its_provider(env: Fakes, new_job: Any, provider: str):
    pipeline = Pipeline()
    job = _submitted(pipeline, new_job(provider))
    pipeline.take()  # the first poll, still queued

    result = _cancel(job.id, pipeline.sender)
    pipeline.drain()

    assert result.status == 200
    assert result.body["status"] == "cancelled"
    assert bodies(pipeline.sender.sent[-1:]) == [{"jobId": str(job.id), "step": "cancel"}]
    assert env[provider].cancels == [job.provider_job_id.rsplit("/", 1)[-1]]
    assert _provider_cancel(job.id)["state"] == "cancelled"
    row = job_row(job.id)
    assert (row.status, row.cost) == ("cancelled", None)  # the estimate keeps counting


def test_later_poll_and_cancel_messages_of_a_cancelled_job_do_nothing(env: Fakes, new_job: Any):
    pipeline = Pipeline()
    job = _submitted(pipeline, new_job("openai"))
    _cancel(job.id, pipeline.sender)
    pipeline.drain()
    polls_before = env.sora.count("poll")

    outcomes = [pipeline.worker.poll(job.id), pipeline.worker.cancel(job.id), pipeline.worker.submit(job.id)]

    assert outcomes == ["ignored", "ignored", "ignored"]
    assert env.sora.count("poll") == polls_before
    assert len(env.sora.cancels) == 1


class CancelledDuringCreate(CrashAfterCreate):
    """The provider accepts the create, and the user cancels before the worker stores its id."""

    sender = InMemoryQueueSender()

    def submit(self, request: GenerationRequest) -> Submission:
        submission = self._inner.submit(request)
        assert _cancel(request.job_id, self.sender).body["status"] == "cancelled"
        return submission


def test_a_job_cancelled_while_its_create_runs_is_cancelled_as_soon_as_its_id_is_known(
    env: Fakes, new_job: Any
):
    pipeline = Pipeline(providers=wrapped_providers(CancelledDuringCreate))
    job = new_job("openai")

    outcome: Outcome = pipeline.worker.submit(job.id)

    row = job_row(job.id)
    assert outcome == "cancelled"
    assert row.status == "cancelled"
    assert row.provider_job_id is not None
    assert env.sora.cancels == [row.provider_job_id]
    assert pipeline.sender.sent == []  # no poll for a cancelled job
    # the API's own cancel message, once delivered, finds the provider cancel settled
    assert [m.message.step for m in CancelledDuringCreate.sender.sent] == ["cancel"]
    assert pipeline.worker.cancel(job.id) == "ignored"
    assert len(env.sora.cancels) == 1


@pytest.mark.parametrize("status", ["completed", "failed"])
def test_a_finished_job_cannot_be_cancelled(env: Fakes, new_job: Any, status: str):
    job = new_job("openai")
    set_status(job.id, status)

    result = _cancel(job.id, InMemoryQueueSender())

    assert result.status == 409
    assert result.body["details"] == {"jobId": str(job.id), "status": status}
    assert job_row(job.id).status == status


def test_cancelling_twice_answers_the_same_and_asks_the_provider_once(env: Fakes, new_job: Any):
    pipeline = Pipeline()
    job = _submitted(pipeline, new_job("veo"))
    pipeline.take()

    first = _cancel(job.id, pipeline.sender)
    second = _cancel(job.id, pipeline.sender)
    pipeline.drain()

    assert (first.status, second.status) == (200, 200)
    assert second.body["status"] == "cancelled"
    assert [m.message.step for m in pipeline.sender.sent[-1:]] == ["cancel"]
    assert len(env.veo.cancels) == 1


def test_another_users_job_is_404_and_stays_as_it_was(env: Fakes, new_job: Any):
    job = new_job("openai")

    result = _cancel(job.id, InMemoryQueueSender(), sub="intruder")

    assert result.status == 404
    assert job_row(job.id).status == "pending"


def test_a_provider_that_refuses_the_cancel_leaves_the_job_cancelled_and_counted(env: Fakes, new_job: Any):
    pipeline = Pipeline()
    job = _submitted(pipeline, new_job("openai"))
    pipeline.take()
    env.sora.fail_next("cancel", 400)

    _cancel(job.id, pipeline.sender)
    pipeline.drain()

    state = _provider_cancel(job.id)
    assert state["state"] == "refused"
    assert "refused" in state["reason"]
    assert job_row(job.id).status == "cancelled"
    assert env.sora.cancels == []


def test_a_busy_provider_is_asked_again_later(env: Fakes, new_job: Any):
    pipeline = Pipeline()
    job = _submitted(pipeline, new_job("veo"))
    pipeline.take()
    env.veo.fail_next("cancel", 503, times=3)  # the SDK's own three attempts

    _cancel(job.id, pipeline.sender)
    pipeline.drain()

    assert _provider_cancel(job.id)["state"] == "cancelled"
    assert len(env.veo.cancels) == 1


def test_a_provider_busy_every_time_is_given_up_as_unreachable(env: Fakes, new_job: Any, configure: Any):
    configure(submit_max_attempts=2)
    pipeline = Pipeline()
    job = _submitted(pipeline, new_job("openai"))
    pipeline.take()
    env.sora.fail_next("cancel", 503, times=100)

    _cancel(job.id, pipeline.sender)
    pipeline.drain()

    state = _provider_cancel(job.id)
    assert (state["state"], state["attempts"]) == ("unreachable", 2)
    assert "gave up after 2 attempts" in state["reason"]
    assert env.sora.count("cancel") == 6  # two attempts, each with the SDK's own three tries


class CancelTwiceAtOnce(CrashAfterCreate):
    """While one worker asks the provider to cancel, a duplicate message runs the step again."""

    outcomes: list[Outcome] = []  # noqa: RUF012 (the test reads what the nested step answered)
    worker: Any = None

    def cancel(self, provider_job_id: str) -> None:
        job_id = job_by_provider_id(provider_job_id)
        self.outcomes.append(self.worker.cancel(job_id))
        self._inner.cancel(provider_job_id)


def job_by_provider_id(provider_job_id: str) -> Any:
    with session_scope() as s:
        return s.execute(select(VideoJob.id).where(VideoJob.provider_job_id == provider_job_id)).scalar_one()


def test_a_duplicate_cancel_message_during_the_call_finds_the_lease_and_waits(env: Fakes, new_job: Any):
    pipeline = Pipeline()
    job = _submitted(pipeline, new_job("openai"))
    racing = Pipeline(providers=wrapped_providers(CancelTwiceAtOnce), clock=pipeline.clock)
    CancelTwiceAtOnce.worker = pipeline.worker
    _cancel(job.id, InMemoryQueueSender())

    outcome = racing.worker.cancel(job.id)

    assert (outcome, CancelTwiceAtOnce.outcomes) == ("cancelled", ["in-flight"])
    assert len(env.sora.cancels) == 1


def test_a_key_removed_before_the_cancel_is_recorded_as_refused(env: Fakes, new_job: Any):
    pipeline = Pipeline()
    job = _submitted(pipeline, new_job("openai"))
    _cancel(job.id, InMemoryQueueSender())
    invoke(
        load_function("api_keys").lambda_handler,
        with_changes(load_event("api_keys.delete.200"), sub=USER),
    )

    assert pipeline.worker.cancel(job.id) == "cancel-refused"
    assert "PUT /api/keys/openai" in _provider_cancel(job.id)["reason"]
    assert env.sora.cancels == []


def test_a_lost_cancel_message_is_sent_again_by_the_sweeper(env: Fakes, new_job: Any, configure: Any):
    pipeline = Pipeline()
    job = _submitted(pipeline, new_job("openai"))
    pipeline.take()

    assert _cancel(job.id, InMemoryQueueSender(fail=True)).status == 200  # the queue was down
    pipeline.clock.advance(3600)
    report = pipeline.worker.sweep()
    pipeline.drain()

    assert report.recancelled == 1
    assert env.sora.cancels == [job.provider_job_id]
    assert pipeline.worker.sweep().recancelled == 0


def test_the_dead_letter_of_a_cancelled_job_leaves_it_cancelled(env: Fakes, new_job: Any):
    job = new_job("openai")
    _cancel(job.id, InMemoryQueueSender())

    assert Pipeline().worker.give_up(job.id, 5) == "ignored"
    assert job_row(job.id).status == "cancelled"
    assert job_row(job.id).cost == Decimal(0)
