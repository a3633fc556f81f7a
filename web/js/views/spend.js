// @ts-check
// Today's spend against the daily cap, and jobs in flight against their cap (GET /api/usage):
// shown in the editor, refreshed after each generate, cancel and finished clip.

import { h, newId, replace } from "../dom.js";
import { describe } from "../errors.js";
import { formatCost } from "../generation.js";

export class SpendPanel {
  /** @param {Pick<import("../api.js").Api, "usage">} api */
  constructor(api) {
    this.api = api;
    /** @type {import("../api.js").Schemas["TodayUsage"] | null} */
    this.today = null;
    this.body = h("div", { class: "spend-body" }, h("p", { class: "loading" }, "Loading today's spend…"));
    const titleId = newId("spend-title");
    this.root = h("section", { class: "spend", "aria-labelledby": titleId },
      h("h2", { id: titleId }, "Spend today"), this.body);
    /** @type {Promise<void> | null} */
    this.pending = null;
  }

  /** Ask the server again (calls made while one is on its way share it). */
  refresh() {
    this.pending ??= this.api.usage()
      .then((usage) => this.#show(usage.today))
      .catch((error) => replace(this.body, h("p", { class: "clip-error" }, `Spend not available: ${describe(error)}`)))
      .finally(() => { this.pending = null; });
    return this.pending;
  }

  /** @param {import("../api.js").Schemas["TodayUsage"]} today */
  #show(today) {
    this.today = today;
    const share = today.dailyCap > 0 ? Math.min(100, Math.round((today.spent / today.dailyCap) * 100)) : 100;
    replace(this.body,
      h("p", { class: "spent" },
        h("strong", {}, formatCost(today.spent)), ` spent or reserved of the ${formatCost(today.dailyCap)} daily cap `,
        `(${formatCost(today.remaining)} left, UTC day ${today.date})`),
      h("meter", { min: "0", max: "100", value: String(share), "aria-label": "Share of the daily cap spent" }),
      h("p", { class: "in-flight" }, `Jobs in flight: ${today.jobsInFlight} of ${today.maxJobsInFlight} allowed at once`));
  }
}
