"""Where a crossfaded film is re-encoded and where it is copied (no media here: plain arithmetic).

A crossfade of ``overlap`` seconds lays the start of each shot over the end of the one before.
Only what the transition touches is encoded again: at each cut, from the last keyframe of the
outgoing clip at or before the overlap starts to the first keyframe of the incoming clip at or
after it ends (a *segment*); everything between two segments is copied packet for packet, and
a copy can only start and stop at keyframes. A clip with no keyframe between its two overlaps
joins the segments on both sides into one, which then runs through it.

Times are exact fractions of a second, in each clip's own timeline (its first frame at 0).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any


@dataclass(frozen=True)
class Part:
    """Seconds ``start`` to ``end`` of clip ``clip``."""

    clip: int
    start: Fraction
    end: Fraction

    @property
    def seconds(self) -> Fraction:
        return self.end - self.start


@dataclass(frozen=True)
class Segment:
    """Clip parts encoded together, each crossfaded into the next over ``overlap``."""

    parts: tuple[Part, ...]
    overlap: Fraction

    @property
    def seconds(self) -> Fraction:
        return sum((p.seconds for p in self.parts), Fraction(0)) - self.overlap * (len(self.parts) - 1)

    @property
    def clips(self) -> tuple[int, ...]:
        return tuple(p.clip for p in self.parts)


@dataclass(frozen=True)
class Piece:
    """One stretch of the film, in film order: a copied ``part`` or segment number ``segment``."""

    part: Part | None = None
    segment: int | None = None


@dataclass(frozen=True)
class CutPlan:
    pieces: tuple[Piece, ...]
    segments: tuple[Segment, ...]

    def to_json(self) -> dict[str, Any]:
        """For the film's row: fractions as "n/d" strings."""
        return {
            "pieces": [
                {"segment": p.segment} if p.part is None else {"copy": _part_json(p.part)}
                for p in self.pieces
            ],
            "segments": [
                {"overlap": str(s.overlap), "parts": [_part_json(p) for p in s.parts]} for s in self.segments
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CutPlan:
        pieces = tuple(
            Piece(segment=int(p["segment"])) if "segment" in p else Piece(part=_part(p["copy"]))
            for p in data["pieces"]
        )
        segments = tuple(
            Segment(tuple(_part(p) for p in s["parts"]), Fraction(s["overlap"])) for s in data["segments"]
        )
        return cls(pieces, segments)


def _part_json(part: Part) -> dict[str, Any]:
    return {"clip": part.clip, "start": str(part.start), "end": str(part.end)}


def _part(data: dict[str, Any]) -> Part:
    return Part(int(data["clip"]), Fraction(data["start"]), Fraction(data["end"]))


def shot_starts(durations: Sequence[Fraction], overlap: Fraction) -> list[Fraction]:
    """Where each shot starts on the film's timeline (overlaps included)."""
    starts, at = [], Fraction(0)
    for seconds in durations:
        starts.append(at)
        at += seconds - overlap
    return starts


def plan_cuts(
    durations: Sequence[Fraction], keyframes: Sequence[Sequence[Fraction]], overlap: Fraction
) -> CutPlan:
    """The pieces of a film of clips lasting ``durations`` with keyframes at ``keyframes``
    (sorted, each list starting at 0), crossfaded over ``overlap`` (0: hard cuts, all copied)."""
    last = len(durations) - 1
    if overlap <= 0 or last < 1:
        return CutPlan(tuple(Piece(part=Part(i, Fraction(0), d)) for i, d in enumerate(durations)), ())
    pieces: list[Piece] = []
    segments: list[Segment] = []
    open_parts: list[Part] = []
    for i, seconds in enumerate(durations):
        head = Fraction(0) if i == 0 else _first_at_or_after(keyframes[i], overlap)
        tail = seconds if i == last else _last_at_or_before(keyframes[i], seconds - overlap)
        if head is None or head > tail:  # no keyframe to cut at (never the first clip): all encoded
            open_parts.append(Part(i, Fraction(0), seconds))
            continue
        if i > 0:
            open_parts.append(Part(i, Fraction(0), head))
            pieces.append(Piece(segment=len(segments)))
            segments.append(Segment(tuple(open_parts), overlap))
        if head < tail:
            pieces.append(Piece(part=Part(i, head, tail)))
        open_parts = [] if i == last else [Part(i, tail, seconds)]
    if open_parts:  # the last clip had no keyframe after its overlap: the segment runs to the end
        pieces.append(Piece(segment=len(segments)))
        segments.append(Segment(tuple(open_parts), overlap))
    return CutPlan(tuple(pieces), tuple(segments))


def _first_at_or_after(times: Sequence[Fraction], at: Fraction) -> Fraction | None:
    index = bisect.bisect_left(times, at)
    return times[index] if index < len(times) else None


def _last_at_or_before(times: Sequence[Fraction], at: Fraction) -> Fraction:
    index = bisect.bisect_right(times, at)
    return times[index - 1] if index else Fraction(0)
