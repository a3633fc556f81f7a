"""The fake providers take image inputs in each provider's documented form, over real HTTP: they
record each image (role, hash, mean colour), refuse what the provider's rules refuse, and make a
clip whose first (last) decoded frame has the colour of the first (last) frame it was given."""

from __future__ import annotations

import base64
import hashlib
import io
import uuid
from collections.abc import Iterator
from typing import Any

import av
import boto3
import httpx2
import pytest
from google import genai
from google.genai import types
from PIL import Image, ImageStat

from devstack.fakes import FakeFalServer, FakeGeminiServer, FakeSoraServer, FakeVeoServer
from devstack.fakes.loopback import LoopbackServer, Request, Response
from devstack.fakes.records import RECORDS_PATH
from videogen.catalog.fal_models import FAL_MODELS

Rgb = tuple[int, int, int]
GOOGLE_KEY = "AIza-test-key"
FAL_KEY = "fal-key-id:fal-key-secret"
OPENAI_KEY = "sk-test"
VEO = "veo-3.1-generate-preview"
VEO_LITE = "veo-3.1-lite-generate-preview"
FIRST: Rgb = (200, 40, 60)
LAST: Rgb = (30, 90, 210)
TOLERANCE = 6  # H.264 in yuv420p is lossy: a flat colour comes back within a few levels


def image_bytes(colour: Rgb, size: tuple[int, int] = (64, 36), kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=kind)
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def end_frames(video: bytes) -> tuple[Rgb, Rgb]:
    """The mean colours of the MP4's first and last decoded frames."""
    with av.open(io.BytesIO(video), mode="r") as container:
        frames = [frame.to_image() for frame in container.decode(video=0)]
    first, last = (ImageStat.Stat(frames[n]).mean for n in (0, -1))
    return (round(first[0]), round(first[1]), round(first[2])), (
        round(last[0]),
        round(last[1]),
        round(last[2]),
    )


def near(found: Rgb, expected: Rgb) -> bool:
    return all(abs(a - b) <= TOLERANCE for a, b in zip(found, expected, strict=True))


def summary_images(origin: str) -> list[list[dict[str, Any]]]:
    """The images of each create, as the fake's records route shows them."""
    return [create["images"] for create in httpx2.get(origin + RECORDS_PATH).json()["creates"]]


# Veo on the Gemini API ---------------------------------------------------------------------


@pytest.fixture
def gemini() -> Iterator[FakeGeminiServer]:
    with FakeGeminiServer(complete_after_polls=0, send_webhooks=False) as fake:
        yield fake


def gemini_create(fake: FakeGeminiServer, instance: dict[str, Any], **parameters: Any) -> httpx2.Response:
    url = f"{fake.origin}/v1beta/models/{parameters.pop('model', VEO)}:predictLongRunning"
    body = {
        "instances": [{"prompt": "a lighthouse at dusk", **instance}],
        "parameters": {"personGeneration": "allow_adult", **parameters},
    }
    return httpx2.post(url, json=body, headers={"x-goog-api-key": GOOGLE_KEY})


def bytes_form(colour: Rgb, kind: str = "PNG") -> dict[str, str]:
    return {"bytesBase64Encoded": b64(image_bytes(colour, kind=kind)), "mimeType": f"image/{kind.lower()}"}


def inline_form(colour: Rgb) -> dict[str, Any]:
    return {"inlineData": {"mimeType": "image/png", "data": b64(image_bytes(colour))}}


def asset(colour: Rgb, kind: str = "asset") -> dict[str, Any]:
    return {"image": bytes_form(colour), "referenceType": kind}


def test_gemini_clip_starts_on_the_first_frame_and_ends_on_the_last(gemini: FakeGeminiServer) -> None:
    # Given a first frame in the SDK's form and a last frame in Google's REST form
    created = gemini_create(gemini, {"image": bytes_form(FIRST), "lastFrame": inline_form(LAST)})
    assert created.status_code == 200, created.text

    # When the operation is done and its video downloaded (through the storage redirect)
    headers = {"x-goog-api-key": GOOGLE_KEY}
    operation = httpx2.get(f"{gemini.origin}/v1beta/{created.json()['name']}", headers=headers).json()
    uri = operation["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"]
    video = httpx2.get(uri, headers=headers, follow_redirects=True).content

    # Then its first and last frames have the images' colours, and the create shows both images
    first, last = end_frames(video)
    assert near(first, FIRST), first
    assert near(last, LAST), last
    images = gemini.creates[0].images
    assert [(i.role, i.content_type, i.colour, i.width, i.height) for i in images] == [
        ("first", "image/png", FIRST, 64, 36),
        ("last", "image/png", LAST, 64, 36),
    ]
    assert images[0].sha256 == hashlib.sha256(image_bytes(FIRST)).hexdigest()
    assert summary_images(gemini.origin) == [
        [
            {"role": "first", "sha256": images[0].sha256, "colour": list(FIRST)},
            {"role": "last", "sha256": images[1].sha256, "colour": list(LAST)},
        ]
    ]


