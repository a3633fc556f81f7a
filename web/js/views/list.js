// @ts-check
// The storyboard list: newest first, search by name, load more (keyset cursor), create,
// delete with confirmation.

import { DEFAULT_PRESET } from "../catalog.js";
import { newScene } from "../document.js";
import { announce, confirmDialog, focusHeading, h, newId, replace } from "../dom.js";
import { errorBox } from "../errors.js";

const PAGE_SIZE = 20;
const SEARCH_DELAY_MS = 300;

/** @typedef {import("../api.js").Storyboard} Storyboard */

/**
 * @param {import("../main.js").Ctx} ctx
 * @returns {import("../main.js").Leave}
 */
export function listView(ctx) {
  const view = new ListView(ctx);
  focusHeading(ctx.main);
  return () => view.leave();
}

class ListView {
  /** @param {import("../main.js").Ctx} ctx */
  constructor(ctx) {
    this.ctx = ctx;
    /** @type {string | null} */
    this.cursor = null;
    this.query = "";
    /** @type {AbortController | null} */
    this.request = null; // AbortController of the page being fetched
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.searchTimer = undefined;
    const searchId = newId("search");
    this.search = h("input", {
      id: searchId, type: "search", autocomplete: "off",
      oninput: () => {
        clearTimeout(this.searchTimer);
        this.searchTimer = setTimeout(() => this.load(), SEARCH_DELAY_MS);
      },
    });
    this.items = h("ul", { class: "storyboards" });
    this.summary = h("p", { role: "status", class: "list-status" });
    this.problem = h("div");
    this.more = h("button", { type: "button", class: "secondary", hidden: true, onclick: () => this.load(true) }, "Load more");
    this.create = h("button", { type: "button", onclick: () => this.createStoryboard() }, "New storyboard");
    replace(ctx.main,
      h("div", { class: "list-head" }, h("h1", {}, "My storyboards"), this.create),
      h("form", { role: "search", class: "search", onsubmit: (e) => { e.preventDefault(); this.load(); } },
        h("label", { for: searchId }, "Search storyboards"), this.search),
      this.problem,
      this.summary,
      this.items,
      this.more);
    this.load();
  }

  leave() {
    this.request?.abort();
    clearTimeout(this.searchTimer);
  }

  /**
   * The first page for the current search, or (`more`) the next page.
   * @param {boolean} [more]
   */
  async load(more = false) {
    this.request?.abort();
    const controller = new AbortController();
    this.request = controller;
    const query = more ? this.query : this.search.value.trim();
    this.more.disabled = true;
    try {
      const page = await this.ctx.api.listStoryboards(
        { limit: PAGE_SIZE, cursor: more ? this.cursor : null, q: query }, controller.signal);
      this.query = query;
      this.cursor = page.nextCursor;
      const firstNew = page.storyboards.length ? page.storyboards[0].id : null;
      if (more) this.items.append(...page.storyboards.map((s) => this.#item(s)));
      else this.items.replaceChildren(...page.storyboards.map((s) => this.#item(s)));
      replace(this.problem);
      this.more.hidden = !page.nextCursor;
      this.#summarize(more ? `${page.storyboards.length} more loaded` : null);
      if (more && firstNew) /** @type {HTMLElement | null} */ (this.items.querySelector(`[data-id="${firstNew}"] a`))?.focus();
    } catch (error) {
      if (controller.signal.aborted) return;
      replace(this.problem, errorBox(error));
    } finally {
      if (this.request === controller) this.more.disabled = false;
    }
  }

  async createStoryboard() {
    this.create.disabled = true;
    try {
      const storyboard = await this.ctx.api.createStoryboard({
        name: "Untitled storyboard",
        presetKey: DEFAULT_PRESET,
        character: {},
        scenes: [newScene()],
      });
      this.ctx.navigate(`/storyboards/${storyboard.id}`, { focusName: true });
    } catch (error) {
      replace(this.problem, errorBox(error));
      this.create.disabled = false;
    }
  }

  /**
   * @param {Storyboard} storyboard
   * @param {HTMLElement} item its list item
   */
  async remove(storyboard, item) {
    const sure = await confirmDialog({
      title: `Delete “${storyboard.name}”?`,
      message: "The storyboard and all its clips are deleted for good.",
      confirmLabel: "Delete storyboard",
    });
    if (!sure) return;
    try {
      await this.ctx.api.deleteStoryboard(storyboard.id);
    } catch (error) {
      replace(this.problem, errorBox(error));
      return;
    }
    this.ctx.forget(storyboard.id);
    const next = item.nextElementSibling || item.previousElementSibling;
    item.remove();
    this.#summarize();
    (next?.querySelector("a") || this.create).focus();
    announce(`Deleted “${storyboard.name}”`);
  }

  /** @param {string | null} [extra] */
  #summarize(extra = null) {
    const count = this.items.children.length;
    const found = this.query
      ? `${count} storyboard${count === 1 ? "" : "s"} matching “${this.query}”`
      : `${count} storyboard${count === 1 ? "" : "s"}`;
    const text = count || this.query ? found : "No storyboards yet. Create one with New storyboard.";
    this.summary.textContent = [text, extra, this.cursor ? "more available" : null].filter(Boolean).join(", ");
  }

  /** @param {Storyboard} storyboard */
  #item(storyboard) {
    const scenes = storyboard.scenes.length;
    const updated = new Date(storyboard.updatedAt);
    const item = h("li", { dataset: { id: storyboard.id } },
      h("a", { href: `/storyboards/${storyboard.id}`, "data-route": "", class: "storyboard-link" }, storyboard.name),
      h("p", { class: "meta" },
        `${scenes} scene${scenes === 1 ? "" : "s"} · updated `,
        h("time", { datetime: storyboard.updatedAt }, updated.toLocaleString())));
    item.append(h("button", {
      type: "button", class: "danger small",
      onclick: () => this.remove(storyboard, item),
    }, "Delete", h("span", { class: "visually-hidden" }, ` ${storyboard.name}`)));
    return item;
  }
}
