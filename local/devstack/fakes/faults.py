"""What a fake provider is told to do: the script each prompt follows, failures queued per route."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Literal

from devstack.fakes.jobs import MARKERS, Script

Route = Literal["create", "poll", "list", "content", "cancel", "models", "webhooks"]


@dataclass(frozen=True, slots=True)
class Injected:
    """A failure ``fail_next`` queued: the next ``times`` requests to a route get ``status``."""

    status: int
    retry_after: float | None
    times: int


class Faults:
    """Scripts by prompt marker (``MARKERS`` built in), failures queued per route, creates per prompt."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, Script] = dict(MARKERS)
        self._injected: dict[str, list[Injected]] = {}
        self._create_attempts: dict[str, int] = {}

    def script(self, marker: str, script: Script) -> None:
        """Prompts containing ``marker`` follow ``script`` (overrides a built-in marker)."""
        with self._lock:
            self._scripts[marker] = script

    def fail_next(
        self, route: Route, status: int, *, retry_after: float | None = None, times: int = 1
    ) -> None:
        """Answer the next ``times`` requests to ``route`` with HTTP ``status``."""
        with self._lock:
            self._injected.setdefault(route, []).append(Injected(status, retry_after, times))

    def script_for(self, prompt: str) -> Script:
        """The script a prompt selects (the last matching marker wins), else the default."""
        with self._lock:
            chosen = Script()
            for marker, script in self._scripts.items():
                if marker in prompt:
                    chosen = script
            return chosen

    def injected(self, route: Route) -> Injected | None:
        """Consume one failure queued for ``route``, if any."""
        with self._lock:
            queue = self._injected.get(route)
            if not queue:
                return None
            head = queue[0]
            if head.times <= 1:
                queue.pop(0)
            else:
                queue[0] = replace(head, times=head.times - 1)
            return head

    def create_status(self, prompt: str, script: Script) -> int | None:
        """The error status this create of ``prompt`` must answer, counting attempts per prompt."""
        with self._lock:
            attempt = self._create_attempts.get(prompt, 0) + 1
            self._create_attempts[prompt] = attempt
        if script.create_status is None:
            return None
        if script.create_status_times is None or attempt <= script.create_status_times:
            return script.create_status
        return None
