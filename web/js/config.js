// @ts-check
// The runtime configuration (/config.json): where the API is and how users sign in.
//
// {"apiBaseUrl": "",                      // "" = this origin (the local gateway)
//  "auth": {"mode": "dev"}}               // local: the X-Dev-User header
// {"apiBaseUrl": "https://<id>.cloudfront.net",  // deployed: the page's own origin (/api/* there)
//  "auth": {"mode": "cognito",            // Cognito managed login, code + PKCE
//           "domain": "https://<prefix>.auth.<region>.amazoncognito.com",
//           "clientId": "...", "redirectUri": "https://<id>.cloudfront.net/",
//           "scopes": ["openid", "email"], "logoutUri": "https://<id>.cloudfront.net/"}}
// `make deploy` writes the deployed one from the stack's outputs (tools/webdeploy.py; a unit
// test runs this module on what it writes).

/** @typedef {{mode: "dev"}} DevAuth */
/**
 * @typedef {object} CognitoAuth
 * @property {"cognito"} mode
 * @property {string} domain the managed login's origin, no trailing slash
 * @property {string} clientId
 * @property {string} redirectUri
 * @property {string} logoutUri
 * @property {string[]} scopes
 */
/** @typedef {{apiBaseUrl: string, auth: DevAuth | CognitoAuth}} Config */

export class ConfigError extends Error {}

const COGNITO_FIELDS = ["domain", "clientId", "redirectUri"];

/**
 * Check a parsed config.json and return it normalized; ConfigError names what is wrong.
 * @param {any} raw whatever config.json held
 * @returns {Config}
 */
export function parseConfig(raw) {
  if (!raw || typeof raw !== "object") throw new ConfigError("config.json is not a JSON object");
  const apiBaseUrl = String(raw.apiBaseUrl ?? "").replace(/\/+$/, "");
  const auth = raw.auth || {};
  if (auth.mode === "dev") return { apiBaseUrl, auth: { mode: "dev" } };
  if (auth.mode !== "cognito") {
    throw new ConfigError(`config.json: auth.mode must be "dev" or "cognito", not ${JSON.stringify(auth.mode)}`);
  }
  const missing = COGNITO_FIELDS.filter((f) => typeof auth[f] !== "string" || !auth[f]);
  if (missing.length) throw new ConfigError(`config.json: auth.${missing.join(", auth.")} missing`);
  const scopes = Array.isArray(auth.scopes) && auth.scopes.length ? auth.scopes.map(String) : ["openid"];
  return {
    apiBaseUrl,
    auth: {
      mode: "cognito",
      domain: auth.domain.replace(/\/+$/, ""),
      clientId: auth.clientId,
      redirectUri: auth.redirectUri,
      logoutUri: auth.logoutUri || auth.redirectUri,
      scopes,
    },
  };
}

/**
 * Fetch and check /config.json (never cached: it changes per deployment).
 * @param {typeof fetch} [fetchImpl]
 * @returns {Promise<Config>}
 */
export async function loadConfig(fetchImpl = fetch) {
  let response;
  try {
    response = await fetchImpl("/config.json", { cache: "no-store" });
  } catch {
    throw new ConfigError("Could not load config.json: the server is unreachable");
  }
  if (!response.ok) throw new ConfigError(`Could not load config.json (HTTP ${response.status})`);
  return parseConfig(await response.json());
}
