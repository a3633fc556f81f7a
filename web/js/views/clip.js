// @ts-check
// One scene's clip, the parts of its card on the board: "Generate scene N" (the cost confirmed
// first), the status badge (no clip yet, queued, generating with progress marked when
// estimated, ready, failed with the reason, stale, cancelled), "Cancel" while in flight, and
// the clip playing inline once completed. The editor's storyboard poll feeds `show`.

import { ApiError, RetryKey } from "../api.js";
import { announce, confirmDialog, h, replace } from "../dom.js";
import { describe, errorBox } from "../errors.js";
import { formatCost, inFlight, normalizeJob } from "../generation.js";

/** @typedef {import("../generation.js").Job} Job */
/** A scene's request, its estimated cost and the lines the confirmation lists. @typedef {{request: import("../api.js").GenerateRequest, cost: number | null, items: string[]}} Prepared */

/** @type {Record<string, string>} */
const STATUS_WORDS = {
  pending: "Queued",
  submitting: "Queued",
  processing: "Generating",
  completed: "Ready",
  failed: "Failed",
  cancelled: "Cancelled",
};

/** @param {unknown} error */
function keyLink(error) {
  const needsKey = error instanceof ApiError && error.status === 409 && /key/i.test(error.message);
  return needsKey ? h("p", {}, h("a", { href: "/keys", "data-route": "" }, "Add a provider key")) : null;
}

export class SceneClip {
  /**
   * `prepare()` gives {request, cost, items} for this scene (saving edits first) or throws why
   * it cannot; `onChange()` is told when a job was queued or cancelled here; `model()` is the
   * model chosen for new clips (null without the catalog).
   * @param {object} options
   * @param {import("../api.js").Api} options.api
   * @param {() => Promise<Prepared>} options.prepare
   * @param {() => void} options.onChange
   * @param {() => string | null} options.model
   */
  constructor({ api, prepare, onChange, model }) {
    this.api = api;
    this.prepare = prepare;
    this.onChange = onChange;
    this.model = model;
    this.retryKey = new RetryKey();
    this.index = 0;
    /** @type {Job | null} */
    this.job = null;
    this.refreshedUrl = false;
    this.button = h("button", { type: "button", class: "generate", onclick: () => this.generate() }, "Generate");
    this.cancelLabel = h("span", { class: "visually-hidden" });
    this.cancelButton = h("button", { type: "button", class: "secondary small", hidden: true, onclick: () => this.cancel() },
      "Cancel", this.cancelLabel);
    // The badge is the status's first word; what follows it (progress, cost, the reason) is text.
    this.badge = h("span", { class: "badge" });
    this.detail = h("span", { class: "detail" });
    this.status = h("p", { class: "job-status", "aria-live": "polite" }, this.badge, this.detail);
    this.staleMark = h("p", { class: "stale-mark hint", hidden: true },
      "The scene changed since this clip was made: generate it again to match.");
    this.progress = h("progress", { max: "100", hidden: true });
    this.placeholder = h("div", { class: "placeholder", "aria-hidden": "true" }, h("span", {}, "1"));
    this.media = h("div", { class: "media" }, this.placeholder);
    this.problem = h("div", { class: "clip-error" });
    this.actions = h("div", { class: "clip-actions" }, this.button, this.cancelButton);
    this.modelLine = h("p", { class: "model hint" });
    this.#showStatus("none", "No clip yet", "");
  }

  /**
   * The scene's position changed: names follow it ("Generate scene 2").
   * @param {number} index
   */
  setIndex(index) {
    this.index = index;
    const n = index + 1;
    this.button.textContent = `Generate scene ${n}`;
    this.cancelLabel.textContent = ` scene ${n}`;
    this.progress.setAttribute("aria-label", `Scene ${n} progress`);
    /** @type {HTMLElement} */ (this.placeholder.firstChild).textContent = String(n);
    this.#showModel();
    this.media.querySelector("video")?.setAttribute("aria-label", `Scene ${n} clip`);
  }

  /** @param {boolean} on */
  busy(on) {
    this.button.disabled = on;
    this.button.setAttribute("aria-busy", String(on));
  }

  /** "Generate scene N": the request and its cost, confirmed; the job; then it is watched. */
  async generate() {
    const n = this.index + 1;
    this.busy(true);
    replace(this.problem);
    try {
      const { request, cost, items } = await this.prepare();
      const sure = await confirmDialog({
        title: `Generate scene ${n}?`,
        message: `Estimated cost: ${formatCost(cost)}. It counts against today's spend cap.`,
        items,
        confirmLabel: `Generate for ${formatCost(cost)}`,
        tone: "spend",
      });
      if (!sure) return;
      const accepted = await this.api.generateScene(request, this.retryKey.for(request));
      this.retryKey.settle();
      this.show(normalizeJob(accepted));
      announce(`Scene ${n} queued, estimated cost ${formatCost(accepted.estimatedCost)}`);
      this.onChange();
    } catch (error) {
      this.retryKey.settle(error);
      replace(this.problem, errorBox(error), keyLink(error));
      announce(`Scene ${n} not generated: ${describe(error)}`);
      if (error instanceof ApiError && error.status === 429) this.onChange();
    } finally {
      this.busy(false);
    }
  }

