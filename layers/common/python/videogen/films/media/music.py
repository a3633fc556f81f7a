"""Lay a music bed under an assembled film: the picture copied packet for packet, only the sound
encoded again.

The new sound is one FFmpeg filter graph fed as the film is read: the film's own sound
(decoded; silence when it has none) and the music (decoded, looped by opening it again, cut),
each resampled to the film's audio format and padded or cut to exactly the picture's length in
samples; the music at ``volume_db``, fading out over the last ``FADE_SECONDS``, and with
``duck`` lowered under the film's sound by ``sidechaincompress`` keyed on it; then summed
(``amix``, no normalising) and encoded as AAC frames from the picture's first instant (the
encoder's priming is hidden by the MP4 edit list, as for every clip). ``sidechaincompress`` is
FFmpeg's own attack/release envelope follower: an envelope of our own would mean holding and
smoothing the film's sound in Python for the same result. Both inputs are fed in step (the music
never more than ``LEAD_SECONDS`` ahead of the film's sound, or of its picture when it has no
sound), so memory holds a few frames whatever the film's length.
"""

from __future__ import annotations

import math
import os
from collections.abc import Generator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.filter

from videogen.films.media.clips import MediaError, Source, mp4_options, video_format
from videogen.films.media.music_check import MusicUnusable, decoded_frames, first_audio, open_music
from videogen.films.media.normalize import AUDIO_BIT_RATE

FADE_SECONDS = 2
SILENT_FILM_RATE = 48_000  # the sound of a film that had none: 48 kHz stereo
SILENT_FILM_LAYOUT = "stereo"
AAC_FRAME = 1024
LEAD_SECONDS = 0.1
EMPTY_TX3G = b"\x00\x00"  # a mov_text sample of no text: what the MP4 muxer fills caption gaps with
# Ducking: music is lowered by (level over -34 dBFS) x (1 - 1/4): about 15 dB under a
# -14 dBFS voice, 6 dB under a quiet one, coming back over half a second after it stops.
DUCKING = "threshold=0.02:ratio=4:attack=20:release=500:detection=rms:link=average"


@dataclass(frozen=True)
class MusicBed:
    """What ``lay_music`` wrote: the picture's length, the new sound's, the file's size."""

    duration: float
    audio_duration: float
    size_bytes: int


def lay_music(film: Path, music: Source, dst: Path, *, volume_db: float, duck: bool) -> MusicBed:
    """Write ``dst``: ``film``'s picture (and subtitles) copied, and one AAC track of its own
    sound mixed with ``music`` (looped or cut to the picture, at ``volume_db``, fading out,
    ducked under the film's sound with ``duck``) in the film's audio format, 48 kHz stereo when
    it had none. ``MusicUnusable`` when the music does not decode, ``MediaError`` when the film
    does not; either way ``dst`` is left absent."""
    if not math.isfinite(volume_db):
        raise ValueError("volume_db must be a finite number of decibels")
    try:
        with av.open(str(film)) as inp:
            if not inp.streams.video:
                raise MediaError("the film has no video stream")
            vin = inp.streams.video[0]
            ain = inp.streams.audio[0] if inp.streams.audio else None
            start, seconds = _picture_span(vin)
            loop = _Loop(music, enough=seconds + Fraction(LEAD_SECONDS))
            try:
                with av.open(str(dst), "w", format="mp4", options=mp4_options(video_format(vin))) as out:
                    copied = _copied_streams(inp, out)
                    bed = _Bed(out, ain, loop, start=start, seconds=seconds, volume_db=volume_db, duck=duck)
                    _copy_and_mix(inp, copied, ain, bed)
            finally:
                loop.close()
    except av.error.FFmpegError as error:
        dst.unlink(missing_ok=True)
        raise MediaError(f"the film does not read back ({error.strerror or error})") from error
    except BaseException:
        dst.unlink(missing_ok=True)
        raise
    return MusicBed(float(seconds), bed.written / bed.rate, os.path.getsize(dst))


