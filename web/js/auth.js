// @ts-check
// Who the user is and how requests prove it: the local "Dev user" (X-Dev-User header) or a
// Cognito access token from the managed login (authorization code + PKCE), kept in this
// tab's sessionStorage and sent as "Authorization: Bearer".

import { authorizeUrl, jwtClaims, logoutUrl, randomString, s256Challenge, tokenRequestBody } from "./pkce.js";

const DEV_USER_KEY = "auth.devUser";
const TOKEN_KEY = "auth.token";
const PENDING_KEY = "auth.pending";
const EXPIRY_MARGIN_MS = 30_000; // treat a token as expired a little early: no 401 mid-save

/** @typedef {import("./config.js").CognitoAuth} CognitoAuth */
/** A signed-in user's token, as kept in sessionStorage. @typedef {{accessToken: string, expiresAt: number, sub: string, label: string}} Token */

export class AuthError extends Error {}

export class Session {
  /**
   * @param {import("./config.js").Config} config
   * @param {object} [io] the browser's by default (tests pass their own)
   * @param {Storage} [io.storage]
   * @param {{assign(url: string): void}} [io.location]
   * @param {typeof fetch} [io.fetchImpl]
   * @param {() => number} [io.now]
   */
  constructor(config, { storage = sessionStorage, location = window.location, fetchImpl = (...a) => fetch(...a), now = Date.now } = {}) {
    this.auth = config.auth;
    this.storage = storage;
    this.location = location;
    this.fetch = fetchImpl;
    this.now = now;
  }

  get mode() {
    return this.auth.mode;
  }

  /**
   * The signed-in user's display name, or null.
   * @returns {string | null}
   */
  get user() {
    if (this.mode === "dev") return this.storage.getItem(DEV_USER_KEY);
    const token = this.#token();
    return token ? token.label : null;
  }

  /**
   * A stable key for this user's local drafts.
   * @returns {string | null}
   */
  get userKey() {
    if (this.mode === "dev") return this.user;
    const token = this.#token();
    return token ? token.sub : null;
  }

  /**
   * Headers proving who the caller is.
   * @returns {Record<string, string>}
   */
  headers() {
    if (this.mode === "dev") {
      const user = this.user;
      return user ? { "X-Dev-User": user } : {};
    }
    const token = this.#token();
    return token ? { Authorization: `Bearer ${token.accessToken}` } : {};
  }

  /** @param {string} user */
  signInDev(user) {
    const trimmed = user.trim();
    if (!trimmed) throw new AuthError("Enter a user name to sign in.");
    this.storage.setItem(DEV_USER_KEY, trimmed);
  }

  /** Go to the managed login; `returnTo` is the app path to come back to. */
  async signInWithCognito(returnTo = "/") {
    const state = randomString(16);
    const verifier = randomString(32);
    const challenge = await s256Challenge(verifier);
    this.storage.setItem(PENDING_KEY, JSON.stringify({ state, verifier, returnTo }));
    this.location.assign(authorizeUrl(this.#cognito, { state, challenge }));
  }

  /**
   * Whether `url` is the managed login coming back to us (code or error, with state).
   * @param {string} url
   */
  isCallback(url) {
    const params = new URL(url).searchParams;
    return this.mode === "cognito" && params.has("state") && (params.has("code") || params.has("error"));
  }

  /**
   * Finish a sign-in from the callback URL: check the state, exchange the code with the
   * verifier at /oauth2/token and keep the token. Returns the path to go back to.
   * The pending attempt is used once: a replayed callback fails.
   * @param {string} url
   * @returns {Promise<string>}
   */
  async completeSignIn(url) {
    const params = new URL(url).searchParams;
    const pending = JSON.parse(this.storage.getItem(PENDING_KEY) || "null");
    this.storage.removeItem(PENDING_KEY);
    if (params.has("error")) {
      throw new AuthError(`Sign-in failed: ${params.get("error_description") || params.get("error")}`);
    }
    if (!pending || pending.state !== params.get("state")) {
      throw new AuthError("Sign-in failed: this sign-in was not started here, or was already used. Sign in again.");
    }
    let response;
    try {
      response = await this.fetch(`${this.#cognito.domain}/oauth2/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: tokenRequestBody(this.#cognito, { code: String(params.get("code")), verifier: pending.verifier }),
      });
    } catch {
      throw new AuthError("Sign-in failed: the sign-in service is unreachable. Try again.");
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok || !body.access_token) {
      throw new AuthError(`Sign-in failed: ${body.error_description || body.error || `HTTP ${response.status}`}`);
    }
    const claims = jwtClaims(body.id_token || body.access_token);
    this.storage.setItem(TOKEN_KEY, JSON.stringify({
      accessToken: body.access_token,
      expiresAt: this.now() + Number(body.expires_in || 3600) * 1000,
      sub: claims.sub || "",
      label: claims.email || claims["cognito:username"] || claims.username || "Signed in",
    }));
    const back = String(pending.returnTo || "/");
    return back.startsWith("/") && !back.startsWith("//") ? back : "/"; // only a path of this app
  }

  /** Forget the identity; with Cognito also end the managed login's session. */
  signOut() {
    this.storage.removeItem(DEV_USER_KEY);
    this.storage.removeItem(TOKEN_KEY);
    if (this.mode === "cognito") this.location.assign(logoutUrl(this.#cognito));
  }

  /** The API said 401: this identity is no good any more (the user signs in again). */
  expire() {
    this.storage.removeItem(TOKEN_KEY);
    this.storage.removeItem(DEV_USER_KEY);
  }

  /** The Cognito settings: only used in "cognito" mode. */
  get #cognito() {
    return /** @type {CognitoAuth} */ (this.auth);
  }

  /** @returns {Token | null} */
  #token() {
    const token = JSON.parse(this.storage.getItem(TOKEN_KEY) || "null");
    if (!token || token.expiresAt - EXPIRY_MARGIN_MS <= this.now()) return null;
    return token;
  }
}
