"""Film craft through the compiler's handler on real PostgreSQL, moto's S3 and real MP4s:
crossfades re-encoded only at the cuts (segments in parallel, cached), captions as WebVTT and a
soft subtitle track, and sound in step with picture at every cut whatever the clips' audio."""

from __future__ import annotations

import tempfile
import uuid
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import pytest

from devstack.fakes.media import Clip, Tone, colour, render_clip
from tests.film_media_support import loudest, near, pictures, render_music, samples, streams
from tests.integration.film_support import (
    USER,
    FilmPipeline,
    film_row,
    s3,
    scenes,
    store_clip,
    store_clips,
)
from tests.integration.test_references import USER as REFERENCES_USER
from tests.integration.test_references import complete, declare, upload
from videogen.data.db import session_scope
from videogen.films.craft import Music, Transition
from videogen.films.request import create_film, enqueue_or_withdraw
from videogen.runtime.config import get_settings

CROSSFADE = Transition(type="crossfade", duration_ms=500)


@pytest.fixture
def board(aws, make_storyboard):
    captioned: list[dict[str, Any]] = list(scenes(3))
    captioned[0]["caption"] = "Ada opens the door"
    captioned[1] |= {"caption": "The lab <wakes> & hums", "captionStartMs": 250, "captionEndMs": 1000}
    return make_storyboard(USER, scenes=captioned)


def make_film(
    storyboard_id: uuid.UUID, transition: Transition = CROSSFADE, pipeline: FilmPipeline | None = None
):
    pipeline = pipeline or FilmPipeline()
    with session_scope() as s:
        accepted = create_film(s, USER, storyboard_id, None, transition=transition, caption_language="fra")
    enqueue_or_withdraw(accepted, USER, pipeline.sender)
    pipeline.drain()
    return film_row(accepted.film_id), pipeline


def download(key: str, folder: Path, name: str = "film.mp4") -> Path:
    path = folder / name
    s3().download_file(get_settings().videos_bucket, key, str(path))
    return path


