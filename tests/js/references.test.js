// @ts-check
// web/js/references.js and upload.js's pure parts: what may be uploaded, labels from file
// names, which image choices of a scene a model can take (the server's rules, said before
// generating), the storyboard's choices after a delete, and S3's error messages.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  choosable, fileProblem, forgetReference, isUsed, labelFromFileName, MAX_BYTES, sceneChoices, toggled,
} from "../../web/js/references.js";
import { s3Message } from "../../web/js/upload.js";

/** @typedef {import("../../web/js/references.js").ModelInputs} ModelInputs */
/** @typedef {import("../../web/js/document.js").Doc} Doc */

/**
 * @param {string} name
 * @param {Partial<ModelInputs["inputs"]>} inputs
 * @returns {ModelInputs}
 */
function model(name, inputs) {
  return {
    name,
    inputs: {
      firstFrame: false, lastFrame: false, referenceImages: 0, referenceDurations: [], referencesWithFrames: false,
      negativePrompt: false, ...inputs,
    },
  };
}

const SORA = model("Sora 2", { firstFrame: true });
const VEO = model("Veo 3.1", { firstFrame: true, lastFrame: true, referenceImages: 3, referenceDurations: [8] });
const BOTH = model("Both", { firstFrame: true, lastFrame: true, referenceImages: 2, referencesWithFrames: true });

describe("what may be uploaded", () => {
  test("a label is the file name without its extension", () => {
    assert.equal(labelFromFileName("ada-front.png"), "ada-front");
    assert.equal(labelFromFileName("  lab   door .final.JPG"), "lab door .final");
    assert.equal(labelFromFileName(".png"), ".png");
    assert.equal(labelFromFileName(`${"x".repeat(150)}.webp`).length, 100);
  });

  test("only PNG, JPEG or WebP files of 1 byte to 10 MB are taken", () => {
    assert.equal(fileProblem({ name: "a.png", type: "image/png", size: 10 }), null);
    assert.equal(fileProblem({ name: "a.webp", type: "image/webp", size: MAX_BYTES }), null);
    assert.equal(fileProblem({ name: "a.gif", type: "image/gif", size: 10 }), "a.gif is not a PNG, JPEG or WebP image.");
    assert.equal(fileProblem({ name: "theme.mp3", type: "audio/mpeg", size: 10 }),
      "theme.mp3 is audio: add it as the film's music (Upload music, under Film).");
    assert.equal(fileProblem({ name: "a.jpg", type: "image/jpeg", size: 0 }), "a.jpg is empty.");
    assert.equal(fileProblem({ name: "a.jpg", type: "image/jpeg", size: MAX_BYTES + 1 }), "a.jpg is over 10 MB.");
  });
});

