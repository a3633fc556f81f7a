// The storyboard editor: name, preset, character, scenes; the save state at all times; the
// conflict panel; generating a scene's clip. Saving itself is autosave.js's job.

import { Autosaver } from "../autosave.js";
import { PRESETS, PROVIDERS } from "../catalog.js";
import { editable, same } from "../document.js";
import { announce, focusHeading, h, newId, replace } from "../dom.js";
import { errorBox } from "../errors.js";
import { newestJobs } from "../generation.js";
import { SceneClip } from "./clip.js";
import { conflictPanel, gonePanel } from "./conflict.js";
import { ScenesEditor } from "./scenes.js";

const PROVIDER_KEY = "generate.provider";
const CHARACTER_FIELDS = [
  { key: "name", label: "Character name", multiline: false },
  { key: "description", label: "Character description", multiline: true },
  { key: "appearance", label: "Character appearance", multiline: true },
];

/** The saver of a storyboard: the one still running in this tab, or a new one (with this
 * tab's draft, if it kept one). One saver per storyboard, so never two PATCHes in flight. */
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

/** Render the editor of storyboard `id` into ctx.main; returns the view's cleanup. */
export async function editorView(ctx, id, { focusName = false } = {}) {
  replace(ctx.main, h("p", { class: "loading" }, "Loading storyboard…"));
  const renderId = ctx.renderId;
  let storyboard;
  try {
    storyboard = await ctx.api.getStoryboard(id);
    if (ctx.renderId !== renderId) return () => {}; // the user moved on meanwhile
  } catch (error) {
    if (ctx.renderId !== renderId) return () => {};
    replace(ctx.main,
      h("h1", {}, "Storyboard not available"),
      errorBox(error),
      h("p", {}, h("a", { href: "/", "data-route": "" }, "Back to my storyboards")));
    focusHeading(ctx.main);
    return () => {};
  }
  const view = new EditorView(ctx, saverFor(ctx, storyboard), storyboard);
  if (focusName) {
    view.nameInput.focus();
    view.nameInput.select();
  } else {
    focusHeading(ctx.main);
  }
  return () => view.leave();
}

