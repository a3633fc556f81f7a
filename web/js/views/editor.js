// @ts-check
// The storyboard editor: name, preset and the character (with its reference images) at the
// top, beside the clip settings and spend; the board of scenes; the film timeline and films.
// The save state at all times; the conflict panel; clips followed live with one storyboard
// poll. Saving itself is autosave.js's job. The first screen's render is measured
// ("storyboard:first-screen": from the data's arrival to the page built and laid out).

import { Autosaver } from "../autosave.js";
import { PRESETS } from "../catalog.js";
import { editable, same } from "../document.js";
import { announce, focusHeading, h, newId, replace } from "../dom.js";
import { errorBox } from "../errors.js";
import { inFlight, Poller, sceneClips } from "../generation.js";
import { SceneClip } from "./clip.js";
import { conflictPanel, gonePanel } from "./conflict.js";
import { FilmsPanel } from "./film.js";
import { GenerationPanel } from "./generate.js";
import { ReferencesPanel } from "./references.js";
import { ScenesEditor } from "./scenes.js";
import { SpendPanel } from "./spend.js";

/** @typedef {import("../main.js").Ctx} Ctx */
/** @typedef {import("../api.js").StoryboardWithJobs} StoryboardWithJobs */
/** @typedef {import("../catalog.js").Catalog} Catalog */
/** @typedef {{key: string, label: string, multiline: boolean}} CharacterField */

export const DATA_MARK = "storyboard:data";
export const FIRST_SCREEN = "storyboard:first-screen";

/** @type {CharacterField[]} */
const CHARACTER_FIELDS = [
  { key: "name", label: "Character name", multiline: false },
  { key: "description", label: "Character description", multiline: true },
  { key: "appearance", label: "Character appearance", multiline: true },
];

/**
 * The saver of a storyboard: the one still running in this tab, or a new one (with this
 * tab's draft, if it kept one). One saver per storyboard, so never two PATCHes in flight.
 * @param {Ctx} ctx
 * @param {StoryboardWithJobs} storyboard
 */
function saverFor(ctx, storyboard) {
  const running = ctx.savers.get(storyboard.id);
  const stale = running && !running.unsaved && running.state === "saved" && running.base.version !== storyboard.version;
  if (running && !stale) return running;
  running?.stop();
  const saver = new Autosaver({ api: ctx.api, storyboard, drafts: ctx.drafts });
  const draft = ctx.drafts.load(storyboard.id);
  if (draft && !same(draft.doc, editable(storyboard))) saver.restore(draft);
  else ctx.drafts.clear(storyboard.id);
  ctx.savers.set(storyboard.id, saver);
  return saver;
}

/**
 * Render the editor of storyboard `id` into ctx.main; returns the view's cleanup.
 * @param {Ctx} ctx
 * @param {string} id
 * @param {{focusName?: boolean}} [state] focus the name (a new storyboard)
 * @returns {Promise<import("../main.js").Leave>}
 */
export async function editorView(ctx, id, { focusName = false } = {}) {
  replace(ctx.main, h("p", { class: "loading" }, "Loading storyboard…"));
  const renderId = ctx.renderId;
  /** @type {StoryboardWithJobs} */
  let storyboard;
  /** @type {Catalog | {error: unknown}} */
  let catalog;
  try {
    // Without the catalog the storyboard can still be edited; only generating waits for it.
    [storyboard, catalog] = await Promise.all([
      ctx.api.getStoryboard(id),
      ctx.catalog().catch((error) => ({ error })),
    ]);
    if (ctx.renderId !== renderId) return () => {}; // the user moved on meanwhile
    performance.mark(DATA_MARK);
  } catch (error) {
    if (ctx.renderId !== renderId) return () => {};
    replace(ctx.main,
      h("h1", {}, "Storyboard not available"),
      errorBox(error),
      h("p", {}, h("a", { href: "/", "data-route": "" }, "Back to my storyboards")));
    focusHeading(ctx.main);
    return () => {};
  }
  const view = new EditorView(ctx, saverFor(ctx, storyboard), storyboard, catalog);
  if (focusName) {
    view.nameInput.focus();
    view.nameInput.select();
  } else {
    focusHeading(ctx.main);
  }
  ctx.main.getBoundingClientRect(); // style and layout now, so the measure holds them
  performance.measure(FIRST_SCREEN, DATA_MARK);
  return () => view.leave();
}

