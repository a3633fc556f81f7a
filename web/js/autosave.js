// @ts-check
// Auto-save of one storyboard, safe against lost updates.
//
// - A save starts SAVE_DELAY_MS after the last edit: one PATCH of the changed fields with
//   If-Match = the version last read. Never two PATCHes in flight: a save asked for during
//   one runs right after it.
// - 412: the server's version is fetched and the user chooses: keep theirs (re-applied onto
//   the new version, then saved with its If-Match) or take the server's.
// - No answer or a 5xx/429: the edits stay, and the save is retried with backoff ("Offline").
// - Every edit is also kept as this tab's draft (sessionStorage) until saved, so a reload, a
//   sign-in again or a closed connection loses nothing.

import { ApiError, isTransient } from "./api.js";
import { changedFields, editable, problems, rebase, same } from "./document.js";

/** @typedef {import("./document.js").Doc} Doc */
/** @typedef {import("./api.js").StoryboardWithJobs} StoryboardWithJobs */
/** A version of a storyboard: the server's version number and its editable content. @typedef {{version: number, doc: Doc}} Base */
/** A tab's unsaved edits: the user's version and the one it started from. @typedef {{version: number, base: Doc, doc: Doc}} Draft */
/** The save state; each has its words in STATUS_TEXT. @typedef {keyof typeof STATUS_TEXT} SaveState */
/** The API calls a saver makes. @typedef {Pick<import("./api.js").Api, "patchStoryboard" | "getStoryboard">} SaveApi */

export const SAVE_DELAY_MS = 2000;
export const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 15000];

export const STATUS_TEXT = {
  saved: "Saved",
  dirty: "Unsaved changes",
  saving: "Saving…",
  offline: "Offline: your edits are kept here; retrying until the server answers",
  conflict: "Conflict: this storyboard was changed elsewhere. Choose which version to keep.",
  gone: "Conflict: this storyboard was deleted elsewhere. Your version is still here.",
  invalid: "Unsaved changes: fix the problems shown to save them",
  signedOut: "Unsaved changes: sign in again to save them (they are kept in this tab)",
};

/** This tab's unsaved versions of storyboards, per user (sessionStorage). */
export class Drafts {
  /**
   * @param {string | null} userKey
   * @param {Storage} [storage]
   */
  constructor(userKey, storage = sessionStorage) {
    this.prefix = `draft:${userKey}:`;
    this.storage = storage;
  }

  /**
   * @param {string} id
   * @returns {Draft | null}
   */
  load(id) {
    return JSON.parse(this.storage.getItem(this.prefix + id) || "null");
  }

  /**
   * @param {string} id
   * @param {Draft} draft
   */
  save(id, draft) {
    try {
      this.storage.setItem(this.prefix + id, JSON.stringify(draft));
    } catch {
      // Storage full or disabled: the edits still live in memory and in the pending save.
    }
  }

  /** @param {string} id */
  clear(id) {
    this.storage.removeItem(this.prefix + id);
  }
}

/** One action retried with growing delays (RETRY_DELAYS_MS, the last one repeating). */
class Backoff {
  attempt = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  timer = undefined;

  /** @param {() => void} action */
  later(action) {
    const delay = RETRY_DELAYS_MS[Math.min(this.attempt, RETRY_DELAYS_MS.length - 1)];
    this.attempt += 1;
    this.cancel();
    this.timer = setTimeout(action, delay);
  }

  cancel() {
    clearTimeout(this.timer);
  }
}

/**
 * Events: "state" (state changed), "change" (an edit), "saved" (detail: the server's answer),
 * "conflict" (`theirs` loaded) and "replaced" (the base and document were replaced).
 */
export class Autosaver extends EventTarget {
  /**
   * @param {object} options
   * @param {SaveApi} options.api
   * @param {import("./api.js").Storyboard} options.storyboard as last read from the server
   * @param {Drafts | null} [options.drafts] where this tab keeps unsaved edits
   */
  constructor({ api, storyboard, drafts }) {
    super();
    this.api = api;
    this.id = storyboard.id;
    this.drafts = drafts;
    /** @type {Base} */
    this.base = { version: storyboard.version, doc: editable(storyboard) }; // the server's, as last read
    this.doc = structuredClone(this.base.doc); // the user's current version
    /** @type {SaveState} */
    this.state = "saved";
    /** @type {import("./api.js").FieldProblem[]} */
    this.problems = []; // [{field, message}] while state is "invalid"
    /** @type {StoryboardWithJobs | null} */
    this.theirs = null; // the server's storyboard while state is "conflict"
    /** @type {Promise<void> | null} */
    this.running = null; // the save in progress
    this.again = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.saveTimer = undefined;
    this.backoff = new Backoff();
  }

  get dirty() {
    return !same(this.base.doc, this.doc);
  }

  /** Whether closing now could lose something. */
  get unsaved() {
    return this.dirty || this.running !== null;
  }

  get statusText() {
    return STATUS_TEXT[this.state];
  }

  /**
   * Continue from a draft this tab kept (its base version may be older than the server's).
   * @param {Draft} draft
   */
  restore(draft) {
    this.base = { version: draft.version, doc: draft.base };
    this.doc = structuredClone(draft.doc);
    this.#set("dirty");
    this.#schedule();
  }

