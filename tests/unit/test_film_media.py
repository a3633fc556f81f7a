"""The film's media core on real MP4s: probe, target, normalize, assemble by copy, verify."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import av
import pytest

from devstack.fakes.media import Clip, Tone
from tests.film_media_support import (
    BLACK,
    BLUE,
    GREEN,
    RED,
    loudest,
    near,
    normalized,
    onset,
    pictures,
    render,
    samples,
    streams,
)
from videogen.films.media.assemble import assemble
from videogen.films.media.clips import (
    ClipMismatch,
    ClipUnreadable,
    FilmInvalid,
    Signature,
    choose_target,
    normalize_key,
    probe,
)
from videogen.films.media.normalize import normalize
from videogen.films.media.verify import verify

TONE = Tone(frequency=440.0)


def film_of(folder: Path, clips: list[Path]) -> tuple[Path, list[float], tuple[int, ...]]:
    """What the pipeline does: probe, choose the target, normalize the odd clips, copy, verify."""
    _, target, ready = normalized(folder, clips)
    durations = [probe(p).duration for p in ready]
    film = folder / "film.mp4"
    assemble(ready, film, target.signature)
    verify(film, durations)
    return film, durations, target.to_normalize


def colour_runs(film: Path, x: int, y: int) -> list[tuple[tuple[int, int, int], int]]:
    """The film's frames as runs of (colour at x, y; number of frames)."""
    colours = [p.at(x, y) for p in pictures(film)]
    runs: list[tuple[tuple[int, int, int], int]] = []
    for colour in colours:
        if runs and near(runs[-1][0], colour):
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((colour, 1))
    return runs


def assert_runs(film: Path, expected: list[tuple[tuple[int, int, int], int]]) -> None:
    runs = colour_runs(film, 4, 4)  # a corner pixel: background, never the block
    assert [n for _, n in runs] == [n for _, n in expected], runs
    for (found, _), (colour, _) in zip(runs, expected, strict=True):
        assert near(found, colour), (found, colour)


def test_matching_clips_are_copied_without_normalizing(tmp_path: Path) -> None:
    clips = [
        render(tmp_path, f"c{i}", Clip(c, frames=12, tone=TONE)) for i, c in enumerate((RED, GREEN, BLUE))
    ]

    film, durations, normalized = film_of(tmp_path, clips)

    assert normalized == ()
    assert durations == [1.5, 1.5, 1.5]
    assert_runs(film, [(RED, 12), (GREEN, 12), (BLUE, 12)])
    assert probe(film).duration == pytest.approx(4.5)
    assert probe(film).audio_duration == pytest.approx(4.5, abs=0.03)


def test_clips_of_other_sizes_are_padded_black_and_keep_their_shape(tmp_path: Path) -> None:
    # Given two 16:9 clips (the majority), a square one and a very wide one
    wide = Clip(GREEN, width=320, height=90, frames=8)
    square = Clip(BLUE, width=144, height=144, frames=8)
    clips = [
        render(tmp_path, "a", Clip(RED, frames=8)),
        render(tmp_path, "square", square),
        render(tmp_path, "b", Clip(RED, frames=8)),
        render(tmp_path, "wide", wide),
    ]

    film, _, normalized = film_of(tmp_path, clips)

    assert normalized == (1, 3)
    frames = list(pictures(film))
    assert len(frames) == 32
    pillarbox, letterbox = frames[8], frames[24]  # first frame of each: the block at the left edge
    # pillarbox: 144x144 fills the height, centred, black bars left and right
    assert near(pillarbox.at(2, 72), BLACK)
    assert near(pillarbox.at(253, 72), BLACK)
    assert near(pillarbox.at(60, 10), BLUE)
    assert near(pillarbox.at(195, 130), BLUE)
    # letterbox: 320x90 fills the width (scaled to 256x72), black bars above and below
    assert near(letterbox.at(128, 2), BLACK)
    assert near(letterbox.at(128, 141), BLACK)
    assert near(letterbox.at(128, 40), GREEN)
    assert near(letterbox.at(250, 104), GREEN)
    for picture, left in ((pillarbox, 56), (letterbox, 0)):
        side_x = picture.white_run(left + 1, 72, 1, 0) + 1
        side_y = picture.white_run(left + 2, 72, 0, 1) + picture.white_run(left + 2, 71, 0, -1)
        assert side_x >= 8
        assert abs(side_x - side_y) <= 2, (side_x, side_y)  # the square block is still square


