"""Run every fake provider until interrupted: ``python -m devstack.fakes --openai-port 4010``.

Prints one line per server (``openai http://127.0.0.1:4010/v1``, then ``vertex``, ``gemini``
and ``fal``) for the local stack to read, then serves until SIGINT or SIGTERM.

``--port-file`` keeps the ports across runs (the local stack's ``fake-ports.json``): a key saved
for the OpenAI-compatible fake names its URL, sealed with it, so the next ``make dev`` serves the
fake at the same address when the port is still free.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from devstack.fakes import FakeFalServer, FakeGeminiServer, FakeProviderServer, FakeSoraServer, FakeVeoServer
from devstack.logs import stop_requested

SERVERS: dict[str, type[FakeProviderServer]] = {
    "openai": FakeSoraServer,
    "vertex": FakeVeoServer,
    "gemini": FakeGeminiServer,
    "fal": FakeFalServer,
}
"""Each fake by the name it announces (``devstack.environment.FAKE_PROVIDERS``)."""


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, start every server, block until a stop signal."""
    parser = argparse.ArgumentParser(prog="python -m devstack.fakes", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    for name in SERVERS:
        parser.add_argument(f"--{name}-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--complete-after-seconds",
        type=float,
        default=5.0,
        help="jobs finish this long after creation (0: use --complete-after-polls)",
    )
    parser.add_argument("--complete-after-polls", type=int, default=2)
    parser.add_argument(
        "--port-file", type=Path, help="JSON of the ports to reuse, rewritten with those served"
    )
    parser.add_argument("--verbose", action="store_true", help="log every request line")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")

    saved = _saved_ports(args.port_file)
    stopped = stop_requested()
    with ExitStack() as servers:
        served: dict[str, int] = {}
        for name, server_class in SERVERS.items():
            options: dict[str, Any] = {
                "host": args.host,
                "complete_after_polls": args.complete_after_polls,
                "complete_after_seconds": args.complete_after_seconds or None,
            }
            port = getattr(args, f"{name}_port") or saved.get(name, 0)
            server = _start(servers, server_class, port, options)
            served[name] = int(server.origin.rpartition(":")[2])
            sys.stdout.write(f"{name} {server.base_url}\n")
        if args.port_file is not None:
            args.port_file.write_text(json.dumps(served))
        sys.stdout.flush()
        stopped.wait()
    return 0


def _saved_ports(path: Path | None) -> dict[str, int]:
    try:
        saved = json.loads(path.read_text()) if path is not None else {}
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in saved.items() if isinstance(v, int)} if isinstance(saved, dict) else {}


def _start(
    servers: ExitStack, server_class: type[FakeProviderServer], port: int, options: dict[str, Any]
) -> FakeProviderServer:
    """The server on ``port``, or on a free one when that is taken."""
    try:
        return servers.enter_context(server_class(port=port, **options))
    except OSError:
        return servers.enter_context(server_class(port=0, **options))


if __name__ == "__main__":
    sys.exit(main())
