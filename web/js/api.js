// @ts-check
// The API client: one request function (identity headers, JSON, errors as exceptions) and
// one method per route this app calls. Its JSDoc types come from docs/openapi.json (through
// web/types/api.d.ts), so a change of the contract breaks the type check where it matters.

/** The API's schemas, by name. @typedef {import("../types/api").components["schemas"]} Schemas */
/** A storyboard as the API answers it. @typedef {Schemas["StoryboardOut"]} Storyboard */
/** GET /api/storyboards/{id}: the storyboard with its jobs and clips. @typedef {Schemas["StoryboardWithJobsOut"]} StoryboardWithJobs */
/**
 * What the generate routes take. Provider, model, size and seconds are the catalog's (GET
 * /api/models lists them; the server checks them), so plain strings and numbers here rather
 * than the contract's enums of today's values; every other field is the contract's.
 * @typedef {{provider: string, model: string, size: string, durationSeconds: number}} Choice
 * @typedef {Omit<Schemas["GenerateRequest"], keyof Choice> & Choice} GenerateRequest
 * @typedef {Omit<Schemas["BatchGenerateRequest"], keyof Choice | "regenerate"> & Choice & {regenerate?: boolean}} BatchGenerateRequest
 * @typedef {Omit<Schemas["CompileRequest"], "captionLanguage"> & {captionLanguage?: string}} CompileRequest
 */
/** A problem with one field (`field` "" when it is about no field in particular). @typedef {{field: string, message: string}} FieldProblem */
/** Who the requests are from (auth.js's Session). @typedef {{headers(): Record<string, string>, expire(): void}} Identity */
/**
 * @typedef {object} RequestOptions
 * @property {unknown} [body] sent as JSON
 * @property {Record<string, string>} [headers]
 * @property {boolean} [keepalive] outlive the page (a save as the tab closes)
 * @property {AbortSignal} [signal]
 */

const TIMEOUT_MS = 30_000;
const KEEPALIVE_MAX_BYTES = 60_000; // browsers cap keepalive bodies at 64 KiB in flight

/** The API answered with an error: `{error, details}` (or API Gateway's `{message}`). */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   * @param {any} [details] the body's `details`: field errors, or facts such as a cap's numbers
   */
  constructor(status, message, details) {
    super(message);
    this.status = status;
    this.details = details ?? null;
  }

  /**
   * Field errors as [{field, message}], from a list of them or a {field: message} map.
   * @returns {FieldProblem[]}
   */
  get fieldErrors() {
    /** @type {unknown} */
    const details = this.details;
    if (Array.isArray(details)) {
      return details
        .filter((d) => d && typeof d === "object" && d.message)
        .map((d) => ({ field: String(d.field ?? ""), message: String(d.message) }));
    }
    if (details && typeof details === "object") {
      return Object.entries(details)
        .filter(([, message]) => typeof message === "string")
        .map(([field, message]) => ({ field, message }));
    }
    return [];
  }
}

/** No answer at all: offline, the API unreachable, or no answer within the timeout. */
export class NetworkError extends Error {}

/**
 * Whether trying the same request again later may succeed.
 * @param {unknown} error
 */
export function isTransient(error) {
  return error instanceof NetworkError || (error instanceof ApiError && (error.status >= 500 || error.status === 429));
}

/**
 * The Idempotency-Key of a request that creates something: kept while the same request got no
 * answer (a retry then cannot create it twice), a new one for any other request.
 */
export class RetryKey {
  /** @type {string | null} */
  #request = null;
  /** @type {string | null} */
  #key = null;

  /**
   * @param {unknown} request what is sent (compared as JSON)
   * @returns {string}
   */
  for(request) {
    const signature = JSON.stringify(request);
    if (signature !== this.#request) {
      this.#request = signature;
      this.#key = crypto.randomUUID();
    }
    return /** @type {string} */ (this.#key);
  }

  /**
   * The request was answered, or failed for good: the next one gets a new key.
   * @param {unknown} [error] why it failed, if it did
   */
  settle(error = null) {
    if (!error || !isTransient(error)) this.#request = null;
  }
}

export class Api {
  /**
   * @param {string} baseUrl
   * @param {Identity} session
   * @param {{onUnauthorized?: () => void, fetchImpl?: typeof fetch}} [options]
   */
  constructor(baseUrl, session, { onUnauthorized = () => {}, fetchImpl = (...args) => fetch(...args) } = {}) {
    this.baseUrl = baseUrl;
    this.session = session;
    this.onUnauthorized = onUnauthorized;
    this.fetch = fetchImpl;
  }

