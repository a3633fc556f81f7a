"""Generating a whole storyboard: which scenes get a job, the caps for the whole batch, the answer
and its queue messages. Used by ``POST /api/storyboards/{id}/generate``.

Every scene (or those in ``sceneIds``), in storyboard order, gets a ``pending`` job with the
prompt the scene composes to (:mod:`videogen.generation.prompt`), except a scene that has

- a job in flight (``in-flight``: never two at once for one scene, ``regenerate`` or not);
- a completed clip with the fingerprint it would get now (``up-to-date``), unless ``regenerate``;
- no text to compose a prompt from (``no-prompt``).

So calling it again resumes where a batch stopped. The caps are those of a single generate
(:mod:`videogen.generation.request`), checked for all the new jobs at once under the same row
lock: a batch that would pass one is refused whole (429, saying how many scenes fit) and
nothing is stored. Statements: context, the scenes' reference images (when they name any), lock,
one conditional INSERT for all the jobs, and with an ``Idempotency-Key`` the stored answer (a
retry with the key gets the first answer again). A scene continuing from the previous shot
(``continueFrom``) adds one read of where the clips stand, after the lock
(:mod:`videogen.generation.continuity`): its job waits for the clip it continues, so such scenes
run after the scene they continue, the rest in parallel.

Queue: the submit messages go ten to a call. Jobs whose message could not be sent are withdrawn
(deleted while still ``pending``) and listed as skipped ``queue-unavailable``; when none could
be sent the answer is 503 and a retry with the same key starts afresh.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from videogen import catalog
from videogen.api.schemas.jobs import (
    BatchGenerateAccepted,
    BatchGenerateRequest,
    BatchJob,
    BatchSkip,
    SkipReason,
)
from videogen.catalog import ResolvedModel
from videogen.data.db import session_scope
from videogen.data.repositories import generation_batches, generation_requests, video_jobs
from videogen.data.repositories.continuations import SceneState
from videogen.data.repositories.generation_batches import BatchOutcome, Candidate
from videogen.errors import IdempotencyKeyReused, InvalidInput, field_errors
from videogen.generation import continuity
from videogen.generation.prompt import compose_prompt, fingerprint, scene_text
from videogen.generation.request import caps_for, for_key, quota_error, request_fingerprint, require_key
from videogen.messaging.messages import QueueSender, QueueUnavailable, StepMessage
from videogen.references import job_images
from videogen.references.job_images import JobImages
from videogen.references.scene_images import PreviousClip, SceneImages, continues_previous
from videogen.runtime.config import Settings, get_settings


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch's answer, and whether this request made it (else: a retry got the first one)."""

    answer: BatchGenerateAccepted
    created: bool


def chosen_scenes(scenes: list[Any], scene_ids: list[str] | None) -> list[dict[str, Any]]:
    """The storyboard's scenes in order, only those in ``scene_ids`` when given.

    ``InvalidInput`` naming the ids the storyboard does not have, or when it has no scenes.
    """
    own = [s for s in scenes if isinstance(s, dict) and isinstance(s.get("id"), str)]
    if scene_ids is None:
        if not own:
            details = field_errors("path.id", "the storyboard has no scenes", "storyboard_without_scenes")
            raise InvalidInput("The storyboard has no scenes to generate", details)
        return own
    known = {s["id"] for s in own}
    unknown = [
        error
        for n, scene_id in enumerate(scene_ids)
        if scene_id not in known
        for error in field_errors(
            f"body.sceneIds.{n}", "no scene of the storyboard has this id", "scene_not_found"
        )
    ]
    if unknown:
        raise InvalidInput("Scenes not found in this storyboard", unknown)
    wanted = set(scene_ids)
    return [s for s in own if s["id"] in wanted]


