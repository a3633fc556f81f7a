// @ts-check
// The conflict panels: after a 412, what differs between the server's version and the
// user's, side by side, and the two ways out (keep mine, re-applied; or take the server's);
// after a 404, the way to keep the user's version of a storyboard deleted elsewhere.

import { differences, editable } from "../document.js";
import { h, newId, replace } from "../dom.js";
import { errorBox } from "../errors.js";

/** @type {Record<string, string>} */
const WHO = {
  server: "changed on the server",
  you: "changed by you",
  both: "changed on both sides",
};

/** @param {unknown} value */
function shown(value) {
  if (value === undefined || value === null) return h("em", {}, "(not set)");
  if (value === "") return h("em", {}, "(empty)");
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * @param {string} title
 * @param {unknown} value
 */
function version(title, value) {
  return h("div", { class: "version" }, h("h4", {}, title), h("p", { class: "value" }, shown(value)));
}

/**
 * The panel for a saver in the "conflict" state (its `theirs` loaded).
 * @param {import("../autosave.js").Autosaver} saver
 * @param {{onKeepMine: () => void, onTakeTheirs: () => void}} choices
 */
export function conflictPanel(saver, { onKeepMine, onTakeTheirs }) {
  const titleId = newId("conflict-title");
  const theirs = /** @type {import("../api.js").StoryboardWithJobs} */ (saver.theirs); // loaded: see above
  const rows = differences(saver.base.doc, saver.doc, editable(theirs));
  const saved = new Date(theirs.updatedAt).toLocaleString();
  return h("section", { class: "conflict", "aria-labelledby": titleId },
    h("h2", { id: titleId, tabindex: "-1" }, "This storyboard was changed elsewhere"),
    h("p", {},
      `A newer version was saved on the server (version ${theirs.version}, ${saved}), perhaps in another tab. `
      + "Your edits are not saved yet and are kept until you choose."),
    rows.length
      ? h("ul", { class: "differences" }, rows.map((row) => h("li", { class: `difference ${row.changedBy}` },
        h("h3", {}, row.label, " ", h("span", { class: "tag" }, `(${WHO[row.changedBy]})`)),
        h("div", { class: "versions" }, version("On the server", row.server), version("Your version", row.mine)))))
      : h("p", {}, "Both versions now hold the same content."),
    h("div", { class: "actions" },
      h("button", { type: "button", onclick: onKeepMine }, "Keep my version"),
      h("button", { type: "button", class: "secondary", onclick: onTakeTheirs }, "Use the server's version")),
    h("p", { class: "hint" },
      "Keep my version: your edits are applied on top of the server's version and saved, so changes "
      + "made elsewhere to other fields stay. Use the server's version: your unsaved edits are dropped."));
}

/**
 * The panel for a saver in the "gone" state: the user's version can become a new storyboard.
 * @param {{onSaveCopy: () => Promise<void>}} choices
 */
export function gonePanel({ onSaveCopy }) {
  const problem = h("div");
  const saveCopy = async () => {
    try {
      await onSaveCopy();
    } catch (error) {
      replace(problem, errorBox(error));
    }
  };
  return h("section", { class: "conflict", role: "alert" },
    h("h2", {}, "This storyboard was deleted elsewhere"),
    h("p", {}, "Your version is still here. Save it as a new storyboard to keep it."),
    h("button", { type: "button", onclick: saveCopy }, "Save as a new storyboard"),
    problem);
}
