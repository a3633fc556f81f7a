// @ts-check
// Clip jobs: one shape for a scene's clip from the storyboard's per-scene summary, what
// "Generate all scenes" would generate (and cost), and polling with backoff.

import { ApiError, isTransient } from "./api.js";

/** @typedef {import("./api.js").Schemas} Schemas */
/** @typedef {import("./document.js").Scene} Scene */
/** @typedef {Schemas["JobStatus"]["status"]} Status */
/**
 * A clip's job in one shape, whatever answer it came from (see normalizeJob).
 * @typedef {object} Job
 * @property {string} jobId
 * @property {Status} status
 * @property {number} progress
 * @property {boolean} progressEstimated
 * @property {string | null} videoUrl
 * @property {string | null} thumbnailUrl
 * @property {number | null} cost
 * @property {number | null} estimatedCost
 * @property {string | null} error
 * @property {boolean} stale
 * @property {string | null} model
 */
/**
 * What normalizeJob reads from an answer: each kind has some of these.
 * @typedef {object} JobFields
 * @property {string | null} [jobId]
 * @property {string} [id]
 * @property {string | null} [status]
 * @property {number | null} [progress]
 * @property {boolean} [progressEstimated]
 * @property {string | null} [videoUrl]
 * @property {string | null} [thumbnailUrl]
 * @property {number | null} [cost]
 * @property {number | null} [estimatedCost]
 * @property {string | null} [error]
 * @property {string | null} [errorMessage]
 * @property {boolean} [stale]
 * @property {string | null} [model]
 */
/**
 * "Generate all scenes", planned: what is generated (and its cost), skipped, or cannot be.
 * @typedef {object} Plan
 * @property {{scene: Scene, index: number, seconds: number, cost: number | null}[]} generate
 * @property {{scene: Scene, index: number, reason: "no-prompt" | "in-flight" | "up-to-date"}[]} skip
 * @property {string[]} problems
 */

export const TERMINAL = new Set(["completed", "failed", "cancelled"]);
export const POLL_FIRST_MS = 1000;
export const POLL_MAX_MS = 10_000;

/**
 * One shape for a job: {jobId, status, progress, progressEstimated, videoUrl, thumbnailUrl,
 * cost, estimatedCost, error, stale, model}, from a generate answer or the storyboard's
 * `sceneClips` entry joined with its `videoJobs` entry (model, estimate, error).
 * @param {Schemas["GenerateAccepted"] | Schemas["JobStatus"] | Schemas["SceneClip"]} answer
 * @param {Partial<Schemas["VideoJobOut"]>} [extra]
 * @returns {Job}
 */
export function normalizeJob(answer, extra = {}) {
  /** @type {JobFields} */
  const job = answer;
  return {
    jobId: /** @type {string} */ (job.jobId ?? job.id), // every answer shown names its job
    status: /** @type {Status} */ (job.status === "queued" ? "pending" : job.status),
    progress: job.progress ?? 0,
    progressEstimated: Boolean(job.progressEstimated),
    videoUrl: job.videoUrl ?? null,
    thumbnailUrl: job.thumbnailUrl ?? null,
    cost: job.cost ?? null,
    estimatedCost: extra.estimatedCost ?? job.estimatedCost ?? null,
    error: extra.errorMessage ?? job.error ?? job.errorMessage ?? null,
    stale: Boolean(job.stale),
    model: extra.model ?? job.model ?? null,
  };
}

/**
 * sceneId -> the scene's newest clip (normalized), from GET /api/storyboards/{id}.
 * @param {import("./api.js").StoryboardWithJobs} storyboard
 */
export function sceneClips(storyboard) {
  const jobs = new Map((storyboard.videoJobs ?? []).map((j) => [j.id, j]));
  /** @type {Map<string, Job>} */
  const clips = new Map();
  for (const clip of storyboard.sceneClips ?? []) {
    if (clip.jobId) clips.set(clip.sceneId, normalizeJob(clip, jobs.get(clip.jobId)));
  }
  return clips;
}

/** @param {Job | null | undefined} job */
export function inFlight(job) {
  return !!job && !TERMINAL.has(job.status);
}

/**
 * A scene's own text, as the server composes prompts from it (prompt, description, text).
 * @param {Scene} scene
 */
export function sceneText(scene) {
  for (const field of ["prompt", "description", "text"]) {
    const text = scene[field];
    if (typeof text === "string" && text.trim()) return text.trim();
  }
  return null;
}

