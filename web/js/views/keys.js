// @ts-check
// Provider keys: store, replace, remove. Only the last four characters are ever shown; the
// key is typed into a password field that is cleared once saved. A Google key says which API
// it is for, an OpenAI-compatible key names its endpoint; the provider checks the key when it
// is saved, and one it could not check shows as unverified. An OpenAI-compatible key shows the
// webhook URL to register at its endpoint and takes the endpoint's signing secret (never shown).

import { announce, confirmDialog, focusHeading, h, newId, replace } from "../dom.js";
import { errorBox } from "../errors.js";

/**
 * @param {import("../main.js").Ctx} ctx
 * @returns {Promise<import("../main.js").Leave>}
 */
export async function keysView(ctx) {
  const problem = h("div");
  const body = h("div", {}, h("p", { class: "loading" }, "Loading…"));
  replace(ctx.main,
    h("h1", {}, "Provider keys"),
    h("p", {}, "Generating clips uses your own key for each video provider. Keys are stored "
      + "encrypted and are never shown again: only their last four characters."),
    problem,
    body);
  focusHeading(ctx.main);
  const renderId = ctx.renderId;
  let catalog;
  try {
    catalog = await ctx.catalog(); // the providers
  } catch (error) {
    if (ctx.renderId === renderId) replace(body, errorBox(error));
    return () => {};
  }
  if (ctx.renderId !== renderId) return () => {};
  const sections = new Map(catalog.providers.map((p) => [p.id, new KeySection(ctx, p)]));
  replace(body, [...sections.values()].map((s) => s.root));
  ctx.api.listKeys()
    .then((keys) => { for (const section of sections.values()) section.show(keys.find((k) => k.provider === section.provider.id)); })
    .catch((error) => replace(problem, errorBox(error)));
  return () => {};
}

/** @type {Record<string, string>} */
const API_LABELS = { gemini: "Gemini API (a Google AI Studio key)", vertex: "Vertex AI express mode" };

/**
 * "Stored: a key ending in abcd, for the Gemini API, checked by the provider, last used …."
 * @param {import("../api.js").Schemas["ApiKeySummary"]} key
 */
export function describeKey(key) {
  const parts = [`Stored: a key ending in ${key.last4}`];
  if (key.api) parts.push(`for ${API_LABELS[key.api] ?? key.api}`);
  if (key.baseUrl) parts.push(`at ${key.baseUrl}`);
  parts.push(key.verified ? "checked by the provider" : "unverified (the provider could not check it)");
  if (key.lastUsedAt) parts.push(`last used ${new Date(key.lastUsedAt).toLocaleString()}`);
  if (key.webhookUrl) parts.push(key.webhookSecretAt ? "webhook on" : "no webhook secret (polling only)");
  return `${parts.join(", ")}.`;
}

/**
 * The webhook URL to register, absolute (the API answers it relative when it runs behind this
 * app's own origin).
 * @param {string} url
 */
export function absoluteWebhookUrl(url) {
  return new URL(url, globalThis.location?.origin ?? "http://localhost").href;
}

