"""A storyboard's reference images and music: POST /api/storyboards/{id}/references (declare;
the answer carries a presigned S3 POST for the file), POST .../references/{refId}/complete (check
and keep it), GET .../references, DELETE .../references/{refId}. The rules:
``videogen.references`` (music is decoded with PyAV, loaded only then)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from videogen.api import contract
from videogen.api.resolver import api_handler, current_user, make_resolver
from videogen.api.schemas.references import (
    ReferenceCreate,
    ReferenceCreated,
    ReferenceEnvelope,
    ReferenceList,
    Upload,
)
from videogen.api.schemas.storyboards import DeleteResult
from videogen.references import service
from videogen.runtime.observability import logger

StoryboardId = Annotated[uuid.UUID, Path(description="The storyboard's id")]
ReferenceId = Annotated[uuid.UUID, Path(description="The reference's id, as declared")]
TAGS = ["references"]
STORYBOARD_NOT_FOUND = (
    "No storyboard of the caller has this id (another user's answers the same).",
    {"error": "Storyboard not found", "details": {"id": "0b6f1c64-3f47-4d3a-9a51-6f5d7c2e9b10"}},
)
REFERENCE_NOT_FOUND = (
    "No reference of the caller's storyboard has this id (another user's answers the same).",
    {"error": "Reference not found", "details": {"referenceId": "5d0c7b9e-2f0a-4e55-8a8e-0c1f5b7f3a21"}},
)

NOTHING_UPLOADED = "Nothing was uploaded for this reference yet: send the file with the upload form first"

app = make_resolver()


@app.post(
    "/api/storyboards/<id>/references",
    status_code=201,
    **contract.operation(
        "createReference",
        "Declare a reference image or music and get its upload form",
        (201, "The reference is stored `pending`; `upload` is a presigned S3 POST for the file."),
        tags=TAGS,
        description="POST `upload.fields` and then the file (`file`, last) as multipart form data to "
        "`upload.url` within `upload.expiresInSeconds`: the form's policy fixes the object's key, the "
        "content type and a size of 1 byte to the limit (10 MB for an image, 20 MB for music). Then "
        "complete it. `kind: music` takes an audio type (MP3, AAC/M4A, WAV, Ogg), every other kind "
        "an image type; music is for a film's music bed and never goes to a video model.",
        body=True,
        invalid="Also refused: a `sizeBytes` over the kind's limit, a `contentType` that is not of the "
        "kind (an image for music, audio for an image).",
        errors={
            404: STORYBOARD_NOT_FOUND,
            409: (
                "The storyboard holds 12 references already, or the caller's references would pass "
                "their storage cap.",
                {
                    "error": "A storyboard holds at most 12 references: delete one first",
                    "details": {"limit": 12},
                },
            ),
        },
    ),
)
def create_reference(
    id: StoryboardId, body: Annotated[ReferenceCreate, Body()]
) -> Response[ReferenceCreated]:
    user_id = current_user(app)
    declared = service.declare(user_id, id, body)
    logger.info(
        "reference declared", extra={"storyboard_id": str(id), "reference_id": str(declared.reference.id)}
    )
    answer = ReferenceCreated(reference=declared.reference, upload=Upload.model_validate(declared.upload))
    return Response(201, content_types.APPLICATION_JSON, answer)


@app.post(
    "/api/storyboards/<id>/references/<refId>/complete",
    **contract.operation(
        "completeReference",
        "Check an uploaded reference image or music and keep it",
        (
            200,
            "The reference is `ready`: an image upright RGB, metadata stripped, with a 256 px "
            "thumbnail; music with its `durationSeconds`.",
        ),
        tags=TAGS,
        description="An image must be a PNG, JPEG or WebP still whose declared dimensions are at "
        "most 4096 px a side and 40 megapixels (checked before decoding); EXIF orientation is "
        "applied and every piece of metadata (GPS included) dropped by writing it again. Music must "
        "be an MP3, AAC/M4A, WAV or Ogg file of 1 s to 10 minutes that decodes to its end (a length "
        "its header states over 10 minutes is refused before decoding); it is kept as uploaded. "
        "Completing a ready reference answers it as it is.",
        body=True,
        invalid="Also: a file that is not such an image or music (named in the message); the upload "
        "and the reference are then removed: declare it again.",
        errors={
            404: REFERENCE_NOT_FOUND,
            409: (
                "Nothing was uploaded for the reference yet.",
                {"error": NOTHING_UPLOADED},
            ),
        },
    ),
)
def complete_reference(id: StoryboardId, refId: ReferenceId) -> ReferenceEnvelope:
    user_id = current_user(app)
    return ReferenceEnvelope(reference=service.complete(user_id, id, refId, datetime.now(UTC)))


@app.get(
    "/api/storyboards/<id>/references",
    **contract.operation(
        "listReferences",
        "A storyboard's reference images and music",
        (200, "Oldest first, pending ones included (without URLs)."),
        tags=TAGS,
        errors={404: STORYBOARD_NOT_FOUND},
    ),
)
def list_references(id: StoryboardId) -> ReferenceList:
    return ReferenceList(references=service.listed(current_user(app), id))


@app.delete(
    "/api/storyboards/<id>/references/<refId>",
    **contract.operation(
        "deleteReference",
        "Delete a reference image or music",
        (200, "Its files and the reference are gone."),
        tags=TAGS,
        errors={404: REFERENCE_NOT_FOUND},
    ),
)
def delete_reference(id: StoryboardId, refId: ReferenceId) -> DeleteResult:
    service.delete(current_user(app), id, refId)
    return DeleteResult(success=True, message="Reference deleted")


lambda_handler = api_handler(app)
