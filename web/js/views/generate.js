// @ts-check
// Generating clips: the provider, model and size (from the catalog, kept per browser), what
// one scene's clip costs, and "Generate all scenes" (every scene not in flight and not up to
// date, its total cost confirmed first; what was queued and skipped shown after).

import { ApiError, RetryKey } from "../api.js";
import { providerLabel, roundCost } from "../catalog.js";
import { announce, confirmDialog, h, newId, replace } from "../dom.js";
import { describe, errorBox } from "../errors.js";
import { batchPlan, formatCost, sceneText, SKIP_REASONS } from "../generation.js";

/** @typedef {import("../api.js").Schemas} Schemas */
/** @typedef {import("../catalog.js").Catalog} Catalog */
/** @typedef {import("../catalog.js").Settings} Settings */
/** @typedef {import("../generation.js").Plan["generate"][number]} Planned */
/** The lengths a scene may have now, and the default. @typedef {Settings & {allowed: number[], defaultSeconds: number}} DurationChoices */

const SETTINGS_KEY = "generate.settings";

function loadSettings() {
  try {
    return JSON.parse(localStorage.getItem(SETTINGS_KEY) || "{}");
  } catch {
    return {};
  }
}

/** @param {(number | null)[]} costs a null (no price: such a scene is never planned) adds 0 */
function sum(costs) {
  return roundCost(costs.reduce((/** @type {number} */ a, b) => a + (b ?? 0), 0));
}

/**
 * What a 429 means in numbers (its `details`): which cap, and how many scenes fit now.
 * @param {unknown} error
 */
export function capLines(error) {
  const d = error instanceof ApiError && error.status === 429 ? error.details ?? {} : {};
  const lines = [];
  if (d.scenes !== undefined) lines.push(`Scenes that fit now: ${d.scenesThatFit} of ${d.scenes}.`);
  if (d.cap === "jobsInFlight") lines.push(`Jobs in flight: ${d.current} of ${d.limit} allowed at once.`);
  if (d.cap === "dailySpendUsd") lines.push(`Spent or reserved today: ${formatCost(d.current)} of the ${formatCost(d.limit)} daily cap.`);
  return lines;
}

export class GenerationPanel {
  /**
   * `catalog` may be null (it could not be loaded: `catalogError` says why); `clips()` gives
   * sceneId -> the scene's newest clip; `onChange()` is told when jobs were queued (or a cap
   * answered); `onSettings()` when provider, model or size changed.
   * @param {object} options
   * @param {import("../api.js").Api} options.api
   * @param {Catalog | null} options.catalog
   * @param {unknown} [options.catalogError]
   * @param {import("../autosave.js").Autosaver} options.saver
   * @param {string} options.storyboardId
   * @param {() => Map<string, import("../generation.js").Job>} options.clips
   * @param {() => void} options.onChange
   * @param {() => void} options.onSettings
   */
  constructor({ api, catalog, catalogError, saver, storyboardId, clips, onChange, onSettings }) {
    this.api = api;
    this.catalog = catalog;
    this.saver = saver;
    this.storyboardId = storyboardId;
    this.clips = clips;
    this.onChange = onChange;
    this.onSettings = onSettings;
    this.retryKey = new RetryKey(); // the calls stop at the first failure: one may be pending
    /** @type {Record<string, HTMLSelectElement>} provider, model and size */
    this.selects = {};
    this.price = h("p", { class: "hint price" });
    this.problem = h("div", { class: "generate-problem" });
    this.result = h("div", { class: "generate-result", "aria-live": "polite" });
    this.button = h("button", { type: "button", onclick: () => this.generateAll() }, "Generate all scenes");
    const titleId = newId("generate-title");
    this.root = h("section", { class: "generation", "aria-labelledby": titleId },
      h("h2", { id: titleId }, "Clips"),
      catalog ? this.#settingsFields() : errorBox({ message: `Generating is not available: ${describe(catalogError)} Reload the page to try again.` }),
      h("p", { class: "hint" }, "Generating uses your own key: ", h("a", { href: "/keys", "data-route": "" }, "Provider keys"), "."),
      h("div", { class: "actions" }, this.button),
      this.problem, this.result);
    this.button.disabled = !catalog;
    if (catalog) this.#showSettings(catalog.settle(loadSettings()));
  }

  /** @returns {Settings} */
  get settings() {
    return { provider: this.selects.provider.value, model: this.selects.model.value, size: this.selects.size.value };
  }

