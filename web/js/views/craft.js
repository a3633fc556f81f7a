// @ts-check
// The film panel's craft: the transition between shots ("Transition": Cut or Crossfade, and the
// "Crossfade length" in seconds) and the music bed ("Music": one of the storyboard's music
// references, or a file uploaded here by the references' three steps; "Music volume" in dB;
// "Duck under the clips' sound"; "No music"). The API keeps no storyboard field for them, so the
// choices are kept per storyboard in this browser (localStorage) and sent with Compile film.

import { ApiError } from "../api.js";
import { announce, dropZone, h, newId, replace } from "../dom.js";
import { describe, errorBox } from "../errors.js";
import {
  CROSSFADE_MAX_MS, CROSSFADE_MIN_MS, compileFields, loadChoices, MUSIC_TYPES, musicProblem, musicType, saveChoices,
  settleChoices, VOLUME_DEFAULT_DB, VOLUME_MAX_DB, VOLUME_MIN_DB,
} from "../filmcraft.js";
import { labelFromFileName, MUSIC } from "../references.js";
import { postForm } from "../upload.js";

/** @typedef {import("../references.js").Reference} Reference */
/** @typedef {import("../filmcraft.js").FilmChoices} FilmChoices */

/** @param {string} text */
const hidden = (text) => h("span", { class: "visually-hidden" }, text);

export class FilmCraft {
  /**
   * `references()` lists the storyboard's references (null until loaded); `onUploaded(ref)` is
   * told of music uploaded here (the references panel lists it too); `onChange()` of any choice
   * (the timeline shows the transition).
   * @param {object} options
   * @param {import("../api.js").Api} options.api
   * @param {string} options.storyboardId
   * @param {() => Reference[] | null} options.references
   * @param {(reference: Reference) => void} options.onUploaded
   * @param {() => void} options.onChange
   */
  constructor({ api, storyboardId, references, onUploaded, onChange }) {
    this.api = api;
    this.storyboardId = storyboardId;
    this.references = references;
    this.onUploaded = onUploaded;
    this.onChange = onChange;
    /** @type {FilmChoices} */
    this.choices = loadChoices(localStorage, storyboardId);
    this.uploads = new AbortController();
    const ids = { type: newId("transition"), length: newId("crossfade-length"), lengthHint: newId("crossfade-hint"),
      music: newId("music"), volume: newId("music-volume"), duck: newId("music-duck"), file: newId("music-file"), fileHint: newId("music-hint") };
    this.type = h("select", { id: ids.type, onchange: () => this.#transitionChanged() },
      h("option", { value: "cut" }, "Cut"), h("option", { value: "crossfade" }, "Crossfade"));
    this.length = h("input", {
      id: ids.length, type: "number", min: String(CROSSFADE_MIN_MS / 1000), max: String(CROSSFADE_MAX_MS / 1000), step: "0.1",
      inputmode: "decimal", "aria-describedby": ids.lengthHint, onchange: () => this.#transitionChanged(),
    });
    this.music = h("select", { id: ids.music, onchange: () => this.#musicChanged() });
    this.volume = h("input", {
      id: ids.volume, type: "number", min: String(VOLUME_MIN_DB), max: String(VOLUME_MAX_DB), step: "1",
      onchange: () => this.#musicChanged(),
    });
    this.duck = h("input", { id: ids.duck, type: "checkbox", onchange: () => this.#musicChanged() });
    this.noMusic = h("button", { type: "button", class: "secondary small", onclick: () => this.#clearMusic() }, "No music");
    this.fileInput = h("input", {
      id: ids.file, type: "file", accept: [...MUSIC_TYPES, ".mp3", ".m4a", ".aac", ".wav", ".ogg"].join(","), "aria-describedby": ids.fileHint,
      onchange: () => {
        const file = this.fileInput.files?.[0];
        this.fileInput.value = "";
        if (file) this.upload(file);
      },
    });
    this.progress = h("progress", { max: "100", value: "0", hidden: true, "aria-label": "Uploading music" });
    this.problem = h("div", { class: "craft-problem" });
    this.dropZone = dropZone((files) => this.upload(files[0]),
    h("label", { for: ids.file }, "Upload music"),
    h("p", { class: "hint", id: ids.fileHint }, "Drop an audio file here or choose it: MP3, AAC/M4A, WAV or Ogg, up to 20 MB and 10 minutes."),
    this.fileInput, this.progress);
    this.root = h("div", { class: "film-craft" },
      h("fieldset", { class: "craft-transition" }, h("legend", {}, "Between shots"),
        h("div", { class: "field" }, h("label", { for: ids.type }, "Transition"), this.type),
        h("div", { class: "field" }, h("label", { for: ids.length }, "Crossfade length", hidden(" (seconds)")), this.length,
          h("p", { class: "hint", id: ids.lengthHint }, "0.2 to 2 s; at most half of the shortest clip."))),
      h("fieldset", { class: "craft-music" }, h("legend", {}, "Music bed"),
        h("div", { class: "field" }, h("label", { for: ids.music }, "Music"), this.music),
        h("div", { class: "field" }, h("label", { for: ids.volume }, "Music volume", hidden(" (dB)")), this.volume,
          h("p", { class: "hint" }, `dB, ${VOLUME_MIN_DB} to +${VOLUME_MAX_DB} (${VOLUME_DEFAULT_DB} by default).`)),
        h("div", { class: "check" }, this.duck, h("label", { for: ids.duck }, "Duck under the clips' sound")),
        h("div", { class: "actions" }, this.noMusic),
        this.dropZone),
      this.problem);
    this.#show();
  }

  /** The compile request's `transition` and `music`. */
  get fields() {
    return compileFields(this.choices);
  }

  /** The storyboard's references changed (loaded, uploaded, deleted): the music list follows. */
  referencesChanged() {
    const list = this.references();
    const chosen = this.choices.music?.referenceId;
    // Music deleted meanwhile is no longer chosen (once the list is known).
    if (list && chosen && !list.some((r) => r.id === chosen && r.kind === MUSIC && r.status === "ready")) {
      this.#set({ ...this.choices, music: null });
      return;
    }
    this.#show();
  }

  stop() {
    this.uploads.abort();
  }

  /** The ready music references, by label. */
  #tracks() {
    return (this.references() ?? []).filter((r) => r.kind === MUSIC && r.status === "ready");
  }

  /** Put the choices into the controls. */
  #show() {
    const { transition, music } = this.choices;
    this.type.value = transition.type;
    this.length.value = String(transition.durationMs / 1000);
    this.length.disabled = transition.type !== "crossfade";
    const tracks = this.#tracks();
    const known = music && tracks.some((t) => t.id === music.referenceId);
    replace(this.music, h("option", { value: "" }, "No music"),
      tracks.map((t) => h("option", { value: t.id }, t.label)),
      music && !known ? h("option", { value: music.referenceId }, "Music being loaded…") : null);
    this.music.value = music?.referenceId ?? "";
    this.volume.value = String(music?.volumeDb ?? VOLUME_DEFAULT_DB);
    this.duck.checked = music?.duck ?? true;
    for (const control of [this.volume, this.duck, this.noMusic]) control.disabled = !music;
  }

  /** @param {FilmChoices} choices */
  #set(choices) {
    this.choices = settleChoices(choices);
    saveChoices(localStorage, this.storyboardId, this.choices);
    this.#show();
    this.onChange();
  }

  #transitionChanged() {
    const seconds = Number(this.length.value);
    const durationMs = Number.isFinite(seconds) && this.length.value !== "" ? Math.round(seconds * 1000) : this.choices.transition.durationMs;
    const type = this.type.value === "crossfade" ? "crossfade" : "cut";
    this.#set({ ...this.choices, transition: { type, durationMs } });
  }

  #musicChanged() {
    const referenceId = this.music.value;
    const volume = Number(this.volume.value);
    this.#set({
      ...this.choices,
      music: referenceId
        ? { referenceId, volumeDb: this.volume.value === "" || !Number.isFinite(volume) ? VOLUME_DEFAULT_DB : volume, duck: this.duck.checked }
        : null,
    });
  }

