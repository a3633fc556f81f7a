// @ts-check
// web/js/pkce.js: the PKCE pieces of the Cognito sign-in (RFC 7636), with Node's Web Crypto.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { authorizeUrl, base64url, jwtClaims, logoutUrl, randomString, s256Challenge, tokenRequestBody } from "../../web/js/pkce.js";

/** @type {import("../../web/js/config.js").CognitoAuth} */
const AUTH = {
  mode: "cognito",
  domain: "https://login.example.com",
  clientId: "client-1",
  redirectUri: "https://app.example.com/",
  logoutUri: "https://app.example.com/bye",
  scopes: ["openid", "email"],
};

/** A JWT-shaped token (header.payload.signature) carrying `claims`. @param {object} claims */
function jwt(claims) {
  return `e30.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.signature`;
}

describe("base64url and random strings", () => {
  test("base64url: - and _ for + and /, no padding", () => {
    assert.equal(base64url(new Uint8Array([0xfb, 0xff])), "-_8");
    assert.equal(base64url(new TextEncoder().encode("any carnal pleas")), "YW55IGNhcm5hbCBwbGVhcw");
    assert.equal(base64url(new Uint8Array()), "");
  });

  test("a verifier from 32 random bytes: 43 characters of the unreserved set, new each time", () => {
    const [one, two] = [randomString(), randomString()];

    assert.match(one, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(one, two);
    assert.equal(randomString(16).length, 22);
  });
});

describe("the S256 challenge", () => {
  test("is base64url(SHA-256(verifier)): RFC 7636's own example", async () => {
    assert.equal(
      await s256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    );
  });
});

describe("the managed login's URLs and token request", () => {
  test("authorize: a code flow with this state and an S256 challenge", () => {
    const url = new URL(authorizeUrl(AUTH, { state: "st", challenge: "ch" }));

    assert.equal(url.origin + url.pathname, "https://login.example.com/oauth2/authorize");
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      response_type: "code",
      client_id: "client-1",
      redirect_uri: "https://app.example.com/",
      scope: "openid email",
      state: "st",
      code_challenge: "ch",
      code_challenge_method: "S256",
    });
  });

  test("token: the code and its verifier, for the same redirect URI", () => {
    const body = tokenRequestBody(AUTH, { code: "c0de", verifier: "v" });

    assert.deepEqual(Object.fromEntries(body), {
      grant_type: "authorization_code",
      client_id: "client-1",
      code: "c0de",
      redirect_uri: "https://app.example.com/",
      code_verifier: "v",
    });
  });

  test("logout: back to the app's logout URI", () => {
    const url = new URL(logoutUrl(AUTH));

    assert.equal(url.pathname, "/logout");
    assert.deepEqual(Object.fromEntries(url.searchParams), { client_id: "client-1", logout_uri: "https://app.example.com/bye" });
  });
});

describe("a token's claims, for display", () => {
  test("the payload, UTF-8 included", () => {
    assert.deepEqual(jwtClaims(jwt({ sub: "u-1", email: "zoë@example.com", name: "José 🚀" })),
      { sub: "u-1", email: "zoë@example.com", name: "José 🚀" });
  });

  test("{} for anything that is not a JWT", () => {
    for (const token of ["", "not-a-jwt", "a.%%%.c", `e30.${Buffer.from("{oops").toString("base64url")}.s`]) {
      assert.deepEqual(jwtClaims(token), {}, token);
    }
  });
});
