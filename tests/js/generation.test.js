// @ts-check
// web/js/generation.js: one shape for a clip's job, what "Generate all scenes" generates and
// skips, and the poller (on fake timers): growing waits, kept through network trouble,
// stopped by an API error or stop().

import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";

import { ApiError, NetworkError } from "../../web/js/api.js";
import { Catalog } from "../../web/js/catalog.js";
import {
  batchPlan, formatCost, inFlight, normalizeJob, Poller, POLL_FIRST_MS, POLL_MAX_MS, sceneClips, sceneText,
} from "../../web/js/generation.js";

/** @typedef {import("../../web/js/generation.js").Job} Job */

/** A catalog with one provider: model "m1" (4, 8 or 12 s at 0.10 USD/s) and a retired one. */
const CATALOG = new Catalog({
  typicalGenerationSource: "test",
  providers: [{
    id: "openai", name: "OpenAI-compatible endpoint", defaultModel: "m1", defaultModelsByApi: {},
    defaultDurationSeconds: 8, defaultSize: "wide", reportsProgress: true, keyApis: [], keyNeedsBaseUrl: true,
    retiredEndpoints: [], notes: "",
  }],
  models: [
    {
      id: "m1", provider: "openai", name: "M1", status: "generally available", api: null, retiredOn: null,
      replacement: null, durations: [4, 8, 12], sound: true, limitsSource: "test", typicalGenerationSeconds: null,
      notes: "", inputs: { firstFrame: false, lastFrame: false, referenceImages: 0, referenceDurations: [], referencesWithFrames: false, negativePrompt: false },
      sizes: [{ size: "wide", aspectRatio: "16:9", resolution: "720p", durations: [4, 8, 12], usdPerSecond: 0.1, priceSource: "test", priceAsOf: "2025-01-01" }],
    },
    {
      id: "old", provider: "openai", name: "Old", status: "retired", api: null, retiredOn: "2025-01-01",
      replacement: "m1", durations: [4], sound: false, limitsSource: "test", typicalGenerationSeconds: null,
      notes: "", inputs: { firstFrame: false, lastFrame: false, referenceImages: 0, referenceDurations: [], referencesWithFrames: false, negativePrompt: false },
      sizes: [{ size: "wide", aspectRatio: "16:9", resolution: "720p", durations: [4], usdPerSecond: 0.5, priceSource: "test", priceAsOf: "2025-01-01" }],
    },
  ],
});
const SETTINGS = { provider: "openai", model: "m1", size: "wide" };

/** @param {Partial<Job>} fields @returns {Job} */
function job(fields) {
  return normalizeJob({ jobId: "j", status: "completed", progress: 100, progressEstimated: false, stale: false,
    sceneId: "a", ...fields });
}

describe("one shape for a job", () => {
  test("a generate answer: queued is shown as pending, the rest defaulted", () => {
    const shaped = normalizeJob({ jobId: "j1", status: "queued", prompt: "Dawn", estimatedCost: 0.8, success: true });

    assert.deepEqual(shaped, {
      jobId: "j1", status: "pending", progress: 0, progressEstimated: false, videoUrl: null, thumbnailUrl: null,
      cost: null, estimatedCost: 0.8, error: null, stale: false, model: null,
    });
  });

  test("a storyboard's clips, joined with their jobs (model, estimate, error); none without a job", () => {
    const board = {
      sceneClips: [
        { sceneId: "a", jobId: "j1", status: "failed", progress: 40, progressEstimated: true, stale: true },
        { sceneId: "b", jobId: null, progressEstimated: false, stale: false },
      ],
      videoJobs: [{ id: "j1", model: "m1", estimatedCost: 0.4, errorMessage: "Provider refused" }],
    };

    const clips = sceneClips(/** @type {any} */ (board));

    assert.deepEqual([...clips.keys()], ["a"]);
    assert.deepEqual(clips.get("a"), {
      jobId: "j1", status: "failed", progress: 40, progressEstimated: true, videoUrl: null, thumbnailUrl: null,
      cost: null, estimatedCost: 0.4, error: "Provider refused", stale: true, model: "m1",
    });
  });

  test("in flight until completed, failed or cancelled", () => {
    assert.deepEqual(["pending", "processing", "completed", "failed", "cancelled"].map((status) =>
      inFlight(job({ status: /** @type {Job["status"]} */ (status) }))), [true, true, false, false, false]);
    assert.equal(inFlight(null), false);
  });

  test("a scene's text: its prompt, else its description or text, trimmed; null when blank", () => {
    assert.equal(sceneText({ id: "a", prompt: "  Dawn " }), "Dawn");
    assert.equal(sceneText({ id: "a", prompt: " ", description: "Dusk" }), "Dusk");
    assert.equal(sceneText({ id: "a", prompt: "", text: 5 }), null);
  });

  test("costs in dollars and cents; nothing for no cost", () => {
    assert.deepEqual([formatCost(1.005), formatCost(0), formatCost(null)], ["$1.00", "$0.00", ""]);
  });
});

