// One scene's clip: the "Generate scene N" button, the job's live status and progress, and
// the clip playing inline once completed. Phase 2 adds cancel and the stale mark here.

import { isTransient } from "../api.js";
import { confirmSpend } from "../catalog.js";
import { announce, h, replace } from "../dom.js";
import { describe, errorBox } from "../errors.js";
import { formatCost, normalizeJob, TERMINAL, watchJob } from "../generation.js";

const STATUS_WORDS = {
  pending: "Queued",
  processing: "Generating",
  completed: "Ready",
  failed: "Failed",
  cancelled: "Cancelled",
};

export class SceneClip {
  /** `prepare()` gives the generate request for this scene, or throws why it cannot yet. */
  constructor({ api, prepare }) {
    this.api = api;
    this.prepare = prepare;
    this.idempotencyKey = null; // kept while a generate request got no answer, so a retry cannot double
    this.index = 0;
    this.job = null;
    this.watching = null; // AbortController of the poll loop
    this.refreshedUrl = false;
    this.button = h("button", { type: "button", class: "generate", onclick: () => this.generate() }, "Generate");
    this.status = h("p", { class: "job-status", "aria-live": "polite" });
    this.progress = h("progress", { max: "100", hidden: true });
    this.media = h("div", { class: "media" });
    this.problem = h("div", { class: "clip-error" });
    this.root = h("div", { class: "clip" }, this.button, this.status, this.progress, this.problem, this.media);
  }

  /** The scene's position changed: names follow it ("Generate scene 2"). */
  setIndex(index) {
    this.index = index;
    this.button.textContent = `Generate scene ${index + 1}`;
    this.progress.setAttribute("aria-label", `Scene ${index + 1} progress`);
    const video = this.media.querySelector("video");
    if (video) video.setAttribute("aria-label", `Scene ${index + 1} clip`);
  }

  busy(on) {
    this.button.disabled = on;
    this.button.setAttribute("aria-busy", String(on));
  }

  /** "Generate scene N": the request (seam: the cost confirmed first), the job, then watch it. */
  async generate() {
    this.busy(true);
    replace(this.problem);
    try {
      const request = await this.prepare();
      if (!(await confirmSpend(request))) return;
      this.idempotencyKey ??= crypto.randomUUID();
      const accepted = await this.api.generateScene(request, this.idempotencyKey);
      this.idempotencyKey = null;
      this.show(normalizeJob(accepted));
      announce(`Scene ${this.index + 1} queued`);
      this.watch(accepted.jobId);
    } catch (error) {
      if (!isTransient(error)) this.idempotencyKey = null;
      const needsKey = error.status === 409 && /key/i.test(error.message);
      const addKey = needsKey ? h("p", {}, h("a", { href: "/keys", "data-route": "" }, "Add a provider key")) : null;
      replace(this.problem, errorBox(error), addKey);
      announce(`Scene ${this.index + 1} not generated: ${describe(error)}`);
    } finally {
      this.busy(false);
    }
  }

  /** Show a job (normalized); a job still in flight is then watched until done. */
  show(job) {
    const known = this.job && this.job.jobId === job.jobId;
    // Status answers carry no estimate: keep what earlier answers said about the same job.
    this.job = known
      ? Object.fromEntries(Object.entries({ ...this.job, ...job }).map(([k, v]) => [k, v ?? this.job[k] ?? null]))
      : job;
    const { status, progress } = this.job;
    const parts = [STATUS_WORDS[status] || status];
    if (status === "processing") parts[0] += ` ${progress}%`;
    if (status === "failed" && this.job.error) parts.push(this.job.error);
    if (status === "completed" && this.job.cost !== null) parts.push(`cost ${formatCost(this.job.cost)}`);
    else if (this.job.estimatedCost !== null && !TERMINAL.has(status)) {
      parts.push(`estimated cost ${formatCost(this.job.estimatedCost)}`);
    }
    this.status.textContent = parts.join(" · ");
    this.status.dataset.status = status;
    this.progress.hidden = TERMINAL.has(status);
    this.progress.value = progress;
    if (status === "completed" && this.job.videoUrl) this.#play(this.job);
  }

  /** Follow a job live until it is done (a newer watch replaces this one). */
  async watch(jobId) {
    this.stop();
    const controller = new AbortController();
    this.watching = controller;
    try {
      const done = await watchJob(this.api, jobId, {
        signal: controller.signal,
        onStatus: (status) => this.show(status),
        onTrouble: () => { this.status.textContent = `${STATUS_WORDS[this.job?.status] || "Checking"} · status unavailable, retrying`; },
      });
      if (done) this.show(done);
    } catch (error) {
      replace(this.problem, errorBox(error));
    } finally {
      if (this.watching === controller) this.watching = null;
    }
  }

  /** A completed job from the storyboard has no URL yet (phase 1): ask the status route. */
  async load(job) {
    this.show(job);
    if (job.status === "completed" && !job.videoUrl) {
      try {
        this.show(normalizeJob(await this.api.jobStatus(job.jobId)));
      } catch (error) {
        this.status.textContent = `Ready · the clip could not be loaded: ${describe(error)}`;
      }
    } else if (!TERMINAL.has(job.status)) {
      this.watch(job.jobId);
    }
  }

  stop() {
    this.watching?.abort();
    this.watching = null;
  }

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