def test_clip_of_another_frame_rate_is_resampled_to_the_films(tmp_path: Path) -> None:
    clips = [
        render(tmp_path, "a", Clip(RED, frames=16, tone=TONE)),
        render(tmp_path, "fast", Clip(GREEN, fps=24, frames=36, tone=TONE)),  # 1.5 s at 24 fps
        render(tmp_path, "b", Clip(BLUE, frames=16, tone=TONE)),
    ]

    film, durations, normalized = film_of(tmp_path, clips)

    assert normalized == (1,)
    assert durations == [2.0, 1.5, 2.0]
    assert_runs(film, [(RED, 16), (GREEN, 12), (BLUE, 16)])
    times = [p.seconds for p in pictures(film)]
    assert times == [pytest.approx(i / 8) for i in range(44)]


def test_silent_clip_gets_silence_in_a_film_with_sound(tmp_path: Path) -> None:
    clips = [
        render(tmp_path, "a", Clip(RED, frames=16, tone=TONE)),
        render(tmp_path, "silent", Clip(GREEN, frames=16)),
        render(tmp_path, "b", Clip(BLUE, frames=16, tone=TONE)),
    ]

    film, _, normalized = film_of(tmp_path, clips)

    assert normalized == (1,)
    rate, sound = samples(film)
    assert len(sound) == pytest.approx(6 * rate, abs=1024)
    assert loudest(rate, sound, 0.1, 1.9) > 0.2
    assert loudest(rate, sound, 2.1, 3.9) < 0.01
    assert loudest(rate, sound, 4.1, 5.9) > 0.2


def test_film_without_sound_drops_a_clips_audio_without_reencoding_it(tmp_path: Path) -> None:
    # Given a silent majority; the clip with a tone otherwise matches, another one differs in size
    clips = [
        render(tmp_path, "a", Clip(RED, frames=8)),
        render(tmp_path, "toned", Clip(GREEN, frames=8, tone=TONE)),
        render(tmp_path, "b", Clip(BLUE, frames=8)),
        render(tmp_path, "big-toned", Clip(RED, width=320, height=180, frames=8, tone=TONE)),
    ]

    film, _, normalized = film_of(tmp_path, clips)

    assert normalized == (3,)
    assert streams(tmp_path / "normalized-3.mp4") == {"video": 1, "audio": 0}
    assert streams(film) == {"video": 1, "audio": 0}
    assert_runs(film, [(RED, 8), (GREEN, 8), (BLUE, 8), (RED, 8)])


def test_clips_from_another_encoder_are_normalized_and_decode_in_the_same_track(tmp_path: Path) -> None:
    # Given High-profile clips with B-frames from one encoder and one from another encoder
    high = Clip(RED, frames=16, profile="high", preset="medium", tone=TONE)
    other = dataclasses.replace(high, colour=GREEN, preset="slow")
    clips = [render(tmp_path, "a", high), render(tmp_path, "other", other), render(tmp_path, "b", high)]
    infos = [probe(p) for p in clips]
    assert infos[1].signature.video.shape() == infos[0].signature.video.shape()
    target = choose_target(infos)
    assert target.to_normalize == (1,)

    # Copying it as it is would put two different SPS under one id: refused
    with pytest.raises(ClipMismatch, match="clip 1: parameter sets collide"):
        assemble(clips, tmp_path / "naive.mp4", target.signature)

    # Normalized, it carries its own ids and every frame decodes with the right colours
    film, _, _ = film_of(tmp_path, clips)
    assert_runs(film, [(RED, 16), (GREEN, 16), (RED, 16)])


