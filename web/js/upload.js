// @ts-check
// A file sent with a presigned S3 POST form (every field first, the file last under "file"),
// with XMLHttpRequest because fetch cannot report upload progress. It goes straight to S3:
// the form's signature is the only credential, so no Authorization header.

/** The storage refused the upload (S3's own message when it gave one) or could not be reached. */
export class UploadError extends Error {
  /**
   * @param {number} status 0 when there was no answer
   * @param {string} message
   */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * What an S3 error document says (its <Message>), or null.
 * @param {string} body
 */
export function s3Message(body) {
  const found = /<Message>([^<]*)<\/Message>/.exec(body);
  return found ? found[1].trim() || null : null;
}

/**
 * POST `file` with the presigned `form`; `onProgress(fraction)` as it goes up. Resolves once
 * the storage accepted it; rejects with an UploadError, or an AbortError when `signal` aborts.
 * @param {{url: string, fields: Record<string, string>}} form
 * @param {Blob} file
 * @param {{onProgress?: (fraction: number) => void, signal?: AbortSignal}} [options]
 * @returns {Promise<void>}
 */
export function postForm(form, file, { onProgress = () => {}, signal } = {}) {
  return new Promise((resolve, reject) => {
    const body = new FormData();
    for (const [name, value] of Object.entries(form.fields)) body.append(name, value);
    body.append("file", file); // S3 ignores every field after the file
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.url);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
      } else {
        const said = s3Message(xhr.responseText);
        reject(new UploadError(xhr.status, `The storage refused the upload${said ? `: ${said}` : ` (HTTP ${xhr.status})`}.`));
      }
    });
    xhr.addEventListener("error", () => {
      reject(new UploadError(0, "The upload did not get through: check your connection and try again."));
    });
    xhr.addEventListener("abort", () => reject(new DOMException("The upload was cancelled", "AbortError")));
    signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}
