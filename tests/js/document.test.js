// @ts-check
// web/js/document.js: what a PATCH carries (the diff), the conflict panel's rows, and the
// three-way rebase of the user's edits onto a newer server version.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { canonical, changedFields, differences, editable, newScene, problems, rebase, same } from "../../web/js/document.js";

/** @typedef {import("../../web/js/document.js").Doc} Doc */

/**
 * A document with three scenes, changed by `change`.
 * @param {(doc: Doc) => void} [change]
 * @returns {Doc}
 */
function doc(change = () => {}) {
  const made = {
    name: "Trip",
    presetKey: "cinematic",
    character: { name: "Ada", description: "A pilot" },
    scenes: [
      { id: "a", prompt: "Dawn over the hangar" },
      { id: "b", prompt: "Take-off", durationSeconds: 8 },
      { id: "c", prompt: "Landing" },
    ],
  };
  change(made);
  return made;
}

/** @param {Doc} d */
const ids = (d) => d.scenes.map((s) => s.id);

describe("editable", () => {
  test("keeps the editable fields only, as a detached copy with defaults", () => {
    const storyboard = {
      id: "sb", userId: "u", name: "Trip", presetKey: "noir", version: 4,
      createdAt: "2025-01-01T00:00:00Z", updatedAt: "2025-01-02T00:00:00Z",
      character: { name: "Ada" }, scenes: [{ id: "a", prompt: "Dawn" }],
    };

    const copy = editable(storyboard);
    copy.scenes[0].prompt = "changed";

    assert.deepEqual(Object.keys(copy).sort(), ["character", "name", "presetKey", "scenes"]);
    assert.equal(storyboard.scenes[0].prompt, "Dawn");
    const bare = editable({ ...storyboard, character: /** @type {any} */ (null), scenes: /** @type {any} */ (null) });
    assert.deepEqual([bare.character, bare.scenes], [{}, []]);
  });
});

describe("comparing and diffing", () => {
  test("key order does not matter (JSONB does not keep it), array order does", () => {
    assert.equal(canonical({ b: 1, a: { d: 2, c: 3 } }), '{"a":{"c":3,"d":2},"b":1}');
    assert.ok(same({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }));
    assert.ok(!same([1, 2], [2, 1]));
  });

  test("a PATCH carries only the top-level fields that changed, as copies", () => {
    const base = doc();
    const mine = doc((d) => { d.scenes[1].prompt = "Lift-off"; });

    const changes = changedFields(base, mine);

    assert.deepEqual(Object.keys(changes), ["scenes"]);
    assert.deepEqual(changes.scenes, mine.scenes);
    assert.notEqual(changes.scenes, mine.scenes);
  });

  test("nothing changed when only the key order differs", () => {
    const reordered = doc((d) => { d.character = { description: "A pilot", name: "Ada" }; });

    assert.deepEqual(changedFields(doc(), reordered), {});
  });

  test("a blank name is a problem to fix before saving", () => {
    assert.deepEqual(problems(doc((d) => { d.name = "  "; })), [{ field: "name", message: "The storyboard needs a name." }]);
    assert.deepEqual(problems(doc()), []);
  });

  test("a new scene has a short unique id and an empty prompt", () => {
    const [one, two] = [newScene(), newScene()];

    assert.match(one.id, /^scene-[0-9a-f]{8}$/);
    assert.notEqual(one.id, two.id);
    assert.equal(one.prompt, "");
  });
});

