"""What both fake providers share: a loopback HTTP server thread, scripts, jobs, records.

A fake is a small working implementation, not a mock: it keeps jobs in memory, answers
the SDKs' real requests over HTTP, and records what it was asked so tests can assert
"exactly one create". Nothing secret is recorded or logged: only whether a key was sent.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Literal, Self
from urllib.parse import parse_qsl, urlsplit

from devstack.fakes.jobs import MARKERS, Clock, FakeJob, Script, Timing, utc_now

logger = logging.getLogger("devstack.fakes")

Route = Literal["create", "poll", "list", "content", "cancel"]
RECORDS_PATH = "/__fake__/records"
"""``GET`` on either fake: what it was asked (creates by prompt, cancels by job id, slow polls
being answered), for tests that drive the local stack from outside its processes."""


@dataclass(frozen=True, slots=True)
class CreateRecord:
    """One create request as received (whatever it was answered)."""

    prompt: str
    params: dict[str, Any]
    status: int
    job_id: str | None
    key_sent: bool
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class Call:
    """Any request the fake answered: which route and with what status."""

    route: str
    status: int


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> dict[str, Any]:
        """The body parsed as a JSON object (empty when there is none)."""
        if not self.body:
            return {}
        value = json.loads(self.body)
        return value if isinstance(value, dict) else {}


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, payload: object, headers: dict[str, str] | None = None) -> Response:
    """A JSON response with the given status."""
    return Response(status, json.dumps(payload).encode(), headers=headers or {})


@dataclass(frozen=True, slots=True)
class _Injected:
    status: int
    retry_after: float | None
    times: int


class FakeProviderServer:
    """A ThreadingHTTPServer on loopback in a background thread; subclasses route requests.

    ``with Fake(...) as fake:`` starts it; ``fake.base_url`` is what the SDK's base URL
    setting takes. Scripts: prompt markers (``MARKERS``), ``script(marker, Script)``, and
    ``fail_next(route, status)``. Records: ``creates``, ``create_count()``, ``count()``,
    ``cancels``, also served as JSON at ``RECORDS_PATH`` for tests that reach the fake over HTTP only.
    Jobs finish after ``complete_after_polls`` polls, or ``complete_after_seconds`` after
    their creation on ``clock`` (pass one the test moves instead of sleeping).
    """

    base_path: ClassVar[str] = ""

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
        self.complete_after_polls = complete_after_polls
        self.complete_after_seconds = complete_after_seconds
        self.clock = clock
        # Held only in memory to compare; keys containing "invalid" are rejected too.
        self.rejected_keys = set(rejected_keys)
        self._address = (host, port)
        self._lock = threading.RLock()
        self._scripts: dict[str, Script] = dict(MARKERS)
        self._injected: dict[str, list[_Injected]] = {}
        self._create_attempts: dict[str, int] = {}
        self._creates: list[CreateRecord] = []
        self._cancels: list[str] = []
        self._calls: list[Call] = []
        self._slow_polls = 0  # polls of "[slow-poll]" jobs being answered right now
        self.jobs: dict[str, FakeJob] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle -------------------------------------------------------------------------

    def start(self) -> str:
        """Bind and serve in a daemon thread; returns ``base_url``."""
        if self._server is None:
            server = ThreadingHTTPServer(self._address, _handler_for(self))
            server.daemon_threads = True
            self._server = server
            self._thread = threading.Thread(
                # A short poll interval keeps stop() (and each test's teardown) quick.
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=type(self).__name__,
                daemon=True,
            )
            self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>`` of the running server."""
        if self._server is None:
            raise RuntimeError("the fake server is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        """The base URL an SDK client takes (origin plus the API's path prefix)."""
        return self.origin + self.base_path

    # Scripting ---------------------------------------------------------------------------

    def script(self, marker: str, script: Script) -> None:
        """Prompts containing ``marker`` follow ``script`` (overrides a built-in marker)."""
        with self._lock:
            self._scripts[marker] = script

    def fail_next(
        self, route: Route, status: int, *, retry_after: float | None = None, times: int = 1
    ) -> None:
        """Answer the next ``times`` requests to ``route`` with HTTP ``status``."""
        with self._lock:
            self._injected.setdefault(route, []).append(_Injected(status, retry_after, times))

    def script_for(self, prompt: str) -> Script:
        """The script a prompt selects (the last matching marker wins), else the default."""
        with self._lock:
            chosen = Script()
            for marker, script in self._scripts.items():
                if marker in prompt:
                    chosen = script
            return chosen

    # Records -----------------------------------------------------------------------------

    @property
    def creates(self) -> list[CreateRecord]:
        """Every create request received, in order (including those answered with errors)."""
        with self._lock:
            return list(self._creates)

    def create_count(self, prompt: str | None = None) -> int:
        """How many create requests arrived (for ``prompt`` only, if given)."""
        return sum(1 for record in self.creates if prompt is None or record.prompt == prompt)

    @property
    def cancels(self) -> list[str]:
        """The ids of the jobs a cancel request stopped, in order."""
        with self._lock:
            return list(self._cancels)

    @property
    def calls(self) -> list[Call]:
        """Every routed request with the status it got, in order."""
        with self._lock:
            return list(self._calls)

    def count(self, route: str) -> int:
        """How many requests ``route`` answered ("create", "poll", "list", "content", ...)."""
        with self._lock:
            return sum(1 for call in self._calls if call.route == route)

    def records(self) -> dict[str, Any]:
        """What ``RECORDS_PATH`` answers: the creates (prompt, status, job id), the cancelled job
        ids, and how many slow polls are being answered right now. No key, nothing secret."""
        with self._lock:
            creates = [{"prompt": c.prompt, "status": c.status, "jobId": c.job_id} for c in self._creates]
            return {"creates": creates, "cancels": list(self._cancels), "slowPollsInFlight": self._slow_polls}

    # For subclasses ----------------------------------------------------------------------

    def pause_poll(self, job: FakeJob) -> None:
        """Take the job's ``poll_seconds`` before answering its poll (outside the lock)."""
        if not job.script.poll_seconds:
            return
        with self._lock:
            self._slow_polls += 1
        try:
            time.sleep(job.script.poll_seconds)
        finally:
            with self._lock:
                self._slow_polls -= 1

    def handle(self, request: Request) -> Response:
        """Answer one request (subclasses route by method and path)."""
        raise NotImplementedError

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
                self._cancels.append(job_id)
            return job

    def advance(self, job: FakeJob) -> bool:
        """Count one poll of ``job``; True once it has finished (whatever its outcome)."""
        return job.advance(self.clock(), self._timing())

    def progress(self, job: FakeJob) -> int:
        """Percent done of a running ``job``."""
        return job.progress(self.clock(), self._timing())

    def _timing(self) -> Timing:
        return Timing(self.complete_after_polls, self.complete_after_seconds)

    def injected(self, route: Route) -> _Injected | None:
        """Consume one programmatic failure queued for ``route``, if any."""
        with self._lock:
            queue = self._injected.get(route)
            if not queue:
                return None
            head = queue[0]
            if head.times <= 1:
                queue.pop(0)
            else:
                queue[0] = replace(head, times=head.times - 1)
            return head

    def scripted_create_status(self, prompt: str, script: Script) -> int | None:
        """The error status this create of ``prompt`` must answer, counting attempts per prompt."""
        with self._lock:
            attempt = self._create_attempts.get(prompt, 0) + 1
            self._create_attempts[prompt] = attempt
        if script.create_status is None:
            return None
        if script.create_status_times is None or attempt <= script.create_status_times:
            return script.create_status
        return None

    def record_create(self, record: CreateRecord) -> None:
        """Remember a create request."""
        with self._lock:
            self._creates.append(record)

    def record_call(self, route: str, status: int) -> None:
        """Remember a request's route and status."""
        with self._lock:
            self._calls.append(Call(route, status))


def _handler_for(fake: FakeProviderServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs' pools expect
        # Headers and body go out in two writes; without this, Nagle + delayed ACK add 40 ms.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                method=self.command,
                path=parts.path,
                query=dict(parse_qsl(parts.query)),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            try:
                if request.method == "GET" and request.path == RECORDS_PATH:
                    response = json_response(200, fake.records())
                else:
                    response = fake.handle(request)
            except Exception:
                logger.exception("fake provider failed on %s %s", request.method, request.path)
                response = json_response(500, {"error": {"message": "fake provider crashed"}})
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        def log_message(self, format: str, *args: Any) -> None:
            # Method, path and status only: headers (and so keys) are never logged.
            logger.debug("%s " + format, type(fake).__name__, *args)

    return Handler
