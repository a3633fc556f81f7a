// The scenes of the editor: each scene's prompt and duration, add, remove, reorder (buttons,
// so it works from the keyboard), with names that follow the order ("Scene 2 prompt").

import { newScene } from "../document.js";
import { announce, confirmDialog, h, newId } from "../dom.js";

const MAX_DURATION_SECONDS = 60;

function parseDuration(raw) {
  if (raw.trim() === "") return { value: undefined };
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > MAX_DURATION_SECONDS) {
    return { error: `Enter whole seconds from 1 to ${MAX_DURATION_SECONDS}, or leave it empty for the provider's default.` };
  }
  return { value };
}

export class ScenesEditor {
  /** `clipFor(sceneId)` gives the scene's clip view (kept across re-renders). */
  constructor({ saver, clipFor, forgetClip }) {
    this.saver = saver;
    this.clipFor = clipFor;
    this.forgetClip = forgetClip;
    this.list = h("ol", { class: "scenes" });
    const headingId = newId("scenes-title");
    this.root = h("section", { class: "scenes-section", "aria-labelledby": headingId },
      h("h2", { id: headingId }, "Scenes"),
      this.list,
      h("button", { type: "button", class: "add-scene", onclick: () => this.add() }, "Add scene"));
  }

  get scenes() {
    return this.saver.doc.scenes;
  }

  /** Rebuild the cards from the current version; then focus `focus` (a selector) if given. */
  render(focus = null) {
    this.list.replaceChildren(...this.scenes.map((scene, index) => this.#card(scene, index)));
    if (focus) this.root.querySelector(focus)?.focus();
  }

  add() {
    const scene = newScene();
    this.saver.edit((doc) => doc.scenes.push(scene));
    this.render(`[data-scene-id="${scene.id}"] textarea`);
    announce(`Scene ${this.scenes.length} added`);
  }

  async remove(id) {
    const index = this.scenes.findIndex((s) => s.id === id);
    const scene = this.scenes[index];
    if (scene.prompt?.trim()) {
      const sure = await confirmDialog({
        title: `Remove scene ${index + 1}?`,
        message: `Its prompt "${scene.prompt.slice(0, 120)}" goes with it.`,
        confirmLabel: "Remove scene",
      });
      if (!sure) return;
    }
    this.saver.edit((doc) => doc.scenes.splice(doc.scenes.findIndex((s) => s.id === id), 1));
    this.forgetClip(id);
    const next = this.scenes[Math.min(index, this.scenes.length - 1)];
    this.render(next ? `[data-scene-id="${next.id}"] textarea` : ".add-scene");
    announce(`Scene ${index + 1} removed`);
  }

  move(id, delta) {
    const from = this.scenes.findIndex((s) => s.id === id);
    const to = from + delta;
    if (to < 0 || to >= this.scenes.length) return;
    this.saver.edit((doc) => {
      const [scene] = doc.scenes.splice(from, 1);
      doc.scenes.splice(to, 0, scene);
    });
    // Focus stays on the moved scene's button, or its other one at either end.
    const direction = delta < 0 ? "up" : "down";
    const atEnd = to === 0 || to === this.scenes.length - 1;
    const other = direction === "up" ? "down" : "up";
    this.render(`[data-scene-id="${id}"] [data-action="${atEnd ? other : direction}"]`);
    announce(`Scene moved to position ${to + 1} of ${this.scenes.length}`);
  }

  #card(scene, index) {
    const n = index + 1;
    const promptId = newId("scene-prompt");
    const durationId = newId("scene-duration");
    const durationError = h("p", { class: "field-error", id: newId("duration-error"), hidden: true });
    const prompt = h("textarea", {
      id: promptId,
      rows: "3",
      value: scene.prompt ?? "",
      oninput: (event) => this.saver.edit((doc) => { this.#scene(doc, scene.id).prompt = event.target.value; }),
    });
    const duration = h("input", {
      id: durationId,
      type: "number",
      inputmode: "numeric",
      min: "1",
      max: String(MAX_DURATION_SECONDS),
      step: "1",
      placeholder: "default",
      value: scene.durationSeconds ?? "",
      "aria-describedby": durationError.id,
      oninput: (event) => this.#setDuration(scene.id, event.target, durationError),
    });
    const tool = (action, label, onclick, disabled) => h("button", {
      type: "button", class: "secondary small", dataset: { action }, onclick, disabled,
    }, label, h("span", { class: "visually-hidden" }, ` scene ${n}`));
    const clip = this.clipFor(scene.id);
    clip.setIndex(index);
    return h("li", { class: "scene", dataset: { sceneId: scene.id } },
      h("h3", {}, `Scene ${n}`),
      h("label", { for: promptId }, `Scene ${n} prompt`),
      prompt,
      h("div", { class: "duration" },
        h("label", { for: durationId }, `Scene ${n} duration (seconds)`),
        duration,
        durationError),
      h("div", { class: "scene-tools" },
        tool("up", "Move up", () => this.move(scene.id, -1), index === 0),
        tool("down", "Move down", () => this.move(scene.id, 1), index === this.scenes.length - 1),
        tool("remove", "Remove", () => this.remove(scene.id), false)),
      clip.root);
  }

  #setDuration(id, input, error) {
    const parsed = parseDuration(input.value);
    error.hidden = !parsed.error;
    error.textContent = parsed.error || "";
    input.setAttribute("aria-invalid", String(Boolean(parsed.error)));
    if (parsed.error) return;
    this.saver.edit((doc) => {
      const scene = this.#scene(doc, id);
      if (parsed.value === undefined) delete scene.durationSeconds;
      else scene.durationSeconds = parsed.value;
    });
  }

  #scene(doc, id) {
    return doc.scenes.find((s) => s.id === id);
  }
}
