// @ts-check
// The app's entry point: configuration, sign-in, routing between views (history API, so
// the server answers unknown paths with index.html), and keeping unsaved edits when the tab
// closes (a warning, and a keepalive save).

import { Api } from "./api.js";
import { Session } from "./auth.js";
import { Drafts } from "./autosave.js";
import { catalogLoader } from "./catalog.js";
import { loadConfig } from "./config.js";
import { confirmDialog, focusHeading, h, newId, replace } from "./dom.js";
import { editorView } from "./views/editor.js";
import { keysView } from "./views/keys.js";
import { listView } from "./views/list.js";

/**
 * What every view is given.
 * @typedef {object} Ctx
 * @property {HTMLElement} main where views render
 * @property {Map<string, import("./autosave.js").Autosaver>} savers storyboard id -> its saver (one per storyboard)
 * @property {(path: string, state?: object) => void} navigate
 * @property {(id: string) => void} forget a storyboard is gone: its saver and draft go too
 * @property {Session} session
 * @property {Api} api
 * @property {Drafts} drafts this user's drafts
 * @property {() => Promise<import("./catalog.js").Catalog>} catalog
 * @property {number} [renderId] which render is current (a view that loaded late must not show)
 */
/** A view renders itself into ctx.main and gives what to do when it is left. @typedef {() => void} Leave */

const main = /** @type {HTMLElement} */ (document.getElementById("main")); // index.html has it
// boot() sets session, api and catalog before anything renders; render() sets drafts.
const ctx = /** @type {Ctx} */ ({ main, savers: new Map(), navigate, forget });
/** @type {Leave} */
let leaveView = () => {};
let renders = 0;

/** @type {{pattern: RegExp, title: string, view: (match: RegExpExecArray, state: any) => Leave | Promise<Leave>}[]} */
const ROUTES = [
  { pattern: /^\/$/, title: "My storyboards", view: () => listView(ctx) },
  { pattern: /^\/storyboards\/([0-9a-f-]{36})$/i, title: "Edit storyboard", view: (m, state) => editorView(ctx, m[1], state) },
  { pattern: /^\/keys$/, title: "Provider keys", view: () => keysView(ctx) },
];

/**
 * @param {string} path
 * @param {object} [state] the view's history state (the editor's {focusName})
 */
function navigate(path, state = {}) {
  history.pushState(state, "", path);
  render();
}

/**
 * A storyboard is gone (deleted here): its saver and draft go too.
 * @param {string} id
 */
function forget(id) {
  ctx.savers.get(id)?.stop();
  ctx.savers.delete(id);
  ctx.drafts?.clear(id);
}

/** @param {string | null} [signInMessage] why the user must sign in (again) */
async function render(signInMessage = null) {
  const current = ++renders;
  ctx.renderId = current;
  leaveView();
  leaveView = () => {};
  renderAccount();
  if (!ctx.session.user) {
    showSignIn(signInMessage);
    return;
  }
  ctx.drafts = new Drafts(ctx.session.userKey);
  const route = ROUTES.map((r) => ({ ...r, match: r.pattern.exec(location.pathname) }))
    .find((r) => r.match !== null);
  if (!route) {
    document.title = "Not found · Storyboards";
    replace(main, h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "/", "data-route": "" }, "Go to my storyboards")));
    focusHeading(main);
    return;
  }
  document.title = `${route.title} · Storyboards`;
  const leave = await route.view(/** @type {RegExpExecArray} */ (route.match), history.state || {});
  if (current === renders) leaveView = leave;
  else leave(); // the user moved on while it loaded
}

function renderAccount() {
  const account = /** @type {HTMLElement} */ (document.getElementById("account"));
  const user = ctx.session.user;
  /** @type {HTMLElement} */ (document.getElementById("nav")).hidden = !user;
  if (!user) {
    replace(account);
    return;
  }
  replace(account,
    h("span", { class: "user" }, "Signed in as ", h("strong", {}, user)),
    h("button", { type: "button", class: "secondary small", onclick: signOut }, "Sign out"));
}

