"""Requesting a clip: validation against the catalog, the prompt, quotas, the job row and the
queue message. Used by the generate function; tested once here. The prompt and fingerprint
rules are in :mod:`videogen.generation.prompt`; the whole-storyboard request, which shares the
context, key and cap rules below, in :mod:`videogen.generation.batch`.

Idempotency: a request with an ``Idempotency-Key`` the caller already used gets the first job
back when it asks for the same thing (the same canonical body: field order, defaults spelled
out or left out, surrounding whitespace of the prompt do not matter) and 409 when it asks for
something else. The body's fingerprint is kept in the job's metadata.

Concurrency: the cap check and the insert happen under a row lock on the caller's
``user_quotas`` row (one transaction), so two requests cannot slip past a cap together; the
lock is a plain row lock, which does not pin an RDS Proxy connection.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from videogen import catalog
from videogen.api.schemas.jobs import GenerateRequest
from videogen.data.repositories import generation_requests, video_jobs
from videogen.data.repositories.generation_requests import Caps
from videogen.data.statements import Runner
from videogen.errors import Conflict, IdempotencyKeyReused, QuotaExceeded
from videogen.generation import continuity
from videogen.generation.prompt import compose_prompt, find_scene, fingerprint
from videogen.messaging import pipeline
from videogen.messaging.messages import QueueSender, StepMessage
from videogen.references import job_images
from videogen.runtime.config import Settings, get_settings

FINGERPRINT_KEY = "request_fingerprint"
"""The job metadata key holding the fingerprint of the request that made it (with a key)."""


@dataclass(frozen=True, slots=True)
class Accepted:
    """A queued (or, on an idempotent retry, previously queued) job."""

    job_id: uuid.UUID
    prompt: str
    estimated_cost: Decimal
    created: bool


def caps_for(settings: Settings, today: date) -> Caps:
    """The caller's caps from settings, for the UTC day ``today``."""
    return Caps(
        day_start=datetime.combine(today, time.min, tzinfo=UTC),
        max_in_flight=settings.max_jobs_in_flight_per_user,
        max_daily_spend=settings.max_daily_spend_per_user_usd,
    )


def for_key(resolved: catalog.ResolvedModel, req: Any, context: Any, today: date) -> catalog.ResolvedModel:
    """``resolved`` again for the Google API of the caller's key (a veo key for Vertex AI runs the
    ``-001`` ids, one for the Gemini API the ``-preview`` ids): ``CatalogError`` on a mismatch."""
    if not context.key_api:
        return resolved
    return catalog.resolve(
        req.provider, req.model, req.duration_seconds, req.size, today, api=context.key_api
    )


def require_key(context: Any, provider: str) -> None:
    """``Conflict`` (409) saying how to add a key when the caller has no active one."""
    if not context.has_key:
        raise Conflict(
            f"No active {provider} API key: add one with PUT /api/keys/{provider} first",
            {"provider": provider},
        )


