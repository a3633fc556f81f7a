// @ts-check
// The storyboard's films: the timeline (timeline.js) with "Compile film" under it, and beside
// it each film's status and progress (polled while it is being made), its <video> and a
// download link once completed; earlier films listed newest first.

import { ApiError, RetryKey } from "../api.js";
import { announce, h, newId, replace } from "../dom.js";
import { describe, errorBox } from "../errors.js";
import { musicLabel, transitionLabel } from "../filmcraft.js";
import { Poller } from "../generation.js";
import { FilmCraft } from "./craft.js";
import { FilmTimeline } from "./timeline.js";

/** @typedef {import("../api.js").Schemas["CompiledVideoOut"]} CompiledVideo */
/**
 * A film as listed: the API's, or the one just asked for (until its first poll answers).
 * @typedef {Pick<CompiledVideo, "id" | "status" | "progress" | "scenesOrder" | "createdAt"> & Partial<CompiledVideo>} Film
 */

/** @type {Record<string, string>} */
const FILM_WORDS = { pending: "Queued", processing: "Compiling", completed: "Ready", failed: "Failed" };
const ACTIVE = new Set(["pending", "processing"]);

/** @param {number | null | undefined} bytes */
function megabytes(bytes) {
  return bytes ? `${(bytes / 1_000_000).toFixed(1)} MB` : "";
}

export class FilmsPanel {
  /**
   * `saver` holds the storyboard being edited (its scenes, saved before compiling); `seconds`
   * and `thumbnail` tell the timeline each scene's length and its clip's thumbnail.
   * @param {object} options
   * @param {import("../api.js").Api} options.api
   * @param {import("../autosave.js").Autosaver} options.saver
   * @param {string} options.storyboardId
   * @param {import("./timeline.js").TimelineSources["seconds"]} options.seconds
   * @param {import("./timeline.js").TimelineSources["thumbnail"]} options.thumbnail
   * @param {() => import("../references.js").Reference[] | null} options.references the storyboard's (null until loaded)
   * @param {(reference: import("../references.js").Reference) => void} options.onMusicUploaded
   */
  constructor({ api, saver, storyboardId, seconds, thumbnail, references, onMusicUploaded }) {
    this.api = api;
    this.saver = saver;
    this.storyboardId = storyboardId;
    /** @type {Film[]} */
    this.films = []; // newest first, as the API lists them
    /** @type {Map<string, HTMLLIElement>} */
    this.items = new Map(); // film id -> its list item (kept while polled, so a playing video stays)
    /** @type {Map<string, Poller<CompiledVideo>>} */
    this.pollers = new Map(); // film id -> Poller
    this.retryKey = new RetryKey();
    this.references = references;
    this.craft = new FilmCraft({
      api, storyboardId, references, onUploaded: onMusicUploaded, onChange: () => this.timeline.render(),
    });
    this.timeline = new FilmTimeline({
      scenes: () => this.saver.doc.scenes, seconds, thumbnail, transition: () => this.craft.choices.transition,
    });
    this.button = h("button", { type: "button", onclick: () => this.compile() }, "Compile film");
    this.problem = h("div", { class: "film-problem" });
    this.list = h("ol", { class: "films" });
    this.empty = h("p", { class: "hint" }, "No film yet.");
    const titleId = newId("films-title");
    this.root = h("section", { class: "films-section", "aria-labelledby": titleId },
      h("h2", { id: titleId }, "Film"),
      h("div", { class: "film-layout" },
        h("div", { class: "film-make" }, this.timeline.root, this.craft.root, h("div", { class: "actions" }, this.button), this.problem),
        h("div", { class: "film-list" }, h("h3", {}, "Films of this storyboard"), this.empty, this.list)));
  }

  /** The films made so far (newest first), following those still being made. */
  async load() {
    try {
      this.films = await this.api.films(this.storyboardId);
      this.#render();
      for (const film of this.films) if (ACTIVE.has(film.status)) this.#follow(film.id);
    } catch (error) {
      replace(this.problem, errorBox(error));
    }
  }

