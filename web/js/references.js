// @ts-check
// Reference images as plain data: what may be uploaded (types, size, how many), a label from a
// file's name, which of a scene's image choices the model chosen for generation can take (the
// server's rules, videogen/references/scene_images.py, told before generating), and the
// storyboard's choices once a reference is deleted.

/** @typedef {import("./api.js").Schemas} Schemas */
/** A reference image as the API answers it. @typedef {Schemas["ReferenceOut"]} Reference */
/** @typedef {Schemas["ReferenceCreate"]["kind"]} Kind */
/** @typedef {Schemas["ReferenceCreate"]["contentType"]} ContentType */
/** @typedef {import("./document.js").Doc} Doc */
/** @typedef {import("./document.js").Scene} Scene */
/** What a model takes beyond the prompt, and its name. @typedef {{name: string, inputs: Schemas["InputsOffer"]}} ModelInputs */
/**
 * One of a scene's image choices as the editor shows it: why it cannot be used now (null when
 * it can), whether the scene chose something for it, and so whether the control is disabled
 * (nothing chosen and nothing that could be; a choice made stays editable, to be undone).
 * @typedef {{reason: string | null, chosen: boolean, disabled: boolean}} ImageChoice
 */

/** @type {{value: Kind, label: string}[]} */
export const KINDS = [
  { value: "character", label: "Character" },
  { value: "object", label: "Object" },
  { value: "style", label: "Style" },
  { value: "frame", label: "Frame" },
];
/** @type {ContentType[]} */
export const CONTENT_TYPES = ["image/png", "image/jpeg", "image/webp"];
export const MAX_BYTES = 10 * 1024 * 1024;
export const MAX_PER_STORYBOARD = 12;
const LABEL_MAX = 100;

/** Music: an audio file for a film's music bed; a scene or the character never takes it. */
export const MUSIC = "music";

/** @param {string} kind */
export function kindLabel(kind) {
  if (kind === MUSIC) return "Music";
  return KINDS.find((k) => k.value === kind)?.label ?? kind;
}

/**
 * The references a scene or the character may choose: the ready images (never music, which
 * only a film takes: the server refuses a scene naming it).
 * @param {Reference[]} references
 */
export function choosable(references) {
  return references.filter((r) => r.status === "ready" && r.kind !== MUSIC);
}

/**
 * A label from a file's name: without its extension, spaces tidied, at most 100 characters.
 * @param {string} fileName
 */
export function labelFromFileName(fileName) {
  const stem = fileName.replace(/\.[^.]*$/, "").replace(/\s+/g, " ").trim();
  return (stem || fileName.trim() || "Reference").slice(0, LABEL_MAX).trim();
}

/**
 * Why a file cannot be a reference image (its type or size), or null.
 * @param {{name: string, type: string, size: number}} file
 */
export function fileProblem(file) {
  if (file.type.startsWith("audio/")) return `${file.name} is audio: add it as the film's music (Upload music, under Film).`;
  if (!CONTENT_TYPES.includes(/** @type {ContentType} */ (file.type))) return `${file.name} is not a PNG, JPEG or WebP image.`;
  if (file.size === 0) return `${file.name} is empty.`;
  if (file.size > MAX_BYTES) return `${file.name} is over 10 MB.`;
  return null;
}

/**
 * A scene's own reference ids (it overrides the character's), or null when it uses the character's.
 * @param {Scene} scene
 * @returns {string[] | null}
 */
export function sceneReferenceIds(scene) {
  return Array.isArray(scene.referenceIds) ? scene.referenceIds.map(String) : null;
}

/**
 * The ids of a list field (`character.referenceIds`), or [].
 * @param {Record<string, unknown>} holder
 * @returns {string[]}
 */
export function idsOf(holder) {
  const ids = holder.referenceIds;
  return Array.isArray(ids) ? ids.map(String) : [];
}

/**
 * `ids` with `id` added (at the end) or taken out.
 * @param {string[]} ids
 * @param {string} id
 * @param {boolean} on
 */
export function toggled(ids, id, on) {
  const without = ids.filter((i) => i !== id);
  return on ? [...without, id] : without;
}

/**
 * Whether the scene starts where the previous shot ended (`continueFrom: "previous"`).
 * @param {Scene} scene
 */