def create_batch(
    session: Session,
    user_id: str,
    storyboard_id: uuid.UUID,
    req: BatchGenerateRequest,
    *,
    idempotency_key: str | None = None,
    today: date | None = None,
    settings: Settings | None = None,
) -> Batch:
    """Validate the request and insert a ``pending`` job for every scene that needs one.

    Raises ``CatalogError``/``InvalidInput`` (400), ``NotFound`` (404), ``Conflict`` (409, no
    active key) and ``QuotaExceeded`` (429: nothing inserted). At most four statements.
    """
    settings = settings or get_settings()
    today = today or datetime.now(UTC).date()
    resolved = catalog.resolve(req.provider, req.model, req.duration_seconds, req.size, today)
    context = generation_requests.load_context(
        session, user_id, storyboard_id, req.provider, idempotency_key, batch=True
    )
    request = request_fingerprint(req, id=str(storyboard_id))
    if context.earlier is not None:
        return _earlier(context.earlier, request)
    require_key(context, req.provider)
    resolved = for_key(resolved, req, context, today)
    scenes = chosen_scenes(context.scenes, req.scene_ids)
    with_text = [scene for scene in scenes if scene_text(scene) is not None]
    continuing = any(continues_previous(scene) for scene in with_text)
    if continuing:  # where the clips stand is read under the lock: concurrent requests' jobs count
        generation_requests.lock_quota(session, user_id)
    found = continuity.states(session, user_id, storyboard_id, context.scenes, with_text)
    made = _in_order(context, resolved, with_text, found, regenerate=req.regenerate)
    images = job_images.checked(session, user_id, storyboard_id, {i: m.images for i, m in made.items()})
    candidates = [made[s["id"]].candidate(images[s["id"]]) for s in with_text]
    estimate = catalog.estimate_cost(resolved)
    skipped: dict[str, BatchSkip] = {
        s["id"]: BatchSkip(scene_id=s["id"], reason="no-prompt", job_id=None)
        for s in scenes
        if scene_text(s) is None
    }
    created: dict[str, uuid.UUID] = {}
    if candidates:
        if not continuing:
            generation_requests.lock_quota(session, user_id)
        shared = _shared_columns(user_id, storyboard_id, resolved, estimate)
        outcome = generation_batches.insert_within_caps(
            session,
            candidates,
            shared,
            caps_for(settings, today),
            regenerate=req.regenerate,
            idempotency_key=idempotency_key,
        )
        if outcome.earlier is not None:  # a concurrent retry with the same key won the lock
            return _earlier(outcome.earlier, request)
        _refuse_over_caps(outcome, estimate, settings)
        created = {j.scene_id: j.job_id for j in outcome.scenes if j.created}
        skipped |= {j.scene_id: _skip(j) for j in outcome.scenes if not j.created}
    answer = _answer(scenes, created, skipped, estimate)
    if idempotency_key is not None and candidates:  # under the lock; without candidates nothing was made
        generation_batches.store_answer(
            session, user_id, storyboard_id, idempotency_key, _wire(answer), request_fingerprint=request
        )
    return Batch(answer, created=True)


def _earlier(earlier: dict[str, Any], request: str) -> Batch:
    """The first answer for a retry asking for the same thing; ``Conflict`` (409) if it does not."""
    if earlier["request"] != request:
        jobs = [job["jobId"] for job in earlier["answer"].get("jobs", [])]
        raise IdempotencyKeyReused({"jobIds": jobs})
    return Batch(BatchGenerateAccepted.model_validate(earlier["answer"]), created=False)


