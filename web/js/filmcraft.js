// @ts-check
// Film craft as plain data: a film's transition and music bed as the film panel keeps them (the
// API has no storyboard field for them, so they are kept per storyboard in this browser), the
// words the timeline and a film show for them, what music may be uploaded, and a scene's caption
// (one line, its timing in seconds within the shot) as the storyboard stores it.

import { formatLength } from "./board.js";

/** @typedef {import("./api.js").Schemas} Schemas */
/** @typedef {Schemas["Transition"]} Transition */
/** @typedef {Schemas["Music"]} Music */
/** @typedef {import("./document.js").Scene} Scene */
/**
 * The film panel's choices: the transition, and the music bed (null: no music).
 * @typedef {{transition: Transition, music: Music | null}} FilmChoices
 */

export const CROSSFADE_MIN_MS = 200;
export const CROSSFADE_MAX_MS = 2000;
export const CROSSFADE_DEFAULT_MS = 500;
export const VOLUME_MIN_DB = -30;
export const VOLUME_MAX_DB = 6;
export const VOLUME_DEFAULT_DB = -12;
export const CAPTION_MAX = 200;

/** The audio types the server takes for music (an upload declares one of them). */
export const MUSIC_TYPES = /** @type {const} */ (["audio/mpeg", "audio/mp4", "audio/aac", "audio/x-m4a", "audio/wav", "audio/x-wav", "audio/ogg"]);
export const MUSIC_MAX_BYTES = 20 * 1024 * 1024;
/** @type {Record<string, (typeof MUSIC_TYPES)[number]>} by extension, for a file the browser gives no type */
const MUSIC_BY_EXTENSION = { mp3: "audio/mpeg", m4a: "audio/mp4", mp4: "audio/mp4", aac: "audio/aac", wav: "audio/wav", ogg: "audio/ogg", oga: "audio/ogg" };

/** @returns {FilmChoices} */
export function defaultChoices() {
  return { transition: { type: "cut", durationMs: CROSSFADE_DEFAULT_MS }, music: null };
}

/**
 * @param {unknown} value
 * @param {number} min
 * @param {number} max
 * @param {number} fallback
 */
function within(value, min, max, fallback) {
  const n = Number(value);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : fallback;
}

/**
 * Choices read back (from storage, or anything): whatever is not a valid choice is the default.
 * @param {unknown} raw
 * @returns {FilmChoices}
 */
export function settleChoices(raw) {
  const out = defaultChoices();
  if (!raw || typeof raw !== "object") return out;
  const { transition, music } = /** @type {Record<string, any>} */ (raw);
  if (transition && typeof transition === "object") {
    out.transition.type = transition.type === "crossfade" ? "crossfade" : "cut";
    out.transition.durationMs = Math.round(within(transition.durationMs, CROSSFADE_MIN_MS, CROSSFADE_MAX_MS, CROSSFADE_DEFAULT_MS));
  }
  if (music && typeof music === "object" && typeof music.referenceId === "string" && music.referenceId) {
    out.music = {
      referenceId: music.referenceId,
      volumeDb: within(music.volumeDb, VOLUME_MIN_DB, VOLUME_MAX_DB, VOLUME_DEFAULT_DB),
      duck: music.duck !== false,
    };
  }
  return out;
}

/** @param {string} storyboardId */
const storageKey = (storyboardId) => `film.choices.${storyboardId}`;

/**
 * The choices kept for a storyboard in this browser (the defaults when none, or unreadable).
 * @param {Pick<Storage, "getItem">} storage
 * @param {string} storyboardId
 */
export function loadChoices(storage, storyboardId) {
  try {
    return settleChoices(JSON.parse(storage.getItem(storageKey(storyboardId)) || "null"));
  } catch {
    return defaultChoices();
  }
}

/**
 * @param {Pick<Storage, "setItem">} storage
 * @param {string} storyboardId
 * @param {FilmChoices} choices
 */
export function saveChoices(storage, storyboardId, choices) {
  try {
    storage.setItem(storageKey(storyboardId), JSON.stringify(choices));
  } catch {
    // Storage full or refused: the choices stay for this visit.
  }
}

/**
 * "0.5 s", "2 s": milliseconds as seconds, without trailing zeros.
 * @param {number} ms
 */
