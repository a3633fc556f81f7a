// @ts-check
// The storyboard's reference images, with the character: files dropped or chosen are staged
// (a label from the file name and a kind, both fixed once uploaded), then each goes up in
// three steps (declared, sent to S3 with its progress shown, completed: checked by the server)
// and shows as its thumbnail, with "Use for the character" (character.referenceIds, saved by
// auto-save) and Delete. A file refused at any step leaves nothing listed.

import { ApiError } from "../api.js";
import { announce, confirmDialog, dropZone, h, newId, replace } from "../dom.js";
import { describe, errorBox } from "../errors.js";
import {
  choosable, CONTENT_TYPES, fileProblem, forgetReference, idsOf, isUsed, KINDS, kindLabel, labelFromFileName, MUSIC,
  MAX_PER_STORYBOARD, toggled,
} from "../references.js";
import { postForm } from "../upload.js";

/** @typedef {import("../references.js").Reference} Reference */
/** @typedef {import("../references.js").Kind} Kind */
/** @typedef {import("../references.js").ContentType} ContentType */
/** A file staged for upload: its list item and fields. @typedef {{file: File, item: HTMLLIElement, label: HTMLInputElement, kind: HTMLSelectElement, labelError: HTMLParagraphElement, progress: HTMLProgressElement, buttons: HTMLButtonElement[]}} Staged */

/** @param {string} text */
const hidden = (text) => h("span", { class: "visually-hidden" }, text);