  /**
   * One call: the answer's JSON (each method below says its type), or an ApiError / NetworkError.
   * @param {string} method
   * @param {string} path
   * @param {RequestOptions} [options]
   * @returns {Promise<any>}
   */
  async request(method, path, { body, headers = {}, keepalive = false, signal } = {}) {
    /** @type {RequestInit & {headers: Record<string, string>}} */
    const init = { method, headers: { Accept: "application/json", ...this.session.headers(), ...headers } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
      init.keepalive = keepalive && /** @type {string} */ (init.body).length < KEEPALIVE_MAX_BYTES;
    }
    const timeout = AbortSignal.timeout(TIMEOUT_MS);
    init.signal = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let response;
    try {
      response = await this.fetch(this.baseUrl + path, init);
    } catch (error) {
      if (signal?.aborted) throw error; // the caller gave up: not a network failure
      throw new NetworkError("The server could not be reached");
    }
    const payload = await response.json().catch(() => null);
    if (response.ok) return payload;
    if (response.status === 401) {
      this.session.expire();
      this.onUnauthorized();
    }
    const message = payload?.error || payload?.message || `HTTP ${response.status}`;
    throw new ApiError(response.status, message, payload?.details);
  }

  // --- storyboards ---------------------------------------------------------------------------

  /**
   * @param {{limit?: number, cursor?: string | null, q?: string}} [query]
   * @param {AbortSignal} [signal]
   * @returns {Promise<Schemas["StoryboardList"]>}
   */
  listStoryboards({ limit = 20, cursor = null, q = "" } = {}, signal) {
    const params = new URLSearchParams({ limit: String(limit) });
    if (cursor) params.set("cursor", cursor);
    if (q) params.set("q", q);
    return this.request("GET", `/api/storyboards?${params}`, { signal });
  }

  /**
   * @param {Schemas["StoryboardCreate"]} doc
   * @returns {Promise<Storyboard>}
   */
  async createStoryboard(doc) {
    /** @type {Schemas["StoryboardEnvelope"]} */
    const answer = await this.request("POST", "/api/storyboards", { body: doc });
    return answer.storyboard;
  }

  /**
   * @param {string} id
   * @param {AbortSignal} [signal]
   * @returns {Promise<StoryboardWithJobs>}
   */
  async getStoryboard(id, signal) {
    /** @type {Schemas["StoryboardDetailEnvelope"]} */
    const answer = await this.request("GET", `/api/storyboards/${encodeURIComponent(id)}`, { signal });
    return answer.storyboard;
  }

  /**
   * PATCH guarded by the version last read: a 412 ApiError when someone saved in between.
   * @param {string} id
   * @param {number} version
   * @param {Schemas["StoryboardPatch"]} changes
   * @param {{keepalive?: boolean}} [options]
   * @returns {Promise<Storyboard>}
   */
  async patchStoryboard(id, version, changes, { keepalive = false } = {}) {
    /** @type {Schemas["StoryboardEnvelope"]} */
    const answer = await this.request("PATCH", `/api/storyboards/${encodeURIComponent(id)}`, {
      body: changes,
      headers: { "If-Match": String(version) },
      keepalive,
    });
    return answer.storyboard;
  }

  /**
   * @param {string} id
   * @returns {Promise<Schemas["DeleteResult"]>}
   */
  deleteStoryboard(id) {
    return this.request("DELETE", `/api/storyboards/${encodeURIComponent(id)}`);
  }

  // --- reference images ----------------------------------------------------------------------

  /**
   * Oldest first, pending ones (without URLs) included.
   * @param {string} storyboardId
   * @param {AbortSignal} [signal]
   * @returns {Promise<Schemas["ReferenceOut"][]>}
   */
  async listReferences(storyboardId, signal) {
    /** @type {Schemas["ReferenceList"]} */
    const answer = await this.request("GET", `/api/storyboards/${encodeURIComponent(storyboardId)}/references`, { signal });
    return answer.references;
  }

  /**
   * Declare a reference: it is stored pending, with the presigned POST its file goes up with.
   * @param {string} storyboardId
   * @param {Schemas["ReferenceCreate"]} body
   * @returns {Promise<Schemas["ReferenceCreated"]>}
   */
  createReference(storyboardId, body) {
    return this.request("POST", `/api/storyboards/${encodeURIComponent(storyboardId)}/references`, { body });
  }

  /**
   * The file is uploaded: the server checks it (a 400 names what is wrong, and removes it).
   * @param {string} storyboardId
   * @param {string} referenceId
   * @returns {Promise<Schemas["ReferenceOut"]>}
   */
  async completeReference(storyboardId, referenceId) {
    const path = `/api/storyboards/${encodeURIComponent(storyboardId)}/references/${encodeURIComponent(referenceId)}/complete`;
    /** @type {Schemas["ReferenceEnvelope"]} */
    const answer = await this.request("POST", path);
    return answer.reference;
  }

  /**
   * @param {string} storyboardId
   * @param {string} referenceId
   * @returns {Promise<Schemas["DeleteResult"]>}
   */
  deleteReference(storyboardId, referenceId) {
    const path = `/api/storyboards/${encodeURIComponent(storyboardId)}/references/${encodeURIComponent(referenceId)}`;
    return this.request("DELETE", path);
  }

