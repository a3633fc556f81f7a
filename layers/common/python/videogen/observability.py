"""The Powertools logger, tracer and metrics every function shares (API and worker alike).

Kept apart from ``videogen.http`` so that the generation worker, sweeper and DLQ consumer log
and count through the same objects without importing the HTTP resolver machinery.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from videogen.config import get_settings

# Functions that emit no business metric on a request are normal, not worth a warning per call.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger()
# Patch only what the functions call out through (AWS SDK): Tracer() by default patches every
# library it knows, which imports requests & co. into every cold start for nothing.
tracer = Tracer(patch_modules=["botocore"])
metrics = Metrics(namespace=get_settings().powertools_metrics_namespace)


def emit_metric(
    name: str, dimensions: Mapping[str, str], value: float = 1, unit: MetricUnit = MetricUnit.Count
) -> None:
    """Publish one metric at once, in its own EMF document with its own ``dimensions``.

    For workers whose batch mixes dimension values (one provider per job):
    ``metrics.add_dimension`` would apply one value to every metric of the flush.
    """
    with single_metric(
        name=name,
        unit=unit,
        value=value,
        namespace=get_settings().powertools_metrics_namespace,
        default_dimensions=dict(dimensions),
    ):
        pass


__all__ = ["emit_metric", "logger", "metrics", "tracer"]
