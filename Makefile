# Heron — the two set-up commands are `make run` and `make test`.
CARGO ?= cargo
PYTHON ?= python3
export CARGO_TERM_COLOR ?= never
# One target folder for cargo and maturin, so the workspace is built once.
export CARGO_TARGET_DIR := $(CURDIR)/target
VENV := $(CURDIR)/.venv
VPY := $(VENV)/bin/python

.PHONY: run test test-rust test-python python-dev bench build release check-tools clean

check-tools:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs"; exit 1; }
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.10 or newer"; exit 1; }

## build: release build of the `heron` binary (target/release/heron)
build release: check-tools
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

## test: every test (Rust unit, property, storage conformance, real-server integration, then the
## Python SDK's pytest suite against the real server)
test: test-rust test-python

test-rust: check-tools
	$(CARGO) test --workspace --locked

test-python: python-dev
	# The `heron` and `heron-example` binaries, built with the same features as `cargo test`
	# (a no-op after test-rust; a plain `cargo build -p ...` would unify features differently
	# and compile the server a second time).
	$(CARGO) test --workspace --locked --no-run -q
	HERON_TEST_SERVER_BIN=$(CARGO_TARGET_DIR)/debug/heron HERON_TEST_EXAMPLE_BIN=$(CARGO_TARGET_DIR)/debug/heron-example \
	  $(VPY) -m pytest -q python/tests

## bench: the benchmarks of DESIGN §5; results go to bench/RESULTS.md
bench: build
	$(CARGO) build --release --locked -p heron-bench
	./bench/run.sh

clean:
	$(CARGO) clean
	rm -rf $(VENV)