export function seconds(ms) {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/**
 * What the timeline shows between two shots: "Cut" or "Crossfade 0.5 s".
 * @param {Transition | null | undefined} transition
 */
export function transitionLabel(transition) {
  return transition?.type === "crossfade" ? `Crossfade ${seconds(transition.durationMs)}` : "Cut";
}

/**
 * The film's length: the shots' total less one overlap per cut when they crossfade ("7.5 s").
 * @param {number} totalSeconds the shots' lengths added up
 * @param {number} count how many shots
 * @param {Transition} transition
 */
export function filmLength(totalSeconds, count, transition) {
  const overlap = transition.type === "crossfade" ? Math.max(0, count - 1) * transition.durationMs / 1000 : 0;
  const seconds = Math.max(0, totalSeconds - overlap);
  return seconds < 60 && !Number.isInteger(seconds) ? `${Number(seconds.toFixed(1))} s` : formatLength(seconds);
}

/**
 * "Music: Harbour theme at -12 dB, ducked" (the label when the reference is known).
 * @param {Music | null | undefined} music
 * @param {string | null} [label]
 */
export function musicLabel(music, label = null) {
  if (!music) return "No music";
  const name = label ? `${label} ` : "";
  return `Music: ${name}at ${music.volumeDb} dB${music.duck ? ", ducked under the clips' sound" : ""}`;
}

/**
 * The compile request's craft fields: the transition always (a cut is the default anyway), the
 * music when chosen.
 * @param {FilmChoices} choices
 * @returns {{transition: Transition, music?: Music}}
 */
export function compileFields(choices) {
  const transition = choices.transition.type === "crossfade"
    ? { type: /** @type {const} */ ("crossfade"), durationMs: choices.transition.durationMs }
    : { type: /** @type {const} */ ("cut"), durationMs: choices.transition.durationMs };
  return choices.music ? { transition, music: { ...choices.music } } : { transition };
}

/**
 * The content type to declare for a music file: the browser's, or one from its extension.
 * @param {{name: string, type: string}} file
 * @returns {(typeof MUSIC_TYPES)[number] | null}
 */
export function musicType(file) {
  if (/** @type {readonly string[]} */ (MUSIC_TYPES).includes(file.type)) return /** @type {(typeof MUSIC_TYPES)[number]} */ (file.type);
  if (file.type && !["application/octet-stream", "video/mp4", "video/ogg", "audio/x-aac", "audio/vnd.wave", "audio/mp3"].includes(file.type)) return null;
  const extension = /\.([^.]+)$/.exec(file.name)?.[1]?.toLowerCase() ?? "";
  return MUSIC_BY_EXTENSION[extension] ?? null;
}

/**
 * Why a file cannot be music (its type or size), or null; its length is checked by the server.
 * @param {{name: string, type: string, size: number}} file
 */
export function musicProblem(file) {
  if (!musicType(file)) return `${file.name} is not an MP3, AAC/M4A, WAV or Ogg audio file.`;
  if (file.size === 0) return `${file.name} is empty.`;
  if (file.size > MUSIC_MAX_BYTES) return `${file.name} is over 20 MB.`;
  return null;
}

/**
 * A caption as typed, made one line: line breaks (and any other control character) become
 * spaces; at most 200 characters.
 * @param {string} text
 */
export function oneLine(text) {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ").slice(0, CAPTION_MAX);
}

/**
 * Seconds as typed ("1.5", "", "abc") -> whole milliseconds, null when empty; NaN when not a
 * number of seconds 0 or more.
 * @param {string} text
 */
export function millisecondsFrom(text) {
  const trimmed = text.trim().replace(",", ".");
  if (!trimmed) return null;
  const n = Number(trimmed);
  return Number.isFinite(n) && n >= 0 ? Math.round(n * 1000) : Number.NaN;
}

/**
 * Why a caption's timing cannot be saved, or null: each a number of seconds within the shot
 * (`shotSeconds`, null when unknown), the end after the start.
 * @param {number | null} startMs
 * @param {number | null} endMs
 * @param {number | null} shotSeconds
 * @returns {{field: "captionStartMs" | "captionEndMs", message: string} | null}
 */
export function timingProblem(startMs, endMs, shotSeconds) {
  const limit = shotSeconds ? shotSeconds * 1000 : null;
  for (const [field, ms, name] of /** @type {const} */ ([["captionStartMs", startMs, "start"], ["captionEndMs", endMs, "end"]])) {
    if (ms !== null && Number.isNaN(ms)) return { field, message: `The caption's ${name} is a number of seconds, 0 or more.` };
    if (ms !== null && limit !== null && ms > limit) return { field, message: `The caption's ${name} is past the shot's ${shotSeconds} s.` };
  }
  if (startMs !== null && endMs !== null && endMs <= startMs) return { field: "captionEndMs", message: "The caption's end comes after its start." };
  return null;
}

/**
 * The scene with its caption set (in place): empty text and timings are taken out.
 * @param {Scene} scene
 * @param {{caption?: string, captionStartMs?: number | null, captionEndMs?: number | null}} change
 */
export function setCaption(scene, change) {
  /** @type {Record<string, unknown>} */
  const fields = scene;
  for (const [key, value] of Object.entries(change)) {
    if (value === null || value === "" || value === undefined) delete fields[key];
    else fields[key] = value;
  }
  return scene;
}

/**
 * The index of the scene a server's field error is about when it is about a caption, or null
 * ("storyboard.scenes.2.caption", "scenes.2" with a message naming the caption).
 * @param {{field: string, message: string}} problem
 */
export function captionProblemScene(problem) {
  const found = /(?:^|\.)scenes\.(?:[^.]*\.)?(\d+)(?:\.|$)/.exec(problem.field);
  if (!found) return null;
  return /caption/i.test(`${problem.field} ${problem.message}`) ? Number(found[1]) : null;
}
