"""Figure 7, time to video: how long after the provider finishes a job it is ``completed``, and
how many polls that took, under today's rule and under the worker's schedule
(``pacing.first_poll_delay``, ``poll_facts``, ``poll_delay``, as submit.py and poll.py call
them), on simulated providers and a simulated clock: seeded, no sleeping, no I/O.

The providers: Sora jobs finish uniformly across 10 s - 5 min, wait queued at 0 % for up to a
fifth of that, then report progress like the fake (linear, truncated, at most 99) with its
1 s ``openai-poll-after-ms``; Veo jobs report nothing until done and finish around the model's
typical time (log-normal, median the catalog's figure, sigma 0.5, within 10 s - 5 min). Each
poll arrives up to a second after its delay (SQS and Lambda pick-up). Storing the video is
left out: it costs the same under any schedule (figure 4 measures the worker).

Push (figure 7b): jobs of the providers that push (Veo on the Gemini API, fal), finishing
around their typical time, with a webhook expected: the first poll waits for the 95th
percentile (``first_poll_delay(push=True)``) and the webhook moves a poll to now. Its arrival is
modelled, not measured: the provider sends up to ``PUSH_SEND_SECONDS`` after finishing, the
gateway, function and queue take up to ``PUSH_PATH_SECONDS``, and the worker picks the step up
like any poll. The same jobs with webhooks off run the fallback schedule, against today's.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.measure import percentile
from bench.report import Report, Row, ratio
from videogen import catalog
from videogen.generation.pacing import backoff_seconds, first_poll_delay, poll_delay, poll_facts, remembered
from videogen.messaging.messages import MAX_DELAY_SECONDS
from videogen.runtime.config import get_settings

SEED = 15
MODELS = ("sora-2", "sora-2-pro", "veo-3.1-generate-001", "veo-3.1-fast-generate-001")
PUSHING_MODELS = {
    "gemini": ("veo-3.1-generate-preview", "veo-3.1-fast-generate-preview"),
    "fal": ("seedance-2.0-fast", "kling-2.5-turbo-pro"),
}
PUSH_SEND_SECONDS = 0.5
PUSH_PATH_SECONDS = 0.3
SHORTEST, LONGEST = 10.0, 300.0
SORA_HINT_SECONDS = 1.0  # the fake's default openai-poll-after-ms
PICKUP_SECONDS = 1.0
GIVE_UP_POLLS = 10_000
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SimulatedJob:
    """The provider's side of one job: when it finishes and what it reports until then."""

    model: str
    provider: str
    finishes_at: float
    queued_for: float = 0.0

    def progress(self, at: float) -> int:
        """Like the Sora fake: linear in time once out of the queue, truncated, at most 99."""
        if self.provider != "openai" or at <= self.queued_for:
            return 0
        return min(99, int(100 * (at - self.queued_for) / (self.finishes_at - self.queued_for)))

    @property
    def hint(self) -> float | None:
        return SORA_HINT_SECONDS if self.provider == "openai" else None


@dataclass
class WorkerJob:
    """The worker's side: the columns ``pacing`` reads (a ``VideoJob``'s, in memory)."""

    provider: str
    model: str
    created_at: datetime = EPOCH
    metadata_: dict[str, Any] = field(default_factory=lambda: {"polls": 0, "submitted_at": EPOCH.isoformat()})


Schedule = Callable[[SimulatedJob, WorkerJob, float], int]
"""``(provider job, worker job, now in seconds) -> seconds to the next poll``; now 0 is the submit."""


def todays_rule(*, hints: bool) -> Schedule:
    """The rule before this schedule (main at e396ba2): the provider's hint replaced the backoff
    ``min(60, 10 * 1.5**polls)``; ``hints=False`` is the backoff alone (the poll budget)."""
    config = get_settings()

    def delay(provider: SimulatedJob, job: WorkerJob, now: float) -> int:
        if hints and provider.hint is not None:
            return min(MAX_DELAY_SECONDS, max(1, math.ceil(provider.hint)))
        polls = int(job.metadata_["polls"])
        initial, maximum = config.poll_initial_delay_seconds, config.poll_max_delay_seconds
        return min(MAX_DELAY_SECONDS, backoff_seconds(polls, initial=initial, maximum=maximum))

    return delay