  /**
   * A user edit: `mutate(doc)` changes the current version in place.
   * @param {(doc: Doc) => void} mutate
   */
  edit(mutate) {
    mutate(this.doc);
    this.#keepDraft();
    if (["saved", "dirty", "invalid"].includes(this.state)) this.#set(this.dirty ? "dirty" : "saved");
    this.dispatchEvent(new Event("change"));
    this.#schedule();
  }

  /**
   * Save now (e.g. before generating, or when the tab closes: `keepalive`).
   * @param {{keepalive?: boolean}} [options]
   * @returns {Promise<void>}
   */
  async save({ keepalive = false } = {}) {
    clearTimeout(this.saveTimer);
    if (this.running) {
      this.again = true;
      return this.running;
    }
    if (["conflict", "gone", "signedOut"].includes(this.state)) return undefined; // the user decides
    const changes = changedFields(this.base.doc, this.doc);
    if (!Object.keys(changes).length) return this.#settle();
    this.problems = problems(this.doc);
    if (this.problems.length) return this.#set("invalid");
    this.running = this.#send(changes, keepalive);
    try {
      await this.running;
    } finally {
      this.running = null;
    }
    if (this.again) {
      this.again = false;
      return this.save();
    }
    return undefined;
  }

  /** Save now and wait for it; true when the server then holds the user's version. */
  async saveAll() {
    for (let round = 0; round < 5 && this.unsaved; round += 1) {
      if (this.running) await this.running;
      else if (["dirty", "offline"].includes(this.state)) await this.save();
      else break;
    }
    return !this.unsaved && this.state === "saved";
  }

  /** Keep the user's version: their edits re-applied onto the server's, saved with its version. */
  keepMine() {
    const server = /** @type {StoryboardWithJobs} */ (this.theirs); // offered once it is loaded
    const theirs = editable(server);
    this.doc = rebase(this.base.doc, this.doc, theirs);
    this.#replaceBase({ version: server.version, doc: theirs }, "dirty");
    return this.save();
  }

  /** Take the server's version; the user's edits are dropped (their choice). */
  takeTheirs() {
    const server = /** @type {StoryboardWithJobs} */ (this.theirs); // offered once it is loaded
    const theirs = editable(server);
    this.doc = structuredClone(theirs);
    this.#replaceBase({ version: server.version, doc: theirs }, "saved");
  }

  /** Try again now (the connection is back). */
  retryNow() {
    if (this.state === "offline") this.save();
  }

  stop() {
    clearTimeout(this.saveTimer);
    this.backoff.cancel();
  }

  /**
   * @param {Partial<Doc>} changes
   * @param {boolean} keepalive
   */
  async #send(changes, keepalive) {
    const sent = structuredClone(this.doc);
    this.backoff.cancel();
    this.#set("saving");
    try {
      const saved = await this.api.patchStoryboard(this.id, this.base.version, changes, { keepalive });
      this.base = { version: saved.version, doc: sent };
      this.backoff.attempt = 0;
      this.#settle();
      this.dispatchEvent(new CustomEvent("saved", { detail: saved }));
    } catch (error) {
      await this.#failed(error);
    }
  }

  /**
   * @param {unknown} error
   * @returns {Promise<void>}
   */
  async #failed(error) {
    if (error instanceof ApiError && error.status === 412) return this.#fetchTheirs();
    if (error instanceof ApiError && error.status === 404) return this.#set("gone");
    if (error instanceof ApiError && error.status === 401) return this.#set("signedOut");
    if (isTransient(error)) return this.#retryLater(() => this.save());
    this.problems = error instanceof ApiError && error.fieldErrors.length
      ? error.fieldErrors
      : [{ field: "", message: /** @type {Error} */ (error).message }];
    return this.#set("invalid");
  }

  async #fetchTheirs() {
    this.#set("conflict");
    try {
      this.theirs = await this.api.getStoryboard(this.id);
      this.backoff.attempt = 0;
      this.dispatchEvent(new Event("conflict"));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) this.#set("gone");
      else if (error instanceof ApiError && error.status === 401) this.#set("signedOut");
      else this.#retryLater(() => this.#fetchTheirs(), "conflict");
    }
  }

  /**
   * @param {() => void} action
   * @param {SaveState} [state]
   */
  #retryLater(action, state = "offline") {
    this.#set(state);
    this.backoff.later(action);
  }

  /**
   * @param {Base} base
   * @param {SaveState} state
   */
  #replaceBase(base, state) {
    this.base = base;
    this.theirs = null;
    this.#keepDraft();
    this.#set(state);
    this.dispatchEvent(new Event("replaced"));
  }

  #settle() {
    this.#keepDraft();
    this.#set(this.dirty ? "dirty" : "saved");
  }

  #keepDraft() {
    if (!this.drafts) return;
    if (this.dirty) this.drafts.save(this.id, { version: this.base.version, base: this.base.doc, doc: this.doc });
    else this.drafts.clear(this.id);
  }

  #schedule() {
    if (!["dirty", "saving", "offline", "invalid"].includes(this.state)) return;
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.save(), SAVE_DELAY_MS);
  }

  /** @param {SaveState} state */
  #set(state) {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new Event("state"));
  }
}
