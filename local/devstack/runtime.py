"""One Lambda function in its own process, the way a Lambda execution environment holds it.

``python -m devstack.runtime --name storyboards --code-uri functions/storyboards`` imports the
function's ``app.py`` by file path (its folder first on ``sys.path``, as Lambda does) with
exactly the environment the stack gives it (the template's variables with local values), and
serves Lambda's Invoke API on loopback, as the Runtime Interface Emulator does::

    POST /2015-03-31/functions/function/invocations   (body: the event; answer: the result)

One invocation at a time, as in one execution environment: module state (the resolver's
``current_event``, the engine) is never shared between concurrent requests. An unhandled
exception answers Lambda's error payload with ``X-Amz-Function-Error: Unhandled``; an
invocation that outlives the function's Timeout ends the process ("Task timed out"), and the
stack starts a fresh one, as Lambda resets the environment.

The gateway and the poller call :func:`invoke`.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from devstack.intrinsics import ACCOUNT_ID, REGION
from devstack.logs import configure_logging, ready_line, stop_requested
from tools.functions import import_handler_module

INVOKE_PATH = "/2015-03-31/functions/function/invocations"
TIMED_OUT_EXIT = 124
logger = logging.getLogger("devstack.runtime")

Handler = Callable[[Any, Any], Any]


@dataclass
class LambdaContext:
    """The context object Lambda passes a handler (the attributes Powertools reads)."""

    function_name: str
    memory_limit_in_mb: int
    aws_request_id: str
    deadline: float
    function_version: str = "$LATEST"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return time.strftime("%Y/%m/%d/[$LATEST]local")

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def load_handler(code_uri: Path, handler: str, name: str) -> Handler:
    """Import the Handler's module (``code_uri`` kept first on ``sys.path``); return its handler."""
    module_file, _, attribute = handler.rpartition(".")
    module = import_handler_module(
        code_uri, module_file, name=f"devstack_function_{name}_{module_file}", keep_on_path=True
    )
    found: Handler = getattr(module, attribute)
    return found


@dataclass
class FunctionHost:
    """Runs one handler, one invocation at a time, within the function's timeout."""

    name: str
    handler: Handler
    timeout: int
    memory_size: int

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def run(self, event: Any) -> tuple[Any, bool]:
        """``(result, failed)``: the handler's result, or Lambda's error payload."""
        with self._lock:
            request_id = str(uuid.uuid4())
            context = LambdaContext(self.name, self.memory_size, request_id, time.monotonic() + self.timeout)
            watchdog = threading.Timer(self.timeout, self._timed_out, args=(request_id,))
            watchdog.daemon = True
            watchdog.start()
            try:
                return self.handler(event, context), False
            except Exception as exc:  # reported to the caller, as Lambda does
                traceback.print_exc()
                return {
                    "errorMessage": str(exc),
                    "errorType": type(exc).__name__,
                    "requestId": request_id,
                    "stackTrace": traceback.format_tb(exc.__traceback__),
                }, True
            finally:
                watchdog.cancel()

    def _timed_out(self, request_id: str) -> None:
        sys.stderr.write(f"{request_id} Task timed out after {self.timeout:.2f} seconds\n")
        sys.stderr.flush()
        os._exit(TIMED_OUT_EXIT)


def _request_handler(host: FunctionHost) -> type[BaseHTTPRequestHandler]:
    class InvokeHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            if self.path != INVOKE_PATH:
                self._answer(404, {"message": "Not Found"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            try:
                event = json.loads(raw)
            except json.JSONDecodeError:
                self._answer(400, {"errorType": "InvalidRequestContentException"})
                return
            result, failed = host.run(event)
            self._answer(200, result, {"X-Amz-Function-Error": "Unhandled"} if failed else {})

        def _answer(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            body = json.dumps(payload, default=str).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return InvokeHandler


# --- the client the gateway and the poller use ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Invocation:
    """What an invocation returned: the payload, and whether the function failed."""

    payload: Any
    function_error: bool


class InvocationFailed(Exception):
    """The runtime could not be reached or did not answer in time (``timed_out``)."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


def invoke(url: str, event: Any, timeout: float) -> Invocation:
    """Invoke the function served at ``url`` with ``event`` (synchronously, like RequestResponse)."""
    target = urlsplit(url)
    # http.client, not urllib: a loopback call must never go through an HTTP(S)_PROXY.
    connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=timeout)
    try:
        connection.request(
            "POST", INVOKE_PATH, body=json.dumps(event).encode(), headers={"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        payload = json.loads(response.read() or b"null")
        failed = response.getheader("X-Amz-Function-Error") is not None
    except (OSError, http.client.HTTPException, json.JSONDecodeError) as exc:
        raise InvocationFailed(
            f"{type(exc).__name__}: {exc}", timed_out=isinstance(exc, TimeoutError)
        ) from exc
    finally:
        connection.close()
    return Invocation(payload, failed)


# --- the process ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Import the function, serve invocations until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m devstack.runtime", description=__doc__)
    parser.add_argument("--name", required=True, help="function name (its folder)")
    parser.add_argument("--code-uri", type=Path, required=True)
    parser.add_argument("--handler", default="app.lambda_handler")
    parser.add_argument("--timeout", type=int, default=3)
    parser.add_argument("--memory-size", type=int, default=128)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    configure_logging()

    started = time.monotonic()
    handler = load_handler(args.code_uri.resolve(), args.handler, args.name)
    host = FunctionHost(args.name, handler, args.timeout, args.memory_size)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), _request_handler(host))
    server.daemon_threads = True
    stopped = stop_requested()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    port = server.server_address[1]
    logger.debug("imported %s in %.2f s", args.name, time.monotonic() - started)
    ready_line({"function": args.name, "url": f"http://127.0.0.1:{port}"})
    stopped.wait()
    with contextlib.suppress(Exception):
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
