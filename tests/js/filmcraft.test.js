// @ts-check
// web/js/filmcraft.js: the film panel's choices kept per storyboard (whatever is stored, what
// comes back is valid), what the timeline and a film say of them, the compile request's fields,
// which files may be music, and a scene's caption: one line, its timing within the shot, the
// server's refusal found back on its scene.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  captionProblemScene, compileFields, defaultChoices, filmLength, loadChoices, millisecondsFrom, musicLabel, musicProblem, musicType,
  oneLine, saveChoices, setCaption, settleChoices, timingProblem, transitionLabel,
} from "../../web/js/filmcraft.js";
import { fieldLabel } from "../../web/js/errors.js";

/** A Storage of one map. */
function memoryStorage() {
  /** @type {Map<string, string>} */
  const items = new Map();
  return {
    items,
    /** @param {string} key */
    getItem: (key) => items.get(key) ?? null,
    /** @param {string} key @param {string} value */
    setItem: (key, value) => { items.set(key, value); },
  };
}

describe("film choices", () => {
  test("a cut and no music until something is chosen", () => {
    assert.deepEqual(loadChoices(memoryStorage(), "sb-1"), { transition: { type: "cut", durationMs: 500 }, music: null });
  });

  test("kept per storyboard: another storyboard has its own", () => {
    const storage = memoryStorage();
    const chosen = { transition: { type: /** @type {const} */ ("crossfade"), durationMs: 800 }, music: { referenceId: "m-1", volumeDb: -6, duck: false } };
    saveChoices(storage, "sb-1", chosen);
    assert.deepEqual(loadChoices(storage, "sb-1"), chosen);
    assert.deepEqual(loadChoices(storage, "sb-2"), defaultChoices());
  });

  test("whatever is stored comes back valid: lengths and volumes within their ranges, unknown types a cut", () => {
    assert.deepEqual(settleChoices({ transition: { type: "wipe", durationMs: 50 }, music: { referenceId: "m", volumeDb: 40 } }),
      { transition: { type: "cut", durationMs: 200 }, music: { referenceId: "m", volumeDb: 6, duck: true } });
    assert.deepEqual(settleChoices({ transition: { type: "crossfade", durationMs: "x" }, music: { volumeDb: 0 } }),
      { transition: { type: "crossfade", durationMs: 500 }, music: null });
    assert.equal(settleChoices({ transition: { type: "crossfade", durationMs: 99999 } }).transition.durationMs, 2000);
    const storage = memoryStorage();
    storage.items.set("film.choices.sb-1", "{not json");
    assert.deepEqual(loadChoices(storage, "sb-1"), defaultChoices());
  });

  test("a storage that refuses to keep them leaves them for the visit", () => {
    assert.doesNotThrow(() => saveChoices({ setItem: () => { throw new Error("QuotaExceededError"); } }, "sb-1", defaultChoices()));
  });

  test("the compile request carries the transition, and the music only when chosen", () => {
    assert.deepEqual(compileFields(defaultChoices()), { transition: { type: "cut", durationMs: 500 } });
    const music = { referenceId: "m-1", volumeDb: -12, duck: true };
    assert.deepEqual(compileFields({ transition: { type: "crossfade", durationMs: 700 }, music }),
      { transition: { type: "crossfade", durationMs: 700 }, music });
  });

  test("said as the timeline and a film show them", () => {
    assert.equal(transitionLabel({ type: "crossfade", durationMs: 500 }), "Crossfade 0.5 s");
    assert.equal(transitionLabel({ type: "crossfade", durationMs: 2000 }), "Crossfade 2 s");
    assert.equal(transitionLabel({ type: "cut", durationMs: 500 }), "Cut");
    assert.equal(transitionLabel(null), "Cut");
    assert.equal(musicLabel(null), "No music");
    assert.equal(musicLabel({ referenceId: "m", volumeDb: -6, duck: false }, "Theme"), "Music: Theme at -6 dB");
    assert.equal(musicLabel({ referenceId: "m", volumeDb: -12, duck: true }), "Music: at -12 dB, ducked under the clips' sound");
  });
});

describe("the film's length on the timeline", () => {
  test("the shots' total, less one overlap per cut when they crossfade", () => {
    const crossfade = { type: /** @type {const} */ ("crossfade"), durationMs: 500 };
    assert.equal(filmLength(8, 2, { type: "cut", durationMs: 500 }), "8 s");
    assert.equal(filmLength(8, 2, crossfade), "7.5 s");
    assert.equal(filmLength(12, 3, crossfade), "11 s");
    assert.equal(filmLength(4, 1, crossfade), "4 s");
    assert.equal(filmLength(0, 0, crossfade), "0 s");
    assert.equal(filmLength(125, 11, { type: "crossfade", durationMs: 2000 }), "1 min 45 s");
  });
});

