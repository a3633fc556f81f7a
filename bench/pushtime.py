"""Time to video measured on the running local stack (``make bench-push``), webhooks on against off.

Figure 7b models the push; this measures it end to end on this machine: the whole local stack
(gateway, functions in their own processes, SQS poller, PostgreSQL, moto) and the fake Gemini API,
fal and OpenAI-compatible endpoint, which finish a video ``PROVIDER_SECONDS`` after its create and
then push a signed webhook (the endpoint to the URL each user's key registered there, with the
secret saved beside the key). For each job: from the fake finishing (its creation on its own clock plus
``PROVIDER_SECONDS``, the same machine's clock) to the job's
``completed_at`` in the database, and the polls the worker made (``metadata.polls``). The same
storyboards run again on a stack started with ``WEBHOOKS=0`` (polls alone): the baseline of the
same run. Each job's model is a Veo 3.1 Fast (Gemini API), Seedance 2.0 Fast (fal) or sora-2
(OpenAI-compatible) clip.
Writes ``test-artifacts/push.json``.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
import urllib.request
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench.measure import percentile
from bench.soak import database_url, start_stack

REPO = Path(__file__).resolve().parent.parent
PROVIDER_SECONDS = 3
SCENES = 1  # per provider and user: three providers stay under the in-flight cap of five
USERS = 16
KEYS = {
    "veo": {"apiKey": "AIza-push-bench-0000000000wxyz", "api": "gemini"},
    "fal": {"apiKey": "fal-push:bench0000000000wxyz"},
    "openai": {"apiKey": "sk-push-bench-0000000000wxyz"},
}
FAKES = {"veo": "gemini", "fal": "fal", "openai": "openai"}
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(base: str, method: str, path: str, body: Any = None, user: str = "bench") -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)  # noqa: S310 - the stack's own URL
    request.add_header("X-Dev-User", user)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with OPENER.open(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def fake_origin(lines: list[str], name: str) -> str:
    for line in lines:
        words = line.split()
        if "fake" in words and name in words:
            return words[words.index(name) + 1].removesuffix("/v1")
    raise SystemExit(f"no fake {name} in the stack's output")


def run(webhooks: bool) -> dict[str, dict[str, float]]:
    """One stack, every job generated at once, then each provider's figures."""
    home = Path(tempfile.mkdtemp(prefix="videogen-push-"))
    home.chmod(0o755)
    knobs = {"FAKE_PROVIDER_SECONDS": str(PROVIDER_SECONDS), "WEBHOOKS": "1" if webhooks else "0"}
    process, base, lines = start_stack(home, **knobs)
    try:
        users, prompts = _generate(base, fake_origin(lines, "openai") if webhooks else None)
        rows = _wait_for(database_url(lines), users, len(prompts))
        finished = _finished(lines, prompts)
        return {provider: _figures(provider, rows, prompts, finished) for provider in KEYS}
    finally:
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()


def _generate(base: str, endpoint: str | None) -> tuple[list[str], dict[str, str]]:
    """Five jobs per user at most (the in-flight cap): several users, each with every key; with
    ``endpoint`` (the fake OpenAI-compatible one) each openai key's webhook registered there."""
    users = [f"push-{n}-{uuid.uuid4().hex[:6]}" for n in range(USERS)]
    prompts: dict[str, str] = {}
    for user in users:
        for provider, shared in KEYS.items():
            # Each user's endpoint key is its own project there: its webhooks reach its URL alone.
            key = shared | ({"apiKey": f"{shared['apiKey']}-{user}"} if provider == "openai" else {})
            saved = call(base, "PUT", f"/api/keys/{provider}", key, user)
            if provider == "openai" and endpoint is not None:
                secret = _register(endpoint, saved["webhookUrl"], key["apiKey"])
                call(base, "PUT", f"/api/keys/{provider}", key | {"webhookSecret": secret}, user)
    for user in users:
        for provider in KEYS:
            scenes = [
                {"id": f"s{n}", "prompt": f"Ada, {provider} shot {n} {uuid.uuid4().hex[:6]}"}
                for n in range(SCENES)
            ]
            body = {"name": provider, "presetKey": "cinematic", "scenes": scenes}
            board = call(base, "POST", "/api/storyboards", body, user)["storyboard"]["id"]
            prompts |= {s["prompt"]: provider for s in scenes}
            call(base, "POST", f"/api/storyboards/{board}/generate", {"provider": provider}, user)
    return users, prompts