def _picture_span(vin: Any) -> tuple[Fraction, Fraction]:
    """Where the picture starts and how long it lasts, in seconds, from the MP4 index (the sum
    of its samples' durations: what ``assemble`` wrote, read without a sample)."""
    if not vin.duration or vin.time_base is None:
        raise MediaError("the film's index states no picture length")
    time_base = Fraction(vin.time_base)
    return (vin.start_time or 0) * time_base, vin.duration * time_base


def _copied_streams(inp: Any, out: Any) -> dict[int, Any]:
    """The output stream of every input stream copied as it is: the picture and subtitles."""
    copied = {}
    for stream in [*inp.streams.video[:1], *inp.streams.subtitles]:
        twin = out.add_stream_from_template(stream)
        twin.metadata.update(stream.metadata)
        copied[stream.index] = twin
    return copied


def _copy_and_mix(inp: Any, copied: dict[int, Any], ain: Any, bed: _Bed) -> None:
    wanted = [inp.streams[i] for i in copied] + ([ain] if ain is not None else [])
    for packet in inp.demux(*wanted):
        if packet.stream.index in copied:
            if packet.dts is None or (packet.stream.type == "subtitle" and bytes(packet) == EMPTY_TX3G):
                continue  # a flush; or a gap between captions, which the muxer writes again itself
            video = packet.stream.type == "video"
            if ain is None and video:  # a silent film: the music keeps up with the picture
                bed.keep_up(float(packet.pts + packet.duration) * float(packet.time_base))
            packet.stream = copied[packet.stream.index]
            bed.out.mux(packet)
            continue
        try:
            frames = packet.decode()
        except av.error.FFmpegError as error:
            raise MediaError(f"the film's sound does not decode ({error.strerror or error})") from error
        for frame in frames:
            bed.push_film(frame)
    bed.finish()


class _Bed:
    """The mixing graph, the music looped into it, and the encoder of the film's new sound."""

    def __init__(
        self,
        out: Any,
        ain: Any,
        music: _Loop,
        *,
        start: Fraction,
        seconds: Fraction,
        volume_db: float,
        duck: bool,
    ) -> None:
        ctx = ain.codec_context if ain is not None else None
        self.rate = ctx.sample_rate if ctx is not None else SILENT_FILM_RATE
        layout = ctx.layout.name if ctx is not None else SILENT_FILM_LAYOUT
        self.out = out
        self.stream = out.add_stream("aac", rate=self.rate, layout=layout)
        self.stream.codec_context.bit_rate = AUDIO_BIT_RATE
        self.total = round(seconds * self.rate)
        self.offset = round(start * self.rate)
        self.written = 0
        self.time_base = Fraction(1, self.rate)
        self.music = music
        first = self.music.peek()
        self.graph, self.film_in, self.music_in, self.sink = _mix_graph(
            ain,
            first,
            rate=self.rate,
            layout=layout,
            total=self.total,
            volume_db=volume_db,
            duck=duck and ain is not None,
        )
        self.done = False

    def push_film(self, frame: Any) -> None:
        if self.film_in is None:
            return
        self.film_in.push(frame)
        self.keep_up((frame.time or 0.0) + frame.samples / frame.sample_rate)

    def keep_up(self, seconds: float) -> None:
        """Feed the music up to just past ``seconds`` of the film, and encode what is ready.
        (Floats: only how far ahead the music is fed depends on them, and this runs per frame.)"""
        self.music.feed(self.music_in, seconds + LEAD_SECONDS)
        self._drain()

    def finish(self) -> None:
        self.music.feed(self.music_in, None)
        if self.film_in is not None:
            self.film_in.push(None)
        self._drain()
        self.out.mux(self.stream.encode(None))
        if self.written != self.total:
            raise MediaError(f"the new sound has {self.written} samples, the picture {self.total}")

    def _drain(self) -> None:
        while not self.done:
            try:
                frame: Any = self.sink.pull()
            except BlockingIOError:
                return
            except EOFError:
                self.done = True
                return
            frame.pts = self.offset + self.written
            frame.time_base = self.time_base
            self.written += frame.samples
            self.out.mux(self.stream.encode(frame))


