// The API client: one request function (identity headers, JSON, errors as exceptions) and
// one method per route this app calls.

const TIMEOUT_MS = 30_000;
const KEEPALIVE_MAX_BYTES = 60_000; // browsers cap keepalive bodies at 64 KiB in flight

/** The API answered with an error: `{error, details}` (or API Gateway's `{message}`). */
export class ApiError extends Error {
  constructor(status, message, details) {
    super(message);
    this.status = status;
    this.details = details ?? null;
  }

  /** Field errors as [{field, message}], from a list of them or a {field: message} map. */
  get fieldErrors() {
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

/** Whether trying the same request again later may succeed. */
export function isTransient(error) {
  return error instanceof NetworkError || (error instanceof ApiError && (error.status >= 500 || error.status === 429));
}

/**
 * The Idempotency-Key of a request that creates something: kept while the same request got no
 * answer (a retry then cannot create it twice), a new one for any other request.
 */
export class RetryKey {
  #request = null;
  #key = null;

  for(request) {
    const signature = JSON.stringify(request);
    if (signature !== this.#request) {
      this.#request = signature;
      this.#key = crypto.randomUUID();
    }
    return this.#key;
  }

  /** The request was answered, or failed for good: the next one gets a new key. */
  settle(error = null) {
    if (!error || !isTransient(error)) this.#request = null;
  }
}

export class Api {
  constructor(baseUrl, session, { onUnauthorized = () => {}, fetchImpl = (...args) => fetch(...args) } = {}) {
    this.baseUrl = baseUrl;
    this.session = session;
    this.onUnauthorized = onUnauthorized;
    this.fetch = fetchImpl;
  }

  async request(method, path, { body, headers = {}, keepalive = false, signal } = {}) {
    const init = { method, headers: { Accept: "application/json", ...this.session.headers(), ...headers } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
      init.keepalive = keepalive && init.body.length < KEEPALIVE_MAX_BYTES;
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

  listStoryboards({ limit = 20, cursor = null, q = "" } = {}, signal) {
    const params = new URLSearchParams({ limit: String(limit) });
    if (cursor) params.set("cursor", cursor);
    if (q) params.set("q", q);
    return this.request("GET", `/api/storyboards?${params}`, { signal });
  }

  async createStoryboard(doc) {
    return (await this.request("POST", "/api/storyboards", { body: doc })).storyboard;
  }

  async getStoryboard(id, signal) {
    return (await this.request("GET", `/api/storyboards/${encodeURIComponent(id)}`, { signal })).storyboard;
  }

  /** PATCH guarded by the version last read: a 412 ApiError when someone saved in between. */
  async patchStoryboard(id, version, changes, { keepalive = false } = {}) {
    const answer = await this.request("PATCH", `/api/storyboards/${encodeURIComponent(id)}`, {
      body: changes,
      headers: { "If-Match": String(version) },
      keepalive,
    });
    return answer.storyboard;
  }

  deleteStoryboard(id) {
    return this.request("DELETE", `/api/storyboards/${encodeURIComponent(id)}`);
  }

  // --- provider keys -------------------------------------------------------------------------

  async listKeys() {
    return (await this.request("GET", "/api/keys")).keys;
  }

  putKey(provider, apiKey) {
    return this.request("PUT", `/api/keys/${encodeURIComponent(provider)}`, { body: { apiKey } });
  }

  deleteKey(provider) {
    return this.request("DELETE", `/api/keys/${encodeURIComponent(provider)}`);
  }

  // --- generation ----------------------------------------------------------------------------

  catalog() {
    return this.request("GET", "/api/models");
  }

  /** POST /api/video/generate; the same idempotency key on a retry returns the same job. */
  generateScene(request, idempotencyKey) {
    return this.request("POST", "/api/video/generate", {
      body: request,
      headers: { "Idempotency-Key": idempotencyKey },
    });
  }

  /** POST /api/storyboards/{id}/generate: {jobs, skipped, estimatedCost}. */
  generateScenes(storyboardId, request, idempotencyKey) {
    return this.request("POST", `/api/storyboards/${encodeURIComponent(storyboardId)}/generate`, {
      body: request,
      headers: { "Idempotency-Key": idempotencyKey },
    });
  }

  jobStatus(jobId, signal) {
    return this.request("GET", `/api/video/status/${encodeURIComponent(jobId)}`, { signal });
  }

  cancelJob(jobId) {
    return this.request("POST", `/api/video/jobs/${encodeURIComponent(jobId)}/cancel`);
  }

  usage(signal) {
    return this.request("GET", "/api/usage?days=1", { signal });
  }

  // --- films ---------------------------------------------------------------------------------

  /** POST /api/storyboards/{id}/compile: {compiledVideoId, status, scenesOrder}. */
  compileFilm(storyboardId, scenesOrder, idempotencyKey) {
    return this.request("POST", `/api/storyboards/${encodeURIComponent(storyboardId)}/compile`, {
      body: { scenesOrder },
      headers: { "Idempotency-Key": idempotencyKey },
    });
  }

  film(id, signal) {
    return this.request("GET", `/api/compiled-videos/${encodeURIComponent(id)}`, { signal });
  }

  async films(storyboardId, signal) {
    const path = `/api/storyboards/${encodeURIComponent(storyboardId)}/compiled-videos`;
    return (await this.request("GET", path, { signal })).compiledVideos;
  }
}
