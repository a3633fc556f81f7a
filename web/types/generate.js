// @ts-check
// Writes web/types/api.d.ts, the API's types, from docs/openapi.json (openapi-typescript), so a
// contract change breaks the web app's type check. `--check` writes nothing and fails when the
// file is stale (web/js.mk's lint-js runs it).
//
// Node only (dev tooling): `node web/types/generate.js [--check]` from the repository root.

import { readFile, writeFile } from "node:fs/promises";
import openapiTS, { astToString, COMMENT_HEADER, UNKNOWN } from "openapi-typescript";

const SPEC = new URL("../../docs/openapi.json", import.meta.url);
const OUTPUT = new URL("./api.d.ts", import.meta.url);

/** The whole file, as it should be now. */
async function generate() {
  const ast = await openapiTS(SPEC, {
    // A field with a default is required (openapi-typescript's default): the server's answers
    // always carry it. The one request field with a default (BatchGenerateRequest.regenerate)
    // is made optional where api.js types that request.
    // JsonValue (any JSON) refers to itself inside `components`, which TypeScript rejects as a
    // circular annotation (openapi-typescript issue 1603): as `unknown` it means the same to
    // the app, which checks such values before using them.
    transform(_schema, { path }) {
      return path === "#/components/schemas/JsonValue" ? UNKNOWN : undefined;
    },
  });
  return `${COMMENT_HEADER}// Regenerate with: make api-types (web/js.mk; the script is web/types/generate.js).\n\n${astToString(ast)}`;
}

async function main() {
  const fresh = await generate();
  if (!process.argv.includes("--check")) {
    await writeFile(OUTPUT, fresh);
    return;
  }
  const current = await readFile(OUTPUT, "utf8").catch(() => "");
  if (current !== fresh) {
    console.error("web/types/api.d.ts is stale (docs/openapi.json changed): run make api-types");
    process.exitCode = 1;
  } else {
    console.log("web/types/api.d.ts: up to date with docs/openapi.json");
  }
}

await main();