class EditorView {
  constructor(ctx, saver, storyboard) {
    this.ctx = ctx;
    this.saver = saver;
    this.id = storyboard.id;
    this.clips = new Map();
    this.status = h("p", { role: "status", class: "save-status" });
    this.conflict = h("div", { class: "conflict-slot" });
    this.problems = h("div", { class: "problems" });
    this.scenes = new ScenesEditor({
      saver,
      clipFor: (sceneId) => this.#clip(sceneId),
      forgetClip: (sceneId) => { this.clips.get(sceneId)?.stop(); this.clips.delete(sceneId); },
    });
    const nameId = newId("name");
    this.nameError = h("p", { class: "field-error", id: newId("name-error"), hidden: true });
    this.nameInput = h("input", {
      id: nameId, type: "text", maxlength: "200", autocomplete: "off", "aria-describedby": this.nameError.id,
      oninput: (e) => saver.edit((doc) => { doc.name = e.target.value; }),
    });
    const presetId = newId("preset");
    this.preset = h("select", { id: presetId, onchange: (e) => saver.edit((doc) => { doc.presetKey = e.target.value; }) });
    this.character = CHARACTER_FIELDS.map((field) => ({ ...field, input: this.#characterInput(field) }));
    const providerId = newId("provider");
    this.provider = h("select", { id: providerId, onchange: (e) => localStorage.setItem(PROVIDER_KEY, e.target.value) },
      PROVIDERS.map((p) => h("option", { value: p.id }, p.label)));
    this.provider.value = localStorage.getItem(PROVIDER_KEY) || PROVIDERS[0].id;

    replace(ctx.main,
      h("p", { class: "back" }, h("a", { href: "/", "data-route": "" }, "← My storyboards")),
      h("div", { class: "editor-head" }, h("h1", {}, "Edit storyboard"), this.status),
      this.conflict,
      this.problems,
      h("form", { class: "editor", novalidate: true, onsubmit: (e) => { e.preventDefault(); saver.save(); } },
        h("div", { class: "field" }, h("label", { for: nameId }, "Storyboard name"), this.nameInput, this.nameError),
        h("div", { class: "field" }, h("label", { for: presetId }, "Preset"), this.preset),
        h("fieldset", { class: "character" }, h("legend", {}, "Character"),
          this.character.map((f) => h("div", { class: "field" }, h("label", { for: f.input.id }, f.label), f.input))),
        h("div", { class: "field generation-settings" },
          h("label", { for: providerId }, "Video provider"), this.provider,
          h("p", { class: "hint" }, "Used by the Generate buttons. ",
            h("a", { href: "/keys", "data-route": "" }, "Provider keys"), " must hold a key for it.")),
        this.scenes.root));

    this.listeners = {
      state: () => this.#showState(),
      conflict: () => this.#showConflict(),
      change: () => { if (saver.state === "conflict" && saver.theirs) this.#showConflict(false); },
      replaced: () => { this.#fill(); focusHeading(ctx.main); },
    };
    for (const [name, fn] of Object.entries(this.listeners)) saver.addEventListener(name, fn);
    this.onOnline = () => saver.retryNow();
    window.addEventListener("online", this.onOnline);
    this.#fill();
    this.#showState();
    if (saver.state === "conflict" && saver.theirs) this.#showConflict(false);
    for (const [sceneId, job] of newestJobs(storyboard.videoJobs)) {
      if (saver.doc.scenes.some((s) => s.id === sceneId)) this.#clip(sceneId).load(job);
    }
  }

  /** Leaving the view: save what is pending (the saver lives on until it is clean). */
  leave() {
    for (const [name, fn] of Object.entries(this.listeners)) this.saver.removeEventListener(name, fn);
    window.removeEventListener("online", this.onOnline);
    for (const clip of this.clips.values()) clip.stop();
    const { savers } = this.ctx;
    this.saver.save().finally(() => {
      if (!this.saver.unsaved && this.saver.state === "saved" && savers.get(this.id) === this.saver) {
        this.saver.stop();
        savers.delete(this.id);
      }
    });
  }

  #characterInput(field) {
    const attrs = {
      id: newId(`character-${field.key}`),
      oninput: (e) => this.saver.edit((doc) => {
        if (e.target.value) doc.character[field.key] = e.target.value;
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
    for (const field of this.character) field.input.value = doc.character[field.key] ?? "";
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
    if (others.length) this.problems.firstChild.append(h("ul", {}, others.map((p) => h("li", {}, p.message))));
    if (saver.state === "gone") this.#showGone();
    else if (saver.state !== "conflict") replace(this.conflict);
  }

  #showConflict(moveFocus = true) {
    replace(this.conflict, conflictPanel(this.saver, {
      onKeepMine: () => { this.saver.keepMine(); announce("Your version is being saved on top of the server's"); },
      onTakeTheirs: () => { this.saver.takeTheirs(); announce("The server's version is shown"); },
    }));
    if (moveFocus) this.conflict.querySelector("h2").focus();
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

  #clip(sceneId) {
    let clip = this.clips.get(sceneId);
    if (!clip) {
      clip = new SceneClip({ api: this.ctx.api, prepare: () => this.#requestFor(sceneId) });
      this.clips.set(sceneId, clip);
    }
    return clip;
  }

  /** What "Generate scene N" asks for, once the edits are saved (else throws why not). */
  async #requestFor(sceneId) {
    // The server composes the prompt from the saved scene: save pending edits first.
    if (!(await this.saver.saveAll())) throw new Error(`Not generated: ${this.saver.statusText}`);
    const scene = this.saver.doc.scenes.find((s) => s.id === sceneId);
    const request = { storyboardId: this.id, sceneId, provider: this.provider.value };
    if (scene?.durationSeconds) request.durationSeconds = scene.durationSeconds;
    return request;
  }
}
