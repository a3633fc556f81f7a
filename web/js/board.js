// @ts-check
// The storyboard as a board, in plain data: moving a shot to another place, and the film
// timeline (shots in film order, each as long as its clip, the total length, and where a
// transition goes between two shots). No DOM here, so node --test checks it.

/** A scene's place in the film: in it or left out. @typedef {{id: string, included: boolean}} Entry */
/**
 * A shot on the timeline: its scene, its number on the board, its length (null when unknown:
 * drawn as UNKNOWN_SECONDS), whether it is in the film, and the included shot it follows in the
 * film (null for the film's first shot and for shots left out): where a transition goes.
 * @typedef {{id: string, n: number, seconds: number | null, width: number, included: boolean, after: string | null}} Shot
 */

/** How wide a shot of unknown length is drawn, in seconds. */
export const UNKNOWN_SECONDS = 4;

/**
 * `items` with the one at `from` moved to `to` (both clamped to the list); a new array.
 * @template T
 * @param {T[]} items
 * @param {number} from
 * @param {number} to
 * @returns {T[]}
 */
export function moved(items, from, to) {
  const copy = [...items];
  if (from < 0 || from >= copy.length) return copy;
  const [item] = copy.splice(from, 1);
  copy.splice(Math.max(0, Math.min(copy.length, to)), 0, item);
  return copy;
}

/**
 * Where a keyboard key sends the item at `from` of `count`: arrows one place, Home and End to
 * either end; null for any other key.
 * @param {string} key KeyboardEvent.key
 * @param {number} from
 * @param {number} count
 * @returns {number | null}
 */
export function keyTarget(key, from, count) {
  const last = count - 1;
  switch (key) {
    case "ArrowUp":
    case "ArrowLeft":
      return Math.max(0, from - 1);
    case "ArrowDown":
    case "ArrowRight":
      return Math.min(last, from + 1);
    case "Home":
      return 0;
    case "End":
      return last;
    default:
      return null;
  }
}

/**
 * The timeline: each entry (film order) as a shot, and the film's length and shot count
 * (included shots only). `secondsOf(id)` is a scene's clip length, or null when not known.
 * @param {Entry[]} entries
 * @param {string[]} boardOrder the scenes' ids in the board's order (shots are numbered by it)
 * @param {(id: string) => number | null} secondsOf
 * @returns {{shots: Shot[], totalSeconds: number, unknown: number, count: number}}
 */
export function timeline(entries, boardOrder, secondsOf) {
  const number = new Map(boardOrder.map((id, i) => [id, i + 1]));
  /** @type {Shot[]} */
  const shots = [];
  let previous = null;
  let totalSeconds = 0;
  let unknown = 0;
  let count = 0;
  for (const { id, included } of entries) {
    const seconds = secondsOf(id);
    shots.push({
      id, n: number.get(id) ?? 0, seconds, width: seconds ?? UNKNOWN_SECONDS, included,
      after: included ? previous : null,
    });
    if (!included) continue;
    previous = id;
    count += 1;
    if (seconds === null) unknown += 1;
    else totalSeconds += seconds;
  }
  return { shots, totalSeconds, unknown, count };
}

/**
 * "45 s", "1 min 05 s".
 * @param {number} seconds
 */
export function formatLength(seconds) {
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, "0")} s`;
}
