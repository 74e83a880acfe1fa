# Heron — the two set-up commands are `make run` and `make test`.
CARGO ?= cargo
PYTHON ?= python3
export CARGO_TERM_COLOR ?= never
# One target folder for cargo and maturin, so the workspace is built once.
export CARGO_TARGET_DIR := $(CURDIR)/target
VENV := $(CURDIR)/.venv
VPY := $(VENV)/bin/python

CHROMIUM ?= /usr/bin/chromium
WEB_SOURCES := $(shell find web/src web/index.html web/vite.config.ts web/tsconfig.json -type f 2>/dev/null)

.PHONY: run test test-rust test-python test-web python-dev web bench build release check-tools clean

check-tools:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs"; exit 1; }
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.10 or newer"; exit 1; }
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20.19 or newer (https://nodejs.org)"; exit 1; }
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
	  || { echo "Node.js $$(node --version) is too old for the dashboard build (Vite 8): install 20.19 or newer"; exit 1; }

## The dashboard's npm packages, as locked in web/package-lock.json.
web/node_modules/.ready: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## web: type-check and build the dashboard into web/dist (embedded by the release build)
web: web/dist/index.html
web/dist/index.html: web/node_modules/.ready $(WEB_SOURCES)
	cd web && npm run --silent build
	@# The release build embeds web/dist: make cargo look at it again.
	touch crates/heron-server/src/ui.rs

## Headless Chromium for the dashboard's end-to-end tests (Debian's package).
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  echo "installing chromium (Debian package) for the dashboard tests"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null

## build: release build of the `heron` binary with the dashboard built in (target/release/heron)
build release: check-tools web
	$(CARGO) build --release --locked -p heron-cli

## run: build, then serve Heron at http://127.0.0.1:8745 on the embedded store; on first start
## (empty store) the `demo` project is logged so the dashboard has runs to show
## (data in $$HERON_DATA_DIR, else $$XDG_DATA_HOME/heron, i.e. ~/.local/share/heron)
run: build
	./target/release/heron server --demo

## The Python virtual environment for the SDK's build and tests (maturin, pytest, numpy, pandas).
$(VENV)/.ready: python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q 'maturin>=1.9.4,<2' 'pytest>=8' numpy pandas
	touch $@

## python-dev: build the Python package (debug) into .venv, editable
python-dev: $(VENV)/.ready
	cd python && VIRTUAL_ENV=$(VENV) PATH="$(VENV)/bin:$$PATH" maturin develop --locked -q

## test: every test (Rust unit, property, storage conformance, real-server integration, the
## Python SDK's pytest suite against the real server, then the dashboard: Vitest unit tests and
## end-to-end tests in headless Chromium against the real server with runs logged by the SDK)
test: test-rust test-python test-web

test-rust: check-tools web
	$(CARGO) test --workspace --locked

test-python: python-dev
	# The `heron` and `heron-example` binaries, built with the same features as `cargo test`
	# (a no-op after test-rust; a plain `cargo build -p ...` would unify features differently
	# and compile the server a second time).
	$(CARGO) test --workspace --locked --no-run -q
	HERON_TEST_SERVER_BIN=$(CARGO_TARGET_DIR)/debug/heron HERON_TEST_EXAMPLE_BIN=$(CARGO_TARGET_DIR)/debug/heron-example \
	  $(VPY) -m pytest -q python/tests

test-web: web python-dev $(CHROMIUM)
	cd web && npx vitest run
	$(CARGO) test --workspace --locked --no-run -q
	cd web && HERON_TEST_SERVER_BIN=$(CARGO_TARGET_DIR)/debug/heron HERON_TEST_PYTHON=$(VPY) CHROMIUM=$(CHROMIUM) \
	  node --test --test-concurrency=1 e2e/

## bench: the benchmarks of DESIGN §5; results go to bench/RESULTS.md
bench: build
	$(CARGO) build --release --locked -p heron-bench
	./bench/run.sh

clean:
	$(CARGO) clean
	rm -rf $(VENV) web/node_modules web/dist