/**
 * What "Generate all scenes" asks for: each scene (in order) as {scene, index, seconds, cost}
 * in `generate`, or {scene, index, reason} in `skip` (no-prompt, in-flight, up-to-date).
 * A completed clip is up to date when it is not stale and was made by this model at this
 * cost; the server re-checks it (and never generates a scene that is not asked for).
 * @param {Scene[]} scenes
 * @param {Map<string, Job>} clips
 * @param {import("./catalog.js").Catalog} catalog
 * @param {import("./catalog.js").Settings} settings
 */
export function batchPlan(scenes, clips, catalog, settings) {
  /** @type {Plan} */
  const plan = { generate: [], skip: [], problems: [] };
  scenes.forEach((scene, index) => {
    const clip = clips.get(scene.id);
    const seconds = catalog.secondsFor(settings, scene.durationSeconds);
    const cost = catalog.estimate(settings, seconds);
    if (!sceneText(scene)) plan.skip.push({ scene, index, reason: "no-prompt" });
    else if (inFlight(clip)) plan.skip.push({ scene, index, reason: "in-flight" });
    else if (clip?.status === "completed" && !clip.stale && clip.model === settings.model && clip.estimatedCost === cost) {
      plan.skip.push({ scene, index, reason: "up-to-date" });
    } else {
      const refusal = catalog.refusal(settings, seconds);
      if (refusal) plan.problems.push(`Scene ${index + 1}: ${refusal}`);
      else plan.generate.push({ scene, index, seconds, cost });
    }
  });
  return plan;
}

/** @type {Record<string, string>} */
export const SKIP_REASONS = {
  "no-prompt": "it has no prompt",
  "in-flight": "its clip is being made",
  "up-to-date": "its clip is up to date",
  "queue-unavailable": "the queue was unavailable: try again",
};

/**
 * @param {number} ms
 * @param {AbortSignal} signal ends the wait early
 * @returns {Promise<void>}
 */
function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

/**
 * Polls `fetchOnce(signal)` while `active(result)` says there is something to wait for,
 * handing each result to `onResult`; waits grow 1.5x from POLL_FIRST_MS to POLL_MAX_MS, also
 * across network failures (`onTrouble`). `kick()` polls again now, from the first wait.
 * Stops for good on a non-transient API error (`onError`) or `stop()`.
 * @template T what one poll gives
 */
export class Poller {
  /**
   * @param {object} hooks
   * @param {(signal: AbortSignal) => Promise<T>} hooks.fetchOnce
   * @param {(result: T) => boolean} hooks.active
   * @param {(result: T) => void} hooks.onResult
   * @param {(error: unknown) => void} [hooks.onTrouble]
   * @param {(error: ApiError) => void} [hooks.onError]
   */
  constructor({ fetchOnce, active, onResult, onTrouble = () => {}, onError = () => {} }) {
    this.fetchOnce = fetchOnce;
    this.active = active;
    this.onResult = onResult;
    this.onTrouble = onTrouble;
    this.onError = onError;
    /** @type {AbortController | null} */
    this.controller = null;
  }

  get running() {
    return this.controller !== null;
  }

  /** Poll now and then while active (a running loop starts over). */
  kick() {
    this.stop();
    const controller = new AbortController();
    this.controller = controller;
    this.#loop(controller.signal).finally(() => {
      if (this.controller === controller) this.controller = null;
    });
  }

  /**
   * Keep following a result already in hand: poll later only if it is active.
   * @param {T} result
   */
  follow(result) {
    if (this.active(result) && !this.running) {
      this.stop();
      const controller = new AbortController();
      this.controller = controller;
      sleep(POLL_FIRST_MS, controller.signal).then(() => {
        if (!controller.signal.aborted) this.kick();
      });
    }
  }

  stop() {
    this.controller?.abort();
    this.controller = null;
  }

  /** @param {AbortSignal} signal */
  async #loop(signal) {
    let delay = POLL_FIRST_MS;
    while (!signal.aborted) {
      try {
        const result = await this.fetchOnce(signal);
        if (signal.aborted) return;
        this.onResult(result);
        if (!this.active(result)) return;
      } catch (error) {
        if (signal.aborted) return;
        if (!isTransient(error) && error instanceof ApiError) {
          this.onError(error);
          return;
        }
        this.onTrouble(error);
      }
      await sleep(delay, signal);
      delay = Math.min(POLL_MAX_MS, delay * 1.5);
    }
  }
}

/** @param {number | null | undefined} usd */
export function formatCost(usd) {
  return usd === null || usd === undefined ? "" : `$${Number(usd).toFixed(2)}`;
}
