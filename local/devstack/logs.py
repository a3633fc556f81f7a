"""The local stack's one console, each line prefixed with its part's name, and a child's protocol.

The protocol is small: a child announces readiness (below) and stops on SIGTERM or SIGINT.

Children write to their stdout/stderr; the stack reads both and prints ``[name] line``.
Powertools' JSON log lines are rendered as ``LEVEL message key=value ...`` (the fields a
person reads; timestamps, ARNs and cold-start flags left out), and CloudWatch metric (EMF)
lines are dropped. ``LOG_LEVEL`` (DEBUG, INFO, WARNING, ERROR) sets the level of every part.

A child announces it is ready with one ``devstack:ready {json}`` line (:func:`ready_line`),
which the stack reads and does not print.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import IO, Any

READY_PREFIX = "devstack:ready "
# Request lines of moto's werkzeug server, credential lookups: noise even when debugging.
_NOISY_LOGGERS = ("werkzeug", "botocore", "boto3", "urllib3", "s3transfer")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_QUIET_FIELDS = frozenset(
    {
        "level",
        "message",
        "timestamp",
        "location",
        "service",
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "correlation_id",
        "xray_trace_id",
        "sampling_rate",
        "exception",
        "exception_name",
        "stack_trace",
    }
)


def log_level() -> str:
    """``LOG_LEVEL`` from the environment, upper case, INFO when unset or unknown."""
    level = os.environ.get("LOG_LEVEL", "INFO").strip().upper()
    return level if level in LEVELS else "INFO"


def configure_logging() -> None:
    """Plain ``LEVEL message`` lines on stderr (the stack adds the prefix): the stack's own
    loggers at ``LOG_LEVEL``, libraries at WARNING as in Lambda's Python runtime (INFO when
    ``LOG_LEVEL=DEBUG``, e.g. the provider SDKs' request lines)."""
    level = log_level()
    root_level = "INFO" if level == "DEBUG" else "WARNING"
    logging.basicConfig(stream=sys.stderr, level=root_level, format="%(levelname)s %(message)s", force=True)
    logging.getLogger("devstack").setLevel(level)
    for noisy in _NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def stop_requested() -> threading.Event:
    """An event set when this child gets SIGTERM (the stack stopping) or SIGINT (Ctrl-C)."""
    stopped = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return stopped


def ready_line(payload: dict[str, Any]) -> None:
    """Tell the stack this child is ready, with what it needs to know (URLs, ports)."""
    sys.stdout.write(READY_PREFIX + json.dumps(payload) + "\n")
    sys.stdout.flush()


def named_values(arguments: list[str]) -> dict[str, str]:
    """A child's repeated ``--option NAME=value`` arguments as a dict."""
    return {name: value for name, _, value in (argument.partition("=") for argument in arguments)}


def parse_ready(line: str) -> dict[str, Any] | None:
    """The payload of a ready line, else ``None``."""
    if not line.startswith(READY_PREFIX):
        return None
    payload: dict[str, Any] = json.loads(line[len(READY_PREFIX) :])
    return payload


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, separators=(",", ":"))
    return text if text and " " not in text else json.dumps(text)


def render(line: str) -> list[str]:
    """A child's output line as the console shows it (none for a metrics line)."""
    stripped = line.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return [line.rstrip("\n")]
    try:
        record = json.loads(stripped)
    except json.JSONDecodeError:
        return [line.rstrip("\n")]
    if not isinstance(record, dict):
        return [line.rstrip("\n")]
    if "_aws" in record:
        return []  # a CloudWatch embedded metric: CloudWatch reads it, people do not
    if "level" not in record or "message" not in record:
        return [stripped]
    extras = " ".join(f"{k}={_value(v)}" for k, v in record.items() if k not in _QUIET_FIELDS)
    head = f"{record['level']} {record['message']}" + (f" {extras}" if extras else "")
    tail = str(record.get("exception") or record.get("stack_trace") or "")
    return [head, *("    " + t for t in tail.splitlines() if t)]


class Console:
    """Writes ``[name] text`` lines to one stream; safe from many threads."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream or sys.stdout
        # Re-entrant: a signal handler may print while the main thread is printing.
        self._lock = threading.RLock()
        self.width = 8

    def line(self, name: str, text: str) -> None:
        prefix = f"[{name}]".ljust(self.width + 2)
        with self._lock:
            self._stream.write(f"{prefix} {text}\n")
            self._stream.flush()

    def pump(self, name: str, stream: IO[str], on_line: Callable[[str], bool]) -> threading.Thread:
        """Copy ``stream`` to the console in a thread; lines ``on_line`` claims are not printed."""

        def run() -> None:
            for raw in stream:
                if on_line(raw):
                    continue
                for text in render(raw):
                    self.line(name, text)

        thread = threading.Thread(target=run, name=f"log-{name}", daemon=True)
        thread.start()
        return thread
