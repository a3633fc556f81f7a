"""Encode one crossfade segment of a film (``videogen.films.cuts.Segment``) and find clips' keyframes.

A segment is made of parts of consecutive clips, read from the clips as the providers stored
them: each part goes through the same filters ``normalize`` uses (so a clip that needs
normalizing looks the same in its segment as in its normalized copy), then FFmpeg's ``xfade``
(picture) and ``acrossfade`` (sound) lay each part over the next for the overlap. It is
encoded as the normalized clips are (``x264_options(segment=True)``: the film's profile and
level, parameter sets under an id of their own; AAC at the film's rate and layout), so it
joins the copied parts of the film in one track. Its sound is cut to its picture's length
exactly. Memory holds about one overlap of frames: parts are decoded one after another.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.filter

from videogen.films.cuts import Part, Segment
from videogen.films.media.clips import ClipUnreadable, Signature, Source, mp4_options, open_clip
from videogen.films.media.normalize import AUDIO_BIT_RATE, audio_filters, video_filters, x264_options


def keyframe_times(source: Source) -> list[Fraction]:
    """The times of a clip's keyframes, its first frame at 0, from its video packets (no decoding)."""
    try:
        with open_clip(source) as container:
            video = container.streams.video[0]
            first, tb = video.start_time or 0, Fraction(video.time_base)
            times = sorted(
                (p.pts - first) * tb for p in container.demux(video) if p.pts is not None and p.is_keyframe
            )
    except av.error.FFmpegError as error:
        raise ClipUnreadable(f"not a readable MP4 ({error.strerror or error})") from error
    return times or [Fraction(0)]


def render_segment(sources: Sequence[Source], segment: Segment, dst: Path | str, target: Signature) -> float:
    """Encode ``segment`` (its parts read from ``sources[part.clip]``) into ``dst``; its length."""
    try:
        with av.open(str(dst), "w", format="mp4", options=mp4_options(target.video)) as out:
            _Encoder(out, segment, target).run(sources)
    except av.error.FFmpegError as error:
        raise ClipUnreadable(f"does not decode ({error.strerror or error})") from error
    return float(segment.seconds)


class _Encoder:
    """The filter graph (one chain per part into the crossfades), the encoders, the output."""

    def __init__(self, out: Any, segment: Segment, target: Signature) -> None:
        self.out, self.segment, self.target = out, segment, target
        video = target.video
        self.venc = out.add_stream("libx264", rate=video.frame_rate)
        ctx = self.venc.codec_context
        ctx.width, ctx.height, ctx.pix_fmt = video.width, video.height, video.pix_fmt
        ctx.time_base = 1 / video.frame_rate
        ctx.sample_aspect_ratio = video.sample_aspect_ratio
        ctx.color_range, ctx.colorspace, ctx.color_primaries, ctx.color_trc = video.color
        ctx.thread_type = "AUTO"
        self.venc.options = x264_options(video, segment=True)
        self.aenc: Any = None
        if target.audio is not None:
            self.aenc = out.add_stream("aac", rate=target.audio.sample_rate, layout=target.audio.layout)
            self.aenc.codec_context.bit_rate = AUDIO_BIT_RATE

    def run(self, sources: Sequence[Source]) -> None:
        containers = [open_clip(sources[part.clip]) for part in self.segment.parts]
        try:
            graph = _Graph(containers, self.segment, self.target)
            for index, (part, container) in enumerate(zip(self.segment.parts, containers, strict=True)):
                self._feed(graph, index, part, container)
            for chain in graph.inputs:
                chain.end()
            self._drain(graph)
            self._mux(self.venc.encode(None))
            if self.aenc is not None:
                self._mux(self.aenc.encode(None))
        finally:
            for container in containers:
                container.close()

    def _feed(self, graph: _Graph, index: int, part: Part, container: Any) -> None:
        chain = graph.inputs[index]
        video = container.streams.video[0]
        video.codec_context.thread_type = "AUTO"
        audio = chain.audio_stream
        if part.start > 0:  # from the keyframe at the part's start; the sound from about there
            at = int(part.start / Fraction(video.time_base)) + (video.start_time or 0)
            container.seek(at, stream=video)
        for packet in container.demux(*(s for s in (video, audio) if s is not None)):
            for frame in packet.decode():
                if chain.push(frame, packet.stream.type == "video"):
                    self._drain(graph)
            if chain.video_done and (audio is None or chain.audio_done):
                break
        chain.end()
        self._drain(graph)

    def _drain(self, graph: _Graph) -> None:
        for frame in graph.pull_video():
            self._mux(self.venc.encode(frame))
        for frame in graph.pull_audio():
            self._mux(self.aenc.encode(frame))

    def _mux(self, packets: list[Any]) -> None:
        for packet in packets:
            self.out.mux(packet)


