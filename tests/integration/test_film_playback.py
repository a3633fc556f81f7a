"""A film assembled from provider-like and normalized clips plays in Chromium, frame by frame."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from devstack.fakes.media import Clip, Tone
from tests.chromium_support import CHROMIUM, run_in_page
from tests.film_media_support import BLACK, BLUE, GREEN, RED, near, render
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
    await new Promise(r => { v.onseeked = r; v.currentTime = (i + 0.5) / FPS; });
    g.drawImage(v, 0, 0);
    colours.push(Array.from(g.getImageData(4, 4, 1, 1).data.slice(0, 3)));
  }
  return {duration: v.duration, width: v.videoWidth, colours};
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
    seen = run_in_page(tmp_path, FRAME_COLOURS.replace("FPS", "8"))

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
