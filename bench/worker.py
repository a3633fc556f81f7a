"""Figure 4: worker throughput, jobs per second from ``pending`` to ``completed``.

The worker: ``functions/generation_worker``'s handler built over a ``GenerationWorker`` whose
provider is an instant in-process fake (accepts at once, completed at the first poll with a
real small MP4 and PNG from ``devstack.fakes.media``, no poll hint, polls at most 0 s apart,
so each poll is sent with no delay, as the floor sends it) and whose sender is the real SQS
sender (moto). A driver plays Lambda's SQS trigger: receive up to the worker's ``BatchSize``
(template.yaml) messages, hand them to the handler as the SQS event ``devstack.poller`` builds
(the handler runs them at once, as deployed: ``WORKER_RECORD_CONCURRENCY``), delete the ones
not reported in ``batchItemFailures``, until every job is completed. Each job therefore runs
submit (claim + key decrypt through KMS, provider submit, processing + first poll sent) and
poll (lease, provider poll, video and thumbnail streamed to S3 side by side, completed) through
the real handler, database, SQS, KMS and S3.

The floor: the same driver, the same queue and the same number of SQS sends, receives and
deletes, with each step done as plain psycopg transactions on one connection: the
conditional UPDATEs of the state machine and the key read, nothing else (no provider, no
KMS, no S3, no ORM). The statements each side issued per job are reported next to each other.

N jobs are queued as submit messages before the clock starts; the two sides alternate in
two rounds of N/2 jobs each.
"""

from __future__ import annotations

import importlib
import json
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

import psycopg
from psycopg.types.json import Jsonb

from bench import lambdas
from bench.measure import quiet_stdout
from bench.report import Report, Row, ratio
from bench.stack import REPO, Stack
from tools.harness import StatementCounter, reset_process_state

USER = "user-worker-bench"
TIMEOUT_SECONDS = 180.0
THROUGHPUT_BUDGET = 0.5  # docs/architecture.md: at least 0.5x the floor's jobs/s
SQL_CLAIM = (
    "UPDATE video_jobs SET status = 'submitting', attempts = attempts + 1, updated_at = clock_timestamp() "
    "WHERE id = %s AND status = 'pending' RETURNING *"
)
SQL_KEY = "SELECT * FROM user_api_keys WHERE user_id = %s AND provider = %s AND is_active"
SQL_TOUCH_KEY = "UPDATE user_api_keys SET last_used_at = now() WHERE id = %s RETURNING id"
SQL_PROCESSING = (
    "UPDATE video_jobs SET status = 'processing', provider_job_id = %s, progress = 0, metadata = %s, "
    "updated_at = clock_timestamp() WHERE id = %s AND status = 'submitting' RETURNING *"
)
SQL_LEASE = "SELECT * FROM video_jobs WHERE id = %s AND status = 'processing' FOR UPDATE"
SQL_COMPLETED = (
    "UPDATE video_jobs SET status = 'completed', progress = 100, video_url = %s, thumbnail_url = %s, "
    "cost = %s, completed_at = now(), updated_at = clock_timestamp() "
    "WHERE id = %s AND status = 'processing' RETURNING *"
)


class InstantProvider:
    """A provider that accepts at once and is done at the first poll (no network, no wait)."""

    name = "openai"
    has_thumbnails = True
    webhook_source: Literal["gemini", "fal"] | None = None
    image_transport: Literal["bytes", "url"] = "bytes"

    def __init__(self, video: bytes, thumbnail: bytes) -> None:
        self.video, self.thumbnail = video, thumbnail

    def submit(self, request: Any) -> Any:
        from videogen.providers import Submission  # noqa: PLC0415

        return Submission(provider_job_id=f"video_{request.job_id}")

    def find_existing(self, request: Any) -> Any:
        return None

    def poll(self, provider_job_id: str) -> Any:
        from videogen.providers import PollResult  # noqa: PLC0415

        return PollResult(state="completed", progress=100, duration_seconds=4)

    def download(self, provider_job_id: str, variant: str) -> Iterator[bytes]:
        yield self.video if variant == "video" else self.thumbnail

    def check_key(self) -> None:
        pass

    def cancel(self, provider_job_id: str) -> None:
        return None

    def close(self) -> None:
        return None


@dataclass
class Side:
    """One contender's totals over its rounds."""

    name: str
    jobs: int = 0
    seconds: float = 0.0
    statements: int = 0
    aws_calls: Counter[str] = field(default_factory=Counter)
    aws_seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))

    @property
    def jobs_per_second(self) -> float:
        return self.jobs / self.seconds if self.seconds else 0.0


