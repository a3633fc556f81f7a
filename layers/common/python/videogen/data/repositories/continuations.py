"""The SQL of scenes continuing from the previous shot: where each scene's clips stand, the jobs
waiting on another's clip, failing those chains, and the frames derived from clips.

A continuing job names the job whose clip it starts from in its metadata
(``continue_from.jobId``, see ``videogen.references.job_images``) and carries ``awaiting_frame``
until its first frame is made. Scoped by owner where a user asks; the worker's statements act on
ids it read from its own rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, cast, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from videogen.data.models import ACTIVE_JOB_STATUSES, ReferenceImage, VideoJob
from videogen.data.statements import Runner, Statement, runner_for
from videogen.storage.bucket import VIDEOS_PREFIX


@dataclass(frozen=True, slots=True)
class SceneState:
    """Where one scene's jobs stand: its newest job in flight, its newest completed clip stored
    in S3 (what a film takes), and the fingerprints of its completed jobs."""

    in_flight: uuid.UUID | None
    newest_clip: uuid.UUID | None
    fingerprints: frozenset[str]


def _select_scene_states() -> Any:
    completed = VideoJob.status == "completed"
    return (
        select(
            VideoJob.scene_id,
            _first(_NEWEST, VideoJob.status.in_(ACTIVE_JOB_STATUSES)).label("in_flight"),
            _first(_FILM_CHOICE, completed, VideoJob.video_url.startswith(VIDEOS_PREFIX)).label(
                "newest_clip"
            ),
            func.array_agg(VideoJob.fingerprint).filter(completed).label("fingerprints"),
        )
        .where(
            VideoJob.user_id == bindparam("owner_id"),
            VideoJob.storyboard_id == bindparam("storyboard_id"),
            VideoJob.scene_id == func.any(bindparam("scene_ids", type_=ARRAY(String))),
        )
        .group_by(VideoJob.scene_id)
    )


_SCENE_STATES = Statement(_select_scene_states)


def scene_states(
    session: Session | Runner, user_id: str, storyboard_id: uuid.UUID, scene_ids: list[str]
) -> dict[str, SceneState]:
    """One statement: :class:`SceneState` of each of ``scene_ids`` that has any job."""
    params = {"owner_id": user_id, "storyboard_id": storyboard_id, "scene_ids": scene_ids}
    return {
        scene: SceneState(in_flight, newest, frozenset(f for f in fingerprints or () if f is not None))
        for scene, in_flight, newest, fingerprints in runner_for(session).rows(_SCENE_STATES, params)
    }


_NEWEST = (VideoJob.created_at.desc(), VideoJob.id.desc())
_FILM_CHOICE = (VideoJob.completed_at.desc().nulls_last(), *_NEWEST)
"""As ``film_requests.newest_clips`` orders a scene's clips: the one a film takes first."""


def _first(order: tuple[Any, ...], *where: Any) -> Any:
    """The first job id in ``order`` among the group's rows matching ``where`` (or NULL)."""
    return func.array_agg(aggregate_order_by(VideoJob.id, *order)).filter(*where)[1]


_CONTINUES = VideoJob.metadata_["continue_from"]["jobId"].astext


def waiting_on(session: Session, job_id: uuid.UUID) -> list[uuid.UUID]:
    """The pending jobs still waiting for their first frame from ``job_id``'s clip."""
    rows = session.execute(
        select(VideoJob.id).where(
            VideoJob.status == "pending",
            VideoJob.metadata_.has_key("awaiting_frame"),
            str(job_id) == _CONTINUES,
        )
    )
    return list(rows.scalars())


ContinuedState = tuple[str, datetime | None]
"""The status of a job another one continues, and when it completed."""


def continued_states(session: Session, job_ids: set[uuid.UUID]) -> dict[uuid.UUID, ContinuedState]:
    """The status and completion of each of ``job_ids`` (jobs continued by others) still stored."""
    rows = session.execute(
        select(VideoJob.id, VideoJob.status, VideoJob.completed_at).where(VideoJob.id.in_(job_ids))
    )
    return {row.id: (row.status, row.completed_at) for row in rows}


def fail_waiting_on(session: Session, job_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """Fail every pending job that waits, directly or down a chain, on ``job_id``'s clip, which
    will never be: each names the scene it continues. ``(id, provider)`` of those failed."""
    chain = (
        select(VideoJob.id)
        .where(
            VideoJob.status == "pending",
            VideoJob.metadata_.has_key("awaiting_frame"),
            str(job_id) == _CONTINUES,
        )
        .cte("chain", recursive=True)
    )
    follower = select(VideoJob.id).where(
        VideoJob.status == "pending",
        VideoJob.metadata_.has_key("awaiting_frame"),
        cast(chain.c.id, String) == _CONTINUES,
    )
    chain = chain.union(follower)
    scene = VideoJob.metadata_["continue_from"]["sceneId"].astext
    message = func.concat("scene ", scene, " did not complete, so there is no last frame to continue from")
    rows = session.execute(
        update(VideoJob)
        .where(VideoJob.id.in_(select(chain.c.id)), VideoJob.status == "pending")
        .values(status="failed", error_message=message, updated_at=func.clock_timestamp())
        .returning(VideoJob.id, VideoJob.provider)
        .execution_options(synchronize_session=False)
    )
    return [(row.id, row.provider) for row in rows]


def derived_frame(session: Session, reference_id: uuid.UUID) -> ReferenceImage | None:
    """The ready frame derived under ``reference_id``, if it was made already."""
    return session.execute(
        select(ReferenceImage).where(ReferenceImage.id == reference_id, ReferenceImage.status == "ready")
    ).scalar_one_or_none()


def store_derived_frame(session: Session, values: dict[str, Any]) -> None:
    """Insert a derived frame's ``ready`` row (``values``: its columns); a row already there (a
    duplicate delivery made the same frame) is kept."""
    session.execute(pg_insert(ReferenceImage).values(status="ready", **values).on_conflict_do_nothing())
