"""``videogen.runtime.observability.lambda_entry``: the one wrapper every function's entry goes through."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from tests.support import FakeLambdaContext, emf_documents, emf_metric_names
from videogen.runtime.observability import lambda_entry, logger, metrics


def _context() -> Any:
    return FakeLambdaContext()


def test_a_metric_added_before_the_handler_fails_is_still_published(capfd):
    def handle(event, context):
        metrics.add_metric(name="ThingsTried", unit="Count", value=1)
        raise RuntimeError("boom")

    capfd.readouterr()
    with pytest.raises(RuntimeError, match="boom"):
        lambda_entry(handle)({}, _context())
    assert emf_metric_names(capfd.readouterr().out) == ["ThingsTried"]


def test_an_invocation_without_metrics_prints_no_document_and_no_warning(capfd):
    entry = lambda_entry(lambda event, context: {"ok": True})
    capfd.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert entry({}, _context()) == {"ok": True}
    assert emf_documents(capfd.readouterr().out) == []


def test_log_lines_inside_carry_the_lambda_request_id():
    context = _context()
    seen = lambda_entry(lambda event, context: logger.get_current_keys())({}, context)
    assert seen["function_request_id"] == context.aws_request_id
    assert seen["function_name"] == context.function_name
