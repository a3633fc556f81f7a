// @ts-check
// Errors shown to people: the API's {error, details} as a message and a list of field errors.

import { ApiError, NetworkError } from "./api.js";
import { h } from "./dom.js";

/** @type {Record<string, string>} */
const FIELD_NAMES = {
  name: "Storyboard name",
  presetKey: "Preset",
  character: "Character",
  scenes: "Scenes",
  apiKey: "API key",
  provider: "Provider",
  model: "Model",
  durationSeconds: "Duration",
  size: "Size",
  sceneId: "Scene",
  prompt: "Prompt",
  "body.label": "Label",
  "body.kind": "Kind",
  "body.contentType": "File type",
  "body.sizeBytes": "File size",
  "body.file": "File",
  "body.transition.durationMs": "Crossfade length",
  "body.transition.type": "Transition",
  "body.music.referenceId": "Music",
  "body.music.volumeDb": "Music volume",
  "body.music.duck": "Duck under the clips' sound",
};

/**
 * "scenes.1.prompt" -> "Scene 2 prompt"; "apiKey" -> "API key".
 * @param {string} field
 */
export function fieldLabel(field) {
  const scene = /^scenes\.(\d+)(?:\.(.+))?$/.exec(field);
  if (scene) return `Scene ${Number(scene[1]) + 1}${scene[2] ? ` ${scene[2]}` : ""}`;
  return FIELD_NAMES[field] || field;
}

/**
 * One sentence saying what went wrong, for any error the API client throws (or any
 * `{message}`).
 * @param {unknown} error
 * @returns {string}
 */
export function describe(error) {
  if (error instanceof NetworkError) return "The server could not be reached. Check your connection and try again.";
  if (error instanceof ApiError) {
    if (error.status === 401) return "Your session has ended. Sign in again.";
    if (error.status === 404) return `${error.message}: it may have been deleted, or it belongs to another account.`;
    return error.message;
  }
  return /** @type {{message?: string} | null | undefined} */ (error)?.message || "Something went wrong.";
}

/**
 * An alert with the message and, when the API named fields, what is wrong with each.
 * @param {unknown} error as for describe()
 */
export function errorBox(error) {
  const fields = error instanceof ApiError ? error.fieldErrors : [];
  return h("div", { class: "error", role: "alert" },
    h("p", {}, describe(error)),
    fields.length
      ? h("ul", {}, fields.map((f) => h("li", {}, f.field ? `${fieldLabel(f.field)}: ${f.message}` : f.message)))
      : null);
}
