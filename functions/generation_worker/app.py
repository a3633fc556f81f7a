"""SQS consumer of generation steps: each record is one ``{"jobId", "step"}`` (or an endpoint's
``{"keyId", "providerJobId", "step": "push"}``) for videogen.generation.

Partial batch responses (``ReportBatchItemFailures``): a record whose handler raises is the
only one SQS redelivers. The records of a batch run at once (``WORKER_RECORD_CONCURRENCY``,
the event source's batch size): a finished job's video does not wait for the batch's others.
A body that is not a step message (bad JSON, an extra field) is poison and fails its record;
a step for a job that no longer exists is acknowledged.
"""

from __future__ import annotations

from videogen.generation.worker import GenerationWorker
from videogen.messaging.messages import parse_generation
from videogen.runtime.sqs_entry import Handler, step_consumer


def build_handler(worker: GenerationWorker | None = None) -> Handler:
    """The Lambda entry point; ``worker`` defaults to the real providers, SQS and clock."""
    runner = worker or GenerationWorker()
    concurrency = runner.config.worker_record_concurrency
    return step_consumer(parse_generation, runner.run, "generation step", concurrency=concurrency)


lambda_handler = build_handler()
