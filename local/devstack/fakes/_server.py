"""What both fake providers share: jobs in memory, their scripts and records, served on loopback.

A fake is a small working implementation, not a mock: it keeps jobs in memory, answers the
SDKs' real requests over HTTP (:mod:`.loopback`), follows the scripts and queued failures it is
given (:mod:`.faults`), and records what it was asked (:mod:`.records`) so tests can assert
"exactly one create". Nothing secret is recorded or logged: only whether a key was sent.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from devstack.fakes.faults import Faults, Route
from devstack.fakes.jobs import Clock, FakeJob, Script, Timing, utc_now
from devstack.fakes.loopback import LoopbackServer, Request, Response, json_response
from devstack.fakes.records import RECORDS_PATH, Call, CreateRecord, Records


class FakeProviderServer(LoopbackServer):
    """A provider's API on loopback in a background thread; subclasses route requests in ``handle``.

    ``with Fake(...) as fake:`` starts it; ``fake.base_url`` is what the SDK's base URL
    setting takes. Scripts: prompt markers (``MARKERS``), ``script(marker, Script)``, and
    ``fail_next(route, status)``. Records: ``creates``, ``create_count()``, ``count()``,
    ``cancels``, also served as JSON at ``RECORDS_PATH`` for tests that reach the fake over HTTP only.
    Jobs finish after ``complete_after_polls`` polls, or ``complete_after_seconds`` after
    their creation on ``clock`` (pass one the test moves instead of sleeping).
    """

    def __init__(
        self,
        *,
        complete_after_polls: int = 2,
        complete_after_seconds: float | None = None,
        rejected_keys: tuple[str, ...] | frozenset[str] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock = utc_now,
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

    def dispatch(self, request: Request) -> Response:
        """The records at ``RECORDS_PATH``, anything else to the provider's API (``handle``)."""
        if request.method == "GET" and request.path == RECORDS_PATH:
            return json_response(200, self.records.summary())
        return self.handle(request)

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

    # Jobs, for subclasses ------------------------------------------------------------------

    def rejects(self, key: str) -> bool:
        """Whether this (present) key is refused."""
        return key in self.rejected_keys or "invalid" in key

    def new_id(self) -> str:
        """A fresh opaque id."""
        return uuid.uuid4().hex

    def start_job(self, job_id: str, prompt: str, params: dict[str, Any], script: Script) -> FakeJob:
        """Keep a new job, created now on the server's clock."""
        job = FakeJob(id=job_id, prompt=prompt, params=params, script=script, created_at=self.clock())
        with self._lock:
            self.jobs[job.id] = job
        return job

    def cancel_job(self, job_id: str) -> FakeJob | None:
        """Stop a job (a cancel request); ``None`` when there is no such job."""
        with self._lock:
            job = self.jobs.get(job_id)
            if job is not None:
                job.cancelled_at = job.cancelled_at or self.clock()
                self.records.add_cancel(job_id)
            return job

    def pause_poll(self, job: FakeJob) -> None:
        """Take the job's ``poll_seconds`` before answering its poll (outside the lock)."""
        if job.script.poll_seconds:
            with self.records.slow_poll():
                time.sleep(job.script.poll_seconds)

    def advance(self, job: FakeJob) -> bool:
        """Count one poll of ``job``; True once it has finished (whatever its outcome)."""
        return job.advance(self.clock(), self._timing())

    def progress(self, job: FakeJob) -> int:
        """Percent done of a running ``job``."""
        return job.progress(self.clock(), self._timing())

    def _timing(self) -> Timing:
        return Timing(self.complete_after_polls, self.complete_after_seconds)