  /**
   * The durations a scene may choose now: {defaultSeconds, allowed, model, size}, or null.
   * @returns {DurationChoices | null}
   */
  durationChoices() {
    if (!this.catalog) return null;
    const settings = this.settings;
    const allowed = this.catalog.offer(settings.model, settings.size)?.durations ?? [];
    return { ...settings, allowed, defaultSeconds: this.catalog.secondsFor(settings, undefined) };
  }

  /**
   * The chosen model's name and what it takes beyond the prompt (reference images, frames),
   * or null without the catalog.
   * @returns {import("../references.js").ModelInputs | null}
   */
  modelInputs() {
    return this.catalog?.model(this.settings.model) ?? null;
  }

  /**
   * One scene's request and cost ("Generate scene N"), after saving; throws why it cannot.
   * @param {string} sceneId
   * @returns {Promise<import("./clip.js").Prepared>}
   */
  async prepareScene(sceneId) {
    if (!this.catalog) throw new Error("Generating is not available: the model catalog could not be loaded.");
    if (!(await this.saver.saveAll())) throw new Error(`Not generated: ${this.saver.statusText}`);
    const index = this.saver.doc.scenes.findIndex((s) => s.id === sceneId);
    const scene = this.saver.doc.scenes[index];
    if (!scene || !sceneText(scene)) throw new Error(`Scene ${index + 1} has no prompt yet: write one first.`);
    const settings = this.settings;
    const seconds = this.catalog.secondsFor(settings, scene.durationSeconds);
    const refusal = this.catalog.refusal(settings, seconds);
    if (refusal) throw new Error(`Scene ${index + 1}: ${refusal}. Choose another duration.`);
    const cost = this.catalog.estimate(settings, seconds);
    const request = { storyboardId: this.storyboardId, sceneId, ...settings, durationSeconds: seconds };
    return { request, cost, items: [this.#describeSettings(settings, seconds)] };
  }

  /** "Generate all scenes": the plan and its cost confirmed, then one call per clip length. */
  async generateAll() {
    this.button.disabled = true;
    replace(this.problem);
    try {
      if (!(await this.saver.saveAll())) throw new Error(`Not generated: ${this.saver.statusText}`);
      const settings = this.settings;
      const catalog = /** @type {Catalog} */ (this.catalog); // the button is enabled only with one
      const plan = batchPlan(this.saver.doc.scenes, this.clips(), catalog, settings);
      if (plan.problems.length) {
        replace(this.problem, errorBox({ message: "Some scenes cannot be generated with these settings:" }));
        /** @type {Element} */ (this.problem.firstChild).append(h("ul", {}, plan.problems.map((p) => h("li", {}, p))));
        return;
      }
      const skipped = plan.skip.map((s) => `Scene ${s.index + 1} skipped: ${SKIP_REASONS[s.reason]}`);
      if (!plan.generate.length) {
        replace(this.result, h("p", {}, "Nothing to generate."), h("ul", {}, skipped.map((s) => h("li", {}, s))));
        return;
      }
      const total = sum(plan.generate.map((g) => g.cost));
      const count = plan.generate.length === 1 ? "1 scene" : `${plan.generate.length} scenes`;
      const sure = await confirmDialog({
        title: `Generate ${count}?`,
        message: `Estimated cost: ${formatCost(total)} for ${count} with ${this.#describeSettings(settings)}. It counts against today's spend cap.`,
        items: [...plan.generate.map((g) => `Scene ${g.index + 1}: ${g.seconds} s, ${formatCost(g.cost)}`), ...skipped],
        confirmLabel: `Generate for ${formatCost(total)}`,
        tone: "spend",
      });
      if (sure) await this.#send(plan.generate, settings);
    } catch (error) {
      replace(this.problem, errorBox(error));
    } finally {
      this.button.disabled = !this.catalog;
    }
  }

  /**
   * One batch call per clip length (the route takes one duration); results added up.
   * @param {Planned[]} entries
   * @param {Settings} settings
   */
  async #send(entries, settings) {
    const bySeconds = Map.groupBy(entries, (e) => e.seconds);
    /** @type {Schemas["BatchGenerateAccepted"]} */
    const outcome = { jobs: [], skipped: [], estimatedCost: 0 };
    /** @type {unknown} */
    let failure = null;
    for (const [seconds, group] of bySeconds) {
      const request = { ...settings, durationSeconds: seconds, sceneIds: group.map((e) => e.scene.id) };
      try {
        const answer = await this.api.generateScenes(this.storyboardId, request, this.retryKey.for(request));
        this.retryKey.settle();
        outcome.jobs.push(...answer.jobs);
        outcome.skipped.push(...answer.skipped);
        outcome.estimatedCost += answer.estimatedCost;
      } catch (error) {
        this.retryKey.settle(error);
        failure = error;
        break;
      }
    }
    this.#showOutcome(outcome, failure);
    this.onChange();
  }

  /**
   * @param {Schemas["BatchGenerateAccepted"]} outcome
   * @param {unknown} failure why the calls stopped, or null
   */
  #showOutcome(outcome, failure) {
    const number = new Map(this.saver.doc.scenes.map((s, i) => [s.id, i + 1]));
    // The server queues only scenes it was asked for: each has its number.
    const queued = outcome.jobs.map((j) => /** @type {number} */ (number.get(j.sceneId))).sort((a, b) => a - b);
    const lines = [];
    if (queued.length) {
      lines.push(h("p", {}, `Queued ${queued.length === 1 ? "1 scene" : `${queued.length} scenes`} (scene ${queued.join(", ")}). `
        + `The server's estimate: ${formatCost(sum([outcome.estimatedCost]))}.`));
    } else if (!failure) {
      lines.push(h("p", {}, "Nothing was queued."));
    }
    if (outcome.skipped.length) {
      lines.push(h("ul", {}, outcome.skipped.map((s) => h("li", {}, `Scene ${number.get(s.sceneId) ?? s.sceneId} skipped: ${SKIP_REASONS[s.reason] ?? s.reason}`))));
    }
    replace(this.result, lines);
    if (failure) {
      replace(this.problem, errorBox(failure));
      const extra = capLines(failure);
      if (extra.length) /** @type {Element} */ (this.problem.firstChild).append(h("ul", {}, extra.map((l) => h("li", {}, l))));
    }
    announce(failure ? `Not all scenes were queued: ${describe(failure)}` : `Queued ${queued.length} of the scenes`);
  }

