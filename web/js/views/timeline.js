// @ts-check
// The film timeline: the shots in film order on a horizontal strip, each as wide as it is long,
// the film's total length, and between two shots their transition (the film panel's choice:
// "Cut" or "Crossfade 0.5 s"). The film follows the board's order unless changed here: each shot moves earlier or
// later and is left out or back in (buttons and checkboxes, so the keyboard works); "Use the
// scenes' order" goes back.

import { formatLength, timeline } from "../board.js";
import { announce, h, newId, replace } from "../dom.js";
import { filmLength, transitionLabel } from "../filmcraft.js";
import { sceneText } from "../generation.js";

/** @typedef {import("../document.js").Scene} Scene */
/** @typedef {import("../board.js").Entry} Entry */
/** @typedef {import("../board.js").Shot} Shot */
/**
 * What the timeline reads from the editor: the scenes in board order, a scene's length in
 * seconds (null when unknown), its clip's thumbnail (null without one) and the transition
 * chosen between shots.
 * @typedef {object} TimelineSources
 * @property {() => Scene[]} scenes
 * @property {(scene: Scene) => number | null} seconds
 * @property {(sceneId: string) => string | null} thumbnail
 * @property {() => import("../filmcraft.js").Transition} transition
 */

/** @param {string} text */
const hidden = (text) => h("span", { class: "visually-hidden" }, text);