class EditorView {
  /**
   * @param {Ctx} ctx
   * @param {import("../autosave.js").Autosaver} saver
   * @param {StoryboardWithJobs} storyboard
   * @param {Catalog | {error: unknown}} catalog or why it could not be loaded
   */
  constructor(ctx, saver, storyboard, catalog) {
    this.ctx = ctx;
    this.saver = saver;
    this.id = storyboard.id;
    /** @type {Map<string, SceneClip>} */
    this.clips = new Map();
    this.status = h("p", { role: "status", class: "save-status" });
    this.conflict = h("div", { class: "conflict-slot" });
    this.problems = h("div", { class: "problems" });
    this.spend = new SpendPanel(ctx.api);
    this.generation = new GenerationPanel({
      api: ctx.api,
      catalog: "error" in catalog ? null : catalog,
      catalogError: "error" in catalog ? catalog.error : undefined,
      saver,
      storyboardId: this.id,
      clips: () => this.#jobs(),
      onChange: () => this.#jobsChanged(),
      onSettings: () => this.scenes.render(),
    });
    this.films = new FilmsPanel({
      api: ctx.api, saver, storyboardId: this.id,
      seconds: (scene) => scene.durationSeconds ?? this.generation.durationChoices()?.defaultSeconds ?? null,
      thumbnail: (sceneId) => this.clips.get(sceneId)?.job?.thumbnailUrl ?? null,
      references: () => this.references?.references ?? null, // made just below
      onMusicUploaded: (reference) => this.references.include(reference),
    });
    this.references = new ReferencesPanel({
      api: ctx.api, saver, storyboardId: this.id,
      onChange: () => { this.scenes.renderImages(); this.films.referencesChanged(); },
    });
    this.scenes = new ScenesEditor({
      saver,
      clipFor: (sceneId) => this.#clip(sceneId),
      forgetClip: (sceneId) => this.clips.delete(sceneId),
      durations: () => this.generation.durationChoices(),
      images: () => ({ references: this.references.ready, model: this.generation.modelInputs() }),
      onChange: () => this.films.scenesChanged(),
    });
    // Every clip's status from one call: the storyboard, polled while a job is in flight.
    this.watcher = new Poller({
      fetchOnce: (signal) => ctx.api.getStoryboard(this.id, signal),
      active: (board) => [...sceneClips(board).values()].some(inFlight),
      onResult: (board) => this.#showJobs(board),
      onTrouble: () => { for (const clip of this.clips.values()) clip.trouble(); },
    });
    const nameId = newId("name");
    this.nameError = h("p", { class: "field-error", id: newId("name-error"), hidden: true });
    this.nameInput = h("input", {
      id: nameId, type: "text", maxlength: "200", autocomplete: "off", "aria-describedby": this.nameError.id,
      oninput: (e) => saver.edit((doc) => { doc.name = /** @type {HTMLInputElement} */ (e.target).value; }),
    });
    const presetId = newId("preset");
    this.preset = h("select", {
      id: presetId,
      onchange: (e) => saver.edit((doc) => { doc.presetKey = /** @type {HTMLSelectElement} */ (e.target).value; }),
    });
    this.character = CHARACTER_FIELDS.map((field) => ({ ...field, input: this.#characterInput(field) }));

    replace(ctx.main,
      h("p", { class: "back" }, h("a", { href: "/", "data-route": "" }, "← My storyboards")),
      h("div", { class: "editor-head" }, h("h1", {}, "Edit storyboard"), this.status),
      this.conflict,
      this.problems,
      h("form", { class: "editor", novalidate: true, onsubmit: (e) => { e.preventDefault(); saver.save(); } },
        h("div", { class: "editor-top" },
          h("div", { class: "setup" },
            h("div", { class: "panel details" },
              h("div", { class: "field" }, h("label", { for: nameId }, "Storyboard name"), this.nameInput, this.nameError),
              h("div", { class: "field" }, h("label", { for: presetId }, "Preset"), this.preset)),
            h("div", { class: "generate-and-spend" }, this.generation.root, this.spend.root)),
          h("fieldset", { class: "panel character" }, h("legend", {}, "Character"),
            h("div", { class: "character-fields" },
              this.character.map((f) => h("div", { class: "field" }, h("label", { for: f.input.id }, f.label), f.input))),
            this.references.root)),
        this.scenes.root),
      this.films.root);

    this.listeners = {
      state: () => this.#showState(),
      conflict: () => this.#showConflict(),
      change: () => { if (saver.state === "conflict" && saver.theirs) this.#showConflict(false); },
      replaced: () => { this.#fill(); focusHeading(ctx.main); },
      saved: () => { this.watcher.kick(); this.films.scenesChanged(); }, // stale marks follow the saved text
    };
    for (const [name, fn] of Object.entries(this.listeners)) saver.addEventListener(name, fn);
    this.onOnline = () => saver.retryNow();
    window.addEventListener("online", this.onOnline);
    this.#fill();
    this.#showState();
    if (saver.state === "conflict" && saver.theirs) this.#showConflict(false);
    this.#showJobs(storyboard);
    this.watcher.follow(storyboard);
    this.spend.refresh();
    this.films.load();
    this.references.load();
  }

  /** Leaving the view: save what is pending (the saver lives on until it is clean). */
  leave() {
    for (const [name, fn] of Object.entries(this.listeners)) this.saver.removeEventListener(name, fn);
    window.removeEventListener("online", this.onOnline);
    this.watcher.stop();
    this.films.stop();
    this.references.stop();
    const { savers } = this.ctx;
    this.saver.save().finally(() => {
      if (!this.saver.unsaved && this.saver.state === "saved" && savers.get(this.id) === this.saver) {
        this.saver.stop();
        savers.delete(this.id);
      }
    });
  }

  /** Jobs were queued or cancelled here: follow them, and show the spend they reserve. */
  #jobsChanged() {
    this.watcher.kick();
    this.spend.refresh();
  }

  /**
   * Each scene's newest job from a storyboard answer; a job that just finished moves the spend.
   * @param {StoryboardWithJobs} board
   */
  #showJobs(board) {
    let finished = false;
    let thumbnails = false;
    for (const [sceneId, job] of sceneClips(board)) {
      if (!this.saver.doc.scenes.some((s) => s.id === sceneId)) continue;
      const clip = this.#clip(sceneId);
      finished ||= inFlight(clip.job) && !inFlight(job);
      const before = clip.job?.thumbnailUrl;
      clip.show(job);
      thumbnails ||= clip.job?.thumbnailUrl !== before;
    }
    if (thumbnails) this.films.scenesChanged(); // the timeline shows them
    if (finished) this.spend.refresh();
  }

  /**
   * sceneId -> the newest job each scene's clip shows (from the poll or a generate answer).
   * @returns {Map<string, import("../generation.js").Job>}
   */
  #jobs() {
    const shown = [...this.clips].filter(([, clip]) => clip.job);
    return new Map(shown.map(([sceneId, clip]) => [sceneId, /** @type {import("../generation.js").Job} */ (clip.job)]));
  }

  /** @param {CharacterField} field */
  #characterInput(field) {
    const attrs = {
      id: newId(`character-${field.key}`),
      oninput: (/** @type {Event} */ e) => this.saver.edit((doc) => {
        const { value } = /** @type {HTMLInputElement | HTMLTextAreaElement} */ (e.target);
        if (value) doc.character[field.key] = value;
        else delete doc.character[field.key];
      }),
    };
    return field.multiline ? h("textarea", { ...attrs, rows: "2" }) : h("input", { ...attrs, type: "text" });
  }

  /** Put the current version into every field (on open, and after a conflict is resolved). */
  #fill() {
    const doc = this.saver.doc;
    this.nameInput.value = doc.name;
    const presets = PRESETS.some((p) => p.key === doc.presetKey)
      ? PRESETS
      : [...PRESETS, { key: doc.presetKey, label: doc.presetKey }];
    this.preset.replaceChildren(...presets.map((p) => h("option", { value: p.key }, p.label)));
    this.preset.value = doc.presetKey;
    for (const field of this.character) field.input.value = String(doc.character[field.key] ?? "");
    this.references.fill();
    this.scenes.render();
  }

