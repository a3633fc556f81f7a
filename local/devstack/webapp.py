"""The web app's static files (``web/``) and its runtime ``config.json``, served by the gateway.

Locally the files live on the API's origin, as CloudFront will serve them deployed: a GET or
HEAD of a path outside ``/api/`` that no template route claims is answered here.

- A file under the root is served with its content type (``text/javascript`` for modules),
  an ETag (304 on ``If-None-Match``) and ``Cache-Control: no-cache``: no build step hashes
  file names, so the browser revalidates instead of running a stale module.
- ``/config.json`` is the runtime configuration (``no-store``): the API base URL and the
  sign-in mode, here ``dev`` (the gateway maps ``X-Dev-User`` to the JWT ``sub``).
- An unknown path without a file extension is the SPA fallback (``index.html``), so a
  reload of ``/storyboards/<id>`` works; an unknown file is 404.
- Paths are joined safely: nothing outside the root is ever read (``..``, encoded or not,
  NUL bytes, symbolic links leading out).
- Every answer carries the security headers, with a CSP allowing only this origin plus the
  media origins (the local S3 that presigned clip URLs point to) and the sign-in domain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

API_PREFIX = "/api/"
CONFIG_PATH = "/config.json"
INDEX = "index.html"
DEV_CONFIG: Mapping[str, Any] = {"apiBaseUrl": "", "auth": {"mode": "dev"}}
CONTENT_TYPES: Mapping[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}


class Page(NamedTuple):
    """A static answer: status, headers, body."""

    status: int
    headers: dict[str, str]
    body: bytes


def origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute URL, None for a relative one."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def content_security_policy(config: Mapping[str, Any], media_origins: Sequence[str]) -> str:
    """Only this origin, plus the API and sign-in origins to talk to and the media origins (shown,
    and uploaded to)."""
    auth = config.get("auth") or {}
    talk_to = [
        o for o in (origin(str(config.get("apiBaseUrl") or "")), origin(str(auth.get("domain") or ""))) if o
    ]
    media = " ".join(("'self'", *media_origins))
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {media} data:",
            f"media-src {media}",
            # The media origins too: reference images go up to the bucket with a presigned POST.
            "connect-src " + " ".join(("'self'", *talk_to, *media_origins)),
            "font-src 'self'",
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        )
    )


class WebApp:
    """The files under ``root`` and ``config`` (``config.json``), with security headers."""

    def __init__(
        self, root: Path, config: Mapping[str, Any] = DEV_CONFIG, media_origins: Sequence[str] = ()
    ) -> None:
        self.root = root.resolve()
        self.config_body = json.dumps(config, separators=(",", ":")).encode()
        self.security_headers = {
            "content-security-policy": content_security_policy(config, media_origins),
            "x-content-type-options": "nosniff",
            "x-frame-options": "DENY",
            "referrer-policy": "no-referrer",  # the sign-in callback URL carries a one-time code
            "cross-origin-opener-policy": "same-origin",
            "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
        }

    def answer(self, method: str, path: str, if_none_match: str | None = None) -> Page | None:
        """The answer for a GET or HEAD of ``path``; None when it is not ours (an API path,
        another method), so the gateway answers as API Gateway would."""
        if method not in ("GET", "HEAD") or path.startswith(API_PREFIX) or path == API_PREFIX.rstrip("/"):
            return None
        if path == CONFIG_PATH:
            return self._page(200, "application/json", self.config_body, "no-store")
        found = self.resolve(path)
        if found is None:
            return self._page(404, "text/plain; charset=utf-8", b"Not found\n", "no-cache")
        etag = _etag(found)
        if if_none_match is not None and etag in [t.strip() for t in if_none_match.split(",")]:
            return Page(304, {"etag": etag, "cache-control": "no-cache", **self.security_headers}, b"")
        content_type = CONTENT_TYPES.get(found.suffix.lower(), "application/octet-stream")
        page = self._page(200, content_type, found.read_bytes(), "no-cache")
        page.headers["etag"] = etag
        return page

    def resolve(self, path: str) -> Path | None:
        """The file for a URL path: the file itself, ``index.html`` for a directory or an
        unknown extension-less path (SPA fallback), None for anything else."""
        decoded = unquote(path)
        if "\x00" in decoded or "\\" in decoded:
            return None
        parts = [p for p in PurePosixPath(decoded).parts if p not in ("/", ".")]
        if ".." in parts or any(p.startswith(".") for p in parts):
            return None
        candidate = self.root.joinpath(*parts).resolve()
        if not candidate.is_relative_to(self.root):
            return None  # a symbolic link leading out of the root
        if candidate.is_dir():
            candidate = candidate / INDEX
        if candidate.is_file():
            return candidate
        if parts and "." in parts[-1]:
            return None  # a missing file, not an app route
        index = self.root / INDEX
        return index if index.is_file() else None

    def _page(self, status: int, content_type: str, body: bytes, cache: str) -> Page:
        headers = {"content-type": content_type, "cache-control": cache, **self.security_headers}
        return Page(status, headers, body)


def _etag(path: Path) -> str:
    stat = path.stat()
    digest = hashlib.sha256(f"{path}:{stat.st_mtime_ns}:{stat.st_size}".encode()).hexdigest()[:16]
    return f'"{digest}"'
