"""Requesting a clip: validation against the catalog, prompt composition, quotas, the job row
and the queue message. Used by the generate function; tested once here.

Prompt rule: a ``prompt`` in the request is used verbatim. Without one, the prompt is the
scene's own prompt (its ``prompt``, else ``description``, else ``text`` field), then
``Character: `` and the character profile's text fields (``name`` first, then the others in
the order they were saved), then ``Style: `` and the preset's description (or the preset key
in words when it is not a known preset). For example::

    Ada opens the lab door at dawn. Character: name: Ada; description: a curious engineer.
    Style: cinematic, anamorphic lens, soft film grain.

Concurrency: the cap check and the insert happen under a row lock on the caller's
``user_quotas`` row (one transaction), so two requests cannot slip past a cap together; the
lock is a plain row lock, which does not pin an RDS Proxy connection.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from videogen import catalog, pipeline
from videogen.config import Settings, get_settings
from videogen.errors import Conflict, InvalidInput, NotFound, QuotaExceeded
from videogen.queue import QueueSender, StepMessage
from videogen.repositories import generation_requests, video_jobs
from videogen.schemas import GenerateRequest

MAX_PROMPT_CHARS = 4000
PRESET_STYLES = {
    "cinematic": "cinematic, anamorphic lens, soft film grain",
    "anime": "anime, cel shading, vivid colours",
    "documentary": "documentary, handheld camera, natural light",
    "noir": "film noir, black and white, hard shadows",
    "watercolor": "watercolour illustration, soft edges, paper texture",
    "claymation": "claymation, stop motion, handmade textures",
    "pixar": "3D animated feature, expressive characters, warm lighting",
}
_SCENE_PROMPT_FIELDS = ("prompt", "description", "text")


@dataclass(frozen=True, slots=True)
class Accepted:
    """A queued (or, on an idempotent retry, previously queued) job."""

    job_id: uuid.UUID
    prompt: str
    estimated_cost: Decimal
    created: bool


def _scene(storyboard_scenes: list[Any], scene_id: str) -> dict[str, Any]:
    for scene in storyboard_scenes:
        if isinstance(scene, dict) and scene.get("id") == scene_id:
            return scene
    raise InvalidInput("Scene not found in this storyboard", {"sceneId": scene_id})


def compose_prompt(scene: dict[str, Any], character: dict[str, Any], preset_key: str) -> str:
    """The generation prompt for a scene when the request brings none (see module doc)."""
    scene_text = next(
        (
            str(scene[f]).strip()
            for f in _SCENE_PROMPT_FIELDS
            if isinstance(scene.get(f), str) and scene[f].strip()
        ),
        None,
    )
    if scene_text is None:
        raise InvalidInput(
            "Scene has no prompt: add one to the scene or send `prompt`", {"sceneId": scene.get("id")}
        )
    parts = [scene_text.rstrip(".") + "."]
    ordered = sorted(character.items(), key=lambda kv: kv[0] != "name")
    traits = [f"{k}: {v.strip()}" for k, v in ordered if isinstance(v, str) and v.strip()]
    if traits:
        parts.append("Character: " + "; ".join(traits) + ".")
    style = PRESET_STYLES.get(preset_key, preset_key.replace("-", " ").replace("_", " "))
    parts.append(f"Style: {style}.")
    return " ".join(parts)[:MAX_PROMPT_CHARS]


def _quota_error(in_flight: int, spent: Decimal, estimate: Decimal, settings: Settings) -> QuotaExceeded:
    if in_flight >= settings.max_jobs_in_flight_per_user:
        return QuotaExceeded(
            f"Too many videos in progress: {in_flight} of {settings.max_jobs_in_flight_per_user} allowed "
            "at once; wait for one to finish",
            {"cap": "jobsInFlight", "limit": settings.max_jobs_in_flight_per_user, "current": in_flight},
        )
    return QuotaExceeded(
        f"Daily spend cap reached: ${spent:.2f} spent or reserved today, this clip adds ${estimate:.2f}, "
        f"the cap is ${settings.max_daily_spend_per_user_usd:.2f}",
        {
            "cap": "dailySpendUsd",
            "limit": float(settings.max_daily_spend_per_user_usd),
            "current": float(spent),
            "requested": float(estimate),
        },
    )


def _earlier(session: Session, user_id: str, job_id: uuid.UUID) -> Accepted:
    job = video_jobs.get_for_user(session, user_id, job_id)  # a retry: the first request's job
    return Accepted(job_id, job.prompt, job.estimated_cost or Decimal(0), created=False)


def create_job(
    session: Session,
    user_id: str,
    req: GenerateRequest,
    *,
    idempotency_key: str | None = None,
    today: date | None = None,
    settings: Settings | None = None,
) -> Accepted:
    """Validate the request and insert a ``pending`` job within the caller's caps.

    At most three statements. Raises ``CatalogError``/``InvalidInput`` (400), ``NotFound``
    (404), ``Conflict`` (409, no active key) and ``QuotaExceeded`` (429). With an
    ``idempotency_key`` already used by the caller, returns that job (``created=False``).
    """
    settings = settings or get_settings()
    today = today or datetime.now(UTC).date()
    resolved = catalog.resolve(req.provider, req.model, req.duration_seconds, req.size, today)
    context = generation_requests.load_context(
        session, user_id, req.storyboard_id, req.provider, idempotency_key
    )
    if context is None:
        raise NotFound("Storyboard not found", {"id": str(req.storyboard_id)})
    if context.earlier_job_id is not None:
        return _earlier(session, user_id, context.earlier_job_id)
    scene = _scene(context.scenes, req.scene_id)
    if not context.has_key:
        raise Conflict(
            f"No active {req.provider} API key: add one with PUT /api/keys/{req.provider} first",
            {"provider": req.provider},
        )
    prompt = req.prompt or compose_prompt(scene, context.character, context.preset_key)
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
    }
    generation_requests.lock_quota(session, user_id)
    outcome = generation_requests.insert_within_caps(
        session,
        job,
        day_start=datetime.combine(today, time.min, tzinfo=UTC),
        max_in_flight=settings.max_jobs_in_flight_per_user,
        max_daily_spend=settings.max_daily_spend_per_user_usd,
    )
    if outcome.new_job_id is not None:
        return Accepted(outcome.new_job_id, prompt, estimate, created=True)
    if outcome.earlier_job_id is not None:  # a concurrent retry with the same key won the lock
        return _earlier(session, user_id, outcome.earlier_job_id)
    raise _quota_error(outcome.in_flight, Decimal(outcome.spent), estimate, settings)


def enqueue_or_withdraw(accepted: Accepted, user_id: str, sender: QueueSender) -> None:
    """Send the job's submit step; if the queue refuses, delete the job and re-raise.

    A job whose message never left would sit ``pending`` forever; withdrawing it keeps the
    user's caps honest, and a retry with the same ``Idempotency-Key`` starts afresh.
    """
    message = StepMessage(job_id=accepted.job_id, step="submit")
    pipeline.enqueue_or_withdraw(
        sender, message, lambda s: video_jobs.withdraw_pending(s, user_id, accepted.job_id)
    )
