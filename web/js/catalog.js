// What the app knows of providers and presets. Until GET /api/models (issue 12) exists these
// mirror the server (videogen.catalog.PROVIDERS, videogen.generation.PRESET_STYLES; a test
// keeps them equal); phase 2 loads providers, models, durations, sizes and prices from it.

export const PROVIDERS = [
  { id: "sora", label: "Sora" },
  { id: "veo", label: "Veo" },
];

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

export function providerLabel(id) {
  return PROVIDERS.find((p) => p.id === id)?.label ?? id;
}

/**
 * The seam for confirm-before-spend. Phase 2 prices `request` from the catalog (provider,
 * model, duration, size) and resolves true only when the user confirms the cost shown.
 * Until that route exists, a click on "Generate scene N" is the confirmation, and the
 * estimate from the generate answer is shown next to the clip.
 */
export async function confirmSpend(_request) {
  return true;
}
