"""SQS consumer of generation steps: each record is one ``{"jobId", "step"}`` for videogen.generation.

Partial batch responses (``ReportBatchItemFailures``): a record whose handler raises is the
only one SQS redelivers. A body that is not a step message (bad JSON, an extra field) is
poison and fails its record; a step for a job that no longer exists is acknowledged.
"""

from __future__ import annotations

from videogen.generation.worker import GenerationWorker
from videogen.queue import StepMessage
from videogen.sqs import Handler, step_consumer


def build_handler(worker: GenerationWorker | None = None) -> Handler:
    """The Lambda entry point; ``worker`` defaults to the real providers, SQS and clock."""
    runner = worker or GenerationWorker()
    return step_consumer(StepMessage.from_body, runner.run, "generation step")


lambda_handler = build_handler()
