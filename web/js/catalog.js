// @ts-check
// What can be generated and what it costs, from GET /api/models: providers with their
// defaults and what their keys need, models (retired ones are never offered), their sizes,
// durations and prices per second. Presets stay here: the route does not list them (a unit test keeps them
// equal to the server's PRESET_STYLES).

/** @typedef {import("./api.js").Schemas} Schemas */
/** What a clip is made with (ids from the catalog). @typedef {{provider: string, model: string, size: string}} Settings */
/** A provider as offered, with its name in words. @typedef {Schemas["ProviderOffer"] & {label: string}} Provider */

export const PRESETS = [
  { key: "cinematic", label: "Cinematic" },
  { key: "anime", label: "Anime" },
  { key: "documentary", label: "Documentary" },
  { key: "noir", label: "Film noir" },
  { key: "watercolor", label: "Watercolour" },
  { key: "claymation", label: "Claymation" },
  { key: "pixar", label: "3D animated feature" },
];

export const DEFAULT_PRESET = "cinematic";

/**
 * A provider's name in words: the catalog's, else its id capitalised ("fal" -> "Fal").
 * @param {string} id
 * @param {string} [name]
 */
export function providerLabel(id, name) {
  return name || id.charAt(0).toUpperCase() + id.slice(1);
}

/**
 * USD to 4 decimal places, as the server rounds an estimate (half up).
 * @param {number} usd
 */
export function roundCost(usd) {
  return Math.round((usd + Number.EPSILON) * 10_000) / 10_000;
}

/** The catalog route's answer, with the lookups the editor needs. */
export class Catalog {
  /** @param {Schemas["Catalog"]} catalog */
  constructor({ providers, models }) {
    /** @type {Provider[]} */
    this.providers = providers.map((p) => ({ ...p, label: providerLabel(p.id, p.name) }));
    this.current = models.filter((m) => m.status !== "retired");
  }

  /** @param {string | undefined} id */
  provider(id) {
    return this.providers.find((p) => p.id === id) ?? null;
  }

  /**
   * The models a provider offers today (never a retired one).
   * @param {string} providerId
   */
  models(providerId) {
    return this.current.filter((m) => m.provider === providerId);
  }

  /** @param {string} id */
  model(id) {
    return this.current.find((m) => m.id === id) ?? null;
  }

  /**
   * The size offer (durations, price) of a model at a size, or null.
   * @param {string} modelId
   * @param {string} size
   */
  offer(modelId, size) {
    return this.model(modelId)?.sizes.find((s) => s.size === size) ?? null;
  }

  /**
   * A valid {provider, model, size} closest to `wanted`: each part kept when the catalog
   * offers it, else the provider's default (or the first offered).
   * @param {Partial<Settings>} [wanted]
   * @returns {Settings}
   */
  settle(wanted = {}) {
    const provider = this.provider(wanted.provider) ?? this.providers[0];
    const models = this.models(provider.id);
    const model = models.find((m) => m.id === wanted.model)
      ?? models.find((m) => m.id === provider.defaultModel) ?? models[0];
    const sizes = model.sizes.map((s) => s.size);
    const size = [wanted.size, provider.defaultSize].find((s) => s !== undefined && sizes.includes(s)) ?? sizes[0];
    return { provider: provider.id, model: model.id, size };
  }

  /** The seconds a scene gets: its own when set, else the provider's default (or, when the
   * size does not allow that, the longest it allows), as the server resolves it.
   * @param {Settings} settings
   * @param {number | undefined} sceneSeconds
   * @returns {number}
   */
  secondsFor(settings, sceneSeconds) {
    if (sceneSeconds) return sceneSeconds;
    const allowed = this.offer(settings.model, settings.size)?.durations ?? [];
    const fallback = this.provider(settings.provider)?.defaultDurationSeconds;
    return fallback !== undefined && allowed.includes(fallback) ? fallback : allowed[allowed.length - 1];
  }

  /**
   * Why `seconds` cannot be generated with `settings`, or null when it can.
   * @param {Settings} settings
   * @param {number} seconds
   */
  refusal(settings, seconds) {
    const allowed = this.offer(settings.model, settings.size)?.durations ?? [];
    if (allowed.includes(seconds)) return null;
    return `${seconds} s is not offered by ${settings.model} at ${settings.size} (it offers ${allowed.join(", ")} s)`;
  }

  /**
   * Estimated USD for one clip of `seconds` with `settings`: price per second x seconds.
   * @param {Settings} settings
   * @param {number} seconds
   */
  estimate(settings, seconds) {
    const offer = this.offer(settings.model, settings.size);
    return offer ? roundCost(offer.usdPerSecond * seconds) : null;
  }
}

/**
 * GET /api/models once per page (the route is cacheable); a failure is retried next time.
 * @param {{catalog(): Promise<Schemas["Catalog"]>}} api
 * @returns {() => Promise<Catalog>}
 */
export function catalogLoader(api) {
  /** @type {Promise<Catalog> | null} */
  let loading = null;
  return () => {
    loading ??= api.catalog().then((raw) => new Catalog(raw)).catch((error) => {
      loading = null;
      throw error;
    });
    return loading;
  };
}
