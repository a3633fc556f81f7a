"""The normalize step: re-encode one clip to its film's target (or render one crossfade segment:
items past the clips are segments, videogen.films.segments) and count it ready.

Many run at once for one film (one message per clip), so there is no claim: the clip is
downloaded to ephemeral storage, normalized next to it and uploaded to its cache key, then
counted by ``compiled_videos.mark_normalized``, which counts a clip once and moves the film to
``assemble`` with the last one: that one caller sends ``assemble``. A duplicate message finds
its clip counted and does nothing; two deliveries racing both write the same key, and only
one of them counts. A missing or undecodable clip fails the film naming its scene.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path

from videogen.data.db import session_scope
from videogen.data.models import CompiledVideo
from videogen.data.repositories import compiled_videos
from videogen.films import segments
from videogen.films.media.clips import MediaError, Signature
from videogen.films.media.normalize import normalize
from videogen.films.steps import ChosenClip, FilmSteps, Outcome, log_fields, scene_error
from videogen.runtime.observability import emit_metric, logger
from videogen.storage import bucket, cleanup, objects


def normalize_clip(steps: FilmSteps, film_id: uuid.UUID, index: int) -> Outcome:
    """Normalize clip ``index`` of a normalizing film, store it, count it; queue ``assemble``
    when it was the last."""
    with session_scope(autocommit=True) as s:
        film = compiled_videos.get_by_id(s, film_id)
    if film is None:
        return "unknown-film"
    pending = film.status == "processing" and film.step == "normalize"
    if not pending or index not in film.normalize_clips or index in film.normalized_clips:
        return "ignored"
    clips = ChosenClip.of(film)
    if index >= len(clips):  # a crossfade segment (videogen.films.segments)
        return _segment(steps, film, clips, index)
    clip = clips[index]
    target = Signature.from_json(json.dumps(film.target))
    with tempfile.TemporaryDirectory(prefix="film-normalize-") as tmp:
        source, result = Path(tmp) / "clip.mp4", Path(tmp) / "normalized.mp4"
        try:
            objects.download_file(clip.key, source)
            normalize(source, result, target)
        except objects.ObjectMissing:
            return steps.fail(
                film_id, scene_error(clips, index, "its clip is missing from storage"), "normalize"
            )
        except MediaError as exc:
            return steps.fail(
                film_id, scene_error(clips, index, f"its clip does not decode ({exc})"), "normalize"
            )
        objects.upload_file(result, clip.film_key, bucket.VIDEO_CONTENT_TYPE)
    emit_metric("FilmClipsNormalized", {"step": "normalize"})
    return _count(steps, film, index, clip.film_key)


def _segment(steps: FilmSteps, film: CompiledVideo, clips: list[ChosenClip], index: int) -> Outcome:
    k = index - len(clips)
    try:
        segments.render(film, clips, k)
    except objects.ObjectMissing as missing:
        at = next((i for i, c in enumerate(clips) if c.key == missing.key), None)
        return steps.fail(film.id, scene_error(clips, at, "its clip is missing from storage"), "normalize")
    except MediaError as exc:
        reason = f"its clip does not decode for the crossfade ({exc})"
        return steps.fail(film.id, scene_error(clips, segments.segment_clip(film, k), reason), "normalize")
    emit_metric("FilmSegmentsRendered", {"step": "normalize"})
    return _count(steps, film, index, film.metadata_["cuts"]["keys"][k])


def _count(steps: FilmSteps, film: CompiledVideo, index: int, key: str) -> Outcome:
    """Count item ``index`` (stored at ``key``) done; queue ``assemble`` after the last."""
    with session_scope() as s:
        counted = compiled_videos.mark_normalized(s, film.id, index)
        gone = counted is None and compiled_videos.get_by_id(s, film.id) is None
    if gone:  # deleted with its storyboard while this ran: its cleanup may have missed the object
        cleanup.discard_orphans(film.user_id, film.storyboard_id, [key])
    if counted is None:
        return "ignored"  # a duplicate counted it first, or the film failed (or went) meanwhile
    done = len(counted.normalized_clips)
    logger.info("film item ready", extra=log_fields(film.id, "normalize", clip=index, done=done))
    if counted.step == "assemble":
        steps.send(film.id, "assemble")
    return "normalized"
