"""Run both fake providers until interrupted: ``python -m devstack.fakes --sora-port 4010``.

Prints one line per server (``sora http://127.0.0.1:4010/v1``) for the local stack to
read, then serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import sys

from devstack.fakes import FakeSoraServer, FakeVeoServer
from devstack.logs import stop_requested


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, start both servers, block until a stop signal."""
    parser = argparse.ArgumentParser(prog="python -m devstack.fakes", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--sora-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--veo-port", type=int, default=0, help="0 picks a free port")
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

    after_seconds = args.complete_after_seconds or None
    stopped = stop_requested()
    with (
        FakeSoraServer(
            host=args.host,
            port=args.sora_port,
            complete_after_polls=args.complete_after_polls,
            complete_after_seconds=after_seconds,
        ) as sora,
        FakeVeoServer(
            host=args.host,
            port=args.veo_port,
            complete_after_polls=args.complete_after_polls,
            complete_after_seconds=after_seconds,
        ) as veo,
    ):
        sys.stdout.write(f"sora {sora.base_url}\nveo {veo.base_url}\n")
        sys.stdout.flush()
        stopped.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
