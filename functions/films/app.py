"""Films: POST /api/storyboards/{id}/compile, GET /api/compiled-videos/{id},
GET /api/storyboards/{id}/compiled-videos. The pipeline itself is the film compiler's."""

from __future__ import annotations

import uuid
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from videogen.api import contract
from videogen.api.resolver import ApiResolver, api_handler, current_user, make_resolver
from videogen.api.schemas.films import CompileAccepted, CompiledVideoList, CompiledVideoOut, CompileRequest
from videogen.data.db import session_scope
from videogen.data.models import CompiledVideo
from videogen.data.repositories import compiled_videos
from videogen.films.request import create_film, enqueue_or_withdraw
from videogen.messaging.messages import FilmStepMessage, QueueSender, film_sender
from videogen.runtime.observability import logger, metrics
from videogen.storage import bucket

StoryboardId = Annotated[uuid.UUID, Path(description="The storyboard's id")]
FilmId = Annotated[uuid.UUID, Path(description="The film's id, as compile answered it")]
TAGS = ["films"]
STORYBOARD_NOT_FOUND = (
    "No storyboard of the caller has this id (another user's answers the same).",
    {"error": "Storyboard not found", "details": {"id": "0b6f1c64-3f47-4d3a-9a51-6f5d7c2e9b10"}},
)
COMPILE = contract.operation(
    "compileStoryboard",
    "Compile a storyboard's clips into one film",
    (202, "The film is stored as `pending` and queued."),
    tags=TAGS,
    description="Each scene of `scenesOrder` (default: the storyboard's own order) uses its newest "
    "completed clip; the chosen clips (and the scenes' captions) are recorded on the film, so a later "
    "regeneration or edit does not change it. Clips that differ from what most of them are (codec, "
    "size, frame rate, audio) are normalized in parallel, then everything is joined by stream copy "
    "into one fast-start MP4. A `crossfade` transition re-encodes only around each cut (in parallel); "
    "captions become a WebVTT file and a soft subtitle track; a `music` bed is mixed under the "
    "clips' sound (only the sound is encoded again).",
    body=True,
    invalid="Also refused: an empty `scenesOrder`, a scene named twice, or a scene the storyboard "
    "does not have (each named in `details`), a storyboard without scenes, a crossfade longer than "
    "half of the shortest clip, a scene's caption that breaks its rules, and music that is not a "
    "ready music reference of this storyboard (another user's answers the same).",
    errors={
        404: STORYBOARD_NOT_FOUND,
        409: (
            "Scenes of the order have no completed clip yet (`details.scenesWithoutClip`), or the "
            "`Idempotency-Key` was used for another storyboard or order (`details.compiledVideoId`).",
            {
                "error": "Some scenes have no completed clip yet: generate them first",
                "details": {"scenesWithoutClip": ["scene-2"]},
            },
        ),
        503: (
            "Or the queue refused the film, which was then withdrawn: retry.",
            {"error": "Service temporarily unavailable, try again"},
        ),
    },
    links=contract.links({"GetCompiledVideo": "getCompiledVideo"}, "id", "$response.body#/compiledVideoId"),
)


def _out(film: CompiledVideo) -> CompiledVideoOut:
    done = film.status == "completed" and film.final_video_url is not None
    captions = film.metadata_.get("captions_key") if done else None
    return CompiledVideoOut.from_row(
        film,
        bucket.url_for(film.final_video_url) if done else None,
        bucket.url_for(captions) if isinstance(captions, str) else None,
    )


def build_app(sender: QueueSender[FilmStepMessage] | None = None) -> ApiResolver:
    """The resolver; ``sender`` defaults to the real film queue (tests pass an in-memory one)."""
    app = make_resolver()

    @app.post("/api/storyboards/<id>/compile", status_code=202, **COMPILE)
    def compile_storyboard(
        id: StoryboardId,
        body: Annotated[CompileRequest | None, Body()] = None,
        idempotency_key: contract.IdempotencyKey = None,
    ) -> Response[CompileAccepted]:
        user_id = current_user(app)
        body = body or CompileRequest()
        with session_scope() as s:
            accepted = create_film(
                s,
                user_id,
                id,
                body.scenes_order,
                idempotency_key=idempotency_key,
                transition=body.transition,
                caption_language=body.caption_language,
                music=body.music,
            )
        if accepted.created:
            enqueue_or_withdraw(accepted, user_id, sender or film_sender())
            metrics.add_metric(name="FilmsQueued", unit="Count", value=1)
            logger.info(
                "film queued", extra={"film_id": str(accepted.film_id), "clips": len(accepted.scenes_order)}
            )
        result = CompileAccepted(compiled_video_id=accepted.film_id, scenes_order=accepted.scenes_order)
        return Response(202, content_types.APPLICATION_JSON, result)

    @app.get(
        "/api/compiled-videos/<id>",
        **contract.operation(
            "getCompiledVideo",
            "Follow a film",
            (200, "The film's status and progress and, once completed, its presigned URL, length and size."),
            tags=TAGS,
            description="`progress` counts the clips normalized out of those that needed it, then the "
            "assembling.",
            errors={
                404: (
                    "No film of the caller has this id (another user's answers the same).",
                    {
                        "error": "Compiled video not found",
                        "details": {"id": "9a4c6e2b-5d1f-4a8e-b3c7-2f6d8e0a1b4c"},
                    },
                )
            },
        ),
    )
    def get_compiled_video(id: FilmId) -> CompiledVideoOut:
        with session_scope(autocommit=True) as s:
            film = compiled_videos.get(s, current_user(app), id)
        return _out(film)

    @app.get(
        "/api/storyboards/<id>/compiled-videos",
        **contract.operation(
            "listCompiledVideos",
            "List a storyboard's films",
            (200, "The storyboard's films, newest first."),
            tags=TAGS,
            errors={404: STORYBOARD_NOT_FOUND},
        ),
    )
    def list_compiled_videos(id: StoryboardId) -> CompiledVideoList:
        with session_scope(autocommit=True) as s:
            films = compiled_videos.list_for_storyboard(s, current_user(app), id)
        return CompiledVideoList(compiled_videos=[_out(f) for f in films])

    return app


app = build_app()
lambda_handler = api_handler(app)
