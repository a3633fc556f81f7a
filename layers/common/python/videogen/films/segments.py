"""A film's crossfades in the pipeline: planned with the clips, rendered as parallel steps, laid out
for assembly, and its captions on the film's timeline.

``plan`` calls :func:`plan_film` once it knows each clip's length and whether it will be
normalized: keyframes come from the copied clips' packets, or, for clips still to normalize,
from the keyframe interval normalize encodes with. Each segment is one more item of the
parallel ``normalize`` step (item ``len(clips) + k`` is segment ``k``; the message's ``clip``
carries the item), cached under a key of its inputs, so a film of the same clips and
transition reuses it. ``assemble`` turns the plan into spans to copy (:func:`spans`).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Any

import av

from videogen.data.models import CompiledVideo
from videogen.films.craft import SceneCaption, Transition
from videogen.films.cuts import CutPlan, plan_cuts, shot_starts
from videogen.films.media.assemble import Span
from videogen.films.media.captions import Captions, Cue
from videogen.films.media.clips import ENCODER_REVISION, ClipInfo, Signature, Target
from videogen.films.media.normalize import keyframes_of_normalized
from videogen.films.media.segment import keyframe_times, render_segment
from videogen.films.steps import ChosenClip, FilmRefused, scene_error
from videogen.storage import bucket, objects


def transition_of(film: CompiledVideo) -> Transition:
    return Transition.model_validate(film.metadata_.get("transition") or {})


def exact_seconds(info: ClipInfo, target: Signature, normalized: bool) -> Fraction:
    """A clip's length as the film copies it: a whole number of its frames."""
    video = target.video
    if normalized:
        return Fraction(max(1, round(Fraction(info.duration) * video.frame_rate))) / video.frame_rate
    return Fraction(info.duration).limit_denominator(video.time_base.denominator)


def plan_film(
    film: CompiledVideo, clips: list[ChosenClip], infos: list[ClipInfo], target: Target
) -> dict[str, Any]:
    """The film's cut plan for its row (``metadata.cuts``): pieces, segments and their keys
    (empty for hard cuts: every clip is copied whole); ``FilmRefused`` when the crossfade is
    longer than half of a clip."""
    # Whole frames of the film: a picture cannot overlap by a fraction of one.
    rate = target.signature.video.frame_rate
    overlap = Fraction(round(transition_of(film).overlap * rate)) / rate
    if overlap <= 0 or len(clips) < 2:
        return {}
    normalized = set(target.to_normalize)
    durations = [exact_seconds(info, target.signature, i in normalized) for i, info in enumerate(infos)]
    for i, seconds in enumerate(durations):
        if overlap * 2 > seconds:
            reason = (
                f"its clip ({float(seconds):.2f} s) is shorter than twice the crossfade ({float(overlap)} s)"
            )
            raise FilmRefused(scene_error(clips, i, reason))
    keyframes = [
        keyframes_of_normalized(info.duration, target.signature.video)
        if i in normalized
        else _keyframes(clips, i)
        for i, info in enumerate(infos)
    ]
    cuts = plan_cuts(durations, keyframes, overlap)
    keys = [_segment_key(film, clips, cuts, k, target.signature) for k in range(len(cuts.segments))]
    return cuts.to_json() | {"overlap": str(overlap), "durations": [str(d) for d in durations], "keys": keys}


def _keyframes(clips: list[ChosenClip], index: int) -> list[Fraction]:
    try:
        return keyframe_times(partial(objects.ObjectReader, clips[index].key))
    except objects.ObjectMissing:
        raise FilmRefused(scene_error(clips, index, "its clip is missing from storage")) from None


def _segment_key(
    film: CompiledVideo, clips: list[ChosenClip], cuts: CutPlan, k: int, target: Signature
) -> str:
    segment = cuts.segments[k]
    parts = ";".join(f"{clips[p.clip].job_id}:{p.start}:{p.end}" for p in segment.parts)
    material = f"{ENCODER_REVISION}:{av.__version__}:{target.key()}:{segment.overlap}:{parts}"
    cache_key = hashlib.sha256(material.encode()).hexdigest()[:40]
    first = clips[segment.parts[0].clip].job_id
    return bucket.segment_key(film.user_id, film.storyboard_id, first, cache_key)


def render(film: CompiledVideo, clips: list[ChosenClip], k: int) -> None:
    """Render segment ``k`` of the film from its clips as stored and upload it to its key.
    Raises ``objects.ObjectMissing`` and ``media.MediaError`` for the caller to name the scene."""
    cuts_json = film.metadata_["cuts"]
    cuts = CutPlan.from_json(cuts_json)
    target = Signature.from_json(json.dumps(film.target))
    sources = [partial(objects.ObjectReader, clip.key) for clip in clips]
    with tempfile.TemporaryDirectory(prefix="film-segment-") as tmp:
        path = Path(tmp) / "segment.mp4"
        render_segment(sources, cuts.segments[k], path, target)
        objects.upload_file(path, cuts_json["keys"][k], bucket.VIDEO_CONTENT_TYPE)


def segment_clip(film: CompiledVideo, k: int) -> int:
    """The first clip segment ``k`` reads (to name its scene when it fails)."""
    return int(film.metadata_["cuts"]["segments"][k]["parts"][0]["clip"])


def spans(film: CompiledVideo, clips: list[ChosenClip]) -> tuple[list[Span], list[float]]:
    """What ``assemble`` copies, in order, and each shot's share of the film's length (its
    length less the overlap it gives the next), for verification."""
    cuts_json = film.metadata_.get("cuts")
    if not cuts_json:
        return [Span(partial(objects.ObjectReader, c.film_key)) for c in clips], [
            c.seconds or 0.0 for c in clips
        ]
    cuts = CutPlan.from_json(cuts_json)
    durations = [Fraction(d) for d in cuts_json["durations"]]
    overlap = Fraction(cuts_json["overlap"])
    out = []
    for piece in cuts.pieces:
        if piece.part is None:
            out.append(Span(partial(objects.ObjectReader, cuts_json["keys"][piece.segment])))
            continue
        part = piece.part
        end = None if part.end >= durations[part.clip] else part.end
        out.append(Span(partial(objects.ObjectReader, clips[part.clip].film_key), part.start, end))
    shares = [float(d - overlap) for d in durations[:-1]] + [float(durations[-1])]
    return out, shares


def captions(film: CompiledVideo, clips: list[ChosenClip]) -> Captions | None:
    """The scenes' captions on the film's timeline (None when no scene has one)."""
    chosen = [(i, SceneCaption.from_json(c.caption)) for i, c in enumerate(clips) if c.caption]
    if not chosen:
        return None
    cuts_json = film.metadata_.get("cuts")
    if cuts_json:
        durations, overlap = [Fraction(d) for d in cuts_json["durations"]], Fraction(cuts_json["overlap"])
    else:
        durations, overlap = [Fraction(c.seconds or 0).limit_denominator(1000) for c in clips], Fraction(0)
    starts = shot_starts(durations, overlap)
    cues = []
    for i, caption in chosen:
        shot_end = durations[i]
        start = min(Fraction(caption.start_ms, 1000), shot_end)
        end = shot_end if caption.end_ms is None else min(Fraction(caption.end_ms, 1000), shot_end)
        cues.append(Cue(starts[i] + start, starts[i] + end, caption.text))
    language = str(film.metadata_.get("caption_language") or "eng")
    return Captions.of(cues, language)