  /** The scenes changed (added, removed, reordered, lengths, clips): the timeline follows. */
  scenesChanged() {
    if (!this.root.contains(document.activeElement)) this.timeline.render();
  }

  stop() {
    for (const poller of this.pollers.values()) poller.stop();
    this.craft.stop();
  }

  /** The storyboard's references changed: the music choices follow, and films name their music. */
  referencesChanged() {
    this.craft.referencesChanged();
    for (const film of this.films) {
      const item = this.items.get(film.id);
      if (item) this.#craftLine(item, film);
    }
  }

  /** "Compile film": save, then ask for the film in the chosen order. */
  async compile() {
    this.button.disabled = true;
    replace(this.problem);
    try {
      const scenesOrder = this.timeline.scenesOrder;
      if (!scenesOrder.length) throw new Error("Include at least one scene in the film.");
      if (!(await this.saver.saveAll())) throw new Error(`Not compiled: ${this.saver.statusText}`);
      const craft = this.craft.fields;
      const key = this.retryKey.for({ scenesOrder, ...craft });
      const accepted = await this.api.compileFilm(this.storyboardId, scenesOrder, key, craft);
      this.retryKey.settle();
      /** @type {Film} */
      const film = { id: accepted.compiledVideoId, status: accepted.status, progress: 0, scenesOrder: accepted.scenesOrder, createdAt: new Date().toISOString() };
      this.films = [film, ...this.films.filter((f) => f.id !== film.id)];
      this.#render();
      this.#follow(film.id);
      announce(`Film ${this.films.length} queued`);
    } catch (error) {
      this.retryKey.settle(error);
      replace(this.problem, this.#explain(error));
      announce(`The film was not compiled: ${describe(error)}`);
    } finally {
      this.button.disabled = false;
    }
  }

  /**
   * A 409 names the scenes without a clip: say which, by their number.
   * @param {unknown} error
   */
  #explain(error) {
    const missing = error instanceof ApiError && error.status === 409 ? error.details?.scenesWithoutClip : null;
    if (!Array.isArray(missing)) return errorBox(error);
    const number = new Map(this.saver.doc.scenes.map((s, i) => [s.id, i + 1]));
    const names = missing.map((/** @type {string} */ id) => (number.has(id) ? `scene ${number.get(id)}` : id));
    return errorBox({ message: `No film yet: ${names.join(", ")} ${names.length === 1 ? "has" : "have"} no finished clip. Generate ${names.length === 1 ? "it" : "them"} first, or leave ${names.length === 1 ? "it" : "them"} out of the film.` });
  }