describe("the compile route's refusals", () => {
  test("name the film panel's controls", () => {
    assert.equal(fieldLabel("body.transition.durationMs"), "Crossfade length");
    assert.equal(fieldLabel("body.music.referenceId"), "Music");
    assert.equal(fieldLabel("body.music.volumeDb"), "Music volume");
  });
});

describe("music files", () => {
  test("MP3, AAC/M4A, WAV and Ogg, by their type or, without one, their extension", () => {
    assert.equal(musicType({ name: "a.mp3", type: "audio/mpeg" }), "audio/mpeg");
    assert.equal(musicType({ name: "a.wav", type: "audio/x-wav" }), "audio/x-wav");
    assert.equal(musicType({ name: "a.m4a", type: "" }), "audio/mp4");
    assert.equal(musicType({ name: "a.ogg", type: "application/octet-stream" }), "audio/ogg");
    assert.equal(musicType({ name: "a.flac", type: "audio/flac" }), null);
    assert.equal(musicType({ name: "a.png", type: "image/png" }), null);
  });

  test("refused on the spot: not audio, empty, over 20 MB", () => {
    assert.equal(musicProblem({ name: "notes.txt", type: "text/plain", size: 5 }), "notes.txt is not an MP3, AAC/M4A, WAV or Ogg audio file.");
    assert.equal(musicProblem({ name: "a.mp3", type: "audio/mpeg", size: 0 }), "a.mp3 is empty.");
    assert.equal(musicProblem({ name: "a.mp3", type: "audio/mpeg", size: 20 * 1024 * 1024 + 1 }), "a.mp3 is over 20 MB.");
    assert.equal(musicProblem({ name: "a.mp3", type: "audio/mpeg", size: 20 * 1024 * 1024 }), null);
  });
});

describe("captions", () => {
  test("one line: line breaks and control characters become spaces, at most 200 characters", () => {
    assert.equal(oneLine("The boat\nleaves\r\n\tnow"), "The boat leaves now");
    assert.equal(oneLine("a\u2028b\u0085c"), "a b c");
    assert.equal(oneLine("x".repeat(250)).length, 200);
    assert.equal(oneLine("Ça va — «oui»"), "Ça va — «oui»");
  });

  test("timings typed in seconds become whole milliseconds; empty is none", () => {
    assert.equal(millisecondsFrom("1.5"), 1500);
    assert.equal(millisecondsFrom(" 0,25 "), 250);
    assert.equal(millisecondsFrom(""), null);
    assert.ok(Number.isNaN(millisecondsFrom("-1")));
    assert.ok(Number.isNaN(millisecondsFrom("soon")));
  });

  test("a timing is within the shot, the end after the start", () => {
    assert.equal(timingProblem(500, 3000, 4), null);
    assert.equal(timingProblem(null, null, null), null);
    assert.equal(timingProblem(5000, null, 4)?.message, "The caption's start is past the shot's 4 s.");
    assert.equal(timingProblem(500, 200, 4)?.field, "captionEndMs");
    assert.equal(timingProblem(Number.NaN, null, 4)?.field, "captionStartMs");
    assert.equal(timingProblem(9000, null, null), null); // the shot's length unknown: the server decides
  });

  test("set on the scene, and taken out when emptied", () => {
    const scene = setCaption({ id: "s" }, { caption: "Hello", captionStartMs: 500, captionEndMs: null });
    assert.deepEqual(scene, { id: "s", caption: "Hello", captionStartMs: 500 });
    assert.deepEqual(setCaption(scene, { caption: "", captionStartMs: null }), { id: "s" });
  });

  test("the server's refusal of a caption is found back on its scene", () => {
    assert.equal(captionProblemScene({ field: "storyboard.scenes.2.caption", message: "has 201 characters" }), 2);
    assert.equal(captionProblemScene({ field: "body.scenes.list[function-after[_caption_rules(), Scene]].0", message: "Value error, caption: has control characters" }), 0);
    assert.equal(captionProblemScene({ field: "body.scenes.1.prompt", message: "too long" }), null);
    assert.equal(captionProblemScene({ field: "name", message: "caption" }), null);
  });
});