class AwsCallCounter:
    """Counts and times AWS API calls (``service.Operation``) of boto3 clients made after
    ``install`` (the driver here is single-threaded, so one start time suffices)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self._started = 0.0

    @staticmethod
    def _name(model: Any) -> str:
        return f"{model.service_model.service_name}.{model.name}"

    def _before(self, model: Any, **kwargs: Any) -> None:
        self.calls[self._name(model)] += 1
        self._started = time.perf_counter()

    def _after(self, model: Any, **kwargs: Any) -> None:
        self.seconds[self._name(model)] += time.perf_counter() - self._started

    def clear(self) -> None:
        self.calls.clear()
        self.seconds.clear()

    def install(self) -> None:
        import boto3  # noqa: PLC0415

        boto3.setup_default_session()
        events = boto3.DEFAULT_SESSION.events  # type: ignore[union-attr]
        events.register("before-call.*.*", self._before)
        events.register("after-call.*.*", self._after)
        reset_process_state()  # the layer's cached clients come again from the counted session


class LayerTimer:
    """Wall time inside the layer functions that reach KMS and S3, wrapped while the worker runs.

    The AWS API time alone (``AwsCallCounter``) leaves out what surrounds the call: for an
    upload, boto3's ``upload_fileobj`` starts and joins a transfer thread pool every time.
    """

    TARGETS = (
        ("videogen.storage.uploads", "upload_stream"),
        ("videogen.storage.uploads", "upload_thumbnail"),
        ("videogen.keys", "decrypt_for_user"),
    )

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.spans: list[tuple[float, float]] = []

    def _timed(self, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                end = time.perf_counter()
                self.calls[name] += 1
                self.seconds[name] += end - start
                self.spans.append((start, end))

        return timed

    def wall_seconds(self) -> float:
        """The time inside any of them, overlaps counted once (the thumbnail's upload runs on
        its own thread, beside the video's)."""
        total, reach = 0.0, float("-inf")
        for start, end in sorted(self.spans):
            if end > reach:
                total += end - max(start, reach)
                reach = end
        return total

    @contextmanager
    def wrapped(self) -> Iterator[None]:
        saved = []
        for module_name, attr in self.TARGETS:
            module = importlib.import_module(module_name)
            saved.append((module, attr, getattr(module, attr)))
            setattr(
                module, attr, self._timed(f"{module_name.rsplit('.', 1)[-1]}.{attr}", getattr(module, attr))
            )
        try:
            yield
        finally:
            for module, attr, original in saved:
                setattr(module, attr, original)


# --- setup --------------------------------------------------------------------------------------


def seed(conninfo: str) -> uuid.UUID:
    """A storyboard and a stored Sora key (sealed with KMS in moto) for the bench user."""
    from videogen import keys  # noqa: PLC0415
    from videogen.data.db import session_scope  # noqa: PLC0415
    from videogen.data.repositories import api_keys  # noqa: PLC0415

    board_id = uuid.uuid4()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO storyboards (id, user_id, name, preset_key, character, scenes) "
            "VALUES (%s, %s, 'Worker bench', 'cinematic', %s, %s)",
            (board_id, USER, Jsonb({"name": "Ada"}), Jsonb([{"id": "scene-1", "prompt": "Ada"}])),
        )
    sealed = keys.seal(USER, "openai", "sk-bench-worker-0123456789abcdef")
    with session_scope() as s:
        api_keys.store(
            s,
            USER,
            "openai",
            encrypted_key=sealed.encrypted_key,
            key_hash=sealed.key_hash,
            last4=sealed.last4,
        )
    return board_id


def queue_jobs(conninfo: str, stack: Stack, board_id: uuid.UUID, n: int) -> list[uuid.UUID]:
    """``n`` pending jobs, each with its submit message already in the queue."""
    ids = [uuid.uuid4() for _ in range(n)]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for job_id in ids:
            conn.execute(
                "INSERT INTO video_jobs (id, user_id, storyboard_id, scene_id, provider, model, prompt, "
                "duration_seconds, size, estimated_cost) VALUES (%s, %s, %s, 'scene-1', 'openai', 'sora-2', "
                "'Ada opens the lab door', 4, '720x1280', 0.4)",
                (job_id, USER, board_id),
            )
    sqs = stack.client("sqs")
    for start in range(0, n, 10):
        entries = [
            {"Id": str(i), "MessageBody": json.dumps({"jobId": str(job_id), "step": "submit"})}
            for i, job_id in enumerate(ids[start : start + 10])
        ]
        sqs.send_message_batch(QueueUrl=stack.queue_url, Entries=entries)
    return ids


