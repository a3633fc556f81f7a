"""What both fake providers share: jobs in memory, their scripts and records, served on loopback.

A fake is a small working implementation, not a mock: it keeps jobs in memory, answers the
SDKs' real requests over HTTP (:mod:`.loopback`), follows the scripts and queued failures it is
given (:mod:`.faults`), records what it was asked (:mod:`.records`) so tests can assert
"exactly one create", and pushes a finished job's webhooks to the URLs its create named
(:mod:`.webhooks`). Nothing secret is recorded or logged: only whether a key was sent.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from devstack.fakes import media
from devstack.fakes.faults import Faults, Route
from devstack.fakes.jobs import Clock, FakeJob, Script, Timing, utc_now
from devstack.fakes.loopback import LoopbackServer, Request, Response, json_response
from devstack.fakes.records import (
    JOBS_PATH,
    RECORDS_PATH,
    Call,
    CreateRecord,
    Delivery,
    ReceivedImage,
    Records,
)
from devstack.fakes.webhooks import JWKS_PATH, Outgoing, SigningKeys, WebhookSender

TICK_SECONDS = 0.1
"""How often the webhook ticker looks for jobs that finished by time."""

logger = logging.getLogger("devstack.fakes")


class FakeProviderServer(LoopbackServer):
    """A provider's API on loopback in a background thread; subclasses route requests in ``handle``.

    ``with Fake(...) as fake:`` starts it; ``fake.base_url`` is what the SDK's base URL
    setting takes. Scripts: prompt markers (``MARKERS``), ``script(marker, Script)``, and
    ``fail_next(route, status)``. Records: ``creates``, ``create_count()``, ``count()``,
    ``cancels``, also served as JSON at ``RECORDS_PATH`` for tests that reach the fake over HTTP only.
    Jobs finish after ``complete_after_polls`` polls, or ``complete_after_seconds`` after
    their creation on ``clock`` (pass one the test moves instead of sleeping).

    Webhooks: a job whose create named callback URLs is pushed to them once it finishes
    (``webhooks_for``), cancelled and "never" jobs excepted. One that finishes by time is
    pushed by a ticker (every ``TICK_SECONDS`` while the server runs; ``deliver_due()`` is one
    tick, for a test that moved a ``ManualClock``), one that finishes by poll count when a poll
    finds it finished. Each POST is attempted ``1 + webhook_retries`` times at most, after
    ``webhook_retry_delay`` seconds doubling; ``webhook_clock`` (unix seconds) stamps and signs
    each attempt. ``webhook_deliveries`` records every attempt. ``send_webhooks=False`` ignores
    callback URLs, as a provider without webhooks would.
    """

    signing_keys: SigningKeys | None = None
    """The keys webhooks are signed with, published at ``JWKS_PATH`` (subclasses that sign)."""

    def __init__(
        self,
        *,
        complete_after_polls: int = 2,
        complete_after_seconds: float | None = None,
        rejected_keys: tuple[str, ...] | frozenset[str] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock = utc_now,
        send_webhooks: bool = True,
        webhook_retries: int = 3,
        webhook_retry_delay: float = 1.0,
        webhook_clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(host, port)
        self.complete_after_polls = complete_after_polls
        self.complete_after_seconds = complete_after_seconds
        self.clock = clock
        # Held only in memory to compare; keys containing "invalid" are rejected too.
        self.rejected_keys = set(rejected_keys)
        self.faults = Faults()
        self.records = Records()
        self._lock = threading.RLock()
        self.jobs: dict[str, FakeJob] = {}
        self.send_webhooks = send_webhooks
        self._stopped = threading.Event()
        self._sender = WebhookSender(
            self.records,
            retries=webhook_retries,
            retry_delay=webhook_retry_delay,
            clock=webhook_clock,
            stopped=self._stopped,
        )
        self._unpushed: set[str] = set()  # ids of jobs with callbacks not pushed yet
        self._ticker: threading.Thread | None = None

    def start(self) -> str:
        """Serve, and tick for webhooks due by time; returns ``base_url``."""
        base_url = super().start()
        if self.send_webhooks and self._ticker is None:
            self._stopped.clear()
            self._ticker = threading.Thread(
                target=self._tick, name=f"{type(self).__name__}-webhooks", daemon=True
            )
            self._ticker.start()
        return base_url

    def stop(self) -> None:
        """Stop ticking (and retrying webhooks), then serving."""
        self._stopped.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
            self._ticker = None
        super().stop()

    def dispatch(self, request: Request) -> Response:
        """The records at ``RECORDS_PATH``, the public keys at ``JWKS_PATH`` (when the fake signs
        its webhooks; no key needed), anything else to the provider's API (``handle``)."""
        if request.method == "GET" and request.path == RECORDS_PATH:
            return json_response(200, self.records.summary())
        if request.method == "GET" and request.path == JOBS_PATH:
            return json_response(200, {"jobs": self._job_times()})
        if request.method == "GET" and request.path == JWKS_PATH and self.signing_keys is not None:
            self.records.add_call("jwks", 200)
            return json_response(200, self.signing_keys.jwks())
        return self.handle(request)

    def _job_times(self) -> list[dict[str, Any]]:
        """Each job's prompt and when it was created and finished on the server's clock (ISO)."""
        with self._lock:
            jobs = list(self.jobs.values())
        return [
            {
                "prompt": job.prompt,
                "createdAt": job.created_at.isoformat(),
                "completedAt": job.completed_at.isoformat() if job.completed_at else None,
                "polls": job.polls,
            }
            for job in jobs
        ]

    def handle(self, request: Request) -> Response:
        """Answer one request of the provider's API (subclasses route by method and path)."""
        raise NotImplementedError

    # Scripting and records, as tests use them -----------------------------------------------

    def script(self, marker: str, script: Script) -> None:
        """Prompts containing ``marker`` follow ``script`` (overrides a built-in marker)."""
        self.faults.script(marker, script)

    def fail_next(
        self, route: Route, status: int, *, retry_after: float | None = None, times: int = 1
    ) -> None:
        """Answer the next ``times`` requests to ``route`` with HTTP ``status``."""
        self.faults.fail_next(route, status, retry_after=retry_after, times=times)

    @property
    def creates(self) -> list[CreateRecord]:
        """Every create request received, in order (including those answered with errors)."""
        return self.records.creates

    def create_count(self, prompt: str | None = None) -> int:
        """How many create requests arrived (for ``prompt`` only, if given)."""
        return sum(1 for record in self.creates if prompt is None or record.prompt == prompt)

    @property
    def cancels(self) -> list[str]:
        """The ids of the jobs a cancel request stopped, in order."""
        return self.records.cancels

    @property
    def calls(self) -> list[Call]:
        """Every routed request with the status it got, in order."""
        return self.records.calls

    def count(self, route: str) -> int:
        """How many requests ``route`` answered ("create", "poll", "list", "content", ...)."""
        return self.records.count(route)

    # Webhooks, as tests use them -------------------------------------------------------------

    @property
    def webhook_deliveries(self) -> list[Delivery]:
        """Every webhook delivery attempt, in order."""
        return self.records.deliveries

    @property
    def jwks_url(self) -> str:
        """Where the webhook signing keys are published (fakes that sign their webhooks)."""
        if self.signing_keys is None:
            raise RuntimeError(f"{type(self).__name__} does not sign webhooks")
        return self.origin + JWKS_PATH

    def rotate_signing_key(self) -> str:
        """Sign webhooks with a new key from now on, publishing it beside the old; its ``kid``."""
        if self.signing_keys is None:
            raise RuntimeError(f"{type(self).__name__} does not sign webhooks")
        return self.signing_keys.rotate()

    def deliver_due(self) -> int:
        """One tick: finish the jobs with callbacks that are due by time on ``clock``, and push
        every finished one not pushed yet. Sending happens in worker threads; returns how many
        jobs were pushed."""
        now, timing = self.clock(), self._timing()
        with self._lock:
            due = []
            for job_id in sorted(self._unpushed):
                job = self.jobs[job_id]
                if job.completed_at is None and job.due_by_time(now, timing):
                    job.completed_at = now
                if job.completed_at is not None:
                    due.append(job)
            for job in due:
                self._push(job)
        return len(due)

    # Jobs, for subclasses ------------------------------------------------------------------

    def rejects(self, key: str) -> bool:
        """Whether this (present) key is refused."""
        return key in self.rejected_keys or "invalid" in key

    def new_id(self) -> str:
        """A fresh opaque id."""
        return uuid.uuid4().hex

    def start_job(
        self,
        job_id: str,
        prompt: str,
        params: dict[str, Any],
        script: Script,
        callbacks: tuple[str, ...] = (),
        *,
        images: tuple[ReceivedImage, ...] = (),
    ) -> FakeJob:
        """Keep a new job, created now on the server's clock, to be pushed to ``callbacks`` when
        it finishes (ignored with ``send_webhooks=False``); its clip follows ``images``' frames."""
        callbacks = callbacks if self.send_webhooks else ()
        job = FakeJob(
            id=job_id,
            prompt=prompt,
            params=params,
            script=script,
            created_at=self.clock(),
            callbacks=callbacks,
            images=images,
        )
        with self._lock:
            self.jobs[job.id] = job
            if callbacks:
                self._unpushed.add(job.id)
        return job

    def cancel_job(self, job_id: str) -> FakeJob | None:
        """Stop a job (a cancel request; it pushes nothing); ``None`` when there is no such job."""
        with self._lock:
            job = self.jobs.get(job_id)
            if job is not None:
                job.cancelled_at = job.cancelled_at or self.clock()
                self._unpushed.discard(job_id)
                self.records.add_cancel(job_id)
            return job

    def webhooks_for(self, job: FakeJob) -> list[Outgoing]:
        """The webhooks a finished ``job`` sends to its callbacks (subclasses that push say)."""
        return []

    def video(self, job: FakeJob, look: str) -> bytes:
        """The MP4 a finished ``job`` serves in the provider's ``look`` (``media.LOOKS``): empty
        for an "[empty]" job, else starting (ending) on the colour of its first (last) frame."""
        if job.script.outcome == "empty":
            return b""
        return media.render_video(job.prompt, look, job.colour("first"), job.colour("last"))

    def pause_poll(self, job: FakeJob) -> None:
        """Take the job's ``poll_seconds`` before answering its poll (outside the lock)."""
        if job.script.poll_seconds:
            with self.records.slow_poll():
                time.sleep(job.script.poll_seconds)

    def advance(self, job: FakeJob) -> bool:
        """Count one poll of ``job``; True once it has finished (whatever its outcome). A job
        this poll finds finished is pushed now if it was not yet."""
        done = job.advance(self.clock(), self._timing())
        if done and job.completed_at is not None:
            with self._lock:
                if job.id in self._unpushed:
                    self._push(job)
        return done

    def progress(self, job: FakeJob) -> int:
        """Percent done of a running ``job``."""
        return job.progress(self.clock(), self._timing())

    def _timing(self) -> Timing:
        return Timing(self.complete_after_polls, self.complete_after_seconds)

    def _tick(self) -> None:
        while not self._stopped.wait(TICK_SECONDS):
            try:
                self.deliver_due()
            except Exception:
                logger.exception("%s could not push its due webhooks", type(self).__name__)

    def _push(self, job: FakeJob) -> None:
        """Send ``job``'s webhooks from a worker thread (the caller holds the lock)."""
        self._unpushed.discard(job.id)
        self.records.push_started()
        threading.Thread(target=self._send, args=(job,), name=f"webhook-{job.id}", daemon=True).start()

    def _send(self, job: FakeJob) -> None:
        """Each webhook of ``job`` in a thread of its own, so a slow receiver delays no other."""
        try:
            workers = [
                threading.Thread(target=self._sender.deliver, args=(message,), daemon=True)
                for message in self.webhooks_for(job)
            ]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        except Exception:
            logger.exception("%s could not push the webhooks of job %s", type(self).__name__, job.id)
        finally:
            self.records.push_finished()
