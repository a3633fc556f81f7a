"""Reference images through the running local stack, as a browser uses them: declared through the
gateway, uploaded straight to the (moto) bucket with the presigned POST, completed, chosen as a
scene's first frame, and the clip each provider's fake makes starts from it; and a scene
continuing from the previous shot, whose clip starts where the previous clip ended."""

from __future__ import annotations

import io
import tempfile
import uuid
from pathlib import Path
from typing import Any

import av
import pytest
import urllib3
from PIL import Image

from tests.e2e.conftest import RunningStack, http
from tests.e2e.test_local_stack import KEYS, wait_until_done

pytestmark = pytest.mark.e2e

TEAL = (20, 160, 170)


def png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (160, 90), colour).save(out, "PNG")
    return out.getvalue()


def upload_reference(stack: RunningStack, user: str, board: str, data: bytes) -> dict[str, Any]:
    declared = stack.call(
        "POST",
        f"/api/storyboards/{board}/references",
        {"kind": "frame", "label": "Opening frame", "contentType": "image/png", "sizeBytes": len(data)},
        user=user,
    )
    assert declared.status == 201, declared.raw
    form = declared.json["upload"]
    fields = [*form["fields"].items(), ("file", ("frame.png", data, "image/png"))]
    sent = urllib3.request("POST", form["url"], fields=fields, retries=False)
    assert sent.status in (200, 201, 204), sent.data
    ref = declared.json["reference"]["id"]
    done = stack.call("POST", f"/api/storyboards/{board}/references/{ref}/complete", user=user)
    assert done.status == 200, done.raw
    reference: dict[str, Any] = done.json["reference"]
    return reference


def first_frame(video_url: str) -> tuple[int, ...]:
    answer = http("GET", video_url)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        path.write_bytes(answer.raw)
        with av.open(str(path)) as container:
            frame = next(container.decode(video=0))
            pixel = frame.to_image().getpixel((frame.width // 2, frame.height // 2))
    assert isinstance(pixel, tuple)
    return pixel


def end_frames(video_url: str) -> tuple[bytes, bytes]:
    """The RGB pixels of a clip's first and last decoded frames."""
    answer = http("GET", video_url)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        path.write_bytes(answer.raw)
        with av.open(str(path)) as container:
            frames = [frame.to_image().tobytes() for frame in container.decode(video=0)]
    return frames[0], frames[-1]


def mean(pixels: bytes) -> tuple[float, ...]:
    return tuple(sum(pixels[c::3]) / (len(pixels) / 3) for c in range(3))


@pytest.mark.parametrize(("provider", "api"), [("veo", "gemini"), ("fal", None), ("openai", None)])
def test_a_scene_starts_from_its_uploaded_first_frame(stack: RunningStack, provider: str, api: str | None):
    user = f"refs-{uuid.uuid4().hex[:8]}"
    key = {"apiKey": KEYS[provider]} | ({"api": api} if api else {})
    assert stack.call("PUT", f"/api/keys/{provider}", key, user=user).status == 200
    body = {
        "name": "Opening",
        "presetKey": "cinematic",
        "scenes": [{"id": "s1", "prompt": "Ada at the door"}],
    }
    board = stack.call("POST", "/api/storyboards", body, user=user).json["storyboard"]
    reference = upload_reference(stack, user, board["id"], png(TEAL))
    assert (reference["status"], reference["width"], reference["height"]) == ("ready", 160, 90)
    assert http("GET", reference["thumbnailUrl"]).status == 200

    scenes = [{"id": "s1", "prompt": "Ada at the door", "firstFrame": reference["id"]}]
    patched = stack.call(
        "PATCH", f"/api/storyboards/{board['id']}", {"scenes": scenes}, user=user, headers={"If-Match": "1"}
    )
    assert patched.status == 200, patched.raw
    answer = stack.call(
        "POST",
        "/api/video/generate",
        {"storyboardId": board["id"], "sceneId": "s1", "provider": provider},
        user=user,
    )
    assert answer.status == 202, answer.raw
    status = wait_until_done(stack, answer.json["jobId"], user)
    assert status["status"] == "completed", status

    colour = first_frame(status["videoUrl"])
    assert all(abs(a - b) <= 12 for a, b in zip(colour, TEAL, strict=True)), colour


def test_a_continuing_scene_starts_where_the_previous_clip_ended(stack: RunningStack):
    user = f"continue-{uuid.uuid4().hex[:8]}"
    assert (
        stack.call("PUT", "/api/keys/veo", {"apiKey": KEYS["veo"], "api": "gemini"}, user=user).status == 200
    )
    scenes = [
        {"id": "s1", "prompt": "Ada at the door"},
        {"id": "s2", "prompt": "Ada walks into the lab", "continueFrom": "previous"},
    ]
    body = {"name": "Continuity", "presetKey": "cinematic", "scenes": scenes}
    board = stack.call("POST", "/api/storyboards", body, user=user).json["storyboard"]

    # generate-all: the second scene waits for the first, then starts from its last frame
    answer = stack.call("POST", f"/api/storyboards/{board['id']}/generate", {"provider": "veo"}, user=user)
    assert answer.status == 202, answer.raw
    first_job, second_job = (job["jobId"] for job in answer.json["jobs"])
    first = wait_until_done(stack, first_job, user)
    second = wait_until_done(stack, second_job, user)
    assert (first["status"], second["status"]) == ("completed", "completed"), (first, second)

    _, last_of_first = end_frames(first["videoUrl"])
    first_of_second, _ = end_frames(second["videoUrl"])
    expected = mean(last_of_first)  # frame against frame, within what compression moves
    assert all(abs(a - b) <= 6 for a, b in zip(mean(first_of_second), expected, strict=True))
    # a continuing scene on the first scene is refused, naming the field
    scenes[0]["continueFrom"] = "previous"
    patched = stack.call(
        "PATCH", f"/api/storyboards/{board['id']}", {"scenes": scenes}, user=user, headers={"If-Match": "1"}
    )
    assert patched.status == 200, patched.raw
    refused = stack.call(
        "POST",
        "/api/video/generate",
        {"storyboardId": board["id"], "sceneId": "s1", "provider": "veo"},
        user=user,
    )
    assert refused.status == 400, refused.raw
    assert refused.json["details"][0]["field"] == "scene.continueFrom"
