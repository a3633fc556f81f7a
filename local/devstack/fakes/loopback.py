"""The fakes' HTTP plumbing: a threading server on loopback in a daemon thread, its requests and responses."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self
from urllib.parse import parse_qsl, urlsplit

logger = logging.getLogger("devstack.fakes")


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> dict[str, Any]:
        """The body parsed as a JSON object (empty when there is none)."""
        if not self.body:
            return {}
        value = json.loads(self.body)
        return value if isinstance(value, dict) else {}


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, payload: object, headers: dict[str, str] | None = None) -> Response:
    """A JSON response with the given status."""
    return Response(status, json.dumps(payload).encode(), headers=headers or {})


class LoopbackServer:
    """A ThreadingHTTPServer on ``host:port`` in a daemon thread; subclasses answer in ``dispatch``.

    ``with Server(...) as server:`` starts it (or ``start()`` and ``stop()``); ``base_url`` is its
    origin plus ``base_path``, the API's path prefix. A request that raises gets a JSON 500.
    """

    base_path: ClassVar[str] = ""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._address = (host, port)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def dispatch(self, request: Request) -> Response:
        """Answer one request."""
        raise NotImplementedError

    def start(self) -> str:
        """Bind and serve in a daemon thread; returns ``base_url``."""
        if self._server is None:
            server = ThreadingHTTPServer(self._address, _handler_for(self))
            server.daemon_threads = True
            self._server = server
            self._thread = threading.Thread(
                # A short poll interval keeps stop() (and each test's teardown) quick.
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=type(self).__name__,
                daemon=True,
            )
            self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>`` of the running server."""
        if self._server is None:
            raise RuntimeError("the fake server is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        """The base URL an SDK client takes (origin plus the API's path prefix)."""
        return self.origin + self.base_path


def _handler_for(fake: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs' pools expect
        # Headers and body go out in two writes; without this, Nagle + delayed ACK add 40 ms.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                method=self.command,
                path=parts.path,
                query=dict(parse_qsl(parts.query)),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            try:
                response = fake.dispatch(request)
            except Exception:
                logger.exception("fake provider failed on %s %s", request.method, request.path)
                response = json_response(500, {"error": {"message": "fake provider crashed"}})
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        def log_message(self, format: str, *args: Any) -> None:
            # Method, path and status only: headers (and so keys) are never logged.
            logger.debug("%s " + format, type(fake).__name__, *args)

    return Handler
