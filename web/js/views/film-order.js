// @ts-check
// The order of the scenes in the film: the storyboard's own order by default; the user can
// move scenes earlier or later and leave scenes out (buttons and checkboxes, so the keyboard
// works), and go back to the storyboard's order.

import { announce, h, newId } from "../dom.js";
import { sceneText } from "../generation.js";

/** @typedef {import("../document.js").Scene} Scene */
/** A scene's place in the film: in it or left out. @typedef {{id: string, included: boolean}} Entry */

/** @param {Scene} scene */
function excerpt(scene) {
  const text = sceneText(scene) ?? "(no prompt)";
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

export class FilmOrder {
  /**
   * `scenes()` gives the storyboard's scenes in their current order.
   * @param {() => Scene[]} scenes
   */
  constructor(scenes) {
    this.scenes = scenes;
    /** @type {Entry[] | null} */
    this.custom = null; // [{id, included}] once the user changed something, else the scenes' order
    this.list = h("ol", { class: "film-order" });
    this.reset = h("button", { type: "button", class: "secondary small", hidden: true, onclick: () => this.#reset() },
      "Use the scenes' order");
    const titleId = newId("film-order-title");
    this.root = h("fieldset", { class: "film-order-set", "aria-labelledby": titleId },
      h("legend", { id: titleId }, "Scenes in the film"),
      h("p", { class: "hint" }, "In the storyboard's order unless you change it here."),
      this.list, this.reset);
  }

  /**
   * [{id, included}] in film order: the custom order reconciled with the scenes as they are now.
   * @returns {Entry[]}
   */
  get entries() {
    const scenes = this.scenes();
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
    const scenes = this.scenes();
    const number = new Map(scenes.map((s, i) => [s.id, i + 1]));
    const byId = new Map(scenes.map((s) => [s.id, s]));
    const entries = this.entries;
    // Entries are reconciled with the scenes: each one has its number and scene.
    this.list.replaceChildren(...entries.map((entry, at) =>
      this.#item(entry, at, entries.length, /** @type {number} */ (number.get(entry.id)), /** @type {Scene} */ (byId.get(entry.id)))));
    this.reset.hidden = !this.custom;
    if (focus) /** @type {HTMLElement | null} */ (this.list.querySelector(focus))?.focus();
  }

  /**
   * @param {Entry} entry
   * @param {number} at its place in the film
   * @param {number} count how many entries
   * @param {number} n its scene's number in the storyboard
   * @param {Scene} scene
   */
  #item(entry, at, count, n, scene) {
    const checkId = newId("film-include");
    /** @type {(action: string, label: string, delta: number, disabled: boolean) => HTMLButtonElement} */
    const button = (action, label, delta, disabled) => h("button", {
      type: "button", class: "secondary small", dataset: { action }, disabled,
      onclick: () => this.#move(entry.id, delta),
    }, label, h("span", { class: "visually-hidden" }, ` scene ${n}`));
    return h("li", { dataset: { filmSceneId: entry.id }, class: entry.included ? "" : "left-out" },
      h("input", {
        type: "checkbox", id: checkId, checked: entry.included,
        onchange: (e) => this.#include(entry.id, /** @type {HTMLInputElement} */ (e.target).checked, n),
      }),
      h("label", { for: checkId }, `Include scene ${n}`, h("span", { class: "excerpt" }, ` ${excerpt(scene)}`)),
      h("span", { class: "film-tools" },
        button("earlier", "Move earlier", -1, at === 0),
        button("later", "Move later", 1, at === count - 1)));
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
    this.list.querySelector("input")?.focus();
  }
}
