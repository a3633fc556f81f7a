# The web app's dev-only JavaScript tooling, from package.json (exact versions, locked by
# package-lock.json): the API's types generated from docs/openapi.json, the type check (tsc,
# JSDoc types, no emit), ESLint and the unit tests (node --test). The app itself has no build
# step: browsers load web/js as it is. Included by the Makefile; paths are from the repository
# root, so `make -f web/js.mk lint-js test-js` works too.

JS_BIN := node_modules/.bin
# npm ci wipes node_modules, so its stamp lives there: a fresh install also redoes it.
JS_STAMP := node_modules/.installed

.PHONY: js-deps lint-js test-js api-types

$(JS_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "error: node (20) and npm are needed for web/'s checks"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(JS_STAMP)

js-deps: $(JS_STAMP)

# A stale web/types/api.d.ts first (the contract changed: run make api-types), then the app's
# type check (browser globals only), the tests' and scripts' (with Node's), then ESLint.
lint-js: $(JS_STAMP)
	node web/types/generate.js --check
	$(JS_BIN)/tsc -p tsconfig.json
	$(JS_BIN)/tsc -p tests/js/tsconfig.json
	$(JS_BIN)/eslint --max-warnings 0 web tests/js eslint.config.js

test-js: $(JS_STAMP)
	node --disable-warning=ExperimentalWarning --test --test-reporter=spec tests/js/

# Regenerate web/types/api.d.ts after docs/openapi.json changed (make openapi).
api-types: $(JS_STAMP)
	node web/types/generate.js