def test_verify_catches_the_naive_copy_that_parameter_set_ids_prevent(tmp_path: Path) -> None:
    # Given two encoders' clips copied into one track under the first clip's avcC alone
    high = Clip(RED, frames=16, profile="high", preset="medium")
    clips = [render(tmp_path, "a", high), render(tmp_path, "other", dataclasses.replace(high, preset="slow"))]
    naive = tmp_path / "naive.mp4"
    with av.open(str(naive), "w", format="mp4") as out:
        with av.open(str(clips[0])) as first:
            stream = out.add_stream_from_template(first.streams.video[0])
        offset = 0
        for clip in clips:
            with av.open(str(clip)) as container:
                for packet in container.demux(container.streams.video[0]):
                    if packet.dts is not None and packet.pts is not None:
                        packet.pts, packet.dts = packet.pts + offset, packet.dts + offset
                        packet.stream = stream
                        out.mux(packet)
            offset += 2 * 16384  # 2 s in the clips' time base

    with pytest.raises(FilmInvalid, match=r"video: does not decode at .* \(clip 2\)"):
        verify(naive, [2.0, 2.0])


def test_majority_decides_the_target_and_ties_prefer_sound_then_order(tmp_path: Path) -> None:
    small = probe(render(tmp_path, "small", Clip(RED, frames=4)))
    big = probe(render(tmp_path, "big", Clip(RED, width=320, height=180, frames=4)))
    toned = probe(render(tmp_path, "toned", Clip(RED, frames=4, tone=TONE)))

    majority = choose_target([small, big, big, small, big])
    assert majority.signature == big.signature
    assert majority.to_normalize == (0, 3)
    assert choose_target([small, big]).signature == small.signature  # tie: the earlier clip
    assert choose_target([big, small]).signature == big.signature
    with_sound = choose_target([small, toned])
    assert with_sound.signature == toned.signature  # tie: the film keeps its sound
    assert with_sound.to_normalize == (0,)
    assert choose_target([small, small]).to_normalize == ()


def test_clips_only_copy_can_join_are_a_target_only_when_all_match(tmp_path: Path) -> None:
    # Given 4:4:4 clips, which normalize cannot produce, in the majority
    rich = probe(render(tmp_path, "rich", Clip(RED, frames=4, profile="high444", pix_fmt="yuv444p")))
    plain = probe(render(tmp_path, "plain", Clip(RED, frames=4)))
    assert not rich.signature.producible

    assert choose_target([rich, rich]).to_normalize == ()
    mixed = choose_target([rich, plain, rich])
    assert mixed.signature == plain.signature
    assert mixed.to_normalize == (0, 2)