  /** "Cancel": stop the job in flight; a job that finished meanwhile is explained (409). */
  async cancel() {
    const job = this.job;
    if (!job) return;
    const n = this.index + 1;
    this.cancelButton.disabled = true;
    replace(this.problem);
    try {
      this.show(normalizeJob(await this.api.cancelJob(job.jobId)));
      announce(`Scene ${n}: generating cancelled`);
    } catch (error) {
      const finished = error instanceof ApiError && error.status === 409;
      const why = finished
        ? { message: `Scene ${n}'s clip is already ${error.details?.status ?? "finished"}: only a job in flight can be cancelled.` }
        : error;
      replace(this.problem, errorBox(why));
      announce(`Scene ${n} not cancelled: ${describe(why)}`);
    } finally {
      this.cancelButton.disabled = false;
      this.onChange();
    }
  }

  /** The poll got no answer: a job in flight says so until the next one. */
  trouble() {
    if (this.job && inFlight(this.job)) this.detail.textContent = " · status unavailable, retrying";
  }

  /**
   * Show a job (normalized).
   * @param {Job} job
   */
  show(job) {
    const shown = this.job;
    const known = shown && shown.jobId === job.jobId;
    // Answers differ in what they carry (a cancel has no estimate): keep what earlier ones said.
    this.job = known
      ? /** @type {Job} */ (Object.fromEntries(Object.entries({ ...shown, ...job })
        .map(([k, v]) => [k, v ?? shown[/** @type {keyof Job} */ (k)] ?? null])))
      : job;
    const { status, progress, progressEstimated } = this.job;
    const running = inFlight(this.job);
    const stale = this.job.stale && status === "completed";
    const parts = [];
    if (status === "processing") parts.push(progressEstimated ? ` about ${progress}% (estimated)` : ` ${progress}%`);
    if (status === "failed" && this.job.error) parts.push(` · ${this.job.error}`);
    if (status === "completed" && this.job.cost !== null) parts.push(` · cost ${formatCost(this.job.cost)}`);
    else if (this.job.estimatedCost !== null && running) parts.push(` · estimated cost ${formatCost(this.job.estimatedCost)}`);
    this.#showStatus(stale ? "stale" : status, stale ? "Stale" : STATUS_WORDS[status] || status, parts.join(""));
    this.progress.hidden = !running;
    this.progress.value = progress;
    this.progress.classList.toggle("estimated", progressEstimated);
    this.progress.setAttribute("aria-valuetext", progressEstimated ? `about ${progress}%, estimated` : `${progress}%`);
    this.cancelButton.hidden = !running;
    this.staleMark.hidden = !stale;
    this.#showModel();
    if (status === "completed" && this.job.videoUrl) this.#play(this.job);
  }

  /** The model new clips are made with, and the one this clip was made with when another. */
  #showModel() {
    const chosen = this.model();
    const made = this.job?.model ?? null;
    const parts = [`Model ${chosen ?? made ?? "not chosen"}`];
    if (made && chosen && made !== chosen) parts.push(`this clip: ${made}`);
    this.modelLine.textContent = parts.join(" · ");
  }

  /**
   * @param {string} status the job's, or "none" and "stale"
   * @param {string} word the badge
   * @param {string} detail what follows it
   */
  #showStatus(status, word, detail) {
    this.badge.textContent = word;
    this.detail.textContent = detail;
    this.status.dataset.status = status;
  }

  /** @param {Job} job */
  #play(job) {
    const current = this.media.querySelector("video");
    if (current && current.dataset.jobId === job.jobId) return;
    const video = h("video", {
      controls: true,
      preload: "metadata",
      playsinline: true,
      src: job.videoUrl,
      poster: job.thumbnailUrl,
      "aria-label": `Scene ${this.index + 1} clip`,
      dataset: { jobId: job.jobId },
    });
    // Presigned URLs expire: on a load error, fetch a fresh one once.
    video.addEventListener("error", async () => {
      if (this.refreshedUrl) return;
      this.refreshedUrl = true;
      try {
        const fresh = await this.api.jobStatus(job.jobId);
        if (fresh.videoUrl) video.src = fresh.videoUrl;
      } catch {
        // The status line keeps saying Ready; the controls show the clip cannot play.
      }
    });
    replace(this.media, video);
  }
}
