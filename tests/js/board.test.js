// @ts-check
// web/js/board.js: a shot moved to another place, the keys that move it, and the film timeline
// (shots in film order with their lengths, the film's total, where transitions go).

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { formatLength, keyTarget, moved, timeline, UNKNOWN_SECONDS } from "../../web/js/board.js";

describe("moved", () => {
  test("a shot dropped on a later one takes its place, the others close up", () => {
    assert.deepEqual(moved(["a", "b", "c", "d"], 0, 2), ["b", "c", "a", "d"]);
  });

  test("a shot dropped on an earlier one takes its place", () => {
    assert.deepEqual(moved(["a", "b", "c", "d"], 3, 1), ["a", "d", "b", "c"]);
  });

  test("places past either end are clamped, and the list given is left alone", () => {
    const items = ["a", "b", "c"];
    assert.deepEqual(moved(items, 1, 9), ["a", "c", "b"]);
    assert.deepEqual(moved(items, 1, -4), ["b", "a", "c"]);
    assert.deepEqual(moved(items, 7, 0), ["a", "b", "c"]);
    assert.deepEqual(items, ["a", "b", "c"]);
  });
});

describe("keyTarget", () => {
  test("arrows move one place, Home and End to the ends, within the list", () => {
    assert.equal(keyTarget("ArrowUp", 2, 5), 1);
    assert.equal(keyTarget("ArrowLeft", 0, 5), 0);
    assert.equal(keyTarget("ArrowRight", 2, 5), 3);
    assert.equal(keyTarget("ArrowDown", 4, 5), 4);
    assert.equal(keyTarget("Home", 3, 5), 0);
    assert.equal(keyTarget("End", 1, 5), 4);
  });

  test("any other key moves nothing", () => {
    assert.equal(keyTarget("a", 1, 5), null);
    assert.equal(keyTarget("Tab", 1, 5), null);
  });
});

describe("timeline", () => {
  const lengths = new Map([["a", 4], ["b", 8], ["c", 12]]);
  const secondsOf = (/** @type {string} */ id) => lengths.get(id) ?? null;

  test("shots follow the film's order, numbered by the board, as wide as they are long", () => {
    const line = timeline(
      [{ id: "c", included: true }, { id: "a", included: true }, { id: "b", included: true }],
      ["a", "b", "c"], secondsOf);

    assert.deepEqual(line.shots.map((s) => [s.id, s.n, s.width]), [["c", 3, 12], ["a", 1, 4], ["b", 2, 8]]);
    assert.equal(line.totalSeconds, 24);
    assert.equal(line.count, 3);
  });

  test("a transition goes between two shots in the film, skipping those left out", () => {
    const line = timeline(
      [{ id: "a", included: true }, { id: "b", included: false }, { id: "c", included: true }],
      ["a", "b", "c"], secondsOf);

    assert.deepEqual(line.shots.map((s) => s.after), [null, null, "a"]);
    assert.equal(line.totalSeconds, 16);
    assert.equal(line.count, 2);
  });

  test("a shot of unknown length is drawn at the default width and counted apart", () => {
    const line = timeline([{ id: "a", included: true }, { id: "x", included: true }], ["a", "x"], secondsOf);

    assert.deepEqual(line.shots[1], { id: "x", n: 2, seconds: null, width: UNKNOWN_SECONDS, included: true, after: "a" });
    assert.equal(line.totalSeconds, 4);
    assert.equal(line.unknown, 1);
  });
});

test("formatLength says seconds, then minutes and seconds", () => {
  assert.equal(formatLength(45), "45 s");
  assert.equal(formatLength(59.6), "1 min 00 s");
  assert.equal(formatLength(125), "2 min 05 s");
});