  /** @param {string} id */
  #follow(id) {
    this.pollers.get(id)?.stop();
    const poller = new Poller({
      fetchOnce: (signal) => this.api.film(id, signal),
      active: (film) => ACTIVE.has(film.status),
      onResult: (film) => this.#update(film),
      onTrouble: () => {
        const status = this.items.get(id)?.querySelector(".film-status");
        if (status) status.textContent = "Status unavailable, retrying…";
      },
      onError: (error) => replace(this.problem, errorBox(error)),
    });
    this.pollers.set(id, poller);
    poller.kick();
  }

  /** @param {CompiledVideo} film */
  #update(film) {
    const at = this.films.findIndex((f) => f.id === film.id);
    if (at < 0) return;
    const was = this.films[at].status;
    this.films[at] = film;
    this.#renderItem(film, this.films.length - at);
    if (was !== film.status && !ACTIVE.has(film.status)) announce(`Film ${this.films.length - at}: ${FILM_WORDS[film.status] ?? film.status}`);
  }

  #render() {
    this.empty.hidden = this.films.length > 0;
    this.list.replaceChildren(...this.films.map((film, at) => this.#renderItem(film, this.films.length - at)));
  }

  /**
   * The list item of film number `n` (counted from the oldest), updated in place.
   * @param {Film} film
   * @param {number} n
   */
  #renderItem(film, n) {
    let item = this.items.get(film.id);
    if (!item) {
      item = h("li", { class: "film", dataset: { filmId: film.id } },
        h("h4", {}, `Film ${n}`), h("p", { class: "film-status", "aria-live": "polite" }),
        h("progress", { max: "100", "aria-label": `Film ${n} progress` }), h("div", { class: "film-media" }),
        h("p", { class: "film-craft-line hint" }));
      this.items.set(film.id, item);
    }
    const number = new Map(this.saver.doc.scenes.map((s, i) => [s.id, i + 1]));
    const scenes = film.scenesOrder.map((id) => (number.has(id) ? number.get(id) : "a removed scene")).join(", ");
    const parts = [FILM_WORDS[film.status] ?? film.status];
    if (ACTIVE.has(film.status)) parts[0] += ` ${film.progress}%`;
    if (film.status === "completed" && film.durationSeconds) parts.push(`${Number(film.durationSeconds).toFixed(1)} s`);
    if (film.status === "failed" && film.error) parts.push(film.error);
    parts.push(`scenes ${scenes}`);
    /** @type {HTMLElement} */ (item.querySelector(".film-status")).textContent = parts.join(" · ");
    const progress = /** @type {HTMLProgressElement} */ (item.querySelector("progress"));
    progress.hidden = !ACTIVE.has(film.status);
    progress.value = film.progress ?? 0;
    if (film.status === "completed" && film.finalVideoUrl) this.#media(item, film, n);
    this.#craftLine(item, film);
    return item;
  }

  /**
   * Under the player: the film's transition and music ("Cut · No music").
   * @param {HTMLLIElement} item
   * @param {Film} film
   */
  #craftLine(item, film) {
    const line = /** @type {HTMLElement} */ (item.querySelector(".film-craft-line"));
    if (!film.transition && film.music === undefined) { // just asked for: the first poll tells
      line.textContent = "";
      return;
    }
    const label = film.music ? this.references()?.find((r) => r.id === film.music?.referenceId)?.label ?? null : null;
    line.textContent = `${transitionLabel(film.transition)} between shots · ${musicLabel(film.music, label)}`;
  }

  /**
   * @param {HTMLLIElement} item
   * @param {Film} film a completed one, with its video
   * @param {number} n
   */
  #media(item, film, n) {
    const slot = /** @type {HTMLElement} */ (item.querySelector(".film-media"));
    if (slot.querySelector("video")) return;
    // Its captions: the WebVTT is on the bucket's origin, and a <track> from another origin
    // loads only for a video fetched with CORS (the bucket allows GET from any origin). Films
    // made here are captioned in the API's default language, English.
    const track = film.captionsUrl
      ? h("track", { kind: "captions", srclang: "en", label: "Captions", src: film.captionsUrl, default: true })
      : null;
    const video = h("video", {
      controls: true, preload: "metadata", playsinline: true, crossorigin: track ? "anonymous" : null,
      src: film.finalVideoUrl, "aria-label": `Film ${n}`,
    }, track);
    // Presigned URLs expire: on a load error, fetch fresh ones once.
    video.addEventListener("error", () => {
      this.api.film(film.id).then((fresh) => {
        if (track && fresh.captionsUrl) track.src = fresh.captionsUrl;
        if (fresh.finalVideoUrl && fresh.finalVideoUrl !== video.src) video.src = fresh.finalVideoUrl;
      }).catch(() => {});
    }, { once: true });
    replace(slot,
      video,
      h("p", {}, h("a", { href: film.finalVideoUrl, download: `film-${n}.mp4`, class: "download" },
        `Download film ${n}`, h("span", { class: "hint" }, ` (MP4${film.fileSizeBytes ? `, ${megabytes(film.fileSizeBytes)}` : ""})`))));
  }
}