/** @param {Scene} scene */
function excerpt(scene) {
  const text = sceneText(scene) ?? "(no prompt)";
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

export class FilmTimeline {
  /** @param {TimelineSources} sources */
  constructor(sources) {
    this.sources = sources;
    /** @type {Entry[] | null} */
    this.custom = null; // [{id, included}] once the user changed something, else the board's order
    this.strip = h("ol", { class: "timeline" });
    this.total = h("p", { class: "timeline-total" });
    this.reset = h("button", { type: "button", class: "secondary small", hidden: true, onclick: () => this.#reset() },
      "Use the scenes' order");
    const titleId = newId("timeline-title");
    this.root = h("fieldset", { class: "timeline-set", "aria-labelledby": titleId },
      h("legend", { id: titleId }, "Scenes in the film"),
      h("div", { class: "timeline-head" },
        this.total,
        h("p", { class: "hint" }, "In the board's order unless you change it here; each shot is as wide as it is long.")),
      h("div", { class: "timeline-scroll" }, this.strip),
      this.reset);
  }

  /**
   * [{id, included}] in film order: the custom order reconciled with the scenes as they are now.
   * @returns {Entry[]}
   */
  get entries() {
    const scenes = this.sources.scenes();
    if (!this.custom) return scenes.map((s) => ({ id: s.id, included: true }));
    const ids = new Set(scenes.map((s) => s.id));
    const kept = this.custom.filter((e) => ids.has(e.id));
    const placed = new Set(kept.map((e) => e.id));
    return [...kept, ...scenes.filter((s) => !placed.has(s.id)).map((s) => ({ id: s.id, included: true }))];
  }

  /** The scene ids the film is made of, in order. */
  get scenesOrder() {
    return this.entries.filter((e) => e.included).map((e) => e.id);
  }

  /** @param {string | null} [focus] a selector of what gets focus after */
  render(focus = null) {
    const scenes = this.sources.scenes();
    const byId = new Map(scenes.map((s) => [s.id, s]));
    const line = timeline(this.entries, scenes.map((s) => s.id),
      (id) => this.sources.seconds(/** @type {Scene} */ (byId.get(id))));
    const unknown = line.unknown ? ` (${line.unknown === 1 ? "1 shot" : `${line.unknown} shots`} of unknown length not counted)` : "";
    replace(this.total,
      h("strong", {}, filmLength(line.totalSeconds, line.count, this.sources.transition())),
      ` · ${line.count === 1 ? "1 shot" : `${line.count} shots`} in the film${unknown}`);
    // Entries are reconciled with the scenes: each one has its scene.
    this.strip.replaceChildren(...line.shots.map((shot, at) =>
      this.#shot(shot, at, line.shots.length, /** @type {Scene} */ (byId.get(shot.id)))));
    this.reset.hidden = !this.custom;
    if (focus) /** @type {HTMLElement | null} */ (this.strip.querySelector(focus))?.focus();
  }

  /**
   * A shot: its transition from the shot before (when both are in the film), its thumbnail,
   * number and length, the include checkbox and the move buttons.
   * @param {Shot} shot
   * @param {number} at its place on the timeline
   * @param {number} count how many shots
   * @param {Scene} scene
   */
  #shot(shot, at, count, scene) {
    const { n } = shot;
    const checkId = newId("film-include");
    /** @type {(action: string, symbol: string, label: string, delta: number, disabled: boolean) => HTMLButtonElement} */
    const button = (action, symbol, label, delta, disabled) => h("button", {
      type: "button", class: "secondary small icon", dataset: { action }, disabled, title: label,
      onclick: () => this.#move(shot.id, delta),
    }, h("span", { "aria-hidden": "true" }, symbol), hidden(`${label} scene ${n}`));
    const thumbnail = this.sources.thumbnail(shot.id);
    const transition = this.sources.transition();
    const item = h("li", { class: shot.included ? "shot" : "shot left-out", dataset: { filmSceneId: shot.id } },
      // The transition between this shot and the one before it in the film (chosen in the film panel).
      shot.after ? h("div", { class: "transition", dataset: { transition: transition.type, from: shot.after, to: shot.id } }, transitionLabel(transition)) : null,
      h("div", { class: "shot-body" },
        h("div", { class: "shot-frame" },
          thumbnail ? h("img", { src: thumbnail, alt: "", loading: "lazy", decoding: "async" }) : null,
          h("span", { class: "shot-number", "aria-hidden": "true" }, String(n))),
        h("p", { class: "shot-length" }, `Scene ${n} · `, shot.seconds === null ? "length unknown" : formatLength(shot.seconds)),
        h("p", { class: "shot-excerpt", title: excerpt(scene) }, excerpt(scene)),
        h("div", { class: "shot-tools" },
          h("span", { class: "check" },
            h("input", {
              type: "checkbox", id: checkId, checked: shot.included,
              onchange: (e) => this.#include(shot.id, /** @type {HTMLInputElement} */ (e.target).checked, n),
            }),
            h("label", { for: checkId }, "Include", hidden(` scene ${n}`))),
          button("earlier", "‹", "Move earlier", -1, at === 0),
          button("later", "›", "Move later", 1, at === count - 1))));
    // The width follows the length (CSSOM: the CSP allows no style attributes).
    item.style.setProperty("--seconds", String(shot.width));
    return item;
  }

  /** @param {(entries: Entry[]) => void} mutate */
  #edit(mutate) {
    const entries = this.entries;
    mutate(entries);
    this.custom = entries;
  }

  /**
   * @param {string} id
   * @param {boolean} included
   * @param {number} n the scene's number
   */
  #include(id, included, n) {
    this.#edit((entries) => { /** @type {Entry} */ (entries.find((e) => e.id === id)).included = included; });
    this.render(`[data-film-scene-id="${id}"] input`);
    announce(`Scene ${n} ${included ? "included in" : "left out of"} the film`);
  }

  /**
   * @param {string} id
   * @param {number} delta -1 earlier, 1 later
   */
  #move(id, delta) {
    let to = 0;
    let count = 0;
    this.#edit((entries) => {
      const from = entries.findIndex((e) => e.id === id);
      to = Math.max(0, Math.min(entries.length - 1, from + delta));
      count = entries.length;
      entries.splice(to, 0, ...entries.splice(from, 1));
    });
    const direction = delta < 0 ? "earlier" : "later";
    const atEnd = to === 0 || to === count - 1;
    this.render(`[data-film-scene-id="${id}"] [data-action="${atEnd ? (direction === "earlier" ? "later" : "earlier") : direction}"]`);
    announce(`Moved to position ${to + 1} of ${count} in the film`);
  }

  #reset() {
    this.custom = null;
    this.render();
    announce("The film follows the storyboard's order");
    this.strip.querySelector("input")?.focus();
  }
}