  #settingsFields() {
    /** @type {(name: string, label: string, onchange: () => void) => HTMLDivElement} */
    const field = (name, label, onchange) => {
      const id = newId(`generate-${name}`);
      this.selects[name] = h("select", { id, onchange });
      return h("div", { class: "field" }, h("label", { for: id }, label), this.selects[name]);
    };
    return h("div", { class: "generation-settings" },
      field("provider", "Video provider", () => this.#changed({ provider: this.selects.provider.value })),
      field("model", "Model", () => this.#changed({ ...this.settings, size: this.selects.size.value })),
      field("size", "Size", () => this.#changed(this.settings)),
      this.price);
  }

  /** @param {Partial<Settings>} wanted */
  #changed(wanted) {
    const settled = /** @type {Catalog} */ (this.catalog).settle(wanted); // these fields exist only with one
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(settled));
    this.#showSettings(settled);
    this.onSettings();
  }

  /** @param {Settings} settings settled: every part is offered */
  #showSettings(settings) {
    const { selects } = this;
    const catalog = /** @type {Catalog} */ (this.catalog);
    /** @type {(select: HTMLSelectElement, items: string[][], value: string) => void} */
    const options = (select, items, value) => {
      select.replaceChildren(...items.map(([v, label]) => h("option", { value: v }, label)));
      select.value = value;
    };
    options(selects.provider, catalog.providers.map((p) => [p.id, p.label]), settings.provider);
    options(selects.model, catalog.models(settings.provider).map((m) => [m.id, m.id]), settings.model);
    const sizes = /** @type {Schemas["ModelOffer"]} */ (catalog.model(settings.model)).sizes;
    options(selects.size, sizes.map((s) => [s.size, `${s.size} · ${formatCost(s.usdPerSecond)} per second`]), settings.size);
    const offer = /** @type {Schemas["SizeOffer"]} */ (catalog.offer(settings.model, settings.size));
    this.price.textContent = `${formatCost(offer.usdPerSecond)} per second of video; lengths offered: `
      + `${offer.durations.join(", ")} s. Price source: ${offer.priceSource} (${offer.priceAsOf}).`;
  }

  /**
   * @param {Settings} settings
   * @param {number | null} [seconds]
   */
  #describeSettings(settings, seconds = null) {
    const catalog = /** @type {Catalog} */ (this.catalog);
    const offer = /** @type {Schemas["SizeOffer"]} */ (catalog.offer(settings.model, settings.size));
    const length = seconds ? `, ${seconds} s` : "";
    const provider = catalog.provider(settings.provider)?.label ?? providerLabel(settings.provider);
    return `${provider} ${settings.model}, ${settings.size}${length} at ${formatCost(offer.usdPerSecond)} per second`;
  }
}