class KeySection {
  /**
   * @param {import("../main.js").Ctx} ctx
   * @param {import("../catalog.js").Provider} provider
   */
  constructor(ctx, provider) {
    this.ctx = ctx;
    this.provider = provider;
    const titleId = newId("key-title");
    const inputId = newId("key-input");
    this.state = h("p", { class: "key-state" }, "Checking…");
    this.input = h("input", {
      id: inputId, type: "password", autocomplete: "off", spellcheck: "false", minlength: "8", maxlength: "512",
    });
    this.submit = h("button", { type: "submit" }, `Save ${provider.label} key`);
    this.removeButton = h("button", { type: "button", class: "danger", hidden: true, onclick: () => this.remove() },
      `Remove ${provider.label} key`);
    this.problem = h("div");
    /** @type {(Node | null)[]} */
    const extra = [];
    /** @type {HTMLSelectElement | null} */
    this.apiSelect = null;
    /** @type {HTMLInputElement | null} */
    this.baseUrl = null;
    /** @type {HTMLInputElement | null} */
    this.webhookSecret = null;
    this.webhookUrl = h("p", { class: "hint", hidden: true });
    if (provider.keyApis.length) {
      const apiId = newId("key-api");
      this.apiSelect = h("select", { id: apiId },
        provider.keyApis.map((api) => h("option", { value: api }, API_LABELS[api] ?? api)));
      extra.push(h("label", { for: apiId }, "The key is for"), this.apiSelect);
    }
    if (provider.keyNeedsBaseUrl) {
      const urlId = newId("key-url");
      this.baseUrl = h("input", {
        id: urlId, type: "url", inputmode: "url", autocomplete: "off", spellcheck: "false",
        placeholder: "https://gateway.example.com/v1", maxlength: "2048",
      });
      const retired = provider.retiredEndpoints.map((e) => `${e.baseUrl} closed on ${e.retiredOn}`).join("; ");
      extra.push(h("label", { for: urlId }, "Endpoint base URL"), this.baseUrl,
        h("p", { class: "hint" }, `Any endpoint speaking the OpenAI videos API (https)${retired ? `; ${retired}` : ""}.`));
      const secretId = newId("key-webhook-secret");
      this.webhookSecret = h("input", {
        id: secretId, type: "password", autocomplete: "off", spellcheck: "false", maxlength: "512",
        placeholder: "whsec_…",
      });
      extra.push(h("label", { for: secretId }, "Webhook signing secret (optional)"), this.webhookSecret,
        h("p", { class: "hint" }, "Register the webhook URL shown above at your endpoint for video.completed "
          + "and video.failed, then paste the secret it gives you and save the key again. Without it, "
          + "clips are followed by polling."));
    }
    this.root = h("section", { class: "key", "aria-labelledby": titleId },
      h("h2", { id: titleId }, provider.label),
      this.state,
      this.webhookUrl,
      h("form", { class: "key-form", novalidate: true, onsubmit: (e) => { e.preventDefault(); this.save(); } },
        h("label", { for: inputId }, `${provider.label} API key`),
        this.input,
        ...extra,
        this.submit),
      this.removeButton,
      this.problem);
  }

  /**
   * Show a key summary from the API (undefined or inactive: none stored).
   * @param {import("../api.js").Schemas["ApiKeySummary"] | undefined} key
   */
  show(key) {
    const stored = key?.isActive ? key : null;
    this.state.textContent = stored ? describeKey(stored) : "No key stored.";
    if (stored?.api && this.apiSelect) this.apiSelect.value = stored.api;
    if (stored?.baseUrl && this.baseUrl && !this.baseUrl.value) this.baseUrl.value = stored.baseUrl;
    this.submit.textContent = `${stored ? "Replace" : "Save"} ${this.provider.label} key`;
    this.removeButton.hidden = !stored;
    const url = stored?.webhookUrl;
    this.webhookUrl.hidden = !url;
    this.webhookUrl.textContent = url ? `Webhook URL to register at the endpoint: ${absoluteWebhookUrl(url)}` : "";
  }

  async save() {
    const apiKey = this.input.value.trim();
    if (apiKey.length < 8) {
      replace(this.problem, errorBox({ message: "Enter the whole key (at least 8 characters)." }));
      this.input.focus();
      return;
    }
    this.submit.disabled = true;
    try {
      /** @type {{api?: "gemini" | "vertex", baseUrl?: string, webhookSecret?: string}} */
      const where = {};
      if (this.apiSelect) where.api = /** @type {"gemini" | "vertex"} */ (this.apiSelect.value);
      if (this.baseUrl?.value.trim()) where.baseUrl = this.baseUrl.value.trim();
      if (this.webhookSecret?.value.trim()) where.webhookSecret = this.webhookSecret.value.trim();
      const summary = await this.ctx.api.putKey(this.provider.id, apiKey, where);
      this.input.value = "";
      if (this.webhookSecret) this.webhookSecret.value = "";
      replace(this.problem);
      this.show(summary);
      announce(`${this.provider.label} key saved${summary.verified ? "" : " unverified"}; it ends in ${summary.last4}`);
    } catch (error) {
      replace(this.problem, errorBox(error));
    } finally {
      this.submit.disabled = false;
    }
  }

  async remove() {
    const sure = await confirmDialog({
      title: `Remove the ${this.provider.label} key?`,
      message: `Clips cannot be generated with ${this.provider.label} until a key is stored again.`,
      confirmLabel: "Remove key",
    });
    if (!sure) return;
    try {
      await this.ctx.api.deleteKey(this.provider.id);
      replace(this.problem);
      this.show(undefined);
      this.input.focus();
      announce(`${this.provider.label} key removed`);
    } catch (error) {
      replace(this.problem, errorBox(error));
    }
  }
}