describe("a scene's image choices against the chosen model", () => {
  test("a model taking no reference images and no last frame disables them, saying why", () => {
    const choices = sceneChoices({ id: "s" }, SORA, 4);
    assert.deepEqual(choices.references, { reason: "Sora 2 takes no reference images", chosen: false, disabled: true });
    assert.deepEqual(choices.firstFrame, { reason: null, chosen: false, disabled: false });
    assert.deepEqual(choices.lastFrame, { reason: "Sora 2 takes no last frame", chosen: false, disabled: true });
  });

  test("a choice the model cannot take stays enabled, to be undone, with its reason", () => {
    const choices = sceneChoices({ id: "s", firstFrame: "f", lastFrame: "l" }, SORA, 4);
    assert.deepEqual(choices.lastFrame, { reason: "Sora 2 takes no last frame", chosen: true, disabled: false });
    const own = sceneChoices({ id: "s", referenceIds: ["a"] }, SORA, 4);
    assert.equal(own.references.disabled, false);
    assert.equal(own.references.reason, "Sora 2 takes no reference images");
  });

  test("a last frame needs a first frame", () => {
    assert.equal(sceneChoices({ id: "s" }, VEO, 8).lastFrame.reason, "A last frame needs a first frame");
    assert.equal(sceneChoices({ id: "s", firstFrame: "f" }, VEO, 8).lastFrame.reason, null);
  });

  test("references or frames, not both, where the model says so", () => {
    const framed = sceneChoices({ id: "s", firstFrame: "f" }, VEO, 8);
    assert.equal(framed.references.reason, "Veo 3.1 takes reference images or frames, not both");
    assert.equal(framed.references.disabled, true);
    const own = sceneChoices({ id: "s", referenceIds: ["a"] }, VEO, 8);
    assert.equal(own.firstFrame.reason, "Veo 3.1 takes reference images or frames, not both");
    // An explicit empty choice ("none") leaves the frames free.
    assert.equal(sceneChoices({ id: "s", referenceIds: [] }, VEO, 8).firstFrame.reason, null);
    const both = sceneChoices({ id: "s", firstFrame: "f", referenceIds: ["a"] }, BOTH, 8);
    assert.equal(both.references.reason, null);
    assert.equal(both.firstFrame.reason, null);
  });

  test("reference images only at the durations the model takes them, and no more than it takes", () => {
    assert.equal(sceneChoices({ id: "s" }, VEO, 4).references.reason, "Veo 3.1 takes reference images at 8 s only");
    assert.equal(sceneChoices({ id: "s" }, VEO, 8).references.reason, null);
    const many = sceneChoices({ id: "s", referenceIds: ["a", "b", "c"] }, BOTH, 8);
    assert.equal(many.references.reason, "Both takes at most 2 reference images");
  });

  test("continuing from the previous shot: not the first scene, a model that takes a first frame, no first frame of its own", () => {
    const TEXT_ONLY = model("Text only", {});
    assert.deepEqual(sceneChoices({ id: "s" }, VEO, 8, true).continueFrom,
      { reason: "The first scene has no previous shot to continue", chosen: false, disabled: true });
    assert.equal(sceneChoices({ id: "s" }, TEXT_ONLY, 8).continueFrom.reason, "Text only takes no first frame");
    assert.equal(sceneChoices({ id: "s", firstFrame: "f" }, VEO, 8).continueFrom.reason,
      "A first frame is chosen: choose None to continue instead");
    const continuing = sceneChoices({ id: "s", continueFrom: "previous" }, VEO, 8);
    assert.deepEqual(continuing.continueFrom, { reason: null, chosen: true, disabled: false });
    assert.equal(continuing.firstFrame.reason, "It starts from the previous shot's last frame");
    assert.equal(continuing.firstFrame.disabled, true);
    assert.equal(continuing.lastFrame.reason, null); // the previous shot's frame is a first frame
    assert.equal(continuing.references.reason, "Veo 3.1 takes reference images or frames, not both");
    // moved to the top, a continuing scene shows why it cannot, and can still be switched off
    const moved = sceneChoices({ id: "s", continueFrom: "previous" }, VEO, 8, true);
    assert.deepEqual(moved.continueFrom,
      { reason: "The first scene has no previous shot to continue", chosen: true, disabled: false });
  });

  test("without the catalog nothing is refused but a last frame alone", () => {
    const choices = sceneChoices({ id: "s" }, null, null);
    assert.equal(choices.references.reason, null);
    assert.equal(choices.firstFrame.reason, null);
    assert.equal(choices.lastFrame.reason, "A last frame needs a first frame");
  });
});

describe("the storyboard's choices", () => {
  test("scenes and the character choose among ready images, never music", () => {
    const at = "2026-12-07T10:00:00Z";
    /** @type {import("../../web/js/references.js").Reference[]} */
    const references = [
      { id: "a", kind: "character", label: "Ada", status: "ready", createdAt: at },
      { id: "b", kind: "music", label: "Theme", status: "ready", durationSeconds: 30, createdAt: at },
      { id: "c", kind: "frame", label: "Door", status: "pending", createdAt: at },
    ];
    assert.deepEqual(choosable(references).map((r) => r.id), ["a"]);
  });

  test("an id is added at the end or taken out", () => {
    assert.deepEqual(toggled(["a", "b"], "c", true), ["a", "b", "c"]);
    assert.deepEqual(toggled(["a", "b"], "a", true), ["b", "a"]);
    assert.deepEqual(toggled(["a", "b"], "a", false), ["b"]);
  });

  test("a deleted reference leaves the character, the scenes' own choices and their frames", () => {
    /** @type {Doc} */
    const doc = {
      name: "n", presetKey: "p",
      character: { name: "Ada", referenceIds: ["gone"] },
      scenes: [
        { id: "1", referenceIds: ["gone", "kept"], firstFrame: "gone", lastFrame: "kept" },
        { id: "2", prompt: "x", lastFrame: "gone" },
      ],
    };
    assert.equal(isUsed(doc, "gone"), true);
    forgetReference(doc, "gone");
    assert.deepEqual(doc.character, { name: "Ada" });
    assert.deepEqual(doc.scenes, [{ id: "1", referenceIds: ["kept"], lastFrame: "kept" }, { id: "2", prompt: "x" }]);
    assert.equal(isUsed(doc, "gone"), false);
  });
});

describe("S3's answers", () => {
  test("the message of an error document", () => {
    const body = "<?xml version=\"1.0\"?><Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed size</Message></Error>";
    assert.equal(s3Message(body), "Your proposed upload exceeds the maximum allowed size");
    assert.equal(s3Message(""), null);
  });
});