def paced(provider: SimulatedJob, job: WorkerJob, now: float) -> int:
    """The worker's schedule, called as submit.py (now 0) and poll.py call it."""
    config = get_settings()
    initial, maximum = config.poll_initial_delay_seconds, config.poll_max_delay_seconds
    if now == 0:
        return first_poll_delay(job.model, hint=provider.hint, initial=initial, maximum=maximum)
    facts = poll_facts(
        job, EPOCH + timedelta(seconds=now), progress=provider.progress(now), hint=provider.hint
    )
    job.metadata_ |= remembered(facts)
    return poll_delay(facts, initial=initial, maximum=maximum)


def draw_jobs(count: int, seed: int = SEED) -> list[SimulatedJob]:
    rng = random.Random(seed)
    jobs = []
    for _ in range(count):
        model = rng.choice(MODELS)
        spec = catalog.get_model(model)
        if spec.typical_seconds is None:
            finishes = rng.uniform(SHORTEST, LONGEST)
            jobs.append(SimulatedJob(model, spec.provider, finishes, rng.uniform(0, 0.2) * finishes))
        else:
            finishes = spec.typical_seconds * math.exp(rng.gauss(0, 0.5))
            jobs.append(SimulatedJob(model, spec.provider, min(LONGEST, max(SHORTEST, finishes))))
    return jobs


@dataclass(frozen=True)
class Outcome:
    provider: str
    late: float
    """Seconds from the provider finishing to the poll that saw it."""
    polls: int


def run_job(
    provider: SimulatedJob, schedule: Schedule, rng: random.Random, *, arrives: float = math.inf
) -> Outcome:
    """One job's poll chain on the simulated clock, as the worker runs it; a webhook arriving at
    ``arrives`` (picked up) moves a poll to then, so that poll sees the job finished."""
    job = WorkerJob(provider.provider, provider.model)
    now = schedule(provider, job, 0.0) + rng.uniform(0, PICKUP_SECONDS)
    for polls in range(1, GIVE_UP_POLLS):
        if arrives <= now:
            return Outcome(provider.provider, arrives - provider.finishes_at, polls)
        job.metadata_["polls"] = polls  # the lease counts the poll before the provider is asked
        if now >= provider.finishes_at:
            return Outcome(provider.provider, now - provider.finishes_at, polls)
        now += schedule(provider, job, now) + rng.uniform(0, PICKUP_SECONDS)
    raise RuntimeError(f"{provider} not seen finished after {GIVE_UP_POLLS} polls")


def simulate(jobs: list[SimulatedJob], schedule: Schedule, seed: int = SEED) -> list[Outcome]:
    # One generator per job: its n-th poll is picked up as late under every schedule.
    return [run_job(job, schedule, random.Random(f"{seed}-{i}")) for i, job in enumerate(jobs)]


@dataclass(frozen=True)
class Summary:
    p50: float
    p95: float
    polls_mean: float
    polls_p95: float

    @classmethod
    def of(cls, outcomes: list[Outcome]) -> Summary:
        late = [o.late for o in outcomes]
        polls = [float(o.polls) for o in outcomes]
        return cls(
            percentile(late, 0.5), percentile(late, 0.95), sum(polls) / len(polls), percentile(polls, 0.95)
        )


def summaries(outcomes: list[Outcome]) -> dict[str, Summary]:
    """Per provider, then over all jobs."""
    groups = {
        name: [o for o in outcomes if o.provider == name] for name in sorted({o.provider for o in outcomes})
    }
    return {**{name: Summary.of(group) for name, group in groups.items()}, "all": Summary.of(outcomes)}


def paced_push(provider: SimulatedJob, job: WorkerJob, now: float) -> int:
    """The worker's schedule when a webhook is expected: the first poll at about the 95th
    percentile (``first_poll_delay(push=True)``), then ``paced``."""
    if now:
        return paced(provider, job, now)
    config = get_settings()
    initial, maximum = config.poll_initial_delay_seconds, config.poll_max_delay_seconds
    return first_poll_delay(job.model, hint=None, initial=initial, maximum=maximum, push=True)