# --- the driver (Lambda's SQS trigger) ----------------------------------------------------------


@cache
def batch_size() -> int:
    """The generation worker's ``BatchSize``, read from template.yaml as the local stack reads it."""
    from devstack.template import load  # noqa: PLC0415

    sources = load(REPO / "template.yaml").sqs_sources
    return next(s.batch_size for s in sources if s.function == "GenerationWorkerFunction")


def drain(stack: Stack, handle: Callable[[list[dict[str, Any]]], set[str]], done: Callable[[], bool]) -> None:
    """Receive, handle and delete messages until ``done()``; ``handle`` returns failed ids."""
    sqs = stack.client("sqs")
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        messages = sqs.receive_message(
            QueueUrl=stack.queue_url,
            MaxNumberOfMessages=batch_size(),
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            if done():
                return
            time.sleep(0.005)
            continue
        failed = handle(messages)
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(messages)
            if m["MessageId"] not in failed
        ]
        if entries:
            sqs.delete_message_batch(QueueUrl=stack.queue_url, Entries=entries)
    raise TimeoutError("jobs did not complete in time")


def all_completed(conninfo: str, ids: list[uuid.UUID]) -> Callable[[], bool]:
    def check() -> bool:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE status = 'completed'), "
                "count(*) FILTER (WHERE status = 'failed') FROM video_jobs WHERE id = ANY(%s)",
                (ids,),
            ).fetchone()
        assert row is not None
        if row[1]:
            raise AssertionError(f"{row[1]} jobs failed")
        return bool(row[0] == len(ids))

    return check


# --- the two sides ------------------------------------------------------------------------------


def worker_handler() -> Callable[[list[dict[str, Any]]], set[str]]:
    from devstack.fakes import media  # noqa: PLC0415
    from videogen.generation.worker import GenerationWorker  # noqa: PLC0415
    from videogen.messaging.messages import SqsQueueSender  # noqa: PLC0415
    from videogen.runtime.config import get_settings  # noqa: PLC0415

    provider = InstantProvider(media.render_video("bench"), media.render_thumbnail("bench"))
    app = lambdas.load_function("generation_worker")
    # Polls at most 0 s apart: the figure measures the worker's work, not its waiting (the
    # schedule would wait for sora-2's typical time before the first poll; figure 7 measures
    # it). With 1 s, every round ended idling a second for its last polls, which the floor,
    # sending them with no delay, never did.
    settings = get_settings().model_copy(update={"poll_max_delay_seconds": 0})
    handler = app.build_handler(
        GenerationWorker(providers=lambda name, key: provider, sender=SqsQueueSender(), settings=settings)
    )
    from devstack.poller import sqs_record  # noqa: PLC0415

    queue_arn = lambdas.event("generation_worker.sqs-batch")["Records"][0]["eventSourceARN"]

    def handle(messages: list[dict[str, Any]]) -> set[str]:
        result = handler({"Records": [sqs_record(m, queue_arn) for m in messages]}, lambdas.CONTEXT)
        return {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}

    return handle


class FloorWorker:
    """The state machine's DB transitions in plain psycopg, plus the same SQS send per step."""

    def __init__(self, conninfo: str, stack: Stack) -> None:
        self.conn = psycopg.connect(conninfo, prepare_threshold=None)
        self.sqs = stack.client("sqs")
        self.queue_url = stack.queue_url
        self.statements = 0

    def close(self) -> None:
        self.conn.close()

    def _exec(self, sql: Any, params: Any) -> Any:
        self.statements += 1
        return self.conn.execute(sql, params).fetchone()

    def submit(self, job_id: str) -> None:
        with self.conn.transaction():
            if self._exec(SQL_CLAIM, (job_id,)) is None:
                return
            key = self._exec(SQL_KEY, (USER, "openai"))
            self._exec(SQL_TOUCH_KEY, (key[0],))
        with self.conn.transaction():
            metadata = Jsonb({"polls": 0, "next_poll_at": None})
            self._exec(SQL_PROCESSING, (f"video_{job_id}", metadata, job_id))
        body = json.dumps({"jobId": job_id, "step": "poll"})
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body, DelaySeconds=0)

    def poll(self, job_id: str) -> None:
        with self.conn.transaction():
            if self._exec(SQL_LEASE, (job_id,)) is None:
                return
            video, thumb = f"videos/{job_id}/video.mp4", f"videos/{job_id}/thumbnail.png"
            self._exec(SQL_COMPLETED, (video, thumb, 0.4, job_id))

    def handle(self, messages: list[dict[str, Any]]) -> set[str]:
        for m in messages:
            body = json.loads(m["Body"])
            (self.submit if body["step"] == "submit" else self.poll)(body["jobId"])
        return set()