def _register(endpoint: str, url: str, api_key: str) -> str:
    """Register ``url`` at the fake endpoint's dashboard for ``api_key``'s project; its secret."""
    request = urllib.request.Request(  # noqa: S310 - the fake's own loopback URL
        endpoint + "/__fake__/webhooks", data=json.dumps({"url": url}).encode(), method="POST"
    )
    request.add_header("Authorization", f"Bearer {api_key}")
    request.add_header("Content-Type", "application/json")
    with OPENER.open(request, timeout=30) as response:
        secret: str = json.loads(response.read())["secret"]
    return secret


def _wait_for(url: str, users: list[str], jobs: int) -> list[tuple[Any, ...]]:
    deadline = time.monotonic() + 600
    while True:
        with psycopg.connect(url) as conn:
            rows = conn.execute(
                "SELECT prompt, status, completed_at, (metadata->>'polls')::int FROM video_jobs"
                " WHERE user_id = ANY(%s)",
                (users,),
            ).fetchall()
        if len(rows) == jobs and all(r[1] in ("completed", "failed") for r in rows):
            return rows
        if time.monotonic() > deadline:
            raise SystemExit(f"jobs still running: {[r[1] for r in rows]}")
        time.sleep(1)


def _finished(lines: list[str], prompts: dict[str, str]) -> dict[str, datetime]:
    """When each fake job was done by the fake's clock: a fake without a webhook to send marks a
    job done only when polled, so its recorded completion would flatter polling."""
    finished = {}
    for name in set(FAKES.values()):
        for job in call(fake_origin(lines, name), "GET", "/__fake__/jobs")["jobs"]:
            if job["prompt"].startswith(tuple(prompts)):
                done = datetime.fromisoformat(job["createdAt"]) + timedelta(seconds=PROVIDER_SECONDS)
                finished[_scene_prompt(job["prompt"], prompts)] = done
    return finished


def _figures(
    provider: str, rows: list[tuple[Any, ...]], prompts: dict[str, str], finished: dict[str, datetime]
) -> dict[str, float]:
    mine = [r for r in rows if prompts.get(_scene_prompt(r[0], prompts)) == provider]
    late = [
        (r[2] - finished[_scene_prompt(r[0], prompts)]).total_seconds() for r in mine if r[1] == "completed"
    ]
    polls = [float(r[3] or 0) for r in mine]
    return {
        "jobs": len(mine),
        "completed": len(late),
        "p50": percentile(late, 0.5),
        "p95": percentile(late, 0.95),
        "polls_mean": sum(polls) / len(polls),
    }


def _scene_prompt(composed: str, prompts: dict[str, str]) -> str:
    """The scene prompt a job's composed prompt starts with (``Ada, ... Character: ...``)."""
    return next(p for p in prompts if composed.startswith(p))


def main() -> int:
    on = run(webhooks=True)
    off = run(webhooks=False)
    print(f"{'figure':<44}{'webhooks':>10}{'polls only':>12}{'ratio':>8}")
    for provider in KEYS:
        for label, key in (
            ("p95 after finish (s)", "p95"),
            ("p50 after finish (s)", "p50"),
            ("polls per job", "polls_mean"),
        ):
            pushed, polled = on[provider][key], off[provider][key]
            ratio = pushed / polled if polled else float("nan")
            print(f"{provider + ': ' + label:<44}{pushed:>10.2f}{polled:>12.2f}{ratio:>8.2f}")
    out = REPO / "test-artifacts" / "push.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps({"webhooks": on, "polls_only": off, "provider_seconds": PROVIDER_SECONDS}, indent=2)
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
