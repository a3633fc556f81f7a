// @ts-check
// The board: each scene a card in a responsive grid (its number, its clip or a placeholder, the
// status badge, the prompt edited in place, its duration (one the chosen model offers) and
// model, its images (scene-images.js), its actions); add, remove, reorder (drag and drop or the
// keyboard, reorder.js; and the move buttons), with names that follow the order ("Scene 2
// prompt").

import { moved } from "../board.js";
import { newScene } from "../document.js";
import { announce, confirmDialog, h, newId, replace } from "../dom.js";
import { idsOf } from "../references.js";
import { fillCaption, showRefusals } from "./caption.js";
import { BoardReorder } from "./reorder.js";
import { sceneImages, sceneImagesWithoutReferences } from "./scene-images.js";

/** @typedef {import("../document.js").Doc} Doc */
/** @typedef {import("../document.js").Scene} Scene */
/** @typedef {import("./generate.js").DurationChoices} DurationChoices */
/**
 * What a scene's images are chosen from: the ready references (null until loaded) and the
 * model chosen for generation (null without the catalog).
 * @typedef {{references: import("../references.js").Reference[] | null, model: import("../references.js").ModelInputs | null}} ImageSources
 */

/**
 * The options of a scene's duration select, and why its current value is refused (or null).
 * @param {DurationChoices | null} choices
 * @param {number | undefined} current
 */
function durationOptions(choices, current) {
  const options = [["", choices ? `Default (${choices.defaultSeconds} s)` : "Default"]];
  for (const seconds of choices?.allowed ?? []) options.push([String(seconds), `${seconds} s`]);
  const offered = !current || !choices || choices.allowed.includes(current);
  if (current && !options.some(([value]) => value === String(current))) {
    options.push([String(current), offered ? `${current} s` : `${current} s (not offered)`]);
  }
  // Not offered: then choices are known (`?.` only for the type check).
  const problem = offered ? null : `${current} s is not offered by ${choices?.model} at ${choices?.size}: choose another length.`;
  return { options, problem };
}

export class ScenesEditor {
  /** `clipFor(sceneId)` gives the scene's clip view (kept across re-renders); `durations()`
   * what lengths the chosen model offers ({defaultSeconds, allowed, model, size} or null);
   * `images()` what the scenes' images are chosen from.
   * @param {object} options
   * @param {import("../autosave.js").Autosaver} options.saver
   * @param {(sceneId: string) => import("./clip.js").SceneClip} options.clipFor
   * @param {(sceneId: string) => void} options.forgetClip
   * @param {() => DurationChoices | null} options.durations
   * @param {() => ImageSources} options.images
   * @param {() => void} [options.onChange]
   */
  constructor({ saver, clipFor, forgetClip, durations, images, onChange = () => {} }) {
    this.saver = saver;
    this.clipFor = clipFor;
    this.forgetClip = forgetClip;
    this.durations = durations;
    this.images = images;
    this.onChange = onChange;
    this.list = h("ol", { class: "board scenes" });
    this.reorder = new BoardReorder({
      list: this.list,
      order: () => this.scenes.map((s) => s.id),
      moveTo: (id, to, focus) => this.#moveTo(id, to, focus),
    });
    this.count = h("p", { class: "hint board-count" });
    const headingId = newId("scenes-title");
    this.root = h("section", { class: "scenes-section", "aria-labelledby": headingId },
      h("div", { class: "section-head" }, h("h2", { id: headingId }, "Scenes"), this.count),
      this.reorder.help,
      this.list,
      h("button", { type: "button", class: "add-scene", onclick: () => this.add() }, "Add scene"));
  }

  get scenes() {
    return this.saver.doc.scenes;
  }

