"""Cancelling a job (``POST /api/video/jobs/{jobId}/cancel``): the API's side.

A job in flight becomes ``cancelled`` at once, in one conditional UPDATE from ``pending``,
``submitting`` or ``processing``:

- ``pending`` (never sent to a provider): nothing more to do; its cost is 0, so it no longer
  counts against the day's spend cap;
- ``submitting`` or ``processing`` (the provider has, or is about to have, the job): a
  ``{"jobId", "step": "cancel"}`` message asks the worker to stop it at the provider
  (:mod:`videogen.generation.provider_cancel`: API functions never load a provider SDK). Its
  estimate keeps counting against the cap: neither provider says a stopped job is not billed.

A completed or failed job answers 409; an already cancelled one is answered as it is (a retried
cancel). A lost cancel message is re-sent by the sweeper. Later submit and poll messages of a
cancelled job find nothing to act on. Jobs waiting to continue from its clip (the next scenes,
``continueFrom``) fail at once, naming the scene: there will be no last frame to start from.
"""

from __future__ import annotations

import uuid

from videogen.data.db import session_scope
from videogen.data.repositories import continuations, video_jobs
from videogen.data.repositories.video_jobs import StatusView
from videogen.errors import Conflict
from videogen.messaging.messages import QueueSender, StepMessage
from videogen.messaging.pipeline import send_next

REACHED_PROVIDER = ("submitting", "processing")


def cancel_job(user_id: str, job_id: uuid.UUID, sender: QueueSender) -> StatusView:
    """Cancel the caller's job (see module doc); its status afterwards.

        ``NotFound`` (404) when the caller has no such job, ``Conflict`` (409) when it already
        finished. Two statements (the cancel, then failing the jobs waiting on its clip; the second
    a lookup instead when the job was not in flight), plus the cancel message.
    """
    with session_scope() as s:
        job = video_jobs.cancel_for_user(s, user_id, job_id)
        if job is None:
            current = video_jobs.get_status_for_user(s, user_id, job_id)
            if current.status != "cancelled":
                raise Conflict(
                    f"The job is already {current.status}: only a job in flight can be cancelled",
                    {"jobId": str(job_id), "status": current.status},
                )
            return current
        view = video_jobs.status_view(job)
        continuations.fail_waiting_on(s, job_id)
    cancelled_from = job.metadata_.get("cancelled_from")
    if cancelled_from in REACHED_PROVIDER:
        fields = {"job_id": str(job_id), "provider": job.provider, "cancelled_from": cancelled_from}
        send_next(sender, StepMessage(job_id=job_id, step="cancel"), 0, fields)
    return view