describe("rebase: the user's edits onto the server's newer version", () => {
  test("the user's changed fields win; the server's changes elsewhere stay", () => {
    const mine = doc((d) => { d.name = "My trip"; });
    const theirs = doc((d) => { d.presetKey = "noir"; });

    const merged = rebase(doc(), mine, theirs);

    assert.equal(merged.name, "My trip");
    assert.equal(merged.presetKey, "noir");
  });

  test("character keys merge one by one, a key the user removed stays removed", () => {
    const mine = doc((d) => { d.character = { name: "Ada", appearance: "Goggles" }; }); // description removed
    const theirs = doc((d) => { d.character.name = "Ada L."; });

    assert.deepEqual(rebase(doc(), mine, theirs).character, { name: "Ada L.", appearance: "Goggles" });
  });

  test("field edits to the same scene on both sides are both kept, the user's winning a clash", () => {
    const mine = doc((d) => { d.scenes[1].prompt = "Lift-off"; });
    const theirs = doc((d) => { d.scenes[1].durationSeconds = 12; d.scenes[1].prompt = "Departure"; d.scenes[0].prompt = "Dusk"; });

    const merged = rebase(doc(), mine, theirs);

    assert.deepEqual(merged.scenes, [
      { id: "a", prompt: "Dusk" },
      { id: "b", prompt: "Lift-off", durationSeconds: 12 },
      { id: "c", prompt: "Landing" },
    ]);
  });

  test("scenes added on both sides are all kept, each after its predecessor", () => {
    const mine = doc((d) => { d.scenes.splice(1, 0, { id: "mine", prompt: "Checklist" }); });
    const theirs = doc((d) => { d.scenes.push({ id: "theirs", prompt: "Taxi" }); });

    assert.deepEqual(ids(rebase(doc(), mine, theirs)), ["a", "mine", "b", "c", "theirs"]);
  });

  test("a scene the user removed stays removed, even if the server edited it", () => {
    const mine = doc((d) => { d.scenes.splice(1, 1); });
    const theirs = doc((d) => { d.scenes[1].prompt = "Edited on the server"; });

    assert.deepEqual(ids(rebase(doc(), mine, theirs)), ["a", "c"]);
  });

  test("a scene the server removed comes back when the user edited it, else stays removed", () => {
    const theirs = doc((d) => { d.scenes.splice(1, 2); }); // b and c removed
    const mine = doc((d) => { d.scenes[1].prompt = "Lift-off"; }); // b edited, c untouched

    const merged = rebase(doc(), mine, theirs);

    assert.deepEqual(merged.scenes, [{ id: "a", prompt: "Dawn over the hangar" }, { id: "b", prompt: "Lift-off", durationSeconds: 8 }]);
  });

  test("the user's reordering wins, with the server's new scene after its predecessor", () => {
    const mine = doc((d) => { d.scenes.reverse(); });
    const theirs = doc((d) => { d.scenes.splice(1, 0, { id: "new", prompt: "Refuel" }); });

    assert.deepEqual(ids(rebase(doc(), mine, theirs)), ["c", "b", "a", "new"]);
  });

  test("without a reordering by the user, the server's order is kept", () => {
    const mine = doc((d) => { d.scenes[0].prompt = "Dawn"; });
    const theirs = doc((d) => { d.scenes.reverse(); });

    const merged = rebase(doc(), mine, theirs);

    assert.deepEqual(ids(merged), ["c", "b", "a"]);
    assert.equal(merged.scenes[2].prompt, "Dawn");
  });

  test("the inputs are left as they were", () => {
    const [base, mine, theirs] = [doc(), doc((d) => { d.name = "Mine"; }), doc((d) => { d.scenes.pop(); })];
    const before = JSON.stringify([base, mine, theirs]);

    rebase(base, mine, theirs);

    assert.equal(JSON.stringify([base, mine, theirs]), before);
  });
});

describe("differences: the conflict panel's rows", () => {
  test("none when both versions hold the same content", () => {
    assert.deepEqual(differences(doc(), doc((d) => { d.name = "X"; }), doc((d) => { d.name = "X"; })), []);
  });

  test("each differing field says who changed it", () => {
    const base = doc();
    const mine = doc((d) => { d.name = "Mine"; d.scenes[0].prompt = "Both, mine"; });
    const theirs = doc((d) => { d.presetKey = "noir"; d.scenes[0].prompt = "Both, theirs"; d.character.description = "A navigator"; });

    const rows = differences(base, mine, theirs);

    assert.deepEqual(rows.map((r) => [r.label, r.changedBy]), [
      ["Storyboard name", "you"],
      ["Preset", "server"],
      ["Character description", "server"],
      ["Scene 1 prompt", "both"],
    ]);
    assert.deepEqual([rows[0].mine, rows[0].server], ["Mine", "Trip"]);
  });

  test("a scene on one side only shows its prompt, absent on the other", () => {
    const theirs = doc((d) => { d.scenes.push({ id: "d", prompt: "Hangar at night" }); });

    const [row] = differences(doc(), doc(), theirs);

    assert.deepEqual(row, { label: "Scene 4", server: "Hangar at night", mine: undefined, changedBy: "server" });
  });

  test("a different order of the shared scenes is shown as their prompts", () => {
    const mine = doc((d) => { d.scenes.reverse(); });

    const [row] = differences(doc(), mine, doc());

    assert.equal(row.label, "Scene order");
    assert.equal(row.mine, "Landing\nTake-off\nDawn over the hangar");
    assert.equal(row.changedBy, "you");
  });
});
