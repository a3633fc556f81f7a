"""A film assembled from provider-like and normalized clips plays in Chromium, frame by frame."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import pytest

from devstack.fakes.media import Clip, Tone
from tests.chromium_support import CHROMIUM, run_in_page
from tests.film_media_support import BLACK, BLUE, GREEN, RED, crossfaded_film, near, render
from tests.unit.test_film_media import film_of

# Seek to the middle of every frame and read the corner pixel back from a canvas.
FRAME_COLOURS = """
(async () => {
  const v = document.createElement('video');
  v.muted = true;
  v.preload = 'auto';
  document.body.appendChild(v);
  await new Promise((ok, fail) => {
    v.onloadeddata = ok;
    v.onerror = () => fail(new Error('media error ' + v.error.code + ' ' + v.error.message));
    v.src = 'film.mp4';
  });
  const canvas = document.createElement('canvas');
  canvas.width = v.videoWidth;
  canvas.height = v.videoHeight;
  const g = canvas.getContext('2d', {willReadFrequently: true});
  const colours = [];
  for (let i = 0; (i + 0.5) / FPS < v.duration; i++) {
    // Both the seek and the new frame's presentation: a canvas drawn on 'seeked' alone can
    // still get the frame before it when the machine is busy (seen under CI's load).
    await new Promise(r => {
      let pending = 2;
      const done = () => { if (--pending === 0) r(); };
      v.requestVideoFrameCallback(done);
      v.onseeked = done;
      v.currentTime = (i + 0.5) / FPS;
    });
    g.drawImage(v, 0, 0);
    colours.push(Array.from(g.getImageData(4, 4, 1, 1).data.slice(0, 3)));
  }
  let ended = null;
  if (PLAY) {  // and it plays from start to end
    v.currentTime = 0;
    v.playbackRate = 4;
    ended = await Promise.race([
      new Promise(r => { v.onended = () => r(true); v.play(); }),
      new Promise(r => setTimeout(() => r(false), 20000)),
    ]);
  }
  return {duration: v.duration, width: v.videoWidth, colours, ended};
})()
"""


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_mixed_film_plays_in_chromium_with_every_frame_right(tmp_path: Path) -> None:
    # Given High-profile clips with B-frames and sound, a square silent clip and another encoder's
    high = Clip(RED, frames=16, profile="high", preset="medium", tone=Tone())
    clips = [
        render(tmp_path, "a", high),
        render(tmp_path, "square", Clip(BLUE, width=144, height=144, frames=16)),
        render(tmp_path, "other", dataclasses.replace(high, colour=GREEN, preset="slow")),
        render(tmp_path, "b", high),
    ]
    _, _, normalized = film_of(tmp_path, clips)
    assert normalized == (1, 2)

    # When Chromium decodes it frame by frame
    seen = run_in_page(tmp_path, FRAME_COLOURS.replace("FPS", "8").replace("PLAY", "false"))

    # Then every frame shows its clip (the square clip's corner is its black bar)
    assert seen["duration"] == pytest.approx(8.0)
    assert seen["width"] == 256
    expected = [RED] * 16 + [BLACK] * 16 + [GREEN] * 16 + [RED] * 16
    assert len(seen["colours"]) == len(expected)
    wrong = [
        (i, c)
        for i, (c, e) in enumerate(zip(seen["colours"], expected, strict=True))
        if not near(tuple(c), e)
    ]
    assert wrong == []


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_crossfaded_film_plays_in_chromium_from_start_to_end(tmp_path: Path) -> None:
    # Given B-frame clips with sound and a square silent clip to normalize, a keyframe a second
    high = Clip(RED, frames=16, gop=8, profile="high", preset="medium", tone=Tone())
    clips = [
        render(tmp_path, "a", high),
        render(tmp_path, "square", Clip(BLUE, width=144, height=144, frames=16, gop=8)),
        render(tmp_path, "b", dataclasses.replace(high, colour=GREEN)),
    ]
    # When they are crossfaded over half a second (4 frames) into a film
    film, seconds = crossfaded_film(tmp_path, clips, Fraction(1, 2))
    film.replace(tmp_path / "film.mp4")

    # Then Chromium shows every frame, the overlaps blending both shots, and plays it to the end
    seen = run_in_page(tmp_path, FRAME_COLOURS.replace("FPS", "8").replace("PLAY", "true"), timeout=90)
    assert seconds == pytest.approx(5.0)
    assert seen["duration"] == pytest.approx(5.0, abs=0.05)  # the sound may end a few ms later
    assert seen["ended"] is True
    colours = [tuple(c) for c in seen["colours"]]
    assert len(colours) == 40
    assert all(near(c, RED) for c in colours[:12])
    assert all(near(c, BLACK) for c in colours[16:24])  # the square clip's bar
    assert all(near(c, GREEN) for c in colours[28:])
    # Halfway through the first overlap: half red, half black
    assert near(colours[14], (RED[0] // 2, RED[1] // 2, RED[2] // 2), tolerance=30)
