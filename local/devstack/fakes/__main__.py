"""Run every fake provider until interrupted: ``python -m devstack.fakes --openai-port 4010``.

Prints one line per server (``openai http://127.0.0.1:4010/v1``, then ``vertex``, ``gemini``
and ``fal``) for the local stack to read, then serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import sys
from contextlib import ExitStack

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
    parser.add_argument("--verbose", action="store_true", help="log every request line")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")

    stopped = stop_requested()
    with ExitStack() as servers:
        for name, server_class in SERVERS.items():
            server = servers.enter_context(
                server_class(
                    host=args.host,
                    port=getattr(args, f"{name}_port"),
                    complete_after_polls=args.complete_after_polls,
                    complete_after_seconds=args.complete_after_seconds or None,
                )
            )
            sys.stdout.write(f"{name} {server.base_url}\n")
        sys.stdout.flush()
        stopped.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
