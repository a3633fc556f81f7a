"""A film's captions: the WebVTT file players load beside it, and its soft subtitle track.

The track is 3GPP timed text (``mov_text``, sample entry ``tx3g``), what MP4 players show
without re-encoding anything. FFmpeg's ``mov_text`` *encoder* wants an ASS header from a
subtitle decoder, so the samples are written here as the format defines them (a 16-bit
big-endian length, then the UTF-8 text: 3GPP TS 26.245, 5.17) and muxed as they are; FFmpeg's
muxer writes the sample description and fills the gaps between cues with empty samples.
A track holds one sample at a time, so a cue that overlaps the next (a crossfade) ends where
the next begins there; the WebVTT file keeps the overlap, which browsers show as two lines.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av

_TIME_BASE = Fraction(1, 1000)


@dataclass(frozen=True)
class Cue:
    """``text`` shown from ``start`` to ``end`` seconds of the film."""

    start: Fraction
    end: Fraction
    text: str


@dataclass(frozen=True)
class Captions:
    """The film's cues in time order, and their language (ISO 639-2, as MP4 tags it)."""

    cues: tuple[Cue, ...]
    language: str = "eng"

    @classmethod
    def of(cls, cues: Sequence[Cue], language: str = "eng") -> Captions:
        return cls(tuple(sorted((c for c in cues if c.end > c.start), key=lambda c: c.start)), language)

    def mux(self, out: Any) -> None:
        """Add the subtitle track to ``out`` (before its first packet) with every cue."""
        stream = out.add_mux_stream("mov_text")
        stream.time_base = _TIME_BASE
        stream.metadata["language"] = self.language
        for i, cue in enumerate(self.cues):
            end = cue.end if i + 1 == len(self.cues) else min(cue.end, self.cues[i + 1].start)
            start, stop = _ms(cue.start), _ms(end)
            if stop <= start:
                continue
            text = cue.text.encode()
            packet = av.Packet(struct.pack(">H", len(text)) + text)
            packet.stream = stream
            packet.time_base = _TIME_BASE
            packet.pts = packet.dts = start
            packet.duration = stop - start
            out.mux(packet)

    def webvtt(self) -> str:
        """The cues as a WebVTT file (W3C WebVTT: a header, then one block per cue)."""
        blocks = ["WEBVTT"]
        for i, cue in enumerate(self.cues, start=1):
            text = cue.text.replace("-->", "\u2192")  # the only sequence a cue's text may not hold
            text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            blocks.append(f"{i}\n{_clock(cue.start)} --> {_clock(cue.end)}\n{text}")
        return "\n\n".join(blocks) + "\n"


def _ms(seconds: Fraction) -> int:
    return round(seconds * 1000)


def _clock(seconds: Fraction) -> str:
    ms = _ms(seconds)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"
