"""``python -m devstack.gateway``: serve template.yaml's HTTP API on 127.0.0.1 until SIGTERM or SIGINT.

``python -m devstack.gateway --port 3000 --function StoryboardsFunction=http://127.0.0.1:PORT``
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from devstack.gateway.api import Gateway
from devstack.gateway.server import serve
from devstack.logs import configure_logging, named_values, ready_line, stop_requested
from devstack.ratelimit import DEFAULT_PER_MINUTE, RateLimiter
from devstack.template import load
from devstack.webapp import WebApp

logger = logging.getLogger("devstack.gateway")


def main(argv: list[str] | None = None) -> int:
    """Serve the API on 127.0.0.1:PORT until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m devstack.gateway", description=__doc__)
    parser.add_argument("--template", type=Path, default=Path("template.yaml"))
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--function", action="append", default=[], help="LogicalId=runtime URL")
    parser.add_argument(
        "--web-root", type=Path, help="the web app's files (default: web/ beside the template)"
    )
    parser.add_argument("--media-origin", action="append", default=[], help="where clips play from (CSP)")
    parser.add_argument(
        "--rate-limit", type=int, default=DEFAULT_PER_MINUTE, help="requests a minute per caller (0: off)"
    )
    parser.add_argument("--parameter", action="append", default=[], help="template Parameter=value")
    args = parser.parse_args(argv)
    configure_logging()

    web_root = args.web_root or args.template.resolve().parent / "web"
    web = WebApp(web_root, media_origins=args.media_origin) if web_root.is_dir() else None
    limiter = RateLimiter(per_minute=args.rate_limit)
    gateway = Gateway(
        load(args.template, named_values(args.parameter)),
        named_values(args.function),
        web=web,
        limiter=limiter,
    )
    try:
        server = serve(gateway, args.port)
    except OSError as exc:
        logger.error("cannot listen on 127.0.0.1:%d (%s); set PORT to a free port", args.port, exc.strerror)
        return 2
    stopped = stop_requested()
    ready_line({"url": f"http://127.0.0.1:{server.server_address[1]}"})
    stopped.wait()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
