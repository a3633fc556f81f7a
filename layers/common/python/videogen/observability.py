"""The Powertools logger, tracer and metrics every function shares (API and worker alike).

Kept apart from ``videogen.http`` so that the generation worker, sweeper and DLQ consumer log
and count through the same objects without importing the HTTP resolver machinery.
"""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

from videogen.config import get_settings

# Functions that emit no business metric on a request are normal, not worth a warning per call.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger()
# Patch only what the functions call out through (AWS SDK): Tracer() by default patches every
# library it knows, which imports requests & co. into every cold start for nothing.
tracer = Tracer(patch_modules=["botocore"])
metrics = Metrics(namespace=get_settings().powertools_metrics_namespace)

__all__ = ["logger", "metrics", "tracer"]
