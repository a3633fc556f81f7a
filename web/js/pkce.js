// @ts-check
// OAuth 2.0 authorization code with PKCE (RFC 7636), as Cognito's managed login speaks it:
// pure helpers, no storage and no navigation (see auth.js for those).

/** @typedef {import("./config.js").CognitoAuth} CognitoAuth */

/**
 * Bytes as base64url without padding.
 * @param {Uint8Array} bytes
 */
export function base64url(bytes) {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A random base64url string from `byteLength` random bytes (32 bytes: a 43-char verifier). */
export function randomString(byteLength = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(byteLength)));
}

/**
 * The S256 code challenge of a verifier: base64url(SHA-256(verifier)).
 * @param {string} verifier
 */
export async function s256Challenge(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/**
 * The managed login's authorize URL for a sign-in attempt.
 * @param {CognitoAuth} auth
 * @param {{state: string, challenge: string}} attempt
 */
export function authorizeUrl(auth, { state, challenge }) {
  const params = new URLSearchParams({
    response_type: "code",
    client_id: auth.clientId,
    redirect_uri: auth.redirectUri,
    scope: auth.scopes.join(" "),
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  return `${auth.domain}/oauth2/authorize?${params}`;
}

/**
 * The form body exchanging an authorization code at /oauth2/token.
 * @param {CognitoAuth} auth
 * @param {{code: string, verifier: string}} grant
 */
export function tokenRequestBody(auth, { code, verifier }) {
  return new URLSearchParams({
    grant_type: "authorization_code",
    client_id: auth.clientId,
    code,
    redirect_uri: auth.redirectUri,
    code_verifier: verifier,
  });
}

/**
 * The managed login's sign-out URL (ends the Cognito session, then returns to the app).
 * @param {CognitoAuth} auth
 */
export function logoutUrl(auth) {
  const params = new URLSearchParams({ client_id: auth.clientId, logout_uri: auth.logoutUri });
  return `${auth.domain}/logout?${params}`;
}

/**
 * The claims of a JWT, for display only (the API verifies tokens; the browser does not).
 * @param {string} token
 * @returns {Record<string, any>} {} when it is not a JWT
 */
export function jwtClaims(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(
      Array.from(atob(payload), (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join(""),
    );
    return JSON.parse(json);
  } catch {
    return {};
  }
}