class _Input:
    """One part's entry into the graph: its frames, rebased to the part's start, until its end."""

    def __init__(self, part: Part, container: Any, video_in: Any, audio_in: Any) -> None:
        self.part = part
        self.video_stream = container.streams.video[0]
        self.audio_stream = (
            container.streams.audio[0] if audio_in is not None and container.streams.audio else None
        )
        self.video_in, self.audio_in = video_in, audio_in
        self.video_done = False
        self.audio_done = self.audio_stream is None
        self.ended = False

    def push(self, frame: Any, is_video: bool) -> bool:
        """Give the graph ``frame`` if it lies in the part; whether anything was pushed."""
        stream: Any = self.video_stream if is_video else self.audio_stream
        tb = Fraction(stream.time_base)
        at = (frame.pts - (stream.start_time or 0)) * tb
        if is_video:
            if at < self.part.start or self.video_done:
                return False
            if at >= self.part.end:
                self.video_done = True
                return False
            frame.pts = int((at - self.part.start) / tb)
            self.video_in.push(frame)
            return True
        if self.audio_done:
            return False
        if at >= self.part.end + Fraction(1, 10):  # a little past the end: atrim cuts it exact
            self.audio_done = True
            return False
        frame.pts = int((at - self.part.start) / tb)
        try:
            self.audio_in.push(frame)
        except av.error.EOFError:  # the chain has the part's length already
            self.audio_done = True
        return True

    def end(self) -> None:
        if self.ended:
            return
        self.ended = True
        self.video_in.push(None)
        if self.audio_stream is not None and not self.audio_done:
            self.audio_in.push(None)


class _Graph:
    """Video: buffer -> normalize's filters -> xfade chain -> sink. Audio the same way with
    normalize's audio filters (silence for a part without sound) and acrossfade."""

    def __init__(self, containers: list[Any], segment: Segment, target: Signature) -> None:
        self.video = av.filter.Graph()
        self.audio = av.filter.Graph() if target.audio is not None else None
        rate = None if target.audio is None else target.audio.sample_rate
        vtails, atails, self.inputs = [], [], []
        for part, container in zip(segment.parts, containers, strict=True):
            stream = container.streams.video[0]
            ctx = stream.codec_context
            sar = Fraction(stream.sample_aspect_ratio) if stream.sample_aspect_ratio else Fraction(1)
            vin = self.video.add_buffer(template=stream)
            chain = [vin] + [
                self.video.add(n, a) for n, a in video_filters(ctx.width, ctx.height, sar, target.video)
            ]
            self.video.link_nodes(*chain)
            vtails.append(chain[-1])
            ain = None
            if self.audio is not None and target.audio is not None and rate is not None:
                samples = round(part.seconds * rate)
                silent = not container.streams.audio
                filters = [
                    self.audio.add(n, a) for n, a in audio_filters(target.audio, samples, silent=silent)
                ]
                if not silent:
                    ain = self.audio.add_abuffer(template=container.streams.audio[0])
                    filters.insert(0, ain)
                self.audio.link_nodes(*filters)
                atails.append(filters[-1])
            self.inputs.append(_Input(part, container, vin, ain))
        self.video_sink = self.video.add("buffersink")
        self.video.link_nodes(_crossfades(self.video, vtails, segment, "xfade"), self.video_sink)
        self.video.configure()
        self.audio_sink = None
        if self.audio is not None and target.audio is not None and rate is not None:
            total = round(segment.seconds * rate)
            self.audio_sink = self.audio.add("abuffersink")
            self.audio.link_nodes(
                _crossfades(self.audio, atails, segment, "acrossfade", rate),
                self.audio.add("apad", f"whole_len={total}"),  # exactly the picture's length
                self.audio.add("atrim", f"end_sample={total}"),
                self.audio_sink,
            )
            self.audio.configure()
            self.audio.set_audio_frame_size(target.audio.frame_size)

    def pull_video(self) -> list[Any]:
        return _pull_all(self.video_sink)

    def pull_audio(self) -> list[Any]:
        return [] if self.audio_sink is None else _pull_all(self.audio_sink)


def _crossfades(graph: Any, tails: list[Any], segment: Segment, name: str, rate: int = 1) -> Any:
    """Link the parts' chains into one through ``name`` (``xfade``, or ``acrossfade`` at
    ``rate``), each part laid over the one before for the overlap; the last node."""
    overlap = segment.overlap
    current, length = tails[0], segment.parts[0].seconds
    for tail, part in zip(tails[1:], segment.parts[1:], strict=True):
        if name == "xfade":
            args = f"transition=fade:duration={float(overlap)}:offset={float(length - overlap)}"
        else:
            args = f"ns={round(overlap * rate)}:c1=tri:c2=tri"
        node = graph.add(name, args)
        current.link_to(node, 0, 0)
        tail.link_to(node, 0, 1)
        current, length = node, length + part.seconds - overlap
    return current


def _pull_all(sink: Any) -> list[Any]:
    frames = []
    while True:
        try:
            frames.append(sink.pull())
        except (BlockingIOError, EOFError):
            return frames