def test_gemini_takes_up_to_three_asset_references_for_8_seconds(gemini: FakeGeminiServer) -> None:
    references = [
        asset(FIRST),
        asset(LAST, "ASSET"),
        {"image": inline_form((9, 9, 9)), "referenceType": "asset"},
    ]

    created = gemini_create(gemini, {"referenceImages": references}, durationSeconds=8)

    assert created.status_code == 200, created.text
    assert [(i.role, i.colour) for i in gemini.creates[0].images] == [
        ("asset", FIRST),
        ("asset", LAST),
        ("asset", (9, 9, 9)),
    ]


GEMINI_REFUSALS = {
    "four reference images": ({"referenceImages": [asset(FIRST)] * 4}, {}, "at most 3"),
    "a style reference": ({"referenceImages": [asset(FIRST, "style")]}, {}, "referenceType 'style'"),
    "references with a first frame": (
        {"referenceImages": [asset(FIRST)], "image": bytes_form(FIRST)},
        {},
        "cannot be combined",
    ),
    "references with a last frame": (
        {"referenceImages": [asset(FIRST)], "lastFrame": bytes_form(LAST)},
        {},
        "cannot be combined",
    ),
    "a last frame alone": ({"lastFrame": bytes_form(LAST)}, {}, "only supported together with image"),
    "references for 6 seconds": ({"referenceImages": [asset(FIRST)]}, {"durationSeconds": 6}, "must be 8"),
    "references on Lite": (
        {"referenceImages": [asset(FIRST)]},
        {"model": VEO_LITE},
        "not supported by this model",
    ),
    "undecodable base64": (
        {"image": {"bytesBase64Encoded": "not base64!", "mimeType": "image/png"}},
        {},
        "not valid base64",
    ),
    "bytes that are no image": (
        {"image": {"bytesBase64Encoded": b64(b"hello"), "mimeType": "image/png"}},
        {},
        "could not be read as an image",
    ),
    "a WebP": ({"image": bytes_form(FIRST, "WEBP")}, {}, "mimeType 'image/webp'"),
    "a JPEG declared as PNG": (
        {"image": {**bytes_form(FIRST, "JPEG"), "mimeType": "image/png"}},
        {},
        "not of type image/png",
    ),
    "allow_all with an image": (
        {"image": bytes_form(FIRST)},
        {"personGeneration": "allow_all"},
        "allow_adult",
    ),
}


