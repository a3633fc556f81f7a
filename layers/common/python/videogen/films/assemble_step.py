"""The assemble step: claim it, copy every clip into the film, verify, store, complete the row.

Clips stream from S3 through ranged reads straight into the muxer, one at a time, so
ephemeral storage holds the film alone and memory one read range. The film is verified (it
decodes, and lasts as long as its clips within 0.1 s each) before it is uploaded, from the
file, as a multipart upload. A missing, mismatched or undecodable clip fails the film naming
its scene. A step that dies leaves its claim to go stale; redelivery (or the sweeper) runs it
again from the start, which costs only time.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from functools import partial
from pathlib import Path

from aws_lambda_powertools.metrics import MetricUnit

from videogen.data.db import session_scope
from videogen.data.models import CompiledVideo
from videogen.data.repositories import compiled_videos
from videogen.films import segments
from videogen.films.craft import Music
from videogen.films.media.assemble import Film, Span, assemble
from videogen.films.media.captions import Captions
from videogen.films.media.clips import ClipMismatch, FilmInvalid, MediaError, Signature
from videogen.films.media.music import lay_music
from videogen.films.media.music_check import MusicUnusable
from videogen.films.media.verify import check_sync, verify
from videogen.films.steps import ChosenClip, FilmRefused, FilmSteps, Outcome, log_fields, scene_error
from videogen.runtime.observability import emit_metric, logger
from videogen.storage import bucket, cleanup, objects


def assemble_film(steps: FilmSteps, film_id: uuid.UUID) -> Outcome:
    """Claim the film's assemble step; copy, verify and store it; complete its row."""
    film = steps.claim(film_id, "assemble")
    if not isinstance(film, CompiledVideo):
        return film
    key = bucket.film_key(film.user_id, film.storyboard_id, film.id)
    clips = ChosenClip.of(film)
    spans, shares = segments.spans(film, clips)
    captions = segments.captions(film, clips)
    captions_key = bucket.captions_key(film.user_id, film.storyboard_id, film.id) if captions else None
    with tempfile.TemporaryDirectory(prefix="film-assemble-") as tmp:
        path = Path(tmp) / "film.mp4"
        try:
            made, seconds = _make(film, clips, (spans, shares), path, captions)
            size = _lay_music(film, shares, path, Path(tmp) / "with-music.mp4") or made.size_bytes
        except FilmRefused as refused:
            return steps.fail(film.id, refused.message, "assemble")
        objects.upload_file(path, key, bucket.VIDEO_CONTENT_TYPE)
        if captions is not None and captions_key is not None:
            vtt = Path(tmp) / "captions.vtt"
            vtt.write_text(captions.webvtt(), encoding="utf-8")
            objects.upload_file(vtt, captions_key, bucket.CAPTIONS_CONTENT_TYPE)
    changes = {
        "status": "completed",
        "final_video_url": key,
        "duration_seconds": seconds,
        "file_size_bytes": size,
        "error_message": None,
        "completed_at": steps.clock(),
        "metadata_": film.metadata_ | ({"captions_key": captions_key} if captions_key else {}),
    }
    with session_scope() as s:
        finished = compiled_videos.finish_step(s, film.id, "assemble", changes)
        gone = finished is None and compiled_videos.get_by_id(s, film.id) is None
    if finished is None:
        if gone:  # deleted with its storyboard while it was made: its cleanup may have missed it
            cleanup.discard_orphans(film.user_id, film.storyboard_id, [key, *filter(None, [captions_key])])
        return "ignored"  # failed meanwhile (the object stays for a later run), or deleted
    latency = max(0.0, (steps.clock() - film.created_at).total_seconds())
    emit_metric("FilmsCompleted", {"step": "assemble"})
    emit_metric("FilmLatency", {"step": "assemble"}, latency, MetricUnit.Seconds)
    fields = log_fields(film.id, "assemble", clips=len(film.clips), seconds=round(seconds, 3))
    logger.info("film completed", extra=fields | {"bytes": size})
    return "completed"


def _make(
    film: CompiledVideo,
    clips: list[ChosenClip],
    layout: tuple[list[Span], list[float]],
    path: Path,
    captions: Captions | None,
) -> tuple[Film, float]:
    """Assemble ``layout`` (the spans to copy, each shot's share of the length) into ``path``
    and verify it: what was written and its length."""
    spans, shares = layout
    target = Signature.from_json(json.dumps(film.target))
    try:
        made = assemble(spans, path, target, captions)
        seconds = verify(path, shares)
        check_sync(made, target)
    except objects.ObjectMissing as missing:
        index = next((i for i, c in enumerate(clips) if missing.key in (c.film_key, c.key)), None)
        raise FilmRefused(scene_error(clips, index, "its clip is missing from storage")) from None
    except ClipMismatch as exc:
        raise FilmRefused(scene_error(clips, exc.index, f"its clip cannot join the film ({exc})")) from None
    except FilmInvalid as exc:
        reason = f"the film does not pass its check ({exc})"
        raise FilmRefused(scene_error(clips, exc.clip, reason)) from None
    return made, seconds


def _lay_music(film: CompiledVideo, shares: list[float], path: Path, scratch: Path) -> int | None:
    """With a music bed, replace the film at ``path`` with one whose sound has the music mixed
    in (the picture copied) and check it again; its size. None without music."""
    music = film.metadata_.get("music")
    if not music:
        return None
    request = Music.model_validate(music["request"])
    try:
        bed = lay_music(
            path,
            partial(objects.ObjectReader, music["key"]),
            scratch,
            volume_db=request.volume_db,
            duck=request.duck,
        )
        verify(scratch, shares)
    except objects.ObjectMissing:
        raise FilmRefused(
            "its music is missing from storage (deleted since the film was asked for)"
        ) from None
    except MusicUnusable as exc:
        raise FilmRefused(f"its music cannot be laid under the film ({exc})") from None
    except (MediaError, FilmInvalid) as exc:
        raise FilmRefused(f"the film with its music does not pass its check ({exc})") from None
    scratch.replace(path)
    return bed.size_bytes
