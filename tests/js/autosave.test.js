// @ts-check
// web/js/autosave.js: the save state machine, on fake timers and a fake API whose answers
// each test gives when it wants: the delay after an edit, one PATCH at a time, 412 -> the
// user's choice, transient failures retried with backoff, drafts kept until saved.

import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";

import { ApiError, NetworkError } from "../../web/js/api.js";
import { Autosaver, Drafts, RETRY_DELAYS_MS, SAVE_DELAY_MS } from "../../web/js/autosave.js";

/** @typedef {import("../../web/js/api.js").StoryboardWithJobs} StoryboardWithJobs */

/** @param {Partial<StoryboardWithJobs>} [fields] @returns {StoryboardWithJobs} */
function storyboard(fields = {}) {
  return {
    id: "sb-1", userId: "u-1", name: "Trip", presetKey: "cinematic", version: 3,
    character: { name: "Ada" }, scenes: [{ id: "a", prompt: "Dawn" }, { id: "b", prompt: "Noon" }],
    createdAt: "2025-01-01T00:00:00Z", updatedAt: "2025-01-01T00:00:00Z", videoJobs: [], sceneClips: [],
    ...fields,
  };
}

/** A promise and the functions that settle it. @template T */
class Deferred {
  constructor() {
    /** @type {Promise<T>} */
    this.promise = new Promise((resolve, reject) => Object.assign(this, { resolve, reject }));
    /** @type {(value: T) => void} */ this.resolve;
    /** @type {(error: unknown) => void} */ this.reject;
  }
}

/** The two calls a saver makes, each answered by the test through `answer`. */
class FakeApi {
  /** @type {{id: string, version: number, changes: object, keepalive: boolean, answer: Deferred<any>}[]} */
  patches = [];
  /** @type {{id: string, answer: Deferred<any>}[]} */
  gets = [];

  /** @param {string} id @param {number} version @param {object} changes @param {{keepalive?: boolean}} [options] */
  patchStoryboard(id, version, changes, { keepalive = false } = {}) {
    const answer = new Deferred();
    this.patches.push({ id, version, changes, keepalive, answer });
    return answer.promise;
  }

  /** @param {string} id */
  getStoryboard(id) {
    const answer = new Deferred();
    this.gets.push({ id, answer });
    return answer.promise;
  }
}

/** sessionStorage's methods over a Map. */
class MemoryStorage {
  items = new Map();
  /** @param {string} key */
  getItem(key) { return this.items.get(key) ?? null; }
  /** @param {string} key @param {string} value */
  setItem(key, value) { this.items.set(key, value); }
  /** @param {string} key */
  removeItem(key) { this.items.delete(key); }
}

/** Let every pending promise reaction run (setImmediate is not faked). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Advance the fake clock, then let what it started run. @param {number} ms */
async function wait(ms) {
  mock.timers.tick(ms);
  await settle();
}

let api = new FakeApi();
let storage = new MemoryStorage();
let saver = newSaver();

function newSaver(board = storyboard()) {
  const drafts = new Drafts("u-1", /** @type {Storage} */ (/** @type {unknown} */ (storage)));
  return new Autosaver({ api: /** @type {any} */ (api), storyboard: board, drafts });
}

/** Record the saver's states as it goes through them. */
function states() {
  /** @type {string[]} */
  const seen = [];
  saver.addEventListener("state", () => seen.push(saver.state));
  return seen;
}

/** @param {string} name */
const rename = (name) => saver.edit((doc) => { doc.name = name; });

beforeEach(() => {
  mock.timers.enable({ apis: ["setTimeout"] });
  api = new FakeApi();
  storage = new MemoryStorage();
  saver = newSaver();
});

afterEach(() => {
  saver.stop();
  mock.timers.reset();
});

describe("saving after an edit", () => {
  test("one PATCH of the changed fields, SAVE_DELAY_MS after the last edit, with If-Match", async () => {
    const seen = states();
    rename("Trip to Oslo");
    await wait(SAVE_DELAY_MS - 1);
    rename("Trip to Bergen"); // the delay starts again
    await wait(SAVE_DELAY_MS - 1);
    assert.equal(api.patches.length, 0);

    await wait(1);

    assert.equal(api.patches.length, 1);
    assert.deepEqual(api.patches[0].changes, { name: "Trip to Bergen" });
    assert.equal(api.patches[0].version, 3);
    api.patches[0].answer.resolve(storyboard({ name: "Trip to Bergen", version: 4 }));
    await settle();
    assert.deepEqual(seen, ["dirty", "saving", "saved"]);
    assert.equal(saver.base.version, 4);
    assert.equal(saver.unsaved, false);
  });

  test("an edit undone before the save leaves nothing to send", async () => {
    rename("Other");
    rename("Trip");
    await wait(SAVE_DELAY_MS);

    assert.equal(saver.state, "saved");
    assert.equal(api.patches.length, 0);
  });

  test("never two PATCHes in flight: a save asked for during one follows it, on its version", async () => {
    rename("First");
    await wait(SAVE_DELAY_MS);
    rename("Second");
    const asked = saver.save();
    await wait(SAVE_DELAY_MS);
    assert.equal(api.patches.length, 1);

    api.patches[0].answer.resolve(storyboard({ name: "First", version: 4 }));
    await settle();

    assert.equal(api.patches.length, 2);
    assert.deepEqual([api.patches[1].version, api.patches[1].changes], [4, { name: "Second" }]);
    api.patches[1].answer.resolve(storyboard({ name: "Second", version: 5 }));
    await asked;
    assert.equal(saver.state, "saved");
  });

  test("a name left blank is not sent: the state says what to fix", async () => {
    rename(" ");
    await wait(SAVE_DELAY_MS);

    assert.equal(saver.state, "invalid");
    assert.deepEqual(saver.problems.map((p) => p.field), ["name"]);
    assert.equal(api.patches.length, 0);
  });

  test("the server's 400 field errors are kept for the form", async () => {
    rename("Too long");
    await wait(SAVE_DELAY_MS);
    api.patches[0].answer.reject(new ApiError(400, "Invalid storyboard", [{ field: "name", message: "At most 200" }]));
    await settle();

    assert.equal(saver.state, "invalid");
    assert.deepEqual(saver.problems, [{ field: "name", message: "At most 200" }]);
  });
});