@pytest.mark.parametrize(("instance", "parameters", "reason"), GEMINI_REFUSALS.values(), ids=GEMINI_REFUSALS)
def test_gemini_refuses_what_google_documents_as_invalid(
    gemini: FakeGeminiServer, instance: dict[str, Any], parameters: dict[str, Any], reason: str
) -> None:
    created = gemini_create(gemini, instance, **{"durationSeconds": 8} | parameters)

    assert created.status_code == 400
    error = created.json()["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    assert reason in error["message"]
    assert gemini.jobs == {}
    assert gemini.creates[0].status == 400


# Veo on Vertex AI --------------------------------------------------------------------------


@pytest.fixture
def vertex() -> Iterator[FakeVeoServer]:
    with FakeVeoServer(complete_after_polls=0) as fake:
        yield fake


def vertex_create(fake: FakeVeoServer, instance: dict[str, Any], **parameters: Any) -> httpx2.Response:
    model = parameters.pop("model", VEO)
    body = {"instances": [{"prompt": "a lighthouse at dusk", **instance}], "parameters": parameters}
    url = f"{fake.origin}/v1beta1/publishers/google/models/{model}:predictLongRunning"
    return httpx2.post(url, json=body, headers={"x-goog-api-key": GOOGLE_KEY})


def test_vertex_clip_starts_on_the_first_frame_and_ends_on_the_last(vertex: FakeVeoServer) -> None:
    created = vertex_create(vertex, {"image": bytes_form(FIRST, "JPEG"), "lastFrame": bytes_form(LAST)})
    assert created.status_code == 200, created.text

    name = created.json()["name"]
    resource = name.partition("/operations/")[0]
    operation = httpx2.post(
        f"{vertex.origin}/v1beta1/{resource}:fetchPredictOperation",
        json={"operationName": name},
        headers={"x-goog-api-key": GOOGLE_KEY},
    ).json()
    video = base64.b64decode(operation["response"]["videos"][0]["bytesBase64Encoded"])

    first, last = end_frames(video)
    assert near(first, FIRST), first
    assert near(last, LAST), last
    assert [(i.role, i.content_type) for i in vertex.creates[0].images] == [
        ("first", "image/jpeg"),
        ("last", "image/png"),
    ]
    assert near(vertex.creates[0].images[0].colour, FIRST)  # JPEG is lossy too


def test_vertex_takes_the_images_as_google_genai_sends_them(vertex: FakeVeoServer) -> None:
    client = genai.Client(
        enterprise=True,
        api_key=GOOGLE_KEY,
        http_options=types.HttpOptions(
            base_url=vertex.base_url, retry_options=types.HttpRetryOptions(attempts=1)
        ),
    )
    png = types.Image(image_bytes=image_bytes(FIRST), mime_type="image/png")

    client.models.generate_videos(
        model=VEO,
        source=types.GenerateVideosSource(prompt="a lighthouse at dusk", image=png),
        config=types.GenerateVideosConfig(last_frame=png, duration_seconds=8),
    )
    reference = types.VideoGenerationReferenceImage(
        image=png, reference_type=types.VideoGenerationReferenceType.ASSET
    )
    client.models.generate_videos(
        model=VEO,
        source=types.GenerateVideosSource(prompt="a lighthouse at dusk"),
        config=types.GenerateVideosConfig(reference_images=[reference] * 3, duration_seconds=8),
    )

    assert [[i.role for i in create.images] for create in vertex.creates] == [
        ["first", "last"],
        ["asset", "asset", "asset"],
    ]


VERTEX_REFUSALS = {
    "four reference images": ({"referenceImages": [asset(FIRST)] * 4}, {}, "at most 3"),
    "references with a first frame": (
        {"referenceImages": [asset(FIRST)], "image": bytes_form(FIRST)},
        {},
        "cannot be combined",
    ),
    "a last frame alone": ({"lastFrame": bytes_form(LAST)}, {}, "only supported together with image"),
    "references for 6 seconds": ({"referenceImages": [asset(FIRST)]}, {"durationSeconds": 6}, "must be 8"),
    "references on Lite": (
        {"referenceImages": [asset(FIRST)]},
        {"model": VEO_LITE},
        "not supported by this model",
    ),
    "a style reference": ({"referenceImages": [asset(FIRST, "STYLE")]}, {}, "referenceType 'STYLE'"),
    "Google's inlineData form": ({"image": inline_form(FIRST)}, {}, "mimeType None"),
    "bytes that are no image": (
        {"image": {"bytesBase64Encoded": b64(b"hello"), "mimeType": "image/png"}},
        {},
        "could not be read as an image",
    ),
}


@pytest.mark.parametrize(("instance", "parameters", "reason"), VERTEX_REFUSALS.values(), ids=VERTEX_REFUSALS)
def test_vertex_refuses_what_google_documents_as_invalid(
    vertex: FakeVeoServer, instance: dict[str, Any], parameters: dict[str, Any], reason: str
) -> None:
    created = vertex_create(vertex, instance, **{"durationSeconds": 8} | parameters)

    assert created.status_code == 400
    error = created.json()["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    assert reason in error["message"]
    assert vertex.jobs == {}


# fal ---------------------------------------------------------------------------------------

# Each catalog model's image-to-video endpoint: its first and last frame fields, and a valid input.
FAL_IMAGE_ENDPOINTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "fal-ai/kling-video/v2.5-turbo/pro/image-to-video": ("image_url", "tail_image_url", {"duration": "5"}),
    "fal-ai/kling-video/v3/pro/image-to-video": ("start_image_url", "end_image_url", {"duration": "5"}),
    "bytedance/seedance-2.0/fast/image-to-video": ("image_url", "end_image_url", {"aspect_ratio": "auto"}),
    "fal-ai/minimax/hailuo-02/pro/image-to-video": ("image_url", "end_image_url", {}),
    "fal-ai/ltx-2.3/image-to-video": ("image_url", "end_image_url", {"aspect_ratio": "auto", "duration": 6}),
}


class Redirector(LoopbackServer):
    """Answers every request with a redirect to ``target``."""

    target = ""

    def dispatch(self, request: Request) -> Response:
        return Response(302, headers={"location": self.target})


@pytest.fixture
def fal() -> Iterator[FakeFalServer]:
    with FakeFalServer(complete_after_polls=0, send_webhooks=False) as fake:
        yield fake


@pytest.fixture
def bucket(moto_server: str) -> Any:
    """A fresh S3 bucket in moto on loopback: ``bucket(key, data)`` stores an object and returns
    its presigned GET URL."""
    s3 = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    name = f"fal-inputs-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)

    def put(key: str, data: bytes | None) -> str:
        if data is not None:
            s3.put_object(Bucket=name, Key=key, Body=data)
        url: str = s3.generate_presigned_url("get_object", Params={"Bucket": name, "Key": key})
        return url

    return put


def fal_run(fake: FakeFalServer, endpoint: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Queue ``body`` at ``endpoint``, poll it once (it is done), and read its result."""
    headers = {"authorization": f"Key {FAL_KEY}"}
    queued = httpx2.post(
        f"{fake.origin}/{endpoint}", json={"prompt": "a lighthouse", **body}, headers=headers
    )
    assert queued.status_code == 200, queued.text
    status = httpx2.get(queued.json()["status_url"], headers=headers).json()
    assert status["status"] == "COMPLETED"
    result = httpx2.get(queued.json()["response_url"], headers=headers)
    return result.status_code, result.json()


def test_every_catalog_image_endpoint_is_served() -> None:
    assert {spec.image_endpoint for spec in FAL_MODELS} == set(FAL_IMAGE_ENDPOINTS)


@pytest.mark.parametrize("endpoint", FAL_IMAGE_ENDPOINTS)
def test_fal_clip_starts_on_the_downloaded_first_frame(
    fal: FakeFalServer, bucket: Any, endpoint: str
) -> None:
    # Given presigned S3 URLs of a first (JPEG) and a last (PNG) frame
    first_field, last_field, extra = FAL_IMAGE_ENDPOINTS[endpoint]
    first_url = bucket("first.jpg", image_bytes(FIRST, kind="JPEG"))
    body = {first_field: first_url, last_field: bucket("last.png", image_bytes(LAST)), **extra}

    # When the job has run and its video is fetched
    status, result = fal_run(fal, endpoint, body)
    assert status == 200, result
    first, last = end_frames(httpx2.get(result["video"]["url"]).content)

    # Then the clip follows both frames and the create records what was downloaded
    assert near(first, FIRST), first
    assert near(last, LAST), last
    images = fal.creates[0].images
    assert [(i.role, i.content_type) for i in images] == [("first", "image/jpeg"), ("last", "image/png")]
    assert fal.creates[0].params[first_field] == first_url.partition("?")[0]  # no signature kept
    assert [[image["role"] for image in create] for create in summary_images(fal.origin)] == [
        ["first", "last"]
    ]


@pytest.mark.parametrize(
    ("endpoint", "field"),
    [
        ("fal-ai/kling-video/v3/pro/image-to-video", "start_image_url"),
        ("fal-ai/ltx-2.3/image-to-video", "image_url"),
    ],
)
def test_fal_image_endpoint_requires_its_first_frame(fal: FakeFalServer, endpoint: str, field: str) -> None:
    status, result = fal_run(fal, endpoint, {})

    assert status == 422
    assert result["detail"] == [{"loc": ["body", field], "msg": "Field required", "type": "missing"}]


def test_fal_kling_image_endpoint_takes_no_aspect_ratio_field(fal: FakeFalServer, bucket: Any) -> None:
    endpoint = "fal-ai/kling-video/v2.5-turbo/pro/image-to-video"
    body = {"image_url": bucket("first.png", image_bytes(FIRST)), "aspect_ratio": "no such ratio"}

    status, _ = fal_run(fal, endpoint, body)  # an unknown field is ignored, as pydantic does

    assert status == 200


def test_fal_fails_the_job_when_an_image_cannot_be_downloaded_or_read(
    fal: FakeFalServer, bucket: Any
) -> None:
    endpoint = "fal-ai/minimax/hailuo-02/pro/image-to-video"
    missing = bucket("missing.png", None)
    text = bucket("notes.txt", b"not an image")

    _, missing_result = fal_run(fal, endpoint, {"image_url": missing})
    _, text_result = fal_run(
        fal, endpoint, {"image_url": bucket("first.png", image_bytes(FIRST)), "end_image_url": text}
    )

    assert [(e["loc"], e["type"]) for e in missing_result["detail"]] == [
        (["body", "image_url"], "file_download_error")
    ]
    assert [(e["loc"], e["type"]) for e in text_result["detail"]] == [
        (["body", "end_image_url"], "image_load_error")
    ]
    assert text_result["detail"][0]["url"] == "https://docs.fal.ai/errors#image_load_error"


def test_fal_follows_no_redirect_to_an_image(fal: FakeFalServer, bucket: Any) -> None:
    with Redirector() as redirector:
        redirector.target = bucket("first.png", image_bytes(FIRST))

        status, result = fal_run(
            fal, "fal-ai/ltx-2.3/image-to-video", {"image_url": redirector.origin + "/a.png"}
        )

    assert status == 422
    assert result["detail"][0]["type"] == "file_download_error"


# OpenAI videos -----------------------------------------------------------------------------


@pytest.fixture
def sora() -> Iterator[FakeSoraServer]:
    with FakeSoraServer(complete_after_polls=0) as fake:
        yield fake


def sora_create(
    fake: FakeSoraServer, reference: tuple[str, bytes, str], size: str = "1280x720"
) -> httpx2.Response:
    form = {"model": "sora-2", "prompt": "a lighthouse at dusk", "seconds": "4", "size": size}
    return httpx2.post(
        f"{fake.base_url}/videos",
        data=form,
        files={"input_reference": reference},
        headers={"authorization": f"Bearer {OPENAI_KEY}"},
    )


def test_sora_clip_starts_on_the_input_reference(sora: FakeSoraServer) -> None:
    created = sora_create(sora, ("first.webp", image_bytes(FIRST, (1280, 720), "WEBP"), "image/webp"))
    assert created.status_code == 200, created.text

    headers = {"authorization": f"Bearer {OPENAI_KEY}"}
    video_id = created.json()["id"]
    assert httpx2.get(f"{sora.base_url}/videos/{video_id}", headers=headers).json()["status"] == "completed"
    content = f"{sora.base_url}/videos/{video_id}/content"
    video = httpx2.get(content, headers=headers).content
    thumbnail = httpx2.get(content, params={"variant": "thumbnail"}, headers=headers).content

    first, _ = end_frames(video)
    assert near(first, FIRST), first
    assert Image.open(io.BytesIO(thumbnail)).getpixel((0, 0)) == sora.creates[0].images[0].colour
    assert near(sora.creates[0].images[0].colour, FIRST)  # WebP is lossy
    assert [(i.role, i.content_type, i.width, i.height) for i in sora.creates[0].images] == [
        ("first", "image/webp", 1280, 720)
    ]
    assert sora.creates[0].params == {"model": "sora-2", "seconds": "4", "size": "1280x720"}


SORA_REFUSALS = {
    "a GIF": (("first.gif", image_bytes(FIRST, (1280, 720), "GIF"), "image/gif"), "unsupported mimetype"),
    "another size": (("first.png", image_bytes(FIRST, (720, 1280)), "image/png"), "must match the requested"),
    "bytes that are no image": (("first.png", b"hello", "image/png"), "not a valid image/png"),
}


@pytest.mark.parametrize(("reference", "reason"), SORA_REFUSALS.values(), ids=SORA_REFUSALS)
def test_sora_refuses_an_input_reference_it_cannot_use(
    sora: FakeSoraServer, reference: tuple[str, bytes, str], reason: str
) -> None:
    created = sora_create(sora, reference)

    assert created.status_code == 400
    error = created.json()["error"]
    assert (error["type"], error["param"], error["code"]) == (
        "invalid_request_error",
        "input_reference",
        None,
    )
    assert reason in error["message"]
    assert sora.jobs == {}
