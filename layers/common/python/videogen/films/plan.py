"""The plan step: claim the film, probe every clip from its MP4 index through ranged reads (a
clip is never downloaded here), choose the target, and send what comes next.

The target is the signature most clips already have (``media.choose_target``). Each clip that
differs gets its normalized copy's key, derived from the clip and the target, so another film
of the same clips finds it: clips whose copy already exists (a HEAD) count as normalized at
once. A crossfaded film also plans its cut segments here (videogen.films.segments), each one
more item of the parallel step, cached the same way. Then one ``normalize`` message per
remaining item, or ``assemble`` when none remain. A
missing or unreadable clip fails the film with an error naming its scene.
"""

from __future__ import annotations

import json
import uuid
from functools import partial

from videogen.data.db import session_scope
from videogen.data.models import CompiledVideo
from videogen.data.repositories import compiled_videos
from videogen.films import segments
from videogen.films.media.clips import (
    ClipInfo,
    ClipUnreadable,
    NoTarget,
    Target,
    choose_target,
    normalize_key,
    probe,
)
from videogen.films.steps import ChosenClip, FilmRefused, FilmSteps, Outcome, log_fields, scene_error
from videogen.runtime.observability import emit_metric, logger
from videogen.storage import bucket, objects


def plan(steps: FilmSteps, film_id: uuid.UUID) -> Outcome:
    """Claim a film's plan step, choose its target and queue its normalize or assemble steps."""
    film = steps.claim(film_id, "plan")
    if not isinstance(film, CompiledVideo):
        return film
    clips = ChosenClip.of(film)
    try:
        infos = [_probe(clips, i) for i in range(len(clips))]
        target = choose_target(infos)
    except FilmRefused as refused:
        return steps.fail(film.id, refused.message, "plan")
    except NoTarget as exc:
        return steps.fail(film.id, f"the clips cannot be joined into one film: {exc}", "plan")
    planned = _planned(film, clips, infos, target)
    try:
        cuts = segments.plan_film(film, planned, infos, target)
    except FilmRefused as refused:
        return steps.fail(film.id, refused.message, "plan")
    # Items of the parallel step: the clips to normalize, then the crossfade segments.
    keys = {i: planned[i].film_key for i in target.to_normalize}
    keys |= {len(clips) + k: key for k, key in enumerate(cuts.get("keys", []))}
    cached = [i for i, key in keys.items() if objects.object_size(key) is not None]
    todo = [i for i in keys if i not in cached]
    changes = {
        "step": "normalize" if todo else "assemble",
        "clips": [clip.to_json() for clip in planned],
        "target": json.loads(target.signature.to_json()),
        "normalize_clips": list(keys),
        "normalized_clips": cached,
        "metadata_": film.metadata_ | {"cuts": cuts},
    }
    with session_scope() as s:
        if compiled_videos.finish_step(s, film.id, "plan", changes) is None:
            return "ignored"  # failed or deleted meanwhile
    emit_metric("FilmClipsToNormalize", {"step": "plan"}, len([i for i in todo if i < len(clips)]))
    fields = log_fields(film.id, "plan", clips=len(clips), normalize=len(todo), cached=len(cached))
    logger.info("film planned", extra=fields)
    if not todo:
        steps.send(film.id, "assemble")
    for index in todo:
        steps.send(film.id, "normalize", index)
    return "planned"


def _probe(clips: list[ChosenClip], index: int) -> ClipInfo:
    try:
        return probe(partial(objects.ObjectReader, clips[index].key), index_only=True)
    except objects.ObjectMissing:
        raise FilmRefused(scene_error(clips, index, "its clip is missing from storage")) from None
    except ClipUnreadable as exc:
        raise FilmRefused(scene_error(clips, index, f"its clip is not a usable video ({exc})")) from None


def _planned(
    film: CompiledVideo, clips: list[ChosenClip], infos: list[ClipInfo], target: Target
) -> list[ChosenClip]:
    """Each clip with its length, and where its normalized copy goes when it needs one."""
    signature = target.signature
    planned = []
    for i, (clip, info) in enumerate(zip(clips, infos, strict=True)):
        copy = None
        if i in target.to_normalize:
            cache_key = normalize_key(str(clip.job_id), signature)
            copy = bucket.normalized_key(film.user_id, film.storyboard_id, clip.job_id, cache_key)
        planned.append(clip.model_copy(update={"seconds": info.duration, "normalized_key": copy}))
    return planned
