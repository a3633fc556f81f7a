"""The gateway over HTTP: a threading server on loopback that hands every request to a Gateway."""

from __future__ import annotations

import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from devstack.gateway.api import Gateway
from devstack.gateway.payload import Request, Response

logger = logging.getLogger("devstack.gateway")


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def _request_handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class GatewayHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "devstack-gateway"

        def _serve(self) -> None:
            started = time.monotonic()
            path, _, query = self.path.partition("?")
            request = Request(
                method=self.command,
                path=path,
                query=query,
                headers=tuple((k, v) for k, v in self.headers.items()),
                body=_read_body(self),
                source_ip=self.client_address[0],
            )
            response = gateway.handle(request)
            self._write(response, head_only=self.command == "HEAD")
            logger.info(
                "%s %s -> %s %d (%.0f ms)",
                request.method,
                self.path,
                gateway.function_name(request),
                response.status,
                (time.monotonic() - started) * 1000,
            )

        def _write(self, response: Response, *, head_only: bool) -> None:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            for cookie in response.cookies:
                self.send_header("set-cookie", cookie)
            self.send_header("content-length", str(len(response.body)))
            self.end_headers()
            if not head_only:
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

        def __getattr__(self, name: str) -> Any:
            # Any other method (TRACE, PROPFIND...) is routed too, so it meets API Gateway's own
            # 404 instead of http.server's 501 page.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return GatewayHandler


def serve(gateway: Gateway, port: int) -> ThreadingHTTPServer:
    """Serve ``gateway`` on 127.0.0.1:``port`` (0: any free port) in a background thread."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _request_handler(gateway))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    return server
