"""The music bed on real files: the picture copied byte for byte, the sound mixed, looped, cut,
faded and ducked, as long as the picture; and the check of uploaded music."""

from __future__ import annotations

import dataclasses
import io
import struct
import wave
from pathlib import Path
from typing import Any

import av
import pytest

from devstack.fakes.media import Clip, Tone
from tests.film_media_support import BLUE, RED, loudest, onset, render, render_music, samples
from videogen.films.media.assemble import assemble
from videogen.films.media.clips import MediaError, choose_target, probe
from videogen.films.media.music import FADE_SECONDS, lay_music
from videogen.films.media.music_check import MusicUnusable, probe_music
from videogen.films.media.verify import verify

MUSIC = 0.3  # render_music's amplitude
AAC_FRAME = 1024


def picture_packets(path: Path) -> tuple[bytes, list[tuple[bytes, int | None, int, bool]]]:
    """The video track's avcC and every packet's bytes, times and key flag."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        packets = [
            (bytes(p), p.pts, p.dts, p.is_keyframe) for p in container.demux(video) if p.dts is not None
        ]
        return bytes(video.codec_context.extradata or b""), packets


def tracks(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as container:
        video: Any = container.streams.video[0]
        audio: Any = container.streams.audio[0]
        return {
            "video": (float(video.start_time * video.time_base), float(video.duration * video.time_base)),
            "audio": (float(audio.start_time * audio.time_base), float(audio.duration * audio.time_base)),
            "rate": audio.codec_context.sample_rate,
            "layout": audio.codec_context.layout.name,
            "codec": audio.codec_context.name,
        }


def top_level_boxes(path: Path) -> list[str]:
    data, boxes, at = path.read_bytes(), [], 0
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        boxes.append(kind.decode())
        at += size if size else len(data)
    return boxes


def assert_sound_lasts_as_long_as_the_picture(path: Path) -> None:
    found = tracks(path)
    (video_start, video_seconds), (audio_start, audio_seconds) = found["video"], found["audio"]
    frame = AAC_FRAME / found["rate"]
    assert audio_start == pytest.approx(video_start, abs=1e-9)
    assert abs(audio_seconds - video_seconds) <= frame
    rate, sound = samples(path)
    assert abs(len(sound) / rate - video_seconds) <= frame


@pytest.mark.parametrize(
    ("film_tone", "rate", "layout"),
    [
        (Tone(start=1.0, sample_rate=48_000, layout="stereo"), 48_000, "stereo"),
        (Tone(start=1.0, sample_rate=44_100, layout="mono"), 44_100, "mono"),
        (None, 48_000, "stereo"),
    ],
    ids=["48k-stereo-film", "44k-mono-film", "silent-film"],
)
@pytest.mark.parametrize("music_layout", ["mono", "stereo"])
def test_the_picture_is_copied_and_the_sound_keeps_the_films_format_and_length(
    tmp_path: Path, film_tone: Tone | None, rate: int, layout: str, music_layout: str
) -> None:
    # Given a 5 s film (with or without its own sound) and 44.1 kHz music of either layout
    film = render(tmp_path, "film", Clip(RED, frames=40, tone=film_tone))
    music = render_music(tmp_path / "music.mp3", 3.0, layout=music_layout)

    # When the music is laid under it
    bed = lay_music(film, music, tmp_path / "out.mp4", volume_db=-20.0, duck=False)

    # Then the picture is the film's, packet for packet, and the file is fast-start
    out = tmp_path / "out.mp4"
    assert picture_packets(out) == picture_packets(film)
    boxes = top_level_boxes(out)
    assert boxes.index("moov") < boxes.index("mdat")
    # And the new sound is AAC in the film's format, as long as the picture, from its start
    found = tracks(out)
    assert (found["codec"], found["rate"], found["layout"]) == ("aac", rate, layout)
    assert_sound_lasts_as_long_as_the_picture(out)
    assert bed.duration == 5.0
    assert abs(bed.audio_duration - 5.0) <= AAC_FRAME / rate
    assert bed.size_bytes == out.stat().st_size
    verify(out, [5.0])
    # And the film's own sound is still where it was (the music is far quieter than its tone)
    sound_rate, sound = samples(out)
    if film_tone is not None:
        assert onset(sound_rate, sound, 0.0, threshold=0.2) == pytest.approx(1.0, abs=0.002)


def test_music_shorter_than_the_film_loops_at_its_gain_and_fades_out(tmp_path: Path) -> None:
    # Given a silent 8 s film and 1.5 s of music
    film = render(tmp_path, "film", Clip(RED, frames=64))
    music = render_music(tmp_path / "music.wav", 1.5, sample_rate=44_100)

    lay_music(film, music, tmp_path / "out.mp4", volume_db=-6.0, duck=False)

    rate, sound = samples(tmp_path / "out.mp4")
    level = MUSIC * 10 ** (-6 / 20)
    # Then the music plays at -6 dB in every quarter second before the fade, loops included
    for quarter in range(4 * (8 - FADE_SECONDS)):
        assert loudest(rate, sound, quarter / 4, quarter / 4 + 0.25) == pytest.approx(level, rel=0.08)
    # And it fades out over the last 2 s: half way down 1 s before the end, silent at the end
    assert loudest(rate, sound, 6.95, 7.05) == pytest.approx(level / 2, rel=0.15)
    assert loudest(rate, sound, 7.9, 8.0) < level * 0.06
    assert len(sound) / rate == pytest.approx(8.0, abs=AAC_FRAME / rate)


@pytest.mark.parametrize("suffix", [".m4a", ".ogg"])
def test_music_longer_than_the_film_is_cut_to_it(tmp_path: Path, suffix: str) -> None:
    film = render(tmp_path, "film", Clip(RED, frames=24, tone=Tone(sample_rate=44_100)))
    music = render_music(tmp_path / f"music{suffix}", 10.0, sample_rate=48_000)

    lay_music(film, music, tmp_path / "out.mp4", volume_db=0.0, duck=False)

    assert_sound_lasts_as_long_as_the_picture(tmp_path / "out.mp4")
    assert tracks(tmp_path / "out.mp4")["video"][1] == 3.0


def test_ducking_lowers_the_music_only_where_the_film_has_sound(tmp_path: Path) -> None:
    # Given an 8 s film whose own sound starts at 3 s
    film = render(tmp_path, "film", Clip(RED, frames=64, tone=Tone(start=3.0)))
    music = render_music(tmp_path / "music.mp3", 8.0)

    lay_music(film, music, tmp_path / "plain.mp4", volume_db=-6.0, duck=False)
    lay_music(film, music, tmp_path / "ducked.mp4", volume_db=-6.0, duck=True)

    plain = samples(tmp_path / "plain.mp4")
    ducked = samples(tmp_path / "ducked.mp4")
    level = MUSIC * 10 ** (-6 / 20)
    # Then before the film's sound the music is as loud either way
    assert loudest(*ducked, 0.5, 2.5) == pytest.approx(level, rel=0.08)
    assert loudest(*plain, 0.5, 2.5) == pytest.approx(level, rel=0.08)
    # And under it the mix is the film's tone plus the full music, or plus a music lowered by
    # more than 10 dB
    film_tone = Tone().amplitude
    assert loudest(*plain, 4.0, 5.5) == pytest.approx(film_tone + level, rel=0.08)
    assert loudest(*ducked, 4.0, 5.5) - film_tone < level * 10 ** (-10 / 20)


def test_music_that_does_not_decode_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    film = render(tmp_path, "film", Clip(RED, frames=8))
    text = tmp_path / "notes.mp3"
    text.write_text("not music at all\n" * 100)

    with pytest.raises(MusicUnusable, match="not an MP3, AAC/M4A, WAV or Ogg"):
        lay_music(film, text, tmp_path / "out.mp4", volume_db=0.0, duck=True)
    assert not (tmp_path / "out.mp4").exists()


def test_an_assembled_film_of_b_frame_clips_takes_music_read_through_a_file_object(tmp_path: Path) -> None:
    # Given a film assembled by copy from two clips with B-frames (as providers encode them)
    clip = Clip(RED, frames=20, profile="high", preset="veryfast", tone=Tone(start=0.5))
    parts = [
        render(tmp_path, name, dataclasses.replace(clip, colour=c)) for name, c in (("a", RED), ("b", BLUE))
    ]
    target = choose_target([probe(part) for part in parts])
    assert target.to_normalize == ()
    film = tmp_path / "film.mp4"
    assemble(parts, film, target.signature)
    # and music read through a callable opening a file object (how S3 objects are read)
    data = render_music(tmp_path / "music.ogg", 1.2, sample_rate=48_000).read_bytes()

    lay_music(film, lambda: io.BytesIO(data), tmp_path / "out.mp4", volume_db=-20.0, duck=True)

    out = tmp_path / "out.mp4"
    assert picture_packets(out) == picture_packets(film)
    assert_sound_lasts_as_long_as_the_picture(out)
    verify(out, [2.5, 2.5])
    # And each clip's own tone is where the assembled film had it (within half an AAC frame of
    # its clip's start plus 0.5 s: assemble's rule), to the sample's worth of a millisecond
    before, after = samples(film), samples(out)
    for start in (0.5, 3.0):
        heard = onset(*before, start - 0.4, threshold=0.2)
        assert heard == pytest.approx(start, abs=512 / 48_000)
        assert onset(*after, start - 0.4, threshold=0.2) == pytest.approx(heard, abs=0.001)


def test_a_film_that_is_not_a_film_is_a_media_error(tmp_path: Path) -> None:
    music = render_music(tmp_path / "music.wav", 2.0)
    with pytest.raises(MediaError):
        lay_music(music, music, tmp_path / "out.mp4", volume_db=0.0, duck=False)


@pytest.mark.parametrize(
    ("name", "rate", "layout", "codec"),
    [
        ("a.wav", 44_100, "stereo", "pcm_s16le"),
        ("a.mp3", 44_100, "mono", "mp3float"),
        ("a.m4a", 48_000, "stereo", "aac"),
        ("a.ogg", 48_000, "stereo", "opus"),
    ],
)
def test_audio_files_of_every_kind_we_take_are_accepted(
    tmp_path: Path, name: str, rate: int, layout: str, codec: str
) -> None:
    info = probe_music(render_music(tmp_path / name, 3.0, sample_rate=rate, layout=layout))

    assert info.duration == pytest.approx(3.0, abs=0.001)
    assert (info.codec, info.sample_rate, info.channels) == (codec, rate, 2 if layout == "stereo" else 1)


def write_wav(path: Path, seconds: float) -> Path:
    """A silent 8 kHz mono WAV."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(2 * round(seconds * 8000)))
    return path


