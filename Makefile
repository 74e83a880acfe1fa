# Heron — the two set-up commands are `make run` and `make test`.
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: run test bench build release check-tools clean

check-tools:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs"; exit 1; }

## build: release build of the `heron` binary (target/release/heron)
build release: check-tools
	$(CARGO) build --release --locked -p heron-cli

## run: build, then serve Heron at http://127.0.0.1:8745 on the embedded store
## (data in $$HERON_DATA_DIR, else $$XDG_DATA_HOME/heron, i.e. ~/.local/share/heron)
run: build
	./target/release/heron server

## test: every test (Rust unit, property, storage conformance and real-server integration tests)
test: check-tools
	$(CARGO) test --workspace --locked

## bench: the benchmarks of DESIGN §5; results go to bench/RESULTS.md
bench: build
	$(CARGO) build --release --locked -p heron-bench
	./bench/run.sh

clean:
	$(CARGO) clean