  #clearMusic() {
    this.#set({ ...this.choices, music: null });
    this.music.focus();
    announce("No music under the film");
  }

  /**
   * Declare the music, send its file to S3 (progress shown), complete it (the server decodes
   * it); then it is the film's music. Refused at any step: nothing is kept, the reason shown.
   * @param {File} file
   */
  async upload(file) {
    replace(this.problem);
    const problem = musicProblem(file);
    if (problem) {
      replace(this.problem, errorBox({ message: problem }));
      announce(problem);
      return;
    }
    const signal = this.uploads.signal;
    this.fileInput.disabled = true;
    this.progress.hidden = false;
    this.progress.value = 0;
    /** @type {string | null} */
    let declared = null;
    let completing = false;
    try {
      const { reference, upload } = await this.api.createReference(this.storyboardId, {
        kind: MUSIC, label: labelFromFileName(file.name), contentType: /** @type {(typeof MUSIC_TYPES)[number]} */ (musicType(file)),
        sizeBytes: file.size,
      });
      declared = reference.id;
      await postForm(upload, file, { signal, onProgress: (done) => { this.progress.value = Math.round(done * 100); } });
      completing = true;
      const ready = await this.api.completeReference(this.storyboardId, reference.id);
      this.onUploaded(ready);
      this.#set({ ...this.choices, music: { referenceId: ready.id, volumeDb: this.choices.music?.volumeDb ?? VOLUME_DEFAULT_DB, duck: this.choices.music?.duck ?? true } });
      announce(`Music ${ready.label} uploaded and chosen for the film`);
    } catch (error) {
      // A completion refused with 400 was removed by the server; anything else declared goes here.
      const removed = completing && error instanceof ApiError && error.status === 400;
      if (declared && !removed) this.api.deleteReference(this.storyboardId, declared).catch(() => {});
      if (signal.aborted) return;
      const box = errorBox(error);
      box.prepend(h("p", {}, h("strong", {}, `${file.name} was not added.`)));
      replace(this.problem, box);
      announce(`${file.name} was not added: ${describe(error)}`);
    } finally {
      this.fileInput.disabled = false;
      this.progress.hidden = true;
    }
  }
}
