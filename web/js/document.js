// @ts-check
// The editable part of a storyboard (name, presetKey, character, scenes) as plain data:
// comparing versions, the PATCH body, and re-applying a user's edits onto a newer server
// version after a conflict (a three-way merge: base = what the edits started from).

/**
 * A scene as the app edits it: its id, prompt and length, and whatever else it holds (kept).
 * @typedef {{id: string, prompt?: string, durationSeconds?: number, [field: string]: unknown}} Scene
 */
/**
 * The editable part of a storyboard.
 * @typedef {object} Doc
 * @property {string} name
 * @property {string} presetKey
 * @property {Record<string, unknown>} character
 * @property {Scene[]} scenes
 */
/**
 * One row of the conflict panel (undefined = absent on that side).
 * @typedef {{label: string, server: unknown, mine: unknown, changedBy: "server" | "you" | "both"}} Difference
 */

/** @type {(keyof Doc)[]} */
export const FIELDS = ["name", "presetKey", "character", "scenes"];

/**
 * The editable fields of a storyboard from the API, as a detached copy.
 * @param {import("./api.js").Storyboard} storyboard
 * @returns {Doc}
 */
export function editable(storyboard) {
  // The contract types scenes as JSON objects; each has its id (the server requires one).
  return /** @type {Doc} */ (structuredClone({
    name: storyboard.name,
    presetKey: storyboard.presetKey,
    character: storyboard.character || {},
    scenes: storyboard.scenes || [],
  }));
}

/**
 * JSON with object keys sorted: PostgreSQL's JSONB does not keep key order.
 * @param {unknown} value
 * @returns {string}
 */
export function canonical(value) {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]))
      : v);
}

/**
 * @param {unknown} a
 * @param {unknown} b
 */
export function same(a, b) {
  return canonical(a) === canonical(b);
}

/**
 * The top-level fields of `doc` that differ from `base`: the body of a PATCH.
 * @param {Doc} base
 * @param {Doc} doc
 * @returns {Partial<Doc>}
 */
export function changedFields(base, doc) {
  /** @type {Record<string, unknown>} */
  const changes = {};
  for (const field of FIELDS) {
    if (!same(base[field], doc[field])) changes[field] = structuredClone(doc[field]);
  }
  return changes;
}

/**
 * A new, empty scene with an id unique within any storyboard.
 * @returns {Scene}
 */
export function newScene() {
  return { id: `scene-${crypto.randomUUID().slice(0, 8)}`, prompt: "" };
}

/**
 * What the user must fix before a save can succeed (the API would answer 400).
 * @param {Doc} doc
 */
export function problems(doc) {
  /** @type {import("./api.js").FieldProblem[]} */
  const found = [];
  if (!doc.name.trim()) found.push({ field: "name", message: "The storyboard needs a name." });
  return found;
}

/**
 * The keys that changed from `before` to `after`, set (or deleted) the same way in `target`.
 * @template {Record<string, unknown>} T
 * @param {T} target
 * @param {Record<string, unknown>} before
 * @param {Record<string, unknown>} after
 * @returns {T}
 */
function applyKeyEdits(target, before, after) {
  /** @type {Record<string, unknown>} */
  const out = target;
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (same(before[key], after[key])) continue;
    if (key in after) out[key] = structuredClone(after[key]);
    else delete out[key];
  }
  return target;
}

/**
 * `primary` ids kept in `keep`, then each kept id of `secondary` missing from it inserted
 * after its nearest predecessor (in `secondary`) that is already placed.
 * @param {string[]} primary
 * @param {string[]} secondary
 * @param {Set<string>} keep
 */
function weave(primary, secondary, keep) {
  const order = primary.filter((id) => keep.has(id));
  secondary.forEach((id, index) => {
    if (!keep.has(id) || order.includes(id)) return;
    let at = 0;
    for (let i = index - 1; i >= 0; i -= 1) {
      const placed = order.indexOf(secondary[i]);
      if (placed >= 0) { at = placed + 1; break; }
    }
    order.splice(at, 0, id);
  });
  return order;
}

/**
 * @param {Scene[]} base
 * @param {Scene[]} mine
 * @param {Scene[]} theirs
 * @returns {Scene[]}
 */
function rebaseScenes(base, mine, theirs) {
  const baseById = new Map(base.map((s) => [s.id, s]));
  const mineIds = new Set(mine.map((s) => s.id));
  /** @type {Map<string, Scene>} */
  const result = new Map();
  for (const scene of theirs) {
    const removedByMe = baseById.has(scene.id) && !mineIds.has(scene.id);
    if (!removedByMe) result.set(scene.id, structuredClone(scene));
  }
  for (const scene of mine) {
    const before = baseById.get(scene.id);
    if (!before) {
      result.set(scene.id, structuredClone(scene)); // added by me
    } else if (!same(before, scene)) {
      // My field edits onto the server's scene (or the scene again, if the server removed it).
      result.set(scene.id, applyKeyEdits(result.get(scene.id) ?? structuredClone(before), before, scene));
    }
  }
  const ids = (/** @type {Scene[]} */ list) => list.map((s) => s.id);
  const common = (/** @type {Scene[]} */ list, /** @type {Scene[]} */ other) =>
    ids(list).filter((id) => other.some((s) => s.id === id));
  const reorderedByMe = !same(common(base, mine), common(mine, base));
  const keep = new Set(result.keys());
  const order = reorderedByMe ? weave(ids(mine), ids(theirs), keep) : weave(ids(theirs), ids(mine), keep);
  return order.map((id) => /** @type {Scene} */ (result.get(id))); // order holds result's ids only
}