def mp3_stating(path: Path, seconds: float) -> Path:
    """A 2 s MP3 whose LAME header states ``seconds`` (its frame count rewritten)."""
    data = bytearray(render_music(path, 2.0).read_bytes())
    tag = data.find(b"Info")  # followed by 4 bytes of flags, then the number of frames
    data[tag + 8 : tag + 12] = struct.pack(">I", round(seconds * 44_100 / 1152))
    path.write_bytes(bytes(data))
    return path


def refusal(path: Path) -> str:
    with pytest.raises(MusicUnusable) as refused:
        probe_music(path)
    return str(refused.value)


def test_files_that_are_not_music_we_can_use_are_refused_with_the_reason(tmp_path: Path) -> None:
    text = tmp_path / "a.txt"
    text.write_text("hello\n" * 500)
    assert "not an MP3, AAC/M4A, WAV or Ogg" in refusal(text)

    playlist = tmp_path / "list.m3u8"  # would make FFmpeg open what it names
    playlist.write_text("#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n")
    assert "not an MP3, AAC/M4A, WAV or Ogg" in refusal(playlist)

    video = render(tmp_path, "clip", Clip(RED, frames=8))  # an MP4 with a picture and no sound
    assert refusal(video) == "the file has no audio stream"

    two_hours = mp3_stating(tmp_path / "long.mp3", 7200.0)  # refused before a sample is decoded
    assert refusal(two_hours) == "the music lasts 2:00:00: at most 10:00"

    eleven_minutes = write_wav(tmp_path / "eleven.wav", 660.0)
    assert refusal(eleven_minutes) == "the music lasts 11:00: at most 10:00"

    assert "at least 1 s" in refusal(write_wav(tmp_path / "blip.wav", 0.2))