def test_normalize_key_is_the_same_for_the_same_clip_and_target(tmp_path: Path) -> None:
    clip = render(tmp_path, "odd", Clip(GREEN, width=320, height=180, frames=8))
    target = probe(render(tmp_path, "target", Clip(RED, frames=8, tone=TONE))).signature
    other = probe(render(tmp_path, "other", Clip(RED, frames=8))).signature

    stored = Signature.from_json(target.to_json())

    assert stored == target
    assert hash(stored) == hash(target)
    assert normalize_key("job-1", stored) == normalize_key("job-1", target)
    assert normalize_key("job-1", other) != normalize_key("job-1", target)
    assert normalize_key("job-2", target) != normalize_key("job-1", target)
    # Two runs of the same normalization carry the same parameter sets, so cached ones mix
    first = normalize(clip, tmp_path / "n1.mp4", target)
    second = normalize(clip, tmp_path / "n2.mp4", stored)
    assert first.signature == second.signature
    assert first.signature.video.shape() == target.video.shape()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "not a readable MP4"),
        (b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40, "not a readable MP4"),
        (b"\x89PNG\r\n\x1a\n" + bytes(64), "not"),
    ],
    ids=["empty", "garbage-after-header", "png"],
)
def test_unreadable_clip_is_a_clear_error(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    target = probe(render(tmp_path, "good", Clip(RED, frames=4))).signature

    with pytest.raises(ClipUnreadable, match=reason):
        probe(path)
    with pytest.raises(ClipUnreadable):
        normalize(path, tmp_path / "out.mp4", target)


def test_truncated_clip_is_unreadable(tmp_path: Path) -> None:
    good = render(tmp_path, "good", Clip(RED, frames=16)).read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(good[: len(good) // 3])  # the index is at the front; the samples are cut

    with pytest.raises(ClipUnreadable):
        probe(path)


def test_verify_names_the_part_that_fails(tmp_path: Path) -> None:
    clips = [render(tmp_path, f"c{i}", Clip(c, frames=16, tone=TONE)) for i, c in enumerate((RED, GREEN))]
    target = choose_target([probe(p) for p in clips]).signature
    film = tmp_path / "film.mp4"
    assemble(clips, film, target)

    with pytest.raises(FilmInvalid, match=r"video: lasts 4\.000 s, clips add up to 6\.000 s"):
        verify(film, [2.0, 2.0, 2.0])
    damaged = bytearray(film.read_bytes())
    middle = len(damaged) * 3 // 4  # inside the second clip's samples
    damaged[middle : middle + 400] = bytes(range(200)) * 2
    (tmp_path / "damaged.mp4").write_bytes(damaged)
    with pytest.raises(FilmInvalid, match=r"(video|audio): does not decode at .* \(clip 2\)"):
        verify(tmp_path / "damaged.mp4", [2.0, 2.0])


def test_assemble_refuses_a_clip_that_does_not_match(tmp_path: Path) -> None:
    a = render(tmp_path, "a", Clip(RED, frames=4, tone=TONE))
    silent = render(tmp_path, "silent", Clip(RED, frames=4))
    big = render(tmp_path, "big", Clip(RED, width=320, height=180, frames=4, tone=TONE))
    target = probe(a).signature

    with pytest.raises(ClipMismatch, match="clip 1: no audio"):
        assemble([a, silent], tmp_path / "f.mp4", target)
    with pytest.raises(ClipMismatch, match="clip 2: video"):
        assemble([a, a, big], tmp_path / "f.mp4", target)
    high = render(tmp_path, "high", Clip(RED, frames=4, profile="high", preset="medium", tone=TONE))
    with pytest.raises(ClipMismatch, match=r"clip 1: H\.264 profile or level"):
        assemble([a, high], tmp_path / "f.mp4", target)


def test_forty_clips_keep_sound_and_picture_in_step(tmp_path: Path) -> None:
    # Given 0.5 s clips (23.4 AAC packets each) whose tone starts 0.25 s in, alternating colours
    tone = Tone(frequency=440.0, start=0.25)
    a, b, last = (
        render(tmp_path, name, Clip(colour, fps=24, frames=12, tone=tone))
        for name, colour in (("a", RED), ("b", GREEN), ("last", BLUE))
    )
    clips = [*itertools.islice(itertools.cycle([a, b]), 39), last]

    film, durations, normalized = film_of(tmp_path, clips)

    assert normalized == ()
    start = sum(durations[:-1])
    first_blue = next(p.seconds for p in pictures(film) if near(p.at(4, 4), BLUE))
    assert first_blue == pytest.approx(start, abs=1e-6)
    rate, sound = samples(film)
    for clip_start in (0.0, 10.0, start):
        heard = onset(rate, sound, clip_start + 0.1)  # the tone, not the previous clip's
        assert heard - (clip_start + 0.25) == pytest.approx(0.0, abs=1 / 24)  # within a frame


def test_only_the_film_package_imports_pyav() -> None:
    # av ships with the film function alone; any other module importing it breaks the others.
    import ast  # noqa: PLC0415

    import videogen  # noqa: PLC0415

    root = Path(videogen.__file__).parent
    offenders = []
    for module in root.rglob("*.py"):
        if module.is_relative_to(root / "films"):
            continue
        for node in ast.walk(ast.parse(module.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            offenders += [str(module.relative_to(root)) for n in names if n.split(".")[0] == "av"]
    assert offenders == []
    for package in ("films", "films/media"):  # importing either package costs nothing
        tree = ast.parse((root / package / "__init__.py").read_text())
        assert not [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