describe("when the server cannot take the save", () => {
  test("no answer: Offline, retried with growing delays until it is saved", async () => {
    const seen = states();
    rename("Offline edit");
    await wait(SAVE_DELAY_MS);
    api.patches[0].answer.reject(new NetworkError("down"));
    await settle();
    assert.equal(saver.state, "offline");

    await wait(RETRY_DELAYS_MS[0]);
    assert.equal(api.patches.length, 2);
    api.patches[1].answer.reject(new ApiError(503, "Unavailable"));
    await settle();
    await wait(RETRY_DELAYS_MS[1] - 1);
    assert.equal(api.patches.length, 2); // the second wait is longer
    await wait(1);
    assert.equal(api.patches.length, 3);

    api.patches[2].answer.resolve(storyboard({ name: "Offline edit", version: 4 }));
    await settle();
    assert.deepEqual(seen, ["dirty", "saving", "offline", "saving", "offline", "saving", "saved"]);
    assert.equal(saver.backoff.attempt, 0);
  });

  test("412: the server's version is fetched and the user chooses", async () => {
    let conflicts = 0;
    saver.addEventListener("conflict", () => { conflicts += 1; });
    saver.edit((doc) => { doc.scenes[0].prompt = "Dawn, mine"; });
    await wait(SAVE_DELAY_MS);
    api.patches[0].answer.reject(new ApiError(412, "Changed elsewhere"));
    await settle();

    assert.equal(saver.state, "conflict");
    assert.equal(api.gets.length, 1);
    const theirs = storyboard({ version: 7, presetKey: "noir" });
    api.gets[0].answer.resolve(theirs);
    await settle();
    assert.equal(conflicts, 1);
    assert.equal(saver.theirs, theirs);
    saver.save(); // the user decides: nothing is sent meanwhile
    await wait(SAVE_DELAY_MS);
    assert.equal(api.patches.length, 1);

    saver.keepMine();
    await settle();

    assert.equal(api.patches.length, 2);
    assert.equal(api.patches[1].version, 7);
    assert.deepEqual(api.patches[1].changes, { scenes: [{ id: "a", prompt: "Dawn, mine" }, { id: "b", prompt: "Noon" }] });
    assert.equal(saver.doc.presetKey, "noir");
  });

  test("412, then taking the server's version drops the edits without a save", async () => {
    rename("Mine");
    await wait(SAVE_DELAY_MS);
    api.patches[0].answer.reject(new ApiError(412, "Changed elsewhere"));
    await settle();
    api.gets[0].answer.resolve(storyboard({ version: 7, name: "Theirs" }));
    await settle();

    saver.takeTheirs();
    await wait(SAVE_DELAY_MS);

    assert.deepEqual([saver.state, saver.doc.name, saver.base.version], ["saved", "Theirs", 7]);
    assert.equal(api.patches.length, 1);
    assert.equal(storage.items.size, 0); // no draft left
  });

  test("404 is gone and 401 signed out: no more saves until the user acts", async () => {
    for (const [status, state] of /** @type {const} */ ([[404, "gone"], [401, "signedOut"]])) {
      saver = newSaver();
      api.patches = [];
      rename(`Edit ${status}`);
      await wait(SAVE_DELAY_MS);
      api.patches[0].answer.reject(new ApiError(status, "No"));
      await settle();

      await saver.save();
      await wait(RETRY_DELAYS_MS[RETRY_DELAYS_MS.length - 1]);

      assert.equal(saver.state, state);
      assert.equal(api.patches.length, 1);
      assert.equal(saver.unsaved, true);
    }
  });
});

describe("this tab's drafts", () => {
  test("every edit is kept until it is saved", async () => {
    rename("Draft name");
    const [key] = storage.items.keys();
    assert.equal(key, "draft:u-1:sb-1");
    assert.equal(JSON.parse(storage.items.get(key)).doc.name, "Draft name");

    await wait(SAVE_DELAY_MS);
    api.patches[0].answer.resolve(storyboard({ name: "Draft name", version: 4 }));
    await settle();

    assert.equal(storage.items.size, 0);
  });

  test("a restored draft is saved on the version it started from", async () => {
    const draft = { version: 2, base: saver.base.doc, doc: { ...saver.base.doc, name: "From the draft" } };

    saver.restore(draft);
    await wait(SAVE_DELAY_MS);

    assert.deepEqual([api.patches[0].version, api.patches[0].changes], [2, { name: "From the draft" }]);
  });

  test("saveAll: true once the server holds the user's version", async () => {
    rename("Now");
    const done = saver.saveAll();
    await settle();
    api.patches[0].answer.resolve(storyboard({ name: "Now", version: 4 }));

    assert.equal(await done, true);
  });
});