/** @param {string | null} message */
function showSignIn(message) {
  document.title = "Sign in · Storyboards";
  const problem = message ? h("div", { class: "error", role: "alert" }, h("p", {}, message)) : null;
  if (ctx.session.mode === "cognito") {
    replace(main, h("h1", {}, "Sign in"), problem,
      h("p", {}, "Sign in with your account to see and edit your storyboards."),
      h("button", { type: "button", onclick: () => ctx.session.signInWithCognito(location.pathname) }, "Sign in"));
  } else {
    const inputId = newId("dev-user");
    const input = h("input", { id: inputId, type: "text", autocomplete: "username", required: true });
    const onsubmit = (/** @type {Event} */ event) => {
      event.preventDefault();
      try {
        ctx.session.signInDev(input.value);
        render();
      } catch (error) {
        showSignIn(/** @type {Error} */ (error).message);
      }
    };
    replace(main, h("h1", {}, "Sign in"), problem,
      h("p", {}, "Local stack: any user name works; the gateway uses it as your user id (X-Dev-User)."),
      h("form", { class: "sign-in", novalidate: true, onsubmit },
        h("label", { for: inputId }, "Dev user"), input, h("button", { type: "submit" }, "Sign in")));
  }
  focusHeading(main);
}

async function signOut() {
  const savers = [...ctx.savers.values()];
  await Promise.all(savers.map((s) => s.saveAll()));
  if (savers.some((s) => s.unsaved)) {
    const sure = await confirmDialog({
      title: "Sign out with unsaved edits?",
      message: "Some edits could not be saved yet (see the save status). Signing out drops them.",
      confirmLabel: "Sign out anyway",
    });
    if (!sure) return;
    for (const saver of savers) ctx.drafts.clear(saver.id);
  }
  dropSavers();
  ctx.session.signOut();
  if (ctx.session.mode === "dev") render();
}

function dropSavers() {
  for (const saver of ctx.savers.values()) saver.stop();
  ctx.savers.clear();
}

/** The API said 401: back to sign-in; unsaved edits stay in this tab's drafts. */
function signedOutByServer() {
  dropSavers();
  render("Your session has ended. Sign in again; edits not saved yet are kept in this tab.");
}

/**
 * Save every storyboard with unsaved edits; whether there were any.
 * @param {{keepalive: boolean}} options
 */
function flushAll({ keepalive }) {
  let unsaved = false;
  for (const saver of ctx.savers.values()) {
    if (!saver.unsaved) continue;
    unsaved = true;
    saver.save({ keepalive });
  }
  return unsaved;
}

/** @param {MouseEvent} event */
function onLinkClick(event) {
  const link = /** @type {Element} */ (event.target).closest("a[data-route]");
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  const href = /** @type {string} */ (link.getAttribute("href")); // every a[data-route] has one
  if (href !== location.pathname) navigate(href);
}

async function boot() {
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    const why = /** @type {Error} */ (error).message;
    replace(main, h("h1", {}, "The app cannot start"), h("div", { class: "error", role: "alert" }, h("p", {}, why)));
    return;
  }
  ctx.session = new Session(config);
  ctx.api = new Api(config.apiBaseUrl, ctx.session, { onUnauthorized: signedOutByServer });
  ctx.catalog = catalogLoader(ctx.api);
  document.addEventListener("click", onLinkClick);
  window.addEventListener("popstate", () => render());
  window.addEventListener("beforeunload", (event) => {
    if (flushAll({ keepalive: true })) {
      event.preventDefault();
      event.returnValue = ""; // older browsers need it set to show the warning
    }
  });
  window.addEventListener("pagehide", () => flushAll({ keepalive: true }));
  let message = null;
  if (ctx.session.isCallback(location.href)) {
    try {
      const returnTo = await ctx.session.completeSignIn(location.href);
      history.replaceState(null, "", returnTo);
    } catch (error) {
      history.replaceState(null, "", "/");
      message = /** @type {Error} */ (error).message;
    }
  }
  render(message);
}

boot();
