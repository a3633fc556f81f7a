// @ts-check
// DOM helpers: element building, announcements for screen readers, focus, confirmation.

/**
 * Attributes for h(): "on…" ones are listeners (given the event), the rest attributes or
 * properties; null, undefined and false are left out.
 * @typedef {{[name: `on${string}`]: ((event: Event) => unknown) | null | undefined | false} & {[name: string]: unknown}} Attrs
 */

/**
 * Build an element: h("button", {type: "button", onclick: fn}, "Save").
 * Attributes starting with "on" become listeners; `dataset`/`hidden`/`value`/`checked` are
 * set as properties; null/false attributes are left out; children may be nested arrays.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs | null} [attrs]
 * @param {unknown[]} children nodes, or anything else as its text; lists nested; null/false skipped
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), /** @type {EventListener} */ (value));
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (["value", "checked", "hidden", "disabled", "required"].includes(name)) {
      Object.assign(el, { [name]: value });
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

/**
 * @param {Element} el
 * @param {unknown[]} children
 */
function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/**
 * A zone files can be dropped on (class "drop-zone"; "dragging" while files hover over it):
 * ``onFiles`` gets what was dropped, and the browser does not open it.
 * @param {(files: File[]) => void} onFiles
 * @param {unknown[]} children
 * @returns {HTMLDivElement}
 */
export function dropZone(onFiles, ...children) {
  const zone = h("div", {
    class: "drop-zone",
    ondragover: (event) => {
      const { dataTransfer } = /** @type {DragEvent} */ (event);
      if (!dataTransfer?.types.includes("Files")) return;
      event.preventDefault(); // allows the drop
      dataTransfer.dropEffect = "copy";
      zone.classList.add("dragging");
    },
    ondragleave: () => { zone.classList.remove("dragging"); },
    ondrop: (event) => {
      zone.classList.remove("dragging");
      const files = [.../** @type {DragEvent} */ (event).dataTransfer?.files ?? []];
      if (!files.length) return;
      event.preventDefault(); // the browser would open (or play) the file instead
      onFiles(files);
    },
  }, ...children);
  return zone;
}

let uid = 0;
/**
 * A document-unique id for label/aria wiring.
 * @param {string} [prefix]
 */
export function newId(prefix = "id") {
  uid += 1;
  return `${prefix}-${uid}`;
}

/**
 * Say something to screen-reader users without moving focus (polite live region).
 * @param {string} text
 */
export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  // A fresh text node after a tick makes repeated identical messages heard again.
  setTimeout(() => { region.textContent = text; }, 30);
}

/**
 * Move focus to the view's heading (after navigation), without scrolling past it.
 * @param {ParentNode} container
 */
export function focusHeading(container) {
  const heading = container.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
}

/**
 * Ask for confirmation in the page's modal <dialog> (Escape or "Cancel" says no); resolves
 * true when confirmed. `items` are listed under the message; `tone` "danger" marks a loss.
 * Focus starts on "Cancel" and goes back to what had it before.
 * @param {{title: string, message: string, confirmLabel: string, items?: string[], tone?: "danger" | "spend"}} question
 * @returns {Promise<boolean>}
 */
export function confirmDialog({ title, message, confirmLabel, items = [], tone = "danger" }) {
  // index.html holds the dialog and its parts.
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById("confirm-dialog"));
  const part = (/** @type {string} */ selector) => /** @type {HTMLElement} */ (dialog.querySelector(selector));
  const previous = /** @type {HTMLElement | null} */ (document.activeElement);
  part("#confirm-title").textContent = title;
  part("#confirm-text").textContent = message;
  const list = part("#confirm-items");
  replace(list, items.map((item) => h("li", {}, item)));
  list.hidden = !items.length;
  const ok = part("#confirm-ok");
  ok.textContent = confirmLabel;
  ok.className = tone === "danger" ? "danger" : "";
  dialog.returnValue = "cancel";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      if (previous && previous.isConnected) previous.focus();
      resolve(dialog.returnValue === "confirm");
    }, { once: true });
    dialog.showModal();
    part("button[value=cancel]").focus();
  });
}

/**
 * Replace the children of `el`.
 * @param {Element} el
 * @param {unknown[]} children as for h()
 */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}
