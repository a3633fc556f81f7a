// @ts-check
// Reordering the board's cards: a card dragged by its handle onto another card takes that
// card's place; from the keyboard the same handle picks the card up (Space or Enter), the arrow
// keys, Home and End move it, Space or Enter drops it and Escape puts it back. Every move is an
// edit of the scenes' order (saved like any other) and is said in the live region.

import { keyTarget } from "../board.js";
import { announce, h, newId } from "../dom.js";

/** @param {string} id */
const handleOf = (id) => `[data-scene-id="${id}"] [data-action="reorder"]`;

export class BoardReorder {
  /**
   * `moveTo(id, to, focus)` moves a scene to place `to` (an edit), re-renders the board and
   * focuses the selector `focus`.
   * @param {object} options
   * @param {HTMLOListElement} options.list the board, whose items carry data-scene-id
   * @param {() => string[]} options.order the scenes' ids in board order
   * @param {(id: string, to: number, focus: string) => void} options.moveTo
   */
  constructor({ list, order, moveTo }) {
    this.list = list;
    this.order = order;
    this.moveTo = moveTo;
    /** @type {{id: string, from: number} | null} the card picked up from the keyboard */
    this.held = null;
    /** @type {string | null} the card being dragged */
    this.dragged = null;
    this.help = h("p", { id: newId("reorder-help"), class: "visually-hidden" },
      "Drag the card by this handle onto another card's place. Or press Space to pick it up, "
      + "the arrow keys to move it, and Space again to drop it; Escape puts it back.");
    list.addEventListener("dragover", (event) => this.#dragOver(event));
    list.addEventListener("drop", (event) => this.#drop(event));
  }

  /**
   * The handle of scene `id`, number `n`: drag it, or press it to pick the card up or drop it.
   * @param {string} id
   * @param {number} n
   */
  handle(id, n) {
    return h("button", {
      type: "button", class: "handle secondary small icon", draggable: "true", title: "Drag to reorder",
      "aria-pressed": String(this.held?.id === id), "aria-describedby": this.help.id, dataset: { action: "reorder" },
      onclick: () => (this.held?.id === id ? this.#putDown() : this.#pickUp(id)),
      onkeydown: (event) => this.#key(/** @type {KeyboardEvent} */ (event), id),
      onfocusout: () => setTimeout(() => this.#leftHandle(), 0),
      ondragstart: (event) => this.#dragStart(/** @type {DragEvent} */ (event), id),
      ondragend: () => this.#dragEnd(),
    }, h("span", { "aria-hidden": "true" }, "⠿"), h("span", { class: "visually-hidden" }, `Reorder scene ${n}`));
  }

  /** @param {string} id */
  #pickUp(id) {
    const order = this.order();
    const from = order.indexOf(id);
    this.held = { id, from };
    this.#mark(id, true);
    announce(`Scene ${from + 1} picked up, at position ${from + 1} of ${order.length}. `
      + "Move it with the arrow keys, drop it with Space, or press Escape to put it back.");
  }

  #putDown() {
    if (!this.held) return;
    const { id } = this.held;
    const order = this.order();
    this.held = null;
    this.#mark(id, false);
    announce(`Scene dropped at position ${order.indexOf(id) + 1} of ${order.length}`);
  }

  /**
   * @param {KeyboardEvent} event
   * @param {string} id
   */
  #key(event, id) {
    if (this.held?.id !== id) return;
    const order = this.order();
    const from = order.indexOf(id);
    if (event.key === "Escape") {
      event.preventDefault();
      const back = this.held.from;
      this.held = null;
      if (back !== from) this.moveTo(id, back, handleOf(id));
      this.#mark(id, false);
      announce(`Reorder cancelled: the scene is back at position ${back + 1} of ${order.length}`);
      return;
    }
    const to = keyTarget(event.key, from, order.length);
    if (to === null) return;
    event.preventDefault(); // arrows would scroll the page
    if (to === from) return;
    this.moveTo(id, to, handleOf(id));
    announce(`Scene moved to position ${to + 1} of ${order.length}`);
  }

  /** Focus went elsewhere while a card was held (not to its own handle, re-rendered): drop it there. */
  #leftHandle() {
    if (!this.held) return;
    const active = document.activeElement;
    const handle = this.list.querySelector(handleOf(this.held.id));
    if (active !== handle) this.#putDown();
  }

  /**
   * @param {string} id
   * @param {boolean} held
   */
  #mark(id, held) {
    const card = this.list.querySelector(`[data-scene-id="${id}"]`);
    card?.classList.toggle("held", held);
    card?.querySelector("[data-action=reorder]")?.setAttribute("aria-pressed", String(held));
  }

  /**
   * @param {DragEvent} event
   * @param {string} id
   */
  #dragStart(event, id) {
    const card = /** @type {HTMLElement | null} */ (this.list.querySelector(`[data-scene-id="${id}"]`));
    if (!event.dataTransfer || !card) return;
    this.dragged = id;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", `Scene ${this.order().indexOf(id) + 1}`);
    event.dataTransfer.setDragImage(card, 24, 24);
    card.classList.add("dragging");
  }

  /** @param {DragEvent} event */
  #dragOver(event) {
    if (!this.dragged || !event.dataTransfer) return; // only cards of this board are dropped here
    const target = this.#target(event);
    if (!target) return;
    event.preventDefault(); // allows the drop
    event.dataTransfer.dropEffect = "move";
    for (const card of this.list.querySelectorAll(".drop-target")) if (card !== target) card.classList.remove("drop-target");
    if (target.dataset.sceneId !== this.dragged) target.classList.add("drop-target");
  }

  /** @param {DragEvent} event */
  #drop(event) {
    const id = this.dragged;
    const target = this.#target(event);
    if (!id || !target) return;
    event.preventDefault();
    const order = this.order();
    const from = order.indexOf(id);
    const to = order.indexOf(/** @type {string} */ (target.dataset.sceneId));
    this.#dragEnd();
    if (from < 0 || to < 0 || from === to) return;
    this.moveTo(id, to, handleOf(id));
    announce(`Scene ${from + 1} moved to position ${to + 1} of ${order.length}`);
  }

  #dragEnd() {
    this.dragged = null;
    for (const card of this.list.querySelectorAll(".dragging, .drop-target")) card.classList.remove("dragging", "drop-target");
  }

  /**
   * The card under the pointer.
   * @param {DragEvent} event
   * @returns {HTMLElement | null}
   */
  #target(event) {
    const card = /** @type {Element} */ (event.target).closest?.("li[data-scene-id]");
    return card instanceof HTMLElement && this.list.contains(card) ? card : null;
  }
}
