// ESLint for the web app and its dev tooling (web/js.mk's lint-js): the recommended rules,
// with the browser's globals for the app and Node's for the tests and scripts.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["web/js/**/*.js"],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ["tests/js/**/*.js", "web/types/*.js", "eslint.config.js"],
    languageOptions: { globals: globals.node },
  },
];
