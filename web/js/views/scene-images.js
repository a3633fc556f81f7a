// @ts-check
// A scene's images: its reference images (the character's by default, or its own choice), a
// first frame and a last frame, and a switch to continue from the previous shot (its last frame
// as this one's first), each disabled with its reason, in words next to it, when the model
// chosen for generation cannot take it (references.js's sceneChoices). Controls carry
// `data-focus-key`, so focus survives the re-render that follows each change.

import { h, newId } from "../dom.js";
import { continues, kindLabel, sceneChoices, sceneReferenceIds, toggled } from "../references.js";

/** @typedef {import("../references.js").Reference} Reference */
/** @typedef {import("../references.js").ModelInputs} ModelInputs */
/** @typedef {import("../references.js").ImageChoice} ImageChoice */
/** @typedef {import("../document.js").Scene} Scene */
/**
 * @typedef {object} SceneImagesOptions
 * @property {Scene} scene
 * @property {number} index
 * @property {Reference[]} references the ready ones
 * @property {string[]} characterIds the character's (character.referenceIds)
 * @property {ModelInputs | null} model the model chosen for generation, if known
 * @property {number | null} seconds the scene's clip length, if known
 * @property {(change: (scene: Scene) => void) => void} edit changes the scene (then re-rendered)
 */

/** @param {string} text */
const hidden = (text) => h("span", { class: "visually-hidden" }, text);

/**
 * The line saying why a control cannot be used (hidden when it can): a hint when the control
 * is disabled, an error when the scene chose something it cannot use.
 * @param {ImageChoice} choice
 * @param {string | null} [gone] what to say when the choice names a reference no longer listed
 */
function reasonLine(choice, gone = null) {
  const text = choice.reason ?? gone;
  const error = Boolean(text) && choice.chosen;
  return h("p", { id: newId("scene-image-reason"), class: error ? "field-error" : "hint reason", hidden: !text }, text ?? "");
}

/** @param {SceneImagesOptions} options */
export function sceneImages(options) {
  const { scene, index, references } = options;
  const n = index + 1;
  const choices = sceneChoices(scene, options.model, options.seconds, index === 0);
  /** @type {(key: "firstFrame" | "lastFrame", label: string) => HTMLDivElement} */
  const frame = (key, label) => {
    const value = typeof scene[key] === "string" ? /** @type {string} */ (scene[key]) : "";
    const known = !value || references.some((r) => r.id === value);
    const choice = choices[key];
    const reason = reasonLine(choice, known ? null : "That reference image is gone: choose another.");
    const id = newId("scene-frame");
    const select = h("select", {
      id, disabled: choice.disabled, "aria-describedby": reason.id, "aria-invalid": String(Boolean(value) && !reason.hidden),
      dataset: { focusKey: key },
      onchange: () => options.edit((s) => {
        if (select.value) s[key] = select.value;
        else delete s[key];
      }),
    },
    h("option", { value: "" }, "None"),
    references.map((r) => h("option", { value: r.id }, `${r.label} (${kindLabel(r.kind).toLowerCase()})`)),
    known ? null : h("option", { value }, "A reference image no longer listed"));
    select.value = value;
    return h("div", { class: "field frame" }, h("label", { for: id }, `Scene ${n} ${label}`), select, reason);
  };
  return h("div", { class: "scene-images" },
    referencesGroup(options, choices.references),
    continueSwitch(options, choices.continueFrom),
    h("div", { class: "frames" }, frame("firstFrame", "first frame"), frame("lastFrame", "last frame")));
}

/**
 * A card whose storyboard has no reference image yet: one line saying where they come from, and
 * the switch to continue from the previous shot (which needs none).
 * @param {SceneImagesOptions} options
 */
export function sceneImagesWithoutReferences(options) {
  const choices = sceneChoices(options.scene, options.model, options.seconds, options.index === 0);
  return h("div", { class: "scene-images" },
    h("p", { class: "hint" }, "Images: add reference images with the character to choose them here."),
    continueSwitch(options, choices.continueFrom));
}

/**
 * "Continue from the previous shot": the scene's first frame is the previous clip's last one.
 * @param {SceneImagesOptions} options
 * @param {ImageChoice} choice
 */
function continueSwitch({ scene, index, edit }, choice) {
  const reason = reasonLine(choice);
  const id = newId("scene-continue");
  const box = h("input", {
    id, type: "checkbox", role: "switch", checked: continues(scene), disabled: choice.disabled,
    "aria-describedby": reason.id, "aria-invalid": String(choice.chosen && Boolean(choice.reason)),
    dataset: { focusKey: "continueFrom" },
    onchange: () => edit((s) => {
      if (box.checked) s.continueFrom = "previous";
      else delete s.continueFrom;
    }),
  });
  return h("div", { class: "field continue-from" },
    h("div", { class: "check" }, box,
      h("label", { for: id }, "Continue from the previous shot", hidden(` in scene ${index + 1}`))),
    reason);
}

/**
 * "Scene N references": the character's (the default), or the scene's own choice of images.
 * @param {SceneImagesOptions} options
 * @param {ImageChoice} choice
 */
function referencesGroup({ scene, index, references, characterIds, model, edit }, choice) {
  const n = index + 1;
  const own = sceneReferenceIds(scene);
  const listed = new Map(references.map((r) => [r.id, r]));
  const characters = characterIds.filter((id) => listed.has(id));
  const most = model?.inputs.referenceImages || Infinity;
  const gone = own?.filter((id) => !listed.has(id)) ?? [];
  const reason = reasonLine(choice, gone.length ? "A chosen reference image is gone: untick it." : null);
  const defaultId = newId("scene-refs-default");
  const useCharacter = h("input", {
    id: defaultId, type: "checkbox", checked: own === null, dataset: { focusKey: "references" },
    onchange: () => edit((s) => {
      if (useCharacter.checked) delete s.referenceIds;
      else s.referenceIds = characters.slice(0, most); // the scene's own, starting from the character's
    }),
  });
  const names = characters.map((id) => /** @type {Reference} */ (listed.get(id)).label).join(", ");
  /** @type {(id: string, label: string) => HTMLLIElement} */
  const option = (id, label) => {
    const checkboxId = newId("scene-ref");
    const checked = Boolean(own?.includes(id));
    const box = h("input", {
      id: checkboxId, type: "checkbox", checked, disabled: !checked && (own?.length ?? 0) >= most,
      dataset: { focusKey: `reference-${id}` },
      onchange: () => edit((s) => { s.referenceIds = toggled(sceneReferenceIds(s) ?? [], id, box.checked); }),
    });
    return h("li", { class: "check" }, box, h("label", { for: checkboxId }, label, hidden(` in scene ${n}`)));
  };
  let ownChoice = null;
  if (own !== null) {
    ownChoice = references.length || gone.length
      ? h("ul", { class: "reference-choices" },
        references.map((r) => option(r.id, r.label)),
        gone.map((id) => option(id, "A reference image no longer listed")))
      : h("p", { class: "hint" }, "No reference images yet: add them with the character.");
  }
  return h("div", { class: "scene-references" },
    h("fieldset", { class: "scene-refs", disabled: choice.disabled, "aria-describedby": reason.id },
      h("legend", {}, `Scene ${n} references`),
      h("div", { class: "check" }, useCharacter,
        h("label", { for: defaultId }, "The character's", h("span", { class: "hint" }, ` (${names || "none marked"})`))),
      ownChoice),
    reason);
}
