"""The SQL of requesting a film: the storyboard's scenes with the film an earlier request with the
same Idempotency-Key made, and the newest completed clip of each scene. Scoped by owner.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from videogen.data.models import CompiledVideo, Storyboard, VideoJob
from videogen.storage.bucket import VIDEOS_PREFIX


@dataclass(frozen=True, slots=True)
class StoredClip:
    """A scene's newest completed clip: its job, the S3 key of its video, its length as asked."""

    job_id: uuid.UUID
    key: str
    seconds: int | None = None


def load_context(
    session: Session, user_id: str, storyboard_id: uuid.UUID, idempotency_key: str | None
) -> Any:
    """``(scenes, earlier_film_id)`` of the caller's storyboard (``None`` when it is missing or
    someone else's); ``earlier_film_id`` is the film a request with ``idempotency_key`` made."""
    earlier: Any = literal(None)
    if idempotency_key is not None:
        earlier = (
            select(CompiledVideo.id)
            .where(CompiledVideo.user_id == user_id, CompiledVideo.idempotency_key == idempotency_key)
            .scalar_subquery()
        )
    stmt = select(Storyboard.scenes, earlier.label("earlier_film_id")).where(
        Storyboard.id == storyboard_id, Storyboard.user_id == user_id
    )
    return session.execute(stmt).one_or_none()


def newest_clips(
    session: Session, user_id: str, storyboard_id: uuid.UUID, scene_ids: list[str]
) -> dict[str, StoredClip]:
    """The newest completed clip stored in S3 of each of ``scene_ids`` that has one."""
    stmt = (
        select(VideoJob.scene_id, VideoJob.id, VideoJob.video_url, VideoJob.duration_seconds)
        .ext(distinct_on(VideoJob.scene_id))
        .where(
            VideoJob.storyboard_id == storyboard_id,
            VideoJob.user_id == user_id,
            VideoJob.status == "completed",
            VideoJob.scene_id.in_(scene_ids),
            VideoJob.video_url.startswith(VIDEOS_PREFIX),
        )
        .order_by(
            VideoJob.scene_id,
            VideoJob.completed_at.desc().nulls_last(),
            VideoJob.created_at.desc(),
            VideoJob.id.desc(),
        )
    )
    rows = session.execute(stmt)
    return {scene: StoredClip(job_id, str(key), seconds) for scene, job_id, key, seconds in rows}