@dataclass
class Bench:
    stack: Stack
    conninfo: str
    board_id: uuid.UUID


def _run_side(side: Side, bench: Bench, n: int, handle: Any) -> None:
    ids = queue_jobs(bench.conninfo, bench.stack, bench.board_id, n)
    start = time.perf_counter()
    drain(bench.stack, handle, all_completed(bench.conninfo, ids))
    side.seconds += time.perf_counter() - start
    side.jobs += n


def run(report: Report, stack: Stack, *, jobs: int) -> None:
    """Alternate worker and floor in two rounds of ``jobs // 2`` each; rows for throughput."""
    print(f"\n== 4. worker throughput: {jobs} jobs per side, submit + poll to completion, SQS/S3/KMS in moto")
    conninfo = stack.conninfo()
    aws = AwsCallCounter()
    aws.install()
    bench = Bench(stack, conninfo, seed(conninfo))
    stack.purge_queue()
    worker, floor = Side("worker"), Side("floor")
    from videogen.data.db import get_engine  # noqa: PLC0415

    handle = worker_handler()
    floor_worker = FloorWorker(conninfo, stack)
    counter, layers = StatementCounter(), LayerTimer()
    try:
        with quiet_stdout():
            for _ in range(2):
                aws.clear()
                with counter.watch(get_engine()), layers.wrapped():
                    _run_side(worker, bench, jobs // 2, handle)
                worker.statements += counter.count
                worker.aws_calls.update(aws.calls)
                for name, seconds in aws.seconds.items():
                    worker.aws_seconds[name] += seconds
                _run_side(floor, bench, jobs // 2, floor_worker.handle)
        floor.statements = floor_worker.statements
    finally:
        floor_worker.close()
    _report(report, worker, floor, layers)


def _per_job(side: Side, layers: LayerTimer) -> str:
    """``keys.decrypt_for_user 2.0 x 9.6 ms (kms.Decrypt 4.4 ms)``: per job, with the API time."""
    api = {
        "uploads.upload_stream": "s3.PutObject",
        "uploads.upload_thumbnail": "s3.PutObject",
        "keys.decrypt_for_user": "kms.Decrypt",
    }
    parts = []
    for name in sorted(layers.calls):
        calls = layers.calls[name]
        inner = api[name]
        parts.append(
            f"{name} {calls / side.jobs:.1f} x {layers.seconds[name] / calls * 1000:.1f} ms "
            f"({inner} {side.aws_seconds[inner] / max(side.aws_calls[inner], 1) * 1000:.1f} ms)"
        )
    return "; ".join(parts) or "none"


def _report(report: Report, worker: Side, floor: Side, layers: LayerTimer) -> None:
    throughput = ratio(worker.jobs_per_second, floor.jobs_per_second)
    report.add(
        Row(
            "4 worker: jobs/s to completed",
            worker.jobs_per_second,
            floor.jobs_per_second,
            throughput,
            f"ratio >= {THROUGHPUT_BUDGET}",
            throughput is not None and throughput >= THROUGHPUT_BUDGET,
            "jobs/s",
            f"{worker.jobs} jobs in {worker.seconds:.1f} s vs floor {floor.jobs} in {floor.seconds:.1f} s",
        )
    )
    own_ms = (worker.seconds - layers.wall_seconds()) / worker.jobs * 1000
    floor_ms = floor.seconds / floor.jobs * 1000
    report.add(
        Row(
            "4 worker: ms per job outside KMS and S3",
            own_ms,
            floor_ms,
            ratio(own_ms, floor_ms),
            "-",
            None,
            "ms",
            "per job, time outside the layer's KMS and S3 functions (overlapping uploads counted "
            "once): " + _per_job(worker, layers),
        )
    )
    report.add(
        Row(
            "4 worker: statements per job",
            worker.statements / worker.jobs,
            floor.statements / floor.jobs,
            ratio(worker.statements / worker.jobs, floor.statements / floor.jobs),
            "<= floor + 2",
            worker.statements / worker.jobs <= floor.statements / floor.jobs + 2,
            "stmts",
            "the floor: claim, key read, key touch, processing, lease, completed",
        )
    )