/**
 * The user's edits (from `base` to `mine`) re-applied onto `theirs`, the newer server
 * version: what the user changed wins, everything else is the server's.
 * @param {Doc} base what the user's edits started from
 * @param {Doc} mine
 * @param {Doc} theirs
 * @returns {Doc}
 */
export function rebase(base, mine, theirs) {
  const out = structuredClone(theirs);
  for (const field of /** @type {const} */ (["name", "presetKey"])) {
    if (!same(base[field], mine[field])) out[field] = mine[field];
  }
  out.character = applyKeyEdits(out.character, base.character, mine.character);
  out.scenes = rebaseScenes(base.scenes, mine.scenes, theirs.scenes);
  return out;
}

/** @type {Record<string, string>} */
const CHARACTER_LABELS = {
  name: "Character name", description: "Character description", referenceIds: "Character reference images",
};
/** @type {Record<string, string>} */
const SCENE_FIELD_NAMES = {
  prompt: "prompt", durationSeconds: "duration (seconds)",
  referenceIds: "references", firstFrame: "first frame", lastFrame: "last frame",
  continueFrom: "continue from the previous shot",
};

/**
 * @param {string} id
 * @param {Scene[]} mine
 * @param {Scene[]} theirs
 */
function sceneLabel(id, mine, theirs) {
  const at = mine.findIndex((s) => s.id === id);
  return `Scene ${(at >= 0 ? at : theirs.findIndex((s) => s.id === id)) + 1}`;
}

/**
 * @param {unknown} base
 * @param {unknown} mine
 * @param {unknown} theirs
 * @returns {Difference["changedBy"]}
 */
function changedBy(base, mine, theirs) {
  const byServer = !same(base, theirs);
  const byMe = !same(base, mine);
  return byServer && byMe ? "both" : byServer ? "server" : "you";
}

/**
 * Where the server's version and the user's differ, field by field:
 * [{label, server, mine, changedBy: "server" | "you" | "both"}] (undefined = absent).
 * @param {Doc} base
 * @param {Doc} mine
 * @param {Doc} theirs
 */
export function differences(base, mine, theirs) {
  /** @type {Difference[]} */
  const rows = [];
  /** @type {(label: string, b: unknown, m: unknown, t: unknown, shown?: (v: any) => unknown) => void} */
  const add = (label, b, m, t, shown = (v) => v) => {
    if (same(m, t)) return;
    rows.push({ label, server: shown(t), mine: shown(m), changedBy: changedBy(b, m, t) });
  };
  add("Storyboard name", base.name, mine.name, theirs.name);
  add("Preset", base.presetKey, mine.presetKey, theirs.presetKey);
  const keys = new Set([base, mine, theirs].flatMap((d) => Object.keys(d.character)));
  for (const key of keys) {
    add(CHARACTER_LABELS[key] || `Character ${key}`, base.character[key], mine.character[key], theirs.character[key]);
  }
  /** @type {(list: Scene[]) => Map<string, Scene>} */
  const byId = (list) => new Map(list.map((s) => [s.id, s]));
  const [b, m, t] = [byId(base.scenes), byId(mine.scenes), byId(theirs.scenes)];
  for (const id of new Set([...m.keys(), ...t.keys(), ...b.keys()])) {
    const label = sceneLabel(id, mine.scenes, theirs.scenes);
    const [mineScene, theirScene] = [m.get(id), t.get(id)];
    if (!mineScene || !theirScene) {
      const present = (/** @type {Map<string, Scene>} */ map) => (map.has(id) ? map.get(id)?.prompt ?? "" : undefined);
      add(label, present(b), present(m), present(t));
      continue;
    }
    const fields = new Set([...Object.keys(mineScene), ...Object.keys(theirScene)]);
    fields.delete("id");
    for (const field of fields) {
      const name = SCENE_FIELD_NAMES[field] ?? field;
      add(`${label} ${name}`, b.get(id)?.[field], mineScene[field], theirScene[field]);
    }
  }
  // The order of the scenes all three versions have, shown as their prompts.
  const shared = [...m.keys()].filter((id) => t.has(id) && b.has(id));
  const order = (/** @type {Doc} */ d) => d.scenes.filter((s) => shared.includes(s.id)).map((s) => s.id);
  const prompts = (/** @type {string[]} */ ids) => ids.map((id) => m.get(id)?.prompt || "(no prompt)").join("\n");
  add("Scene order", order(base), order(mine), order(theirs), prompts);
  return rows;
}
