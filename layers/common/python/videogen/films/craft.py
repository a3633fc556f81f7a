"""What a film asks for beyond its clips: the transition at its cuts and its scenes' captions.

Pure rules (no media), shared by the API that accepts them and the pipeline that makes them.
A scene's caption lives on the scene as the editor keeps it (``caption``, and optionally
``captionStartMs`` / ``captionEndMs`` within the shot); the film records each chosen scene's
caption when it is requested, so later edits change later films only.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

MAX_CAPTION_CHARS = 200
MIN_TRANSITION_MS, MAX_TRANSITION_MS = 200, 2000


class Transition(BaseModel):
    """How one shot gives way to the next: a hard cut, or a crossfade of ``duration_ms``."""

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True, extra="forbid"
    )

    type: Literal["cut", "crossfade"] = "cut"
    duration_ms: int = Field(
        default=500,
        ge=MIN_TRANSITION_MS,
        le=MAX_TRANSITION_MS,
        description="How long the two shots overlap, picture and sound (crossfade only); at most half "
        "of the shortest clip",
    )

    @property
    def overlap(self) -> Fraction:
        """The seconds each cut overlaps its two shots (0 for a hard cut)."""
        return Fraction(self.duration_ms, 1000) if self.type == "crossfade" else Fraction(0)


class Music(BaseModel):
    """A music bed under the film: a ready music reference of the storyboard, its gain, ducking."""

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True, extra="forbid"
    )

    reference_id: uuid.UUID = Field(description="A music reference of this storyboard (`kind: music`, ready)")
    volume_db: float = Field(
        default=-12.0, ge=-30.0, le=6.0, description="The music's gain in dB (-30 to +6), before ducking"
    )
    duck: bool = Field(default=True, description="Lower the music under the clips' own sound")


@dataclass(frozen=True)
class SceneCaption:
    """A scene's caption: its text, shown from ``start_ms`` to ``end_ms`` of the shot (None: its end)."""

    text: str
    start_ms: int = 0
    end_ms: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "startMs": self.start_ms, "endMs": self.end_ms}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SceneCaption:
        return cls(
            str(data["text"]), int(data["startMs"]), None if data["endMs"] is None else int(data["endMs"])
        )


class CaptionInvalid(ValueError):
    """A scene's caption breaks a rule; ``field`` is the scene's field to blame."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def scene_caption(scene: dict[str, Any]) -> SceneCaption | None:
    """The caption a scene carries (None when it has none, or only whitespace), or
    ``CaptionInvalid``: not text, over 200 characters, a control character (a line break
    included: captions are one line), or timings that are not whole milliseconds in order."""
    text = scene.get("caption")
    if text is None:
        return None
    if not isinstance(text, str):
        raise CaptionInvalid("caption", "must be text")
    if len(text) > MAX_CAPTION_CHARS:
        raise CaptionInvalid("caption", f"has {len(text)} characters; at most {MAX_CAPTION_CHARS}")
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in text):
        raise CaptionInvalid("caption", "has control characters (captions are one line of plain text)")
    start, end = scene.get("captionStartMs"), scene.get("captionEndMs")
    for name, value in (("captionStartMs", start), ("captionEndMs", end)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise CaptionInvalid(name, "must be a whole number of milliseconds, 0 or more")
    if start is not None and end is not None and end <= start:
        raise CaptionInvalid("captionEndMs", "must come after captionStartMs")
    if not text.strip():
        return None
    return SceneCaption(text.strip(), start or 0, end)