  // --- provider keys -------------------------------------------------------------------------

  /** @returns {Promise<Schemas["ApiKeySummary"][]>} */
  async listKeys() {
    /** @type {Schemas["ApiKeyList"]} */
    const answer = await this.request("GET", "/api/keys");
    return answer.keys;
  }

  /**
   * Store a key; `where` is a Google key's API or an OpenAI-compatible key's endpoint (and its
   * webhook signing secret).
   * @param {string} provider
   * @param {string} apiKey
   * @param {{api?: Schemas["ApiKeyPut"]["api"], baseUrl?: string, webhookSecret?: string}} [where]
   * @returns {Promise<Schemas["ApiKeySummary"]>}
   */
  putKey(provider, apiKey, where = {}) {
    /** @type {Schemas["ApiKeyPut"]} */
    const body = { apiKey, ...where };
    return this.request("PUT", `/api/keys/${encodeURIComponent(provider)}`, { body });
  }

  /**
   * @param {string} provider
   * @returns {Promise<Schemas["ApiKeyDeleted"]>}
   */
  deleteKey(provider) {
    return this.request("DELETE", `/api/keys/${encodeURIComponent(provider)}`);
  }

  // --- generation ----------------------------------------------------------------------------

  /** @returns {Promise<Schemas["Catalog"]>} */
  catalog() {
    return this.request("GET", "/api/models");
  }

  /**
   * POST /api/video/generate; the same idempotency key on a retry returns the same job.
   * @param {GenerateRequest} request
   * @param {string} idempotencyKey
   * @returns {Promise<Schemas["GenerateAccepted"]>}
   */
  generateScene(request, idempotencyKey) {
    return this.request("POST", "/api/video/generate", {
      body: request,
      headers: { "Idempotency-Key": idempotencyKey },
    });
  }

  /**
   * POST /api/storyboards/{id}/generate: {jobs, skipped, estimatedCost}.
   * @param {string} storyboardId
   * @param {BatchGenerateRequest} request
   * @param {string} idempotencyKey
   * @returns {Promise<Schemas["BatchGenerateAccepted"]>}
   */
  generateScenes(storyboardId, request, idempotencyKey) {
    return this.request("POST", `/api/storyboards/${encodeURIComponent(storyboardId)}/generate`, {
      body: request,
      headers: { "Idempotency-Key": idempotencyKey },
    });
  }

  /**
   * @param {string} jobId
   * @param {AbortSignal} [signal]
   * @returns {Promise<Schemas["JobStatus"]>}
   */
  jobStatus(jobId, signal) {
    return this.request("GET", `/api/video/status/${encodeURIComponent(jobId)}`, { signal });
  }

  /**
   * @param {string} jobId
   * @returns {Promise<Schemas["JobStatus"]>}
   */
  cancelJob(jobId) {
    return this.request("POST", `/api/video/jobs/${encodeURIComponent(jobId)}/cancel`);
  }

  /**
   * @param {AbortSignal} [signal]
   * @returns {Promise<Schemas["Usage"]>}
   */
  usage(signal) {
    return this.request("GET", "/api/usage?days=1", { signal });
  }

  // --- films ---------------------------------------------------------------------------------

  /**
   * POST /api/storyboards/{id}/compile: {compiledVideoId, status, scenesOrder}.
   * `craft`: the transition and the music bed, when chosen.
   * @param {string} storyboardId
   * @param {string[]} scenesOrder
   * @param {string} idempotencyKey
   * @param {Pick<CompileRequest, "transition" | "music">} [craft]
   * @returns {Promise<Schemas["CompileAccepted"]>}
   */
  compileFilm(storyboardId, scenesOrder, idempotencyKey, craft = {}) {
    /** @type {CompileRequest} */
    const body = { scenesOrder, ...craft };
    return this.request("POST", `/api/storyboards/${encodeURIComponent(storyboardId)}/compile`, {
      body,
      headers: { "Idempotency-Key": idempotencyKey },
    });
  }

  /**
   * @param {string} id
   * @param {AbortSignal} [signal]
   * @returns {Promise<Schemas["CompiledVideoOut"]>}
   */
  film(id, signal) {
    return this.request("GET", `/api/compiled-videos/${encodeURIComponent(id)}`, { signal });
  }

  /**
   * @param {string} storyboardId
   * @param {AbortSignal} [signal]
   * @returns {Promise<Schemas["CompiledVideoOut"][]>}
   */
  async films(storyboardId, signal) {
    const path = `/api/storyboards/${encodeURIComponent(storyboardId)}/compiled-videos`;
    /** @type {Schemas["CompiledVideoList"]} */
    const answer = await this.request("GET", path, { signal });
    return answer.compiledVideos;
  }
}
