"""Re-encode one clip to a film's target signature (H.264 + AAC) so it joins the film by stream copy.

Parameter sets. An MP4 track has one avcC, which holds the SPS/PPS for all its samples, and
x264 writes different ones than the providers' encoders; copying our clip after theirs under
their avcC decodes our slices with their SPS (wrong pictures, or "decode_slice_header error").
We encode with libx264's ``sps-id`` set to an id the target's avcC does not use (x264 numbers
its PPS the same), and ``assemble`` writes the union of every clip's parameter sets into the
film's avcC (``avcc.AvcConfig.union``). Each slice then names its own PPS -> SPS, the samples
stay byte-for-byte copies, and the track remains plain avc1 with the target's profile and
level, which FFmpeg and Chromium decode (tests/unit/test_film_media.py and
tests/integration/test_film_playback.py check every frame). In-band parameter sets (avc3)
would rewrite every copied keyframe and are less widely supported; the providers' parameter
sets cannot be matched bit for bit by another encoder. Our settings are fixed (preset, CRF,
the target's profile, level and colour tags; threading does not change them), so every clip
normalized to one target carries the same SPS/PPS.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.filter

from videogen.films.media.avcc import AvcConfig
from videogen.films.media.clips import (
    X264_PROFILES,
    AudioFormat,
    ClipInfo,
    ClipUnreadable,
    MediaError,
    Signature,
    VideoFormat,
    mp4_options,
    probe,
)

PRESET = "veryfast"
CRF = "20"
AUDIO_BIT_RATE = 128_000


def normalize(src: Path | str, dst: Path | str, target: Signature) -> ClipInfo:
    """Re-encode ``src`` into ``dst`` at ``target``: scaled to fit and padded black (never
    stretched), at its frame rate, pixel format, profile and level; audio resampled to its
    rate and layout, silence when the clip has none, dropped when the film has none.
    Returns the probe of ``dst``; ``ClipUnreadable`` if ``src`` does not decode."""
    if not target.producible:
        raise MediaError("the target is not one normalize can produce")
    source = probe(src)
    video = target.video
    frames = max(1, round(Fraction(source.duration) * video.frame_rate))
    try:
        with (
            av.open(str(src)) as inp,
            av.open(str(dst), "w", format="mp4", options=mp4_options(video)) as out,
        ):
            _transcode(inp, out, target, Fraction(frames) / video.frame_rate)
    except av.error.FFmpegError as error:
        raise ClipUnreadable(f"does not decode ({error.strerror or error})") from error
    return probe(dst)


def _transcode(inp: Any, out: Any, target: Signature, seconds: Fraction) -> None:
    vin = inp.streams.video[0]
    vin.codec_context.thread_type = "AUTO"
    ain = inp.streams.audio[0] if target.audio is not None and inp.streams.audio else None
    venc = _video_encoder(out, target.video)
    vgraph = _video_graph(vin, target.video)
    audio = None if target.audio is None else _AudioPath(out, ain, target.audio, seconds)
    for packet in inp.demux(*(s for s in (vin, ain) if s is not None)):
        for frame in packet.decode():
            if packet.stream.type == "video":
                vgraph.push(frame)
                _drain(vgraph, venc, out, audio)
            elif audio is not None:
                audio.push(frame)
    vgraph.push(None)
    _drain(vgraph, venc, out, audio)
    _mux(out, venc.encode(None))
    if audio is not None:
        audio.finish()


def _drain(graph: Any, encoder: Any, out: Any, audio: _AudioPath | None) -> None:
    """Encode every frame the graph has ready; keep a silent track level with the video."""
    while (frame := _pull(graph)) is not None:
        _mux(out, encoder.encode(frame))
        if audio is not None:
            audio.keep_up(Fraction(frame.pts) * frame.time_base)


def _pull(graph: Any) -> Any:
    try:
        return graph.pull()
    except (BlockingIOError, EOFError):
        return None


def _mux(out: Any, packets: list[Any]) -> None:
    for packet in packets:
        out.mux(packet)


def _video_encoder(out: Any, video: VideoFormat) -> Any:
    stream = out.add_stream("libx264", rate=video.frame_rate)
    ctx = stream.codec_context
    ctx.width, ctx.height, ctx.pix_fmt = video.width, video.height, video.pix_fmt
    ctx.time_base = 1 / video.frame_rate
    ctx.sample_aspect_ratio = video.sample_aspect_ratio
    ctx.color_range, ctx.colorspace, ctx.color_primaries, ctx.color_trc = video.color
    ctx.thread_type = "AUTO"  # PyAV's default (slice) makes x264 use sliced threads, not frame threads
    stream.options = x264_options(video)
    return stream


def x264_options(video: VideoFormat, *, segment: bool = False) -> dict[str, str]:
    """libx264's settings for ``video``: fixed quality, its profile and level, a keyframe every
    second exactly (so a film's cut points in a normalized clip are known before it exists), and
    an SPS/PPS id its parameter sets do not use: the first free one for normalized clips, the next
    for crossfade segments (``segment``), so the two never collide in the film's avcC."""
    free = AvcConfig.parse(bytes.fromhex(video.parameter_sets)).free_ids()
    gop = str(gop_frames(video))
    return {
        "preset": PRESET,
        "crf": CRF,
        "profile": X264_PROFILES[video.profile or ""],
        "level": str(video.level),
        "g": gop,
        "keyint_min": gop,
        "sc_threshold": "0",
        "x264-params": f"sps-id={free[1] if segment else free[0]}",
    }


def gop_frames(video: VideoFormat) -> int:
    """Frames from one keyframe to the next in what we encode: a second's worth."""
    return max(1, round(video.frame_rate))


def keyframes_of_normalized(seconds: float, video: VideoFormat) -> list[Fraction]:
    """The keyframe times of a clip of ``seconds`` once normalized to ``video`` (see x264_options)."""
    frames = max(1, round(Fraction(seconds) * video.frame_rate))
    gop = gop_frames(video)
    return [Fraction(k, 1) / video.frame_rate for k in range(0, frames, gop)]


def fit(width: int, height: int, sar: Fraction, video: VideoFormat) -> tuple[int, int]:
    """The even size a ``width`` x ``height`` picture (pixel aspect ``sar``) scales to inside the
    target, keeping its displayed aspect ratio."""
    shown = Fraction(width) * sar / height
    box = Fraction(video.width) * video.sample_aspect_ratio / video.height
    w: Fraction | int
    h: Fraction | int
    if shown >= box:  # wider than the target: full width, bars above and below
        w, h = video.width, Fraction(video.width) * video.sample_aspect_ratio / shown
    else:  # narrower: full height, bars left and right
        w, h = Fraction(video.height) * shown / video.sample_aspect_ratio, video.height
    return min(video.width, max(2, 2 * round(w / 2))), min(video.height, max(2, 2 * round(h / 2)))


def video_filters(width: int, height: int, sar: Fraction, video: VideoFormat) -> list[tuple[str, str]]:
    """The filters (name, arguments) from a decoded ``width`` x ``height`` picture to ``video``:
    scaled to fit, padded black in the middle, the target's pixel aspect, rate and format."""
    w, h = fit(width, height, sar, video)
    matrix = "bt709" if video.color[1] == 1 else "bt601"
    full_range = "pc" if video.color[0] == 2 else "tv"
    sar_out, rate = video.sample_aspect_ratio, video.frame_rate
    return [
        ("scale", f"{w}:{h}:flags=bicubic:out_color_matrix={matrix}:out_range={full_range}"),
        ("pad", f"{video.width}:{video.height}:(ow-iw)/2:(oh-ih)/2:black"),
        ("setsar", f"{sar_out.numerator}/{sar_out.denominator}"),
        ("fps", f"fps={rate.numerator}/{rate.denominator}:start_time=0"),
        ("format", video.pix_fmt),
    ]


def audio_filters(audio: AudioFormat, samples: int, *, silent: bool) -> list[tuple[str, str]]:
    """The filters from a clip's decoded audio (or from nothing, when ``silent``) to exactly
    ``samples`` samples of ``audio``: resampled, gaps filled, padded or cut."""
    rate, layout = audio.sample_rate, audio.layout
    source = ("anullsrc", f"r={rate}:cl={layout}") if silent else ("aresample", f"{rate}:async=1:first_pts=0")
    return [
        source,
        ("aformat", f"sample_fmts=fltp:sample_rates={rate}:channel_layouts={layout}"),
        ("apad", f"whole_len={samples}"),
        ("atrim", f"end_sample={samples}"),
    ]


def _video_graph(vin: Any, video: VideoFormat) -> Any:
    ctx = vin.codec_context
    sar = Fraction(vin.sample_aspect_ratio) if vin.sample_aspect_ratio else Fraction(1)
    graph = av.filter.Graph()
    filters = [graph.add(name, args) for name, args in video_filters(ctx.width, ctx.height, sar, video)]
    graph.link_nodes(graph.add_buffer(template=vin), *filters, graph.add("buffersink")).configure()
    return graph


class _AudioPath:
    """The film's audio for one clip: the clip's own, resampled, padded or cut to the video's
    length; or silence of that length, produced as the video advances."""

    def __init__(self, out: Any, ain: Any, audio: AudioFormat, seconds: Fraction) -> None:
        self.out = out
        self.stream = out.add_stream("aac", rate=audio.sample_rate, layout=audio.layout)
        self.stream.codec_context.bit_rate = AUDIO_BIT_RATE
        self.rate = audio.sample_rate
        total = round(seconds * audio.sample_rate)
        self.silent = ain is None
        self.done = False
        self.graph = av.filter.Graph()
        chain = [self.graph.add(n, a) for n, a in audio_filters(audio, total, silent=self.silent)]
        if not self.silent:
            chain.insert(0, self.graph.add_abuffer(template=ain))
        self.graph.link_nodes(*chain, self.graph.add("abuffersink")).configure()
        self.graph.set_audio_frame_size(audio.frame_size)

    def push(self, frame: Any) -> None:
        self.graph.push(frame)
        self._drain(None)

    def keep_up(self, seconds: Fraction) -> None:
        if self.silent:
            self._drain(seconds)

    def finish(self) -> None:
        if not self.silent:
            self.graph.push(None)
        self._drain(None)
        _mux(self.out, self.stream.encode(None))

    def _drain(self, until: Fraction | None) -> None:
        while not self.done:
            try:
                frame: Any = self.graph.pull()
            except BlockingIOError:
                return
            except EOFError:
                self.done = True
                return
            _mux(self.out, self.stream.encode(frame))
            if until is not None and Fraction(frame.pts + frame.samples, self.rate) >= until:
                return