  #showState() {
    const saver = this.saver;
    this.status.textContent = saver.statusText;
    this.status.dataset.state = saver.state;
    const nameProblem = saver.state === "invalid" ? saver.problems.find((p) => p.field === "name") : null;
    this.nameError.hidden = !nameProblem;
    this.nameError.textContent = nameProblem?.message ?? "";
    this.nameInput.setAttribute("aria-invalid", String(Boolean(nameProblem)));
    const others = saver.state === "invalid" ? saver.problems.filter((p) => p.field !== "name") : [];
    replace(this.problems, others.length ? errorBox({ message: "These changes cannot be saved yet:" }) : null);
    if (others.length) /** @type {Element} */ (this.problems.firstChild).append(h("ul", {}, others.map((p) => h("li", {}, p.message))));
    this.scenes.showRefusals(); // a caption the server refused, in its card
    if (saver.state === "gone") this.#showGone();
    else if (saver.state !== "conflict") replace(this.conflict);
  }

  /** @param {boolean} [moveFocus] */
  #showConflict(moveFocus = true) {
    replace(this.conflict, conflictPanel(this.saver, {
      onKeepMine: () => { this.saver.keepMine(); announce("Your version is being saved on top of the server's"); },
      onTakeTheirs: () => { this.saver.takeTheirs(); announce("The server's version is shown"); },
    }));
    if (moveFocus) /** @type {HTMLElement} */ (this.conflict.querySelector("h2")).focus();
  }

  #showGone() {
    replace(this.conflict, gonePanel({
      onSaveCopy: async () => {
        const copy = await this.ctx.api.createStoryboard(this.saver.doc);
        this.ctx.forget(this.id);
        this.ctx.navigate(`/storyboards/${copy.id}`);
      },
    }));
  }

  /** @param {string} sceneId */
  #clip(sceneId) {
    let clip = this.clips.get(sceneId);
    if (!clip) {
      clip = new SceneClip({
        api: this.ctx.api,
        prepare: () => this.generation.prepareScene(sceneId),
        onChange: () => this.#jobsChanged(),
        model: () => (this.generation.catalog ? this.generation.settings.model : null),
      });
      this.clips.set(sceneId, clip);
    }
    return clip;
  }
}
