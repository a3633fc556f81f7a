// DOM helpers: element building, announcements for screen readers, focus, confirmation.

/**
 * Build an element: h("button", {type: "button", onclick: fn}, "Save").
 * Attributes starting with "on" become listeners; `dataset`/`hidden`/`value`/`checked` are
 * set as properties; null/false attributes are left out; children may be nested arrays.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (["value", "checked", "hidden", "disabled", "required"].includes(name)) {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

let uid = 0;
/** A document-unique id for label/aria wiring. */
export function newId(prefix = "id") {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** Say something to screen-reader users without moving focus (polite live region). */
export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  // A fresh text node after a tick makes repeated identical messages heard again.
  setTimeout(() => { region.textContent = text; }, 30);
}

/** Move focus to the view's heading (after navigation), without scrolling past it. */
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
 */
export function confirmDialog({ title, message, confirmLabel, items = [], tone = "danger" }) {
  const dialog = document.getElementById("confirm-dialog");
  const previous = document.activeElement;
  dialog.querySelector("#confirm-title").textContent = title;
  dialog.querySelector("#confirm-text").textContent = message;
  const list = dialog.querySelector("#confirm-items");
  replace(list, items.map((item) => h("li", {}, item)));
  list.hidden = !items.length;
  const ok = dialog.querySelector("#confirm-ok");
  ok.textContent = confirmLabel;
  ok.className = tone === "danger" ? "danger" : "";
  dialog.returnValue = "cancel";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      if (previous && previous.isConnected) previous.focus();
      resolve(dialog.returnValue === "confirm");
    }, { once: true });
    dialog.showModal();
    dialog.querySelector("button[value=cancel]").focus();
  });
}

/** Replace the children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}