def enqueue_or_withdraw(
    batch: Batch, user_id: str, sender: QueueSender, *, idempotency_key: str | None = None
) -> BatchGenerateAccepted:
    """Send every new job's submit step; withdraw the jobs whose message could not be sent.

    Returns the answer as it now stands (the withdrawn scenes skipped ``queue-unavailable``);
    raises ``QueueUnavailable`` (503) when none could be sent.
    """
    answer = batch.answer
    if not batch.created or not answer.jobs:
        return answer
    failed = sender.send_batch([StepMessage(job_id=j.job_id, step="submit") for j in answer.jobs])
    if not failed:
        return answer
    lost = {m.job_id for m in failed}
    kept = [j for j in answer.jobs if j.job_id not in lost]
    withdrawn = [
        BatchSkip(scene_id=j.scene_id, reason="queue-unavailable", job_id=None)
        for j in answer.jobs
        if j.job_id in lost
    ]
    now = answer.model_copy(
        update={
            "jobs": kept,
            "skipped": answer.skipped + withdrawn,
            "estimated_cost": round(sum(j.estimated_cost for j in kept), 4),
        }
    )
    with session_scope() as s:
        video_jobs.withdraw_pending_many(s, user_id, sorted(lost))
        if idempotency_key is not None:
            generation_batches.replace_answer(s, user_id, idempotency_key, _wire(now) if kept else None)
    if not kept:
        raise QueueUnavailable("the generation queue is unavailable")
    return now


@dataclass(frozen=True, slots=True)
class _Made:
    """A scene's new job as the batch would insert it, before its images are found ready."""

    job_id: uuid.UUID
    scene_id: str
    prompt: str
    fingerprint: str
    images: SceneImages

    def candidate(self, found: JobImages) -> Candidate:
        metadata = json.dumps(found.metadata())
        return Candidate(self.job_id, self.scene_id, self.prompt, self.fingerprint, metadata)


def _in_order(
    context: Any,
    resolved: ResolvedModel,
    scenes: list[dict[str, Any]],
    found: dict[str, SceneState],
    *,
    regenerate: bool,
) -> dict[str, _Made]:
    """Each scene's new job, in storyboard order: a continuing scene's images (and fingerprint)
    name the clip the previous scene has once this batch is queued (``continuity``)."""
    made: dict[str, _Made] = {}

    def judge(scene: dict[str, Any], previous: PreviousClip | None) -> uuid.UUID | None:
        images = job_images.choose(scene, context.character, resolved, previous)
        prompt = compose_prompt(scene, context.character, context.preset_key)
        digest = fingerprint(prompt, resolved.model, resolved.size, resolved.duration_seconds, images.key())
        job = _Made(uuid.uuid4(), scene["id"], prompt, digest, images)
        made[job.scene_id] = job
        return continuity.clip_after(found.get(job.scene_id), job.job_id, digest, regenerate=regenerate)

    continuity.in_order(context.scenes, {s["id"] for s in scenes}, found, judge)
    return made


def _shared_columns(
    user_id: str, storyboard_id: uuid.UUID, resolved: ResolvedModel, estimate: Decimal
) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "storyboard_id": storyboard_id,
        "provider": resolved.provider,
        "model": resolved.model,
        "duration_seconds": resolved.duration_seconds,
        "size": resolved.size,
        "estimated_cost": estimate,
        "idempotency_key": None,
    }


def _refuse_over_caps(outcome: BatchOutcome, estimate: Decimal, settings: Settings) -> None:
    fresh = outcome.fresh
    if fresh and not any(j.created for j in fresh):
        raise quota_error(outcome.in_flight, outcome.spent, estimate, settings, clips=len(fresh))


def _skip(judged: generation_batches.Judged) -> BatchSkip:
    reason: SkipReason = "in-flight" if judged.in_flight_job_id is not None else "up-to-date"
    return BatchSkip(
        scene_id=judged.scene_id, reason=reason, job_id=judged.in_flight_job_id or judged.up_to_date_job_id
    )


def _answer(
    scenes: list[dict[str, Any]],
    created: dict[str, uuid.UUID],
    skipped: dict[str, BatchSkip],
    estimate: Decimal,
) -> BatchGenerateAccepted:
    order = [s["id"] for s in scenes]
    jobs = [
        BatchJob(scene_id=i, job_id=created[i], estimated_cost=float(estimate)) for i in order if i in created
    ]
    return BatchGenerateAccepted(
        jobs=jobs,
        skipped=[skipped[i] for i in order if i in skipped],
        estimated_cost=float(estimate * len(jobs)),
    )


def _wire(answer: BatchGenerateAccepted) -> dict[str, Any]:
    return answer.model_dump(mode="json", by_alias=True)