def clips_that_fit(in_flight: int, spent: Decimal, estimate: Decimal, settings: Settings) -> int:
    """How many more clips at ``estimate`` each fit under both caps now."""
    by_count = settings.max_jobs_in_flight_per_user - in_flight
    room = settings.max_daily_spend_per_user_usd - spent
    by_money = int(room // estimate) if estimate > 0 else by_count
    return max(0, min(by_count, by_money))


def quota_error(
    in_flight: int, spent: Decimal, estimate: Decimal, settings: Settings, *, clips: int = 1
) -> QuotaExceeded:
    """The 429 for ``clips`` more clips that would pass a cap: which cap, its limit, where the
    caller stands and, for more than one clip (a batch), how many of them fit."""
    max_in_flight = settings.max_jobs_in_flight_per_user
    cap = settings.max_daily_spend_per_user_usd
    if in_flight + clips > max_in_flight:
        message = f"Too many videos in progress: {in_flight} of {max_in_flight} allowed at once"
        details: dict[str, Any] = {"cap": "jobsInFlight", "limit": max_in_flight, "current": in_flight}
        wait = "; wait for one to finish"
    else:
        adds = (
            f"this clip adds ${estimate:.2f}" if clips == 1 else f"{clips} clips add ${estimate * clips:.2f}"
        )
        message = (
            f"Daily spend cap reached: ${spent:.2f} spent or reserved today, {adds}, the cap is ${cap:.2f}"
        )
        details = {"cap": "dailySpendUsd", "limit": float(cap), "current": float(spent)}
        details["requested"] = float(estimate * clips)
        wait = ""
    if clips == 1:
        return QuotaExceeded(message + wait, details)
    fit = clips_that_fit(in_flight, spent, estimate, settings)
    message += f"; {fit} of these {clips} scenes fit now"
    return QuotaExceeded(message, details | {"scenes": clips, "scenesThatFit": fit})


def request_fingerprint(req: BaseModel, **path: str) -> str:
    """The SHA-256 of the request's canonical JSON (its body, and the ``path`` parameters that
    name what it acts on): what an idempotent retry must repeat."""
    document = {"body": req.model_dump(mode="json"), "path": path} if path else req.model_dump(mode="json")
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _earlier(session: Session | Runner, user_id: str, job_id: uuid.UUID, fingerprint: str) -> Accepted:
    """The first request's job, for a retry that asks for the same thing; ``Conflict`` if not."""
    prompt, estimated_cost, metadata = generation_requests.earlier_job(session, user_id, job_id)
    # Jobs made before fingerprints were kept have none: a retry of them is taken as is.
    if metadata.get(FINGERPRINT_KEY, fingerprint) != fingerprint:
        raise IdempotencyKeyReused({"jobId": str(job_id)})
    return Accepted(job_id, prompt, estimated_cost or Decimal(0), created=False)


def create_job(
    session: Session | Runner,
    user_id: str,
    req: GenerateRequest,
    *,
    idempotency_key: str | None = None,
    today: date | None = None,
    settings: Settings | None = None,
) -> Accepted:
    """Validate the request and insert a ``pending`` job within the caller's caps.

    At most five statements (the second only when the scene continues the previous shot, the
    third only when it names images), in one transaction
    (an ORM session, or a :class:`~videogen.data.statements.Runner` with ``transaction=True``). Raises
    ``CatalogError``/``InvalidInput`` (400), ``NotFound``
    (404), ``Conflict`` (409, no active key) and ``QuotaExceeded`` (429). With an
    ``idempotency_key`` already used by the caller, returns that job (``created=False``), or
    raises ``Conflict`` (409) when this request differs from the one that made it.
    """
    settings = settings or get_settings()
    today = today or datetime.now(UTC).date()
    resolved = catalog.resolve(req.provider, req.model, req.duration_seconds, req.size, today)
    context = generation_requests.load_context(
        session, user_id, req.storyboard_id, req.provider, idempotency_key
    )
    request = request_fingerprint(req)
    if context.earlier is not None:
        return _earlier(session, user_id, context.earlier, request)
    scene = find_scene(context.scenes, req.scene_id)
    require_key(context, req.provider)
    resolved = for_key(resolved, req, context, today)
    prompt = req.prompt or compose_prompt(scene, context.character, context.preset_key)
    found = continuity.states(session, user_id, req.storyboard_id, context.scenes, [scene])
    images = job_images.for_scenes(
        session,
        user_id,
        req.storyboard_id,
        scenes=[scene],
        character=context.character,
        resolved=resolved,
        previous=continuity.for_one(context.scenes, scene, found),
    )
    made_from = images[req.scene_id]
    estimate = catalog.estimate_cost(resolved)
    job = {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "storyboard_id": req.storyboard_id,
        "scene_id": req.scene_id,
        "provider": req.provider,
        "model": resolved.model,
        "prompt": prompt,
        "duration_seconds": resolved.duration_seconds,
        "size": resolved.size,
        "estimated_cost": estimate,
        "idempotency_key": idempotency_key,
        "fingerprint": fingerprint(
            prompt, resolved.model, resolved.size, resolved.duration_seconds, made_from.key
        ),
        "metadata": made_from.metadata() | ({FINGERPRINT_KEY: request} if idempotency_key else {}),
    }
    generation_requests.lock_quota(session, user_id)
    outcome = generation_requests.insert_within_caps(session, job, caps_for(settings, today))
    if outcome.new_job_id is not None:
        return Accepted(outcome.new_job_id, prompt, estimate, created=True)
    if outcome.earlier_job_id is not None:  # a concurrent retry with the same key won the lock
        return _earlier(session, user_id, outcome.earlier_job_id, request)
    raise quota_error(outcome.in_flight, Decimal(outcome.spent), estimate, settings)


def enqueue_or_withdraw(accepted: Accepted, user_id: str, sender: QueueSender) -> None:
    """Send the job's submit step; if the queue refuses, delete the job and re-raise.

    A job whose message never left would sit ``pending`` forever; withdrawing it keeps the
    user's caps honest, and a retry with the same ``Idempotency-Key`` starts afresh.
    """
    message = StepMessage(job_id=accepted.job_id, step="submit")
    pipeline.enqueue_or_withdraw(
        sender, message, lambda s: video_jobs.withdraw_pending(s, user_id, accepted.job_id)
    )
