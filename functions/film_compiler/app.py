"""SQS consumer of film steps: each record is one ``{"filmId", "step", "clip"?}`` for videogen.films,
or a continuing job's ``{"jobId", "step": "frame"}`` (its first frame, from the previous clip).

Partial batch responses (``ReportBatchItemFailures``): a record whose handler raises is the
only one SQS redelivers. A body that is not a film step (bad JSON, an extra field) is poison
and fails its record; a step for a film that no longer exists is acknowledged. The only
function that imports PyAV (this folder's requirements.txt).
"""

from __future__ import annotations

from videogen.films.compiler import FilmCompiler
from videogen.messaging.messages import FilmStepMessage, FrameMessage
from videogen.runtime.sqs_entry import Handler, step_consumer


def parse(body: str) -> FilmStepMessage | FrameMessage:
    """A film step or a frame step; ``ValueError`` for anything else (poison)."""
    try:
        return FrameMessage.from_body(body)
    except ValueError:
        return FilmStepMessage.from_body(body)


def build_handler(compiler: FilmCompiler | None = None) -> Handler:
    """The Lambda entry point; ``compiler`` defaults to the real queues and clock."""
    runner = compiler or FilmCompiler()
    return step_consumer(parse, runner.run, "film step")


lambda_handler = build_handler()
