"""The Powertools logger, tracer and metrics every function shares (API and worker alike).

Kept apart from ``videogen.api.resolver`` so that the generation worker, sweeper and DLQ consumer log
and count through the same objects without importing the HTTP resolver machinery.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any, cast

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from videogen.runtime.config import get_settings

# Functions that emit no business metric on a request are normal, not worth a warning per call.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger()
# Patch only what the functions call out through (AWS SDK): Tracer() by default patches every
# library it knows, which imports requests & co. into every cold start for nothing.
tracer = Tracer(patch_modules=["botocore"])
metrics = Metrics(namespace=get_settings().powertools_metrics_namespace)


def lambda_entry[E, R](handle: Callable[[E, LambdaContext], R]) -> Callable[[E, LambdaContext], R]:
    """``handle`` as a Lambda entry point: the Lambda context in every log line, the handler
    traced, the metrics it added flushed (also when it raises). Every function's entry goes
    through here (``http.api_handler``, ``sqs.sqs_batch_handler``, the sweeper).

    Decided once per container, not per invocation: the handler subsegment is only wrapped on
    when tracing is on (a disabled Tracer still opens a dummy subsegment per call), and metrics
    are flushed when something was added (Powertools' ``log_metrics`` flushes nothing either
    then, but warns on every call)."""

    def flushed(event: E, context: LambdaContext) -> R:
        try:
            return handle(event, context)
        finally:
            if metrics.metric_set:
                metrics.flush_metrics()

    traced = flushed if tracer.disabled else tracer.capture_lambda_handler(capture_response=False)(flushed)
    return cast(Callable[[E, LambdaContext], R], logger.inject_lambda_context(cast(Any, traced)))


def emit_metric(
    name: str, dimensions: Mapping[str, str], value: float = 1, unit: MetricUnit = MetricUnit.Count
) -> None:
    """Publish one metric at once, in its own EMF document with its own ``dimensions``.

    For workers whose batch mixes dimension values (one provider per job):
    ``metrics.add_dimension`` would apply one value to every metric of the flush. Safe from the
    worker's record threads: Powertools prints the document and its newline as two writes, so
    the print holds the log handler's lock, and no other document or log line lands between.
    """
    handler = logger.registered_handler
    handler.acquire()
    try:
        with single_metric(
            name=name,
            unit=unit,
            value=value,
            namespace=get_settings().powertools_metrics_namespace,
            default_dimensions=dict(dimensions),
        ):
            pass
    finally:
        handler.release()


__all__ = ["emit_metric", "lambda_entry", "logger", "metrics", "tracer"]