describe("what Generate all scenes asks for", () => {
  test("scenes without a prompt, in flight or up to date are skipped, the rest priced", () => {
    const scenes = [
      { id: "a", prompt: "" },
      { id: "b", prompt: "In flight" },
      { id: "c", prompt: "Up to date" },
      { id: "d", prompt: "Stale", durationSeconds: 4 },
      { id: "e", prompt: "Made by another model" },
      { id: "f", prompt: "Never made", durationSeconds: 12 },
      { id: "g", prompt: "Made at another length" },
    ];
    const clips = new Map([
      ["b", job({ status: "processing" })],
      ["c", job({ model: "m1", estimatedCost: 0.8 })],
      ["d", job({ model: "m1", estimatedCost: 0.4, stale: true })],
      ["e", job({ model: "old", estimatedCost: 0.8 })],
      ["g", job({ model: "m1", estimatedCost: 0.4 })],
    ]);

    const plan = batchPlan(scenes, clips, CATALOG, SETTINGS);

    assert.deepEqual(plan.skip.map((s) => [s.scene.id, s.reason]), [["a", "no-prompt"], ["b", "in-flight"], ["c", "up-to-date"]]);
    assert.deepEqual(plan.generate.map((g) => [g.scene.id, g.index, g.seconds, g.cost]), [
      ["d", 3, 4, 0.4], ["e", 4, 8, 0.8], ["f", 5, 12, 1.2], ["g", 6, 8, 0.8],
    ]);
    assert.deepEqual(plan.problems, []);
  });

  test("a length the model does not offer is a problem, not a request", () => {
    const plan = batchPlan([{ id: "a", prompt: "Dawn", durationSeconds: 5 }], new Map(), CATALOG, SETTINGS);

    assert.deepEqual(plan.generate, []);
    assert.deepEqual(plan.problems, ["Scene 1: 5 s is not offered by m1 at wide (it offers 4, 8, 12 s)"]);
  });
});

describe("Poller", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout"] }));
  afterEach(() => mock.timers.reset());

  const settle = () => new Promise((resolve) => setImmediate(resolve));
  /** @param {number} ms */
  const wait = async (ms) => { mock.timers.tick(ms); await settle(); };

  /**
   * A poller whose polls answer from `answers` in turn (an Error is thrown), recording what
   * it was told.
   * @param {(string | Error)[]} answers "active" or "done"
   */
  function poller(answers) {
    const told = { polls: 0, results: /** @type {string[]} */ ([]), trouble: 0, errors: /** @type {ApiError[]} */ ([]) };
    const polling = new Poller({
      fetchOnce: async () => {
        const answer = answers[Math.min(told.polls, answers.length - 1)];
        told.polls += 1;
        if (answer instanceof Error) throw answer;
        return answer;
      },
      active: (result) => result === "active",
      onResult: (result) => { told.results.push(result); },
      onTrouble: () => { told.trouble += 1; },
      onError: (error) => { told.errors.push(error); },
    });
    return { polling, told };
  }

  test("polls at once, then while active, each wait 1.5 times the last up to POLL_MAX_MS", async () => {
    const { polling, told } = poller(["active"]);
    polling.kick();
    await settle();
    assert.equal(told.polls, 1);

    const waits = [];
    let delay = POLL_FIRST_MS;
    for (let poll = 2; poll <= 9; poll += 1) {
      await wait(delay - 1);
      assert.equal(told.polls, poll - 1);
      await wait(1);
      assert.equal(told.polls, poll);
      waits.push(delay);
      delay = Math.min(POLL_MAX_MS, delay * 1.5);
    }

    assert.deepEqual(waits, [1000, 1500, 2250, 3375, 5062.5, 7593.75, 10000, 10000]);
    polling.stop();
  });

  test("stops once the result is no longer active", async () => {
    const { polling, told } = poller(["active", "done"]);
    polling.kick();
    await wait(POLL_FIRST_MS);
    await wait(POLL_MAX_MS * 2);

    assert.deepEqual(told.results, ["active", "done"]);
    assert.equal(polling.running, false);
  });

  test("network trouble is reported and polling goes on; an API error stops it", async () => {
    const notFound = new ApiError(404, "Not found");
    const { polling, told } = poller([new NetworkError("down"), new ApiError(503, "Busy"), notFound]);
    polling.kick();
    await wait(POLL_FIRST_MS);
    await wait(POLL_FIRST_MS * 1.5);
    await wait(POLL_MAX_MS * 2);

    assert.equal(told.trouble, 2);
    assert.deepEqual(told.errors, [notFound]);
    assert.equal(told.polls, 3);
  });

  test("stop() ends the wait; kick() polls again at once, from the first wait", async () => {
    const { polling, told } = poller(["active"]);
    polling.kick();
    await wait(POLL_FIRST_MS);
    await wait(POLL_FIRST_MS * 1.5 - 1);
    polling.stop();
    await wait(POLL_MAX_MS);
    assert.equal(told.polls, 2);

    polling.kick();
    await settle();
    assert.equal(told.polls, 3);
    await wait(POLL_FIRST_MS);
    assert.equal(told.polls, 4);
    polling.stop();
  });

  test("follow(): a result in hand is polled again later only while active", async () => {
    const done = poller(["done"]);
    done.polling.follow("done");
    await wait(POLL_MAX_MS);
    assert.equal(done.told.polls, 0);

    const active = poller(["done"]);
    active.polling.follow("active");
    await wait(POLL_FIRST_MS - 1);
    assert.equal(active.told.polls, 0);
    await wait(1);
    assert.deepEqual(active.told.results, ["done"]);
  });
});
