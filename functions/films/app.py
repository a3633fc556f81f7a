"""Films: POST /api/storyboards/{id}/compile, GET /api/compiled-videos/{id},
GET /api/storyboards/{id}/compiled-videos. The pipeline itself is the film compiler's."""

from __future__ import annotations

import uuid
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from videogen import storage
from videogen.db import session_scope
from videogen.films.request import create_film, enqueue_or_withdraw
from videogen.films.schemas import CompileAccepted, CompiledVideoList, CompiledVideoOut, CompileRequest
from videogen.http import ApiResolver, api_handler, current_user, logger, make_resolver, metrics
from videogen.models import CompiledVideo
from videogen.queue import FilmStepMessage, QueueSender, film_sender
from videogen.repositories import compiled_videos

IdempotencyKey = Annotated[str | None, Header(alias="idempotency-key", min_length=1, max_length=255)]


def _out(film: CompiledVideo) -> CompiledVideoOut:
    done = film.status == "completed" and film.final_video_url is not None
    return CompiledVideoOut.from_row(film, storage.url_for(film.final_video_url) if done else None)


def build_app(sender: QueueSender[FilmStepMessage] | None = None) -> ApiResolver:
    """The resolver; ``sender`` defaults to the real film queue (tests pass an in-memory one)."""
    app = make_resolver()

    @app.post("/api/storyboards/<id>/compile", status_code=202)
    def compile_storyboard(
        id: uuid.UUID,
        body: Annotated[CompileRequest | None, Body()] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CompileAccepted]:
        user_id = current_user(app)
        order = None if body is None else body.scenes_order
        with session_scope() as s:
            accepted = create_film(s, user_id, id, order, idempotency_key=idempotency_key)
        if accepted.created:
            enqueue_or_withdraw(accepted, user_id, sender or film_sender())
            metrics.add_metric(name="FilmsQueued", unit="Count", value=1)
            logger.info(
                "film queued", extra={"film_id": str(accepted.film_id), "clips": len(accepted.scenes_order)}
            )
        result = CompileAccepted(compiled_video_id=accepted.film_id, scenes_order=accepted.scenes_order)
        return Response(202, content_types.APPLICATION_JSON, result)

    @app.get("/api/compiled-videos/<id>")
    def get_compiled_video(id: uuid.UUID) -> CompiledVideoOut:
        with session_scope(autocommit=True) as s:
            film = compiled_videos.get(s, current_user(app), id)
        return _out(film)

    @app.get("/api/storyboards/<id>/compiled-videos")
    def list_compiled_videos(id: uuid.UUID) -> CompiledVideoList:
        with session_scope(autocommit=True) as s:
            films = compiled_videos.list_for_storyboard(s, current_user(app), id)
        return CompiledVideoList(compiled_videos=[_out(f) for f in films])

    return app


app = build_app()
lambda_handler = api_handler(app)
