"""The soak run's users (``bench/soak.py``): what each one does in a loop, and how its jobs and films
ended. Every generate carries a prompt of its own, so a provider job created twice shows."""

from __future__ import annotations

import json
import random
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PROVIDER_ID = re.compile(r"/api/keys/[a-z]+$")
TERMINAL = {"completed", "failed", "cancelled"}


def route_of(path: str) -> str:
    """The documented route of a request path (``/api/storyboards/{id}``)."""
    path = path.split("?", 1)[0]
    if PROVIDER_ID.search(path):
        return "/api/keys/{provider}"
    path = re.sub(r"/api/video/(status|jobs)/" + ID.pattern, r"/api/video/\1/{jobId}", path)
    return ID.sub("{id}", path)


@dataclass
class Call:
    method: str
    route: str
    status: int
    seconds: float


@dataclass
class Client:
    base_url: str

    def call(
        self, method: str, path: str, user: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[Call, Any]:
        data = None if body is None else json.dumps(body).encode()
        all_headers = {"X-Dev-User": user, "Content-Type": "application/json"} | (headers or {})
        request = urllib.request.Request(self.base_url + path, data=data, headers=all_headers, method=method)  # noqa: S310
        started = time.monotonic()
        try:
            with OPENER.open(request, timeout=60) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        call = Call(method, route_of(path), status, time.monotonic() - started)
        try:
            return call, json.loads(raw) if raw else None
        except json.JSONDecodeError:
            return call, None

    def get_json(self, url: str) -> Any:
        with OPENER.open(url, timeout=30) as response:
            return json.loads(response.read())

    @staticmethod
    def fake_origin(lines: list[str], provider: str) -> str:
        for line in lines:
            words = line.split()
            if "fake" in words and provider in words:
                return str(words[words.index(provider) + 1]).removesuffix("/v1")
        raise RuntimeError(f"no fake {provider} in the stack's output")


@dataclass
class User:
    """One user of the soak run: a few storyboards, edited and generated in a loop."""

    client: Client
    name: str
    rng: random.Random
    calls: list[Call] = field(default_factory=list)
    boards: dict[str, int] = field(default_factory=dict)  # id -> version last read
    jobs: set[str] = field(default_factory=set)
    films: set[str] = field(default_factory=set)
    generated_all: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        call, answer = self.client.call(method, path, self.name, body, headers)
        with self._lock:
            self.calls.append(call)
        return answer if 200 <= call.status < 300 else None

    def run(self, stop: threading.Event) -> None:
        self.send("PUT", "/api/keys/openai", {"apiKey": f"sk-soak-{uuid.uuid4().hex[:20]}"})
        actions = [
            self.create,
            self.read,
            self.read,
            self.list,
            self.save,
            self.save,
            self.generate,
            self.generate_all,
            self.cancel,
            self.compile,
            self.status,
            self.delete,
        ]
        while not stop.is_set():
            if len(self.boards) < 2:
                self.create()
            self.rng.choice(actions)()
            time.sleep(self.rng.uniform(0.05, 0.3))

    def board(self) -> str | None:
        return self.rng.choice(sorted(self.boards)) if self.boards else None

    def create(self) -> None:
        take = uuid.uuid4().hex[:10]
        scenes = [{"id": f"scene-{n}", "prompt": f"Soak take {take}, shot {n}"} for n in (1, 2)]
        body = {"name": f"Soak {take}", "presetKey": "noir", "character": {"name": "Ada"}, "scenes": scenes}
        answer = self.send("POST", "/api/storyboards", body)
        if answer:
            self.boards[answer["storyboard"]["id"]] = answer["storyboard"]["version"]

    def read(self) -> None:
        if (board := self.board()) and (answer := self.send("GET", f"/api/storyboards/{board}")):
            self.boards[board] = answer["storyboard"]["version"]

    def list(self) -> None:
        self.send("GET", "/api/storyboards?limit=10")

    def save(self) -> None:
        if board := self.board():
            body = {"name": f"Soak edit {uuid.uuid4().hex[:6]}"}
            answer = self.send(
                "PATCH", f"/api/storyboards/{board}", body, {"If-Match": str(self.boards[board])}
            )
            if answer:
                self.boards[board] = answer["storyboard"]["version"]

    def generate(self) -> None:
        if board := self.board():
            prompt = f"Soak shot {uuid.uuid4().hex[:12]}"
            body = {"storyboardId": board, "sceneId": "scene-1", "provider": "openai", "prompt": prompt}
            if answer := self.send("POST", "/api/video/generate", body):
                self.jobs.add(answer["jobId"])

    def generate_all(self) -> None:
        # Once per storyboard: its scenes' prompts are its own, so a prompt the provider was asked
        # to create twice is a job created twice (single generates carry a prompt of their own).
        board = self.board()
        if board is None or board in self.generated_all:
            return
        self.generated_all.add(board)
        if answer := self.send("POST", f"/api/storyboards/{board}/generate", {"provider": "openai"}):
            self.jobs |= {job["jobId"] for job in answer.get("jobs", []) if job.get("jobId")}

    def cancel(self) -> None:
        if self.jobs:
            self.send("POST", f"/api/video/jobs/{self.rng.choice(sorted(self.jobs))}/cancel")

    def compile(self) -> None:
        if (board := self.board()) and (answer := self.send("POST", f"/api/storyboards/{board}/compile")):
            self.films.add(answer["compiledVideoId"])

    def status(self) -> None:
        if self.jobs:
            self.send("GET", f"/api/video/status/{self.rng.choice(sorted(self.jobs))}")

    def delete(self) -> None:
        if (
            len(self.boards) > 1
            and (board := self.board())
            and self.send("DELETE", f"/api/storyboards/{board}")
        ):
            del self.boards[board]

    def settle(self, seconds: float) -> dict[str, dict[str, str]]:
        """How each job and film ended, waiting up to ``seconds``; ``stuck`` for one that did not,
        ``deleted`` for one whose storyboard was deleted (it went with it)."""
        deadline = time.monotonic() + seconds
        ends: dict[str, dict[str, str]] = {"jobs": {}, "films": {}}
        for kind, ids, path in (
            ("jobs", self.jobs, "/api/video/status/"),
            ("films", self.films, "/api/compiled-videos/"),
        ):
            for item in sorted(ids):
                while True:
                    call, answer = self.client.call("GET", path + item, self.name)
                    if call.status == 404:
                        ends[kind][item] = "deleted"
                        break
                    status = (answer or {}).get("status")
                    if status in TERMINAL:
                        ends[kind][item] = status
                        break
                    if time.monotonic() > deadline:
                        ends[kind][item] = "stuck"
                        break
                    time.sleep(1)
        return ends