def video_packets(path: Path, until: float) -> list[bytes]:
    """The bytes of the video packets shown before ``until`` seconds, in decode order."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        return [
            bytes(p)
            for p in container.demux(video)
            if p.pts is not None and (p.pts - (video.start_time or 0)) * video.time_base < until
        ]


def test_a_crossfade_re_encodes_only_around_each_cut_and_a_second_film_reuses_the_segments(board, make_job):
    # Given three Sora clips: 2 s, 8 fps, a keyframe a second, with sound
    store_clips(make_job, board.id, "openai", "openai", "openai")

    # When a film crossfading 0.5 s at each cut is made
    film, pipeline = make_film(board.id)

    # Then it lasts the clips less one overlap per cut, and its two cut segments were items of the
    # parallel step (nothing needed normalizing)
    assert film.status == "completed", film.error_message
    assert film.duration_seconds == pytest.approx(5.0, abs=0.05)
    assert film.normalize_clips == [3, 4]
    with tempfile.TemporaryDirectory() as tmp:
        path = download(str(film.final_video_url), Path(tmp))
        first_clip = download(film.clips[0]["key"], Path(tmp), "clip.mp4")
        # The first second is the clip's own packets, byte for byte: copied, not encoded again
        assert video_packets(path, 1.0) == video_packets(first_clip, 1.0)
        frames = list(pictures(path))
        assert len(frames) == 40  # 3 x 16 frames less 2 x 4 overlapped
        a, b, c = (colour(f"{board.id} scene-{n}") for n in (1, 2, 3))
        assert near(frames[0].at(2, 2), a, tolerance=24)
        # Halfway through the first overlap (1.5 s to 2 s) both shots show, half each
        mixed = frames[14].at(2, 2)
        halfway = ((a[0] + b[0]) // 2, (a[1] + b[1]) // 2, (a[2] + b[2]) // 2)
        assert near(mixed, halfway, tolerance=40), (mixed, a, b)
        assert near(frames[20].at(2, 2), b, tolerance=24)
        assert near(frames[-1].at(2, 2), c, tolerance=24)
        assert streams(path) == {"video": 1, "audio": 1, "subtitle": 1}

    # When the same film is asked for again, its segments are found in storage
    pipeline.take()
    again, pipeline = make_film(board.id, pipeline=pipeline)
    assert again.status == "completed"
    assert (again.normalize_clips, again.normalized_clips) == ([3, 4], [3, 4])


@pytest.mark.parametrize(
    ("transition", "second"),
    [(CROSSFADE, "00:00:01.750 --> 00:00:02.500"), (Transition(), "00:00:02.250 --> 00:00:03.000")],
    ids=["crossfade", "cut"],
)
def test_captions_follow_the_films_timeline_as_webvtt_and_a_tagged_subtitle_track(
    board, make_job, transition, second
):
    store_clips(make_job, board.id, "openai", "openai", "openai")

    film, _ = make_film(board.id, transition)

    assert film.status == "completed", film.error_message
    key = film.metadata_["captions_key"]
    body = s3().get_object(Bucket=get_settings().videos_bucket, Key=key)
    assert body["ContentType"].startswith("text/vtt")
    # Scene 2 starts at 2 s, or 1.5 s after a crossfade; its caption 0.25 s to 1 s into the shot
    assert body["Body"].read().decode() == (
        "WEBVTT\n\n"
        "1\n00:00:00.000 --> 00:00:02.000\nAda opens the door\n\n"
        f"2\n{second}\nThe lab &lt;wakes&gt; &amp; hums\n"
    )
    with (
        tempfile.TemporaryDirectory() as tmp,
        av.open(str(download(str(film.final_video_url), Path(tmp)))) as c,
    ):
        track = c.streams.subtitles[0]
        assert (track.codec_context.name, track.metadata.get("language")) == ("mov_text", "fra")
        texts = [bytes(p)[2:].decode() for p in c.demux(track) if p.pts is not None and p.size > 2]
        assert texts == ["Ada opens the door", "The lab <wakes> & hums"]


@pytest.mark.parametrize("transition", [Transition(), CROSSFADE], ids=["cut", "crossfade"])
def test_sound_stays_with_the_picture_at_every_cut_whatever_the_clips_audio(
    aws, make_storyboard, make_job, transition, tmp_path
):
    # Given clips of 48 kHz stereo, 44.1 kHz mono, none, and 44.1 kHz stereo at another size
    looks = [
        Clip((200, 30, 30), frames=16, gop=8, tone=Tone(440.0)),
        Clip((30, 200, 30), frames=16, gop=8, tone=Tone(660.0, sample_rate=44_100, layout="mono")),
        Clip((30, 30, 200), frames=16, gop=8),
        Clip(
            (200, 200, 30),
            width=320,
            height=180,
            fps=12,
            frames=24,
            gop=12,
            tone=Tone(880.0, sample_rate=44_100),
        ),
    ]
    board = make_storyboard(USER, scenes=scenes(len(looks)))
    for n, look in enumerate(looks, 1):
        store_clip(
            make_job, board.id, f"scene-{n}", data=render_clip(look, tmp_path / f"{n}.mp4").read_bytes()
        )

    # When the film is made (the odd clips normalized, the cuts crossfaded or not)
    film, _ = make_film(board.id, transition)

    # Then it completed: its check measured the sound within one audio frame of the picture at
    # every cut, and it lasts as long as its clips less the overlaps
    assert film.status == "completed", film.error_message
    overlap = float(transition.overlap)
    assert film.duration_seconds == pytest.approx(8.0 - 3 * overlap, abs=0.05)
    with (
        tempfile.TemporaryDirectory() as tmp,
        av.open(str(download(str(film.final_video_url), Path(tmp)))) as c,
    ):
        audio = c.streams.audio[0]
        video = c.streams.video[0]
        seconds = [float(Fraction(s.duration or 0) * Fraction(str(s.time_base))) for s in (video, audio)]
        assert abs(seconds[0] - seconds[1]) <= 1024 / audio.sample_rate, seconds


def uploaded_music(board_id: uuid.UUID, folder: Path, seconds: float = 1.5) -> str:
    """A music reference of ``board_id`` (its owner is test_references' user), ready."""
    data = render_music(folder / "theme.m4a", seconds, frequency=330.0, amplitude=0.5).read_bytes()
    declared = declare(board_id, "audio/mp4", len(data), kind="music", label="Theme")
    assert declared.status == 201, declared.body
    assert upload(declared, data) in (200, 201, 204)
    done = complete(board_id, declared.body["reference"]["id"])
    assert done.status == 200, done.body
    return str(done.body["reference"]["id"])


def test_a_music_bed_loops_under_silent_clips_fades_out_and_leaves_the_picture_copied(
    aws, make_storyboard, make_job, tmp_path
):
    # Given two silent Veo clips (2 s each) and 1.5 s of music, as the references' user
    board = make_storyboard(REFERENCES_USER, scenes=scenes(2))
    for n in (1, 2):
        store_clip(make_job, board.id, f"scene-{n}", "veo", user_id=REFERENCES_USER)
    music = Music(reference_id=uuid.UUID(uploaded_music(board.id, tmp_path)), volume_db=0.0, duck=False)

    # When a film is made with the music under it
    pipeline = FilmPipeline()
    with session_scope() as s:
        accepted = create_film(s, REFERENCES_USER, board.id, None, music=music)
    enqueue_or_withdraw(accepted, REFERENCES_USER, pipeline.sender)
    pipeline.drain()

    # Then the film has sound where its clips had none: the music, looped past its 1.5 s, faded at
    # the end; and its picture is the clips' own packets
    film = film_row(accepted.film_id)
    assert film.status == "completed", film.error_message
    assert film.duration_seconds == pytest.approx(4.0, abs=0.05)
    path = download(str(film.final_video_url), tmp_path)
    rate, sound = samples(path)
    assert len(sound) / rate == pytest.approx(4.0, abs=0.03)
    assert loudest(rate, sound, 0.2, 1.3) > 0.3
    assert loudest(rate, sound, 1.7, 1.9) > 0.3  # looped
    assert loudest(rate, sound, 3.9, 4.0) < 0.1  # faded out
    first_clip = download(film.clips[0]["key"], tmp_path, "clip.mp4")
    assert video_packets(path, 2.0) == video_packets(first_clip, 2.0)


def test_a_crossfade_between_silent_clips_makes_a_silent_film(aws, make_storyboard, make_job):
    board = make_storyboard(USER, scenes=scenes(2))
    store_clips(make_job, board.id, "veo", "veo")  # 2 s, 12 fps, no sound

    film, _ = make_film(board.id)

    assert film.status == "completed", film.error_message
    assert film.duration_seconds == pytest.approx(3.5, abs=0.01)
    with tempfile.TemporaryDirectory() as tmp:
        assert streams(download(str(film.final_video_url), Path(tmp))) == {"video": 1, "audio": 0}