def test_damaged_and_truncated_music_is_refused(tmp_path: Path) -> None:
    mp3 = render_music(tmp_path / "a.mp3", 3.0).read_bytes()
    damaged = tmp_path / "damaged.mp3"
    third = len(mp3) // 3
    damaged.write_bytes(mp3[:third] + bytes((i * 73 + 41) % 256 for i in range(third)) + mp3[2 * third :])
    assert refusal(damaged).startswith("the music is damaged")

    ogg = render_music(tmp_path / "a.ogg", 3.0, sample_rate=48_000).read_bytes()
    pages_lost = tmp_path / "damaged.ogg"  # the demuxer drops pages that fail their checksum
    third = len(ogg) // 3
    pages_lost.write_bytes(ogg[:third] + bytes(third) + ogg[2 * third :])
    assert refusal(pages_lost).startswith("the music is damaged or truncated: it states 0:03")

    # A WAV cut short is still sound: what remains of it is the music
    wav = render_music(tmp_path / "a.wav", 3.0).read_bytes()
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(wav[: len(wav) // 2])
    assert probe_music(truncated).duration == pytest.approx(1.5, abs=0.01)

    m4a = render_music(tmp_path / "a.m4a", 3.0).read_bytes()
    cut = tmp_path / "cut.m4a"
    cut.write_bytes(m4a[: len(m4a) // 2])
    assert "not an MP3, AAC/M4A, WAV or Ogg" in refusal(cut)


def add_captions(film: Path, srt: Path, dst: Path) -> Path:
    """``film`` with ``srt``'s captions as a mov_text track tagged English (as the film gets
    its captions: a soft subtitle track, nothing re-encoded)."""
    with (
        av.open(str(film)) as inp,
        av.open(str(srt)) as captions,
        av.open(str(dst), "w", format="mp4") as out,
    ):
        copied = {s.index: out.add_stream_from_template(s) for s in (*inp.streams.video, *inp.streams.audio)}
        source: Any = captions.streams.subtitles[0]
        cues = [(p, source.codec_context.decode2(p)) for p in captions.demux(source) if p.dts is not None]
        track: Any = out.add_stream("mov_text")
        track.codec_context.subtitle_header = source.codec_context.subtitle_header
        track.codec_context.time_base = source.time_base
        track.metadata["language"] = "eng"
        for packet in inp.demux():
            if packet.dts is not None:
                packet.stream = copied[packet.stream.index]
                out.mux(packet)
        for packet, cue in cues:
            encoded = track.codec_context.encode_subtitle(cue)
            encoded.pts, encoded.dts, encoded.duration = packet.pts, packet.dts, packet.duration
            encoded.time_base, encoded.stream = packet.time_base, track
            out.mux(encoded)
    return dst


def caption_samples(path: Path) -> tuple[dict[str, str], list[tuple[int | None, int | None, bytes]]]:
    with av.open(str(path)) as container:
        track = container.streams.subtitles[0]
        samples_ = [(p.pts, p.duration, bytes(p)) for p in container.demux(track) if p.dts is not None]
        return dict(track.metadata), samples_


def test_a_films_caption_track_is_copied_as_it_is(tmp_path: Path) -> None:
    srt = tmp_path / "captions.srt"
    srt.write_text(
        "1\n00:00:00,500 --> 00:00:01,500\nHello there\n\n2\n00:00:02,000 --> 00:00:03,000\nAgain\n"
    )
    film = render(tmp_path, "film", Clip(RED, frames=32, tone=Tone()))
    captioned = add_captions(film, srt, tmp_path / "captioned.mp4")

    lay_music(
        captioned, render_music(tmp_path / "m.wav", 2.0), tmp_path / "out.mp4", volume_db=-12.0, duck=True
    )

    language, cues = caption_samples(tmp_path / "out.mp4")
    assert (language["language"], cues) == ("eng", caption_samples(captioned)[1])
    assert b"Hello there" in cues[1][2]
    assert picture_packets(tmp_path / "out.mp4") == picture_packets(film)
