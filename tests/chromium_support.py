"""Run a script in a page of headless Chromium (Debian's) over the DevTools pipe; no sockets."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium")


class _Pipe:
    """The DevTools protocol on fds 3 (commands) and 4 (replies), messages ended by NUL."""

    def __init__(self, url: str) -> None:
        cmd_r, self._cmd_w = os.pipe()
        self._res_r, res_w = os.pipe()

        args = ["--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files"]
        # bash puts our pipe ends on fds 3 and 4, where the protocol wants them, then execs.
        self.process = subprocess.Popen(
            [
                "bash",  # dash takes single-digit fds only
                "-c",
                f'exec "$0" "$@" 3<&{cmd_r} 4>&{res_w}',
                str(CHROMIUM),
                *args,
                "--remote-debugging-pipe",
                url,
            ],
            pass_fds=(cmd_r, res_w),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(cmd_r)
        os.close(res_w)
        self._buffer = b""
        self._id = 0

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._cmd_w, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                chunk = os.read(self._res_r, 65536)
                if not chunk:
                    raise RuntimeError("chromium closed the DevTools pipe")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(reply["error"])
                return reply["result"]

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        os.close(self._cmd_w)
        os.close(self._res_r)


def run_in_page(folder: Path, script: str, timeout: float = 60.0) -> Any:
    """Open an empty page in ``folder`` (so relative URLs reach its files) and return what the
    JavaScript expression ``script`` (a promise is awaited) evaluates to."""
    page = folder / "page.html"
    page.write_text("<!doctype html><html><body></body></html>")
    url = page.as_uri()
    pipe = _Pipe(url)
    try:
        session = _attach(pipe, url, time.monotonic() + timeout)
        reply = pipe.call(
            "Runtime.evaluate", {"expression": script, "awaitPromise": True, "returnByValue": True}, session
        )
    finally:
        pipe.close()
    if "exceptionDetails" in reply:
        raise AssertionError(reply["exceptionDetails"]["text"])
    return reply["result"]["value"]


def _attach(pipe: _Pipe, url: str, deadline: float) -> str:
    """A session on the page once it has loaded ``url``."""
    session = None
    while time.monotonic() < deadline:
        if session is None:
            pages = [t for t in pipe.call("Target.getTargets")["targetInfos"] if t["type"] == "page"]
            if pages:
                session = pipe.call(
                    "Target.attachToTarget", {"targetId": pages[0]["targetId"], "flatten": True}
                )["sessionId"]
        if session is not None:
            state = pipe.call(
                "Runtime.evaluate",
                {"expression": "document.readyState + ' ' + location.href", "returnByValue": True},
                session,
            )["result"]["value"]
            if state == f"complete {url}":
                return str(session)
        time.sleep(0.05)
    raise TimeoutError(f"chromium did not load {url}")