  /**
   * Rebuild the cards from the current version; then focus `focus` (a selector) if given.
   * @param {string | null} [focus]
   */
  render(focus = null) {
    this.list.replaceChildren(...this.scenes.map((scene, index) => this.#card(scene, index)));
    const n = this.scenes.length;
    this.count.textContent = `${n === 1 ? "1 shot" : `${n} shots`} · drag a card by its handle to reorder`;
    if (focus) /** @type {HTMLElement | null} */ (this.root.querySelector(focus))?.focus();
    this.showRefusals();
    this.onChange();
  }

  /** Each card says whether the last save was refused for its caption. */
  showRefusals() {
    const problems = this.saver.state === "invalid" ? this.saver.problems : [];
    showRefusals(this.list.querySelectorAll("[data-caption-slot]"), problems);
  }

  /** Only the scenes' image choices again (the references or the character's changed): the
   * prompts being typed into are left alone. */
  renderImages() {
    for (const card of /** @type {HTMLElement[]} */ ([...this.list.children])) {
      const index = this.scenes.findIndex((s) => s.id === card.dataset.sceneId);
      const slot = card.querySelector(".scene-images-slot");
      if (index >= 0 && slot) this.#fillImages(slot, this.scenes[index], index);
    }
  }

  /**
   * @param {Element} slot
   * @param {Scene} scene
   * @param {number} index
   */
  #fillImages(slot, scene, index) {
    const { references, model } = this.images();
    const focused = /** @type {HTMLElement | null} */ (slot.contains(document.activeElement) ? document.activeElement : null);
    if (!references) {
      replace(slot, h("p", { class: "hint" }, "Reference images not loaded yet."));
      return;
    }
    const chosen = ["referenceIds", "firstFrame", "lastFrame", "continueFrom"].some((key) => key in scene);
    const choices = this.durations();
    const options = {
      scene, index, references, model,
      characterIds: idsOf(this.saver.doc.character),
      seconds: scene.durationSeconds ?? choices?.defaultSeconds ?? null,
      edit: (/** @type {(scene: Scene) => void} */ change) => {
        this.saver.edit((doc) => change(this.#scene(doc, scene.id)));
        const now = this.scenes.findIndex((s) => s.id === scene.id);
        this.#fillImages(slot, this.scenes[now], now);
      },
    };
    // Nothing to choose from: one line keeps the card short (continuing needs no image).
    replace(slot, !references.length && !chosen ? sceneImagesWithoutReferences(options) : sceneImages(options));
    const key = focused?.dataset.focusKey;
    if (key) /** @type {HTMLElement | null} */ (slot.querySelector(`[data-focus-key="${key}"]`))?.focus();
  }

  add() {
    const scene = newScene();
    this.saver.edit((doc) => doc.scenes.push(scene));
    this.render(`[data-scene-id="${scene.id}"] textarea`);
    announce(`Scene ${this.scenes.length} added`);
  }

  /** @param {string} id */
  async remove(id) {
    const index = this.scenes.findIndex((s) => s.id === id);
    const scene = this.scenes[index];
    if (scene.prompt?.trim()) {
      const sure = await confirmDialog({
        title: `Remove scene ${index + 1}?`,
        message: `Its prompt "${scene.prompt.slice(0, 120)}" goes with it.`,
        confirmLabel: "Remove scene",
      });
      if (!sure) return;
    }
    this.saver.edit((doc) => doc.scenes.splice(doc.scenes.findIndex((s) => s.id === id), 1));
    this.forgetClip(id);
    const next = this.scenes[Math.min(index, this.scenes.length - 1)];
    this.render(next ? `[data-scene-id="${next.id}"] textarea` : ".add-scene");
    announce(`Scene ${index + 1} removed`);
  }

  /**
   * @param {string} id
   * @param {number} delta -1 up, 1 down
   */
  move(id, delta) {
    const from = this.scenes.findIndex((s) => s.id === id);
    const to = from + delta;
    if (to < 0 || to >= this.scenes.length) return;
    // Focus stays on the moved scene's button, or its other one at either end.
    const direction = delta < 0 ? "up" : "down";
    const atEnd = to === 0 || to === this.scenes.length - 1;
    const other = direction === "up" ? "down" : "up";
    this.#moveTo(id, to, `[data-scene-id="${id}"] [data-action="${atEnd ? other : direction}"]`);
    announce(`Scene moved to position ${to + 1} of ${this.scenes.length}`);
  }

  /**
   * Scene `id` to place `to`: an edit like any other (auto-saved); the board follows.
   * @param {string} id
   * @param {number} to
   * @param {string} focus a selector of what gets focus after
   */
  #moveTo(id, to, focus) {
    this.saver.edit((doc) => {
      doc.scenes = moved(doc.scenes, doc.scenes.findIndex((s) => s.id === id), to);
    });
    this.render(focus);
  }

  /**
   * @param {Scene} scene
   * @param {number} index
   */
  #card(scene, index) {
    const n = index + 1;
    const promptId = newId("scene-prompt");
    const durationId = newId("scene-duration");
    const durationError = h("p", { class: "field-error", id: newId("duration-error"), hidden: true });
    const prompt = h("textarea", {
      id: promptId,
      rows: "3",
      value: scene.prompt ?? "",
      oninput: (event) => this.saver.edit((doc) => {
        this.#scene(doc, scene.id).prompt = /** @type {HTMLTextAreaElement} */ (event.target).value;
      }),
    });
    const { options, problem } = durationOptions(this.durations(), scene.durationSeconds);
    durationError.hidden = !problem;
    durationError.textContent = problem ?? "";
    const duration = h("select", {
      id: durationId,
      "aria-describedby": durationError.id,
      "aria-invalid": String(Boolean(problem)),
      onchange: (event) => this.#setDuration(scene.id, /** @type {HTMLSelectElement} */ (event.target).value),
    }, options.map(([value, label]) => h("option", { value }, label)));
    duration.value = scene.durationSeconds ? String(scene.durationSeconds) : "";
    /** @type {(action: string, label: string, onclick: () => void, disabled: boolean) => HTMLButtonElement} */
    const tool = (action, label, onclick, disabled) => h("button", {
      type: "button", class: "secondary small", dataset: { action }, onclick, disabled,
    }, label, h("span", { class: "visually-hidden" }, ` scene ${n}`));
    const images = h("div", { class: "scene-images-slot" });
    this.#fillImages(images, scene, index);
    const clip = this.clipFor(scene.id);
    clip.setIndex(index);
    const held = this.reorder.held?.id === scene.id;
    return h("li", { class: held ? "scene held" : "scene", dataset: { sceneId: scene.id } },
      h("div", { class: "card-head" }, this.reorder.handle(scene.id, n), h("h3", {}, `Scene ${n}`), clip.status),
      clip.media,
      clip.progress,
      clip.staleMark,
      h("div", { class: "field prompt" }, h("label", { for: promptId }, `Scene ${n} prompt`), prompt),
      h("div", { class: "card-meta" },
        h("div", { class: "duration" },
          h("label", { for: durationId }, `Scene ${n} duration (seconds)`),
          duration,
          durationError),
        clip.modelLine),
      this.#caption(scene, index),
      images,
      clip.problem,
      h("div", { class: "card-actions" },
        clip.actions,
        h("div", { class: "scene-tools" },
          tool("up", "Move up", () => this.move(scene.id, -1), index === 0),
          tool("down", "Move down", () => this.move(scene.id, 1), index === this.scenes.length - 1),
          tool("remove", "Remove", () => this.remove(scene.id), false))));
  }

  /**
   * The scene's caption and its timing (caption.js), saved like any edit.
   * @param {Scene} scene
   * @param {number} index
   */
  #caption(scene, index) {
    const slot = h("div", { class: "caption-slot", dataset: { captionSlot: scene.id } });
    fillCaption(slot, {
      scene, index,
      seconds: scene.durationSeconds ?? this.durations()?.defaultSeconds ?? null,
      edit: (change) => this.saver.edit((doc) => change(this.#scene(doc, scene.id))),
    });
    return slot;
  }

  /**
   * @param {string} id
   * @param {string} value "" for the default
   */
  #setDuration(id, value) {
    this.saver.edit((doc) => {
      const scene = this.#scene(doc, id);
      if (value === "") delete scene.durationSeconds;
      else scene.durationSeconds = Number(value);
    });
    this.render(`[data-scene-id="${id}"] select`);
  }

  /**
   * @param {Doc} doc
   * @param {string} id a scene it has
   */
  #scene(doc, id) {
    return /** @type {Scene} */ (doc.scenes.find((s) => s.id === id));
  }
}