def _mix_graph(
    ain: Any, first: Any, *, rate: int, layout: str, total: int, volume_db: float, duck: bool
) -> tuple[Any, Any, Any, Any]:
    """The graph (film's sound + music -> one track of ``total`` samples) and its two inputs
    (the film's is None when it has no sound: silence comes from ``anullsrc``) and its sink."""
    graph = av.filter.Graph()
    fit = [
        ("aformat", f"sample_fmts=fltp:sample_rates={rate}:channel_layouts={layout}"),
        ("apad", f"whole_len={total}"),
        ("atrim", f"end_sample={total}"),
    ]
    film_in = None if ain is None else graph.add_abuffer(template=ain)
    head = graph.add("anullsrc", f"r={rate}:cl={layout}") if film_in is None else film_in
    film = [head, *(graph.add(n, a) for n, a in [("aresample", f"{rate}:async=1:first_pts=0"), *fit])]
    music_in = graph.add_abuffer(
        sample_rate=first.sample_rate,
        format=first.format.name,
        layout=first.layout.name,
        time_base=Fraction(1, first.sample_rate),
    )
    fade = min(total, FADE_SECONDS * rate)
    music_chain = [
        ("aresample", str(rate)),
        *fit,
        ("volume", f"volume={volume_db}dB"),
        ("afade", f"t=out:ss={total - fade}:ns={fade}"),
    ]
    music = [music_in, *(graph.add(n, a) for n, a in music_chain)]
    graph.link_nodes(*film)
    graph.link_nodes(*music)
    mix = graph.add("amix", "inputs=2:duration=longest:dropout_transition=0:normalize=0")
    if duck:
        split = graph.add("asplit", "2")
        ducker = graph.add("sidechaincompress", DUCKING)
        film[-1].link_to(split)
        split.link_to(mix, 0, 0)
        music[-1].link_to(ducker, 0, 0)
        split.link_to(ducker, 1, 1)
        ducker.link_to(mix, 0, 1)
    else:
        film[-1].link_to(mix, 0, 0)
        music[-1].link_to(mix, 0, 1)
    sink = graph.add("abuffersink")
    mix.link_to(sink)
    graph.configure()
    graph.set_audio_frame_size(AAC_FRAME)
    return graph, film_in, music_in, sink


class _Loop:
    """The music's decoded frames, from its start again each time it ends, with continuous
    timestamps, until ``enough`` seconds were given."""

    def __init__(self, source: Source, enough: Fraction) -> None:
        self.source = source
        self.given = 0  # samples, at the music's rate
        self.frames = self._passes()
        self.head: Any = next(self.frames)
        self.rate = self.head.sample_rate
        # In whole samples: the count given is whole, so reaching ``enough`` exactly is reaching
        # its ceiling; and the check runs per frame, where a Fraction's arithmetic is not free.
        self.enough = math.ceil(enough * self.rate)
        self.shape = (self.rate, self.head.format.name, self.head.layout.name)
        self.time_base = Fraction(1, self.rate)
        self.closed = False

    def peek(self) -> Any:
        return self.head

    def feed(self, into: Any, until: float | None) -> None:
        """Push frames into ``into`` until ``until`` seconds (all it needs with None), then its end."""
        if self.closed:
            return
        enough = self.enough
        limit = enough if until is None else min(until * self.rate, enough)
        while self.given < limit:
            frame = self.head if self.head is not None else next(self.frames)
            self.head = None
            if (frame.sample_rate, frame.format.name, frame.layout.name) != self.shape:
                raise MusicUnusable("the music changes its sample rate or format midway")
            frame.pts, frame.time_base = self.given, self.time_base
            self.given += frame.samples
            into.push(frame)
        if self.given >= enough:
            into.push(None)
            self.close()

    def close(self) -> None:
        """Stop reading the music (its file is closed)."""
        self.frames.close()
        self.closed = True

    def _passes(self) -> Generator[Any]:
        while True:
            samples = 0
            with open_music(self.source) as container:
                for frame in decoded_frames(container, first_audio(container)):
                    samples += frame.samples
                    yield frame
            if samples == 0:
                raise MusicUnusable("the file holds no sound that decodes")
