// @ts-check
// A card's caption: "Scene N caption" (one line of plain text, at most 200 characters) and,
// optionally, when it shows within the shot ("Scene N caption start" / "end", in seconds).
// Saved by auto-save like any edit; a timing that cannot be saved (not a number, past the shot,
// an end before the start) is said in the card and kept out of the storyboard until fixed, and
// the server's refusal of a caption is shown in its card.

import { h, newId, replace } from "../dom.js";
import { CAPTION_MAX, captionProblemScene, millisecondsFrom, oneLine, setCaption, timingProblem } from "../filmcraft.js";

/** @typedef {import("../document.js").Scene} Scene */
/** @typedef {import("../api.js").FieldProblem} FieldProblem */
/**
 * @typedef {object} CaptionOptions
 * @property {Scene} scene
 * @property {number} index
 * @property {number | null} seconds the shot's length (null when unknown)
 * @property {(change: (scene: Scene) => void) => void} edit applies a change to the scene (auto-saved)
 */

/** @param {string} text */
const hidden = (text) => h("span", { class: "visually-hidden" }, text);

/** @param {unknown} ms */
const asSeconds = (ms) => (typeof ms === "number" ? String(ms / 1000) : "");

/**
 * Fill a card's caption slot.
 * @param {HTMLElement} slot
 * @param {CaptionOptions} options
 */
export function fillCaption(slot, { scene, index, seconds, edit }) {
  const n = index + 1;
  const textId = newId("scene-caption");
  const startId = newId("scene-caption-start");
  const endId = newId("scene-caption-end");
  const error = h("p", { class: "field-error caption-error", id: newId("caption-error"), hidden: true });
  const refused = h("p", { class: "field-error caption-refused", id: newId("caption-refused"), hidden: true });
  const hint = h("p", { class: "hint", id: newId("caption-hint") },
    `One line, up to ${CAPTION_MAX} characters. Start and end: seconds within the shot, optional.`);
  const text = h("input", {
    id: textId, type: "text", maxlength: String(CAPTION_MAX), autocomplete: "off", spellcheck: "true",
    value: typeof scene.caption === "string" ? scene.caption : "",
    "aria-describedby": `${hint.id} ${refused.id}`,
    // Enter would submit the editor's form; a caption is one line.
    onkeydown: (event) => { if (/** @type {KeyboardEvent} */ (event).key === "Enter") event.preventDefault(); },
    oninput: () => {
      const line = oneLine(text.value);
      if (line !== text.value) text.value = line;
      edit((s) => setCaption(s, { caption: line }));
    },
  });
  /** @param {string} id @param {unknown} ms */
  const timing = (id, ms) => h("input", {
    id, type: "number", min: "0", step: "0.1", inputmode: "decimal", value: asSeconds(ms),
    max: seconds ? String(seconds) : null, "aria-describedby": `${hint.id} ${error.id}`,
    oninput: () => timingsChanged(),
  });
  const start = timing(startId, scene.captionStartMs);
  const end = timing(endId, scene.captionEndMs);

  function timingsChanged() {
    const startMs = millisecondsFrom(start.value);
    const endMs = millisecondsFrom(end.value);
    // A field the browser cannot read as a number ("1e", "-") is empty to it, not valid.
    const badStart = start.validity.badInput ? Number.NaN : startMs;
    const badEnd = end.validity.badInput ? Number.NaN : endMs;
    const problem = timingProblem(badStart, badEnd, seconds);
    start.setAttribute("aria-invalid", String(problem?.field === "captionStartMs"));
    end.setAttribute("aria-invalid", String(problem?.field === "captionEndMs"));
    showError(slot, problem ? `${problem.message} Not saved until it is fixed.` : null);
    if (!problem) edit((s) => setCaption(s, { captionStartMs: startMs, captionEndMs: endMs }));
  }

  replace(slot,
    h("div", { class: "field caption" },
      h("label", { for: textId }, `Scene ${n} caption`), text, hint, refused),
    h("div", { class: "caption-timing" },
      h("div", { class: "field" }, h("label", { for: startId }, hidden(`Scene ${n} caption `), "start"), start),
      h("div", { class: "field" }, h("label", { for: endId }, hidden(`Scene ${n} caption `), "end"), end)),
    error);
}

/**
 * Show (or clear, with null) a problem with the caption's timing.
 * @param {Element} slot
 * @param {string | null} message
 */
function showError(slot, message) {
  const error = /** @type {HTMLElement} */ (slot.querySelector(".caption-error"));
  error.hidden = !message;
  error.textContent = message ?? "";
}

/**
 * Show in each card the server's refusal of its caption (or clear it): `problems` are the
 * field errors of the last save refused (empty when none).
 * @param {Iterable<Element>} slots the cards' caption slots, in scene order
 * @param {FieldProblem[]} problems
 */
export function showRefusals(slots, problems) {
  [...slots].forEach((slot, index) => {
    const refusal = /** @type {HTMLElement | null} */ (slot.querySelector(".caption-refused"));
    if (!refusal) return;
    const found = problems.find((p) => captionProblemScene(p) === index);
    refusal.hidden = !found;
    refusal.textContent = found ? `Not saved: ${found.message}` : "";
    slot.querySelector("input[type=text]")?.setAttribute("aria-invalid", String(Boolean(found)));
  });
}