def pushed(provider: SimulatedJob, rng: random.Random, *, lost: bool = False) -> Outcome:
    """One job whose provider pushes: the fallback chain until the webhook's poll, or a fallback
    poll, sees it finished (``lost``: no webhook comes)."""
    arrives = provider.finishes_at + sum(rng.uniform(0, s) for s in (PUSH_SEND_SECONDS, PUSH_PATH_SECONDS))
    arrives = math.inf if lost else arrives + rng.uniform(0, PICKUP_SECONDS)
    return run_job(provider, paced_push, rng, arrives=arrives)


def draw_pushing(count: int, source: str, seed: int = SEED) -> list[SimulatedJob]:
    """Jobs of ``source``'s models, finishing around their typical time (log-normal, sigma 0.5)."""
    rng = random.Random(f"{seed}-{source}")
    jobs = []
    for _ in range(count):
        spec = catalog.get_model(rng.choice(PUSHING_MODELS[source]))
        finishes = (spec.typical_seconds or 60) * math.exp(rng.gauss(0, 0.5))
        jobs.append(SimulatedJob(spec.id, spec.provider, min(LONGEST, max(SHORTEST, finishes))))
    return jobs


def run_push(report: Report, jobs: int) -> None:
    """Figure 7b, per source: with webhooks, against today's schedule (``paced``) on the same
    jobs; webhooks off (creates ask for none: today's schedule, unchanged); and a webhook that
    never comes (a failure the Gemini API does not push, a lost delivery) on the push schedule."""
    for source in PUSHING_MODELS:
        drawn = draw_pushing(jobs, source)
        push = Summary.of([pushed(job, random.Random(f"{SEED}-{i}")) for i, job in enumerate(drawn)])
        lost = Summary.of(
            [pushed(job, random.Random(f"{SEED}-{i}"), lost=True) for i, job in enumerate(drawn)]
        )
        today = Summary.of(simulate(drawn, paced))
        name = f"7b push {source}"
        note = f"today: p95 {today.p95:.1f} s, {today.polls_mean:.1f} polls/job"
        rows = (
            ("p95 after finish", push.p95, today.p95, "<= 2 s", push.p95 <= 2, "s", note),
            (
                "polls per job (mean)",
                push.polls_mean,
                today.polls_mean,
                "<= 2",
                push.polls_mean <= 2,
                "polls",
                "",
            ),
            (
                "off: p95 after finish",
                today.p95,
                today.p95,
                "ratio <= 1",
                True,
                "s",
                "webhooks off: today's schedule",
            ),
            (
                "webhook lost: p95 after finish",
                lost.p95,
                today.p95,
                "-",
                None,
                "s",
                f"{lost.polls_mean:.1f} polls/job: the first poll waits for the 95th percentile",
            ),
        )
        for label, value, floor, budget, ok, unit, text in rows:
            report.add(Row(f"{name}: {label}", value, floor, ratio(value, floor), budget, ok, unit, text))


def run(report: Report, jobs: int) -> None:
    drawn = draw_jobs(jobs)
    today = summaries(simulate(drawn, todays_rule(hints=True)))
    budget = summaries(simulate(drawn, todays_rule(hints=False)))
    new = summaries(simulate(drawn, paced))
    for group, label in (("all", ""), ("openai", " sora"), ("veo", " veo")):
        _rows(report, f"7 time to video{label}", new[group], today[group], budget[group])


def _rows(report: Report, name: str, new: Summary, today: Summary, budget: Summary) -> None:
    note = f"today's code: p50 {today.p50:.1f} s, p95 {today.p95:.1f} s, {today.polls_mean:.1f} polls/job"
    report.add(
        Row(f"{name}: p50 after finish", new.p50, budget.p50, ratio(new.p50, budget.p50), "-", None, "s")
    )
    report.add(
        Row(
            f"{name}: p95 after finish",
            new.p95,
            budget.p95,
            ratio(new.p95, budget.p95),
            "<= 10 s",
            new.p95 <= 10,
            "s",
            note,
        )
    )
    report.add(
        Row(
            f"{name}: polls per job (mean)",
            new.polls_mean,
            budget.polls_mean,
            ratio(new.polls_mean, budget.polls_mean),
            "ratio <= 1",
            new.polls_mean <= budget.polls_mean,
            "polls",
        )
    )
    report.add(Row(f"{name}: polls per job p95", new.polls_p95, budget.polls_p95, None, "-", None, "polls"))