export const continues = (scene) => scene.continueFrom === "previous";

/**
 * Which of the scene's image choices `model` can take at `seconds`: its reference images (its
 * own or, by default, the character's), a first frame, a last frame, continuing from the
 * previous shot (its last frame as the first frame; not for the first scene). `model` null (no
 * catalog): nothing is known to be refused.
 * @param {Scene} scene
 * @param {ModelInputs | null} model
 * @param {number | null} seconds the scene's clip length
 * @param {boolean} [firstScene] whether the scene is the storyboard's first
 * @returns {{references: ImageChoice, firstFrame: ImageChoice, lastFrame: ImageChoice, continueFrom: ImageChoice}}
 */
export function sceneChoices(scene, model, seconds, firstScene = false) {
  const own = sceneReferenceIds(scene);
  const continuing = continues(scene);
  const framed = Boolean(scene.firstFrame) || continuing;
  const inputs = model?.inputs;
  const name = model?.name ?? "";
  // The model takes references or frames, one or the other (Veo).
  const eitherOr = Boolean(inputs && inputs.referenceImages > 0 && !inputs.referencesWithFrames);
  /** @type {(reason: string | null, chosen: boolean) => ImageChoice} */
  const choice = (reason, chosen) => ({ reason, chosen, disabled: Boolean(reason) && !chosen });

  let references = null;
  if (inputs && inputs.referenceImages === 0) references = `${name} takes no reference images`;
  else if (eitherOr && framed) references = `${name} takes reference images or frames, not both`;
  else if (inputs && own && own.length > inputs.referenceImages) references = `${name} takes at most ${inputs.referenceImages} reference images`;
  else if (inputs?.referenceDurations.length && seconds !== null && !inputs.referenceDurations.includes(seconds)) {
    references = `${name} takes reference images at ${inputs.referenceDurations.join(", ")} s only`;
  }
  const ownChosen = Boolean(own?.length);

  let first = null;
  if (inputs && !inputs.firstFrame) first = `${name} takes no first frame`;
  else if (continuing) first = "It starts from the previous shot's last frame";
  else if (eitherOr && ownChosen) first = `${name} takes reference images or frames, not both`;

  let previous = null;
  if (firstScene) previous = "The first scene has no previous shot to continue";
  else if (inputs && !inputs.firstFrame) previous = `${name} takes no first frame`;
  else if (scene.firstFrame) previous = "A first frame is chosen: choose None to continue instead";
  else if (eitherOr && ownChosen) previous = `${name} takes reference images or frames, not both`;

  let last = null;
  if (inputs && !inputs.lastFrame) last = `${name} takes no last frame`;
  else if (!framed) last = "A last frame needs a first frame";
  else if (eitherOr && ownChosen) last = `${name} takes reference images or frames, not both`;

  return {
    references: choice(references, ownChosen),
    firstFrame: choice(first, Boolean(scene.firstFrame)),
    lastFrame: choice(last, Boolean(scene.lastFrame)),
    continueFrom: choice(previous, continuing),
  };
}

/**
 * Take a deleted reference out of the storyboard's choices (in place): the character's, each
 * scene's own (a scene that chose its own keeps choosing, from what is left), its frames.
 * @param {Doc} doc
 * @param {string} id
 */
export function forgetReference(doc, id) {
  const character = idsOf(doc.character);
  if (character.includes(id)) {
    const left = character.filter((i) => i !== id);
    if (left.length) doc.character.referenceIds = left;
    else delete doc.character.referenceIds;
  }
  for (const scene of doc.scenes) {
    const own = sceneReferenceIds(scene);
    if (own?.includes(id)) scene.referenceIds = own.filter((i) => i !== id);
    if (scene.firstFrame === id) delete scene.firstFrame;
    if (scene.lastFrame === id) delete scene.lastFrame;
  }
}

/**
 * Whether the storyboard names the reference anywhere.
 * @param {Doc} doc
 * @param {string} id
 */
export function isUsed(doc, id) {
  return idsOf(doc.character).includes(id)
    || doc.scenes.some((s) => sceneReferenceIds(s)?.includes(id) || s.firstFrame === id || s.lastFrame === id);
}