/** @param {number} bytes */
function size(bytes) {
  return bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KB` : `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export class ReferencesPanel {
  /**
   * `onChange()` is told when the ready references changed (the scenes' choices list them).
   * @param {object} options
   * @param {import("../api.js").Api} options.api
   * @param {import("../autosave.js").Autosaver} options.saver
   * @param {string} options.storyboardId
   * @param {() => void} options.onChange
   */
  constructor({ api, saver, storyboardId, onChange }) {
    this.api = api;
    this.saver = saver;
    this.storyboardId = storyboardId;
    this.onChange = onChange;
    /** @type {Reference[] | null} null until loaded */
    this.references = null;
    /** @type {Set<Staged>} */
    this.staged = new Set();
    this.uploads = new AbortController(); // aborted when the editor is left
    this.problems = h("div", { class: "references-problems" });
    this.uploadList = h("ul", { class: "reference-uploads" });
    this.list = h("ul", { class: "references-list" }, h("li", { class: "loading" }, "Loading reference images…"));
    this.count = h("p", { class: "hint" });
    const inputId = newId("reference-files");
    const hintId = newId("reference-files-hint");
    this.fileInput = h("input", {
      id: inputId, type: "file", accept: CONTENT_TYPES.join(","), multiple: true, "aria-describedby": hintId,
      onchange: () => {
        this.stage([...(this.fileInput.files ?? [])]);
        this.fileInput.value = "";
      },
    });
    this.dropZone = dropZone((files) => this.stage(files),
    h("label", { for: inputId }, "Add reference images"),
    h("p", { class: "hint", id: hintId },
      `Drop images here or choose them: PNG, JPEG or WebP, up to 10 MB each, ${MAX_PER_STORYBOARD} per storyboard.`),
    this.fileInput);
    const titleId = newId("references-title");
    this.root = h("section", { class: "references", "aria-labelledby": titleId },
      h("h2", { id: titleId }, "Reference images"),
      h("p", { class: "hint" },
        "Those used for the character go to every scene whose model takes reference images, unless the scene chooses its own."),
      this.dropZone, this.problems, this.uploadList, this.list, this.count);
  }

  /** The references ready to be chosen (images, never music), or null until loaded. */
  get ready() {
    return this.references ? choosable(this.references) : null;
  }

  /** GET the storyboard's references (once, when the editor opens). */
  async load() {
    try {
      this.references = await this.api.listReferences(this.storyboardId, this.uploads.signal);
    } catch (error) {
      if (this.uploads.signal.aborted) return;
      replace(this.list);
      this.#problem(errorBox({ message: `Reference images are not available: ${describe(error)} Reload the page to try again.` }));
      return;
    }
    this.fill();
    this.onChange();
  }

  /** Leaving the editor: uploads still going are dropped (declared ones deleted). */
  stop() {
    this.uploads.abort();
  }

  /** Show the listed references and their character marks (on load, and after a conflict). */
  fill() {
    if (!this.references) return;
    replace(this.list, this.references.map((r) => this.#item(r)));
    this.#count();
  }

  /**
   * A reference uploaded elsewhere on the page (music, from the film panel): listed here too.
   * @param {Reference} reference ready
   */
  include(reference) {
    this.references = [...(this.references ?? []).filter((r) => r.id !== reference.id), reference];
    this.fill();
    this.onChange();
  }

  /**
   * Files dropped or chosen: each one we can take is staged (label and kind to check), each
   * other one said why not.
   * @param {File[]} files
   */
  stage(files) {
    replace(this.problems);
    /** @type {string[]} */
    const refused = [];
    let room = MAX_PER_STORYBOARD - (this.references?.length ?? 0) - this.staged.size;
    /** @type {Staged | null} */
    let first = null;
    for (const file of files) {
      const problem = fileProblem(file);
      if (problem) refused.push(problem);
      else if (room <= 0) refused.push(`${file.name} was not added: a storyboard holds at most ${MAX_PER_STORYBOARD} reference images.`);
      else {
        room -= 1;
        const staged = this.#staged(file);
        first ??= staged;
      }
    }
    if (refused.length) {
      const box = errorBox({ message: refused.length === 1 ? refused[0] : "These files cannot be reference images:" });
      if (refused.length > 1) box.append(h("ul", {}, refused.map((r) => h("li", {}, r))));
      this.#problem(box);
    }
    if (first) {
      first.label.focus();
      first.label.select();
      announce(`${this.staged.size === 1 ? "1 image" : `${this.staged.size} images`} ready to upload: check the label and kind`);
    }
  }

  /**
   * A staged file's item: its label (from the file name) and kind, Upload and Discard.
   * @param {File} file
   * @returns {Staged}
   */
  #staged(file) {
    const labelId = newId("reference-label");
    const kindId = newId("reference-kind");
    const labelError = h("p", { class: "field-error", id: newId("reference-label-error"), hidden: true });
    const label = h("input", {
      id: labelId, type: "text", maxlength: "100", autocomplete: "off", value: labelFromFileName(file.name),
      "aria-describedby": labelError.id,
      onkeydown: (event) => {
        if (/** @type {KeyboardEvent} */ (event).key !== "Enter") return;
        event.preventDefault(); // not the editor's form
        this.upload(staged);
      },
    });
    const kind = h("select", { id: kindId }, KINDS.map((k) => h("option", { value: k.value }, k.label)));
    const progress = h("progress", { max: "100", value: "0", hidden: true, "aria-label": `Uploading ${file.name}` });
    const upload = h("button", { type: "button", class: "small", onclick: () => this.upload(staged) },
      "Upload", hidden(` ${file.name}`));
    const discard = h("button", { type: "button", class: "secondary small", onclick: () => this.#discard(staged) },
      "Discard", hidden(` ${file.name}`));
    const item = h("li", { class: "reference staged" },
      h("p", { class: "reference-file" }, h("strong", {}, file.name), ` · ${size(file.size)}`),
      h("div", { class: "reference-fields" },
        h("div", { class: "field" }, h("label", { for: labelId }, "Label", hidden(` of ${file.name}`)), label, labelError),
        h("div", { class: "field" }, h("label", { for: kindId }, "Kind", hidden(` of ${file.name}`)), kind)),
      h("div", { class: "actions" }, upload, discard),
      progress);
    /** @type {Staged} */
    const staged = { file, item, label, kind, labelError, progress, buttons: [upload, discard] };
    this.staged.add(staged);
    this.uploadList.append(item);
    this.#count();
    return staged;
  }

  /** @param {Staged} staged */
  #discard(staged) {
    this.#unstage(staged);
    this.fileInput.focus();
  }

  /** @param {Staged} staged */
  #unstage(staged) {
    this.staged.delete(staged);
    staged.item.remove();
    this.#count();
  }

  /**
   * Declare the reference, send its file to S3 (progress shown), complete it; on any refusal
   * the reference is gone (deleted here if the server kept it) and the message shown.
   * @param {Staged} staged
   */
  async upload(staged) {
    const { file, item, label, kind, labelError, progress, buttons } = staged;
    const text = label.value.trim();
    labelError.hidden = Boolean(text);
    labelError.textContent = text ? "" : "Give the image a label.";
    label.setAttribute("aria-invalid", String(!text));
    if (!text) {
      label.focus();
      return;
    }
    for (const control of [label, kind, ...buttons]) control.disabled = true;
    progress.hidden = false;
    item.setAttribute("aria-busy", "true");
    const signal = this.uploads.signal;
    /** @type {string | null} */
    let declared = null;
    let completing = false;
    try {
      const { reference, upload } = await this.api.createReference(this.storyboardId, {
        kind: /** @type {Kind} */ (kind.value), label: text, contentType: /** @type {ContentType} */ (file.type), sizeBytes: file.size,
      });
      declared = reference.id;
      await postForm(upload, file, { signal, onProgress: (done) => { progress.value = Math.round(done * 100); } });
      completing = true;
      const ready = await this.api.completeReference(this.storyboardId, reference.id);
      this.#added(staged, ready);
    } catch (error) {
      // A completion refused with 400 was removed by the server; anything else declared goes here.
      const removed = completing && error instanceof ApiError && error.status === 400;
      if (declared && !removed) this.api.deleteReference(this.storyboardId, declared).catch(() => {});
      if (signal.aborted) return;
      const hadFocus = item.contains(document.activeElement);
      this.#unstage(staged);
      const box = errorBox(error);
      box.prepend(h("p", {}, h("strong", {}, `${file.name} was not added.`)));
      this.#problem(box);
      announce(`${file.name} was not added: ${describe(error)}`);
      if (hadFocus) this.fileInput.focus();
    }
  }

  /**
   * @param {Staged} staged
   * @param {Reference} reference ready
   */
  #added(staged, reference) {
    const hadFocus = staged.item.contains(document.activeElement) || document.activeElement === document.body;
    this.#unstage(staged);
    this.references = [...(this.references ?? []).filter((r) => r.id !== reference.id), reference];
    const item = this.#item(reference);
    this.list.append(item);
    this.#count();
    if (hadFocus) /** @type {HTMLElement} */ (item.querySelector("input[type=checkbox]")).focus();
    announce(`Reference image ${reference.label} added`);
    this.onChange();
  }

  /**
   * A listed reference: its thumbnail (lazy), label and kind, "Use for the character" and
   * Delete; a pending one (an upload not finished) only says so, with Delete.
   * @param {Reference} reference
   */
  #item(reference) {
    const ready = reference.status === "ready";
    const item = h("li", { class: ready ? "reference" : "reference pending", dataset: { referenceId: reference.id } });
    const remove = h("button", { type: "button", class: "danger small", onclick: () => this.remove(reference, item) },
      "Delete", hidden(` reference ${reference.label}`));
    const seconds = reference.durationSeconds;
    const size = reference.width ? `${reference.width}×${reference.height}` : seconds ? `${Math.round(seconds)} s` : null;
    const details = [
      h("p", { class: "reference-label" }, reference.label),
      h("p", { class: "hint" }, [kindLabel(reference.kind), size].filter(Boolean).join(" · ")),
    ];
    if (!ready) {
      item.append(
        h("div", { class: "thumbnail missing", "aria-hidden": "true" }),
        h("div", { class: "reference-meta" }, details, h("p", { class: "hint" }, "Upload not finished (or still going on elsewhere).")),
        remove);
      return item;
    }
    if (reference.kind === MUSIC) { // for films only: listened to here, never used for the character
      const player = h("audio", { controls: true, preload: "none", src: reference.url ?? "", "aria-label": `Listen to ${reference.label}` });
      item.append(h("div", { class: "thumbnail missing", "aria-hidden": "true" }),
        h("div", { class: "reference-meta" }, details, player), remove);
      return item;
    }
    const useId = newId("reference-use");
    const use = h("input", {
      id: useId, type: "checkbox", checked: idsOf(this.saver.doc.character).includes(reference.id),
      onchange: () => { this.#useForCharacter(reference.id, use.checked); },
    });
    item.append(
      this.#thumbnail(reference),
      h("div", { class: "reference-meta" }, details,
        h("div", { class: "check" }, use, h("label", { for: useId }, "Use for the character", hidden(`: ${reference.label}`)))),
      remove);
    return item;
  }

  /**
   * The thumbnail; an expired presigned URL is fetched afresh once.
   * @param {Reference} reference
   */
  #thumbnail(reference) {
    let refreshed = false;
    const img = h("img", {
      src: reference.thumbnailUrl ?? "", alt: `Thumbnail of ${reference.label}`, loading: "lazy", decoding: "async",
      width: "96", height: "96", class: "thumbnail",
      onerror: async () => {
        if (refreshed) return;
        refreshed = true;
        const fresh = await this.api.listReferences(this.storyboardId).catch(() => []);
        const url = fresh.find((r) => r.id === reference.id)?.thumbnailUrl;
        if (url) img.src = url;
      },
    });
    return img;
  }

  /**
   * @param {string} id
   * @param {boolean} on
   */
  #useForCharacter(id, on) {
    this.saver.edit((doc) => {
      const ids = toggled(idsOf(doc.character), id, on);
      if (ids.length) doc.character.referenceIds = ids;
      else delete doc.character.referenceIds;
    });
    this.onChange();
  }

  /**
   * Delete, once confirmed; the storyboard's choices forget it (saved by auto-save).
   * @param {Reference} reference
   * @param {HTMLLIElement} item
   */
  async remove(reference, item) {
    const used = isUsed(this.saver.doc, reference.id);
    const sure = await confirmDialog({
      title: `Delete reference “${reference.label}”?`,
      message: `The image is deleted for good${used ? "; the character and scenes that use it no longer do" : ""}.`,
      confirmLabel: "Delete reference",
    });
    if (!sure) return;
    replace(this.problems);
    try {
      await this.api.deleteReference(this.storyboardId, reference.id);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) { // gone already: as good as deleted
        this.#problem(errorBox(error));
        return;
      }
    }
    this.references = (this.references ?? []).filter((r) => r.id !== reference.id);
    const next = /** @type {HTMLElement | null} */ (item.nextElementSibling || item.previousElementSibling);
    item.remove();
    if (used) this.saver.edit((doc) => forgetReference(doc, reference.id));
    this.#count();
    (next?.querySelector("button") ?? this.fileInput).focus();
    announce(`Reference image ${reference.label} deleted`);
    this.onChange();
  }

  /** @param {HTMLElement} box an errorBox */
  #problem(box) {
    this.problems.append(box);
  }

  #count() {
    if (!this.references) return;
    const n = this.references.length;
    this.count.textContent = n ? `${n} of ${MAX_PER_STORYBOARD} reference images.` : "No reference images yet.";
  }
}
