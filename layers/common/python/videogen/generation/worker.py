"""The generation worker: the one object the worker, dead-letter and sweeper functions call.

``functions/generation_worker`` parses SQS records into :class:`~videogen.messaging.messages.StepMessage`
and calls :meth:`GenerationWorker.run` (submit, poll, push or cancel); ``functions/dead_letters`` calls
:meth:`GenerationWorker.give_up`; ``functions/sweeper`` calls
:meth:`GenerationWorker.sweep`. The rules live in ``submit``, ``poll``, ``provider_cancel``
and ``sweep``; this class only routes to them. Nothing raises but unexpected trouble (database,
S3 or KMS down, a bug), so that the caller fails that one message and SQS redelivers it.
"""

from __future__ import annotations

import uuid

from videogen.generation import poll, provider_cancel, submit, sweep
from videogen.generation.steps import JobSteps, Outcome
from videogen.generation.sweep import SweepReport
from videogen.messaging.messages import EndpointPushMessage, GenerationMessage
from videogen.runtime.observability import logger


class GenerationWorker(JobSteps):
    """Runs generation steps with the collaborators of :class:`JobSteps` (fakes in tests)."""

    def run(self, message: GenerationMessage) -> Outcome:
        """Run one queue message's step; returns what happened (also logged)."""
        fields: dict[str, object]
        if isinstance(message, EndpointPushMessage):
            outcome = poll.push_from_endpoint(self, message.key_id, message.provider_job_id)
            fields = {"key_id": str(message.key_id), "provider_job_id": message.provider_job_id}
        else:
            steps = {"submit": self.submit, "poll": self.poll, "push": self.push, "cancel": self.cancel}
            outcome = steps[message.step](message.job_id)
            fields = {"job_id": str(message.job_id)}
        fields |= {"step": message.step, "outcome": outcome}
        if outcome == "unknown-job":
            logger.warning("step for an unknown job acknowledged", extra=fields)
        else:
            logger.info("step handled", extra=fields)
        return outcome

    def submit(self, job_id: uuid.UUID) -> Outcome:
        """Claim a pending job and ask its provider, once, to start it."""
        return submit.submit(self, job_id)

    def recover(self, job_id: uuid.UUID) -> Outcome:
        """Settle a job left ``submitting`` past its stale mark."""
        return submit.recover(self, job_id)

    def poll(self, job_id: uuid.UUID) -> Outcome:
        """Ask the provider about a processing job; finish, fail or schedule the next poll."""
        return poll.poll(self, job_id)

    def push(self, job_id: uuid.UUID) -> Outcome:
        """Poll a processing job now: its provider said it finished (once per job)."""
        return poll.poll(self, job_id, pushed=True)

    def cancel(self, job_id: uuid.UUID) -> Outcome:
        """Ask the provider to stop a cancelled job, as far as its API allows."""
        return provider_cancel.cancel_at_provider(self, job_id)

    def sweep(self) -> SweepReport:
        """Find stuck jobs and move them on (the scheduled sweeper)."""
        return sweep.sweep(self)

    def give_up(self, job_id: uuid.UUID, attempts: int) -> Outcome:
        """Fail a job whose message exhausted its receives (the DLQ consumer), unless finished."""
        return sweep.give_up(self, job_id, attempts)
