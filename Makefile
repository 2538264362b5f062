# hwsigner: build, test and demo commands. Every target works on a fresh Debian 12
# machine (as root) right after `git clone`: `setup` installs what is missing.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

# wasm-opt must come from npm binaryen (>= 130), never Debian's /usr/bin/wasm-opt
# (binaryen 108 breaks the module: `WebAssembly.Table.set(): Argument 1 is invalid`),
# and wasm-pack must find one on PATH or it tries to download it.
BINARYEN_BIN := $(CURDIR)/.tools/binaryen/node_modules/.bin
export PATH := $(BINARYEN_BIN):$(HOME)/.cargo/bin:$(PATH)
WASM_PACK := PATH="$(BINARYEN_BIN):$$PATH" wasm-pack

# An environment RUSTFLAGS replaces build.rustflags from .cargo/config.toml and drops
# --cfg=web_sys_unstable_apis (WebHID/WebUSB types in web-sys): never pass it on.
unexport RUSTFLAGS
unexport CARGO_ENCODED_RUSTFLAGS
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
# Tests that run the vendors' clients fail (rather than skip) when one is missing.
export HWSIGNER_REQUIRE_PEERS := 1
# Browser flags for wasm-bindgen-test-runner (absolute, whatever its working dir).
export WASM_BINDGEN_TEST_WEBDRIVER_JSON := $(CURDIR)/webdriver.json

CRATE_VERSION = $(shell awk -F'"' '/^\[/{p=($$0=="[package]")} p && /^version *=/{print $$2; exit}' Cargo.toml)

# node -e: copy package.json argv[1] to argv[3] with "version" set to argv[2].
FILL_PACKAGE_JSON := const fs = require("fs"); const [src, version, dst] = process.argv.slice(1); const p = JSON.parse(fs.readFileSync(src, "utf8")); p.version = version; fs.writeFileSync(dst, JSON.stringify(p, null, 2) + "\n");

# The npm package's wasm is built with this nightly when it is installed (setup.sh
# installs it): std rebuilt with LTO and `optimize_for_size`, and a panic aborts at once
# (`panic=immediate-abort`: no panic message formatting; the crate never panics on its
# inputs). About 40 KB gzip less per entry. Without it, stable builds the same code.
export WASM_NIGHTLY := nightly-2026-05-20
# Its name when it is ready (scripts/size-nightly.sh, which setup.sh also asks): asked
# once, when a recipe first needs it, so after setup has run.
SIZE_BUILD = $(eval SIZE_BUILD := $(shell WASM_NIGHTLY=$(WASM_NIGHTLY) bash scripts/size-nightly.sh))$(SIZE_BUILD)
SIZE_ARGS := -Z build-std=std,panic_abort -Z build-std-features=optimize_for_size \
  --config 'target.wasm32-unknown-unknown.rustflags=["-Zunstable-options","-Cpanic=immediate-abort"]'
PKG_BUILD = $(if $(SIZE_BUILD),RUSTUP_TOOLCHAIN=$(WASM_NIGHTLY) )$(WASM_PACK) build --release --target web
PKG_ARGS = --no-default-features $(if $(SIZE_BUILD),$(SIZE_ARGS))

# Minifies each entry's wasm-bindgen JS glue in place (about 4 KB gzip per entry), keeping
# its `@ts-self-types` comment and its names (`Device.name`, the exports).
ESBUILD := $(CURDIR)/.tools/esbuild/node_modules/.bin/esbuild
minify_glue = $(ESBUILD) $(1) --minify --keep-names --format=esm --allow-overwrite --log-level=warning \
  --banner:js='/* @ts-self-types="./$(notdir $(basename $(1))).d.ts" */' --outfile=$(1)

# The npm package's `hwsigner/full` entry: the default entry and these add-ons.
FULL_ADDONS := miniscript,musig

.PHONY: setup setup-native build check test demo clean fuzz bench

setup:
	bash scripts/setup.sh

setup-native:
	bash scripts/setup.sh --native

# The quick loop for contributors: formatting, clippy and the native tests (incl. the
# CLI and the vendors' Python clients against the simulators); no browser.
check: setup-native
	cargo fmt --all -- --check
	cargo clippy --all-targets --features cli -- -D warnings
	cargo test --features cli

build: setup
	@if [[ "$$(command -v wasm-opt)" != "$(BINARYEN_BIN)/wasm-opt" ]]; then \
	  echo "build: wasm-opt resolves to '$$(command -v wasm-opt)', expected $(BINARYEN_BIN)/wasm-opt" >&2; exit 1; fi
	@echo "build: the wasm with $(if $(SIZE_BUILD),$(WASM_NIGHTLY) (std rebuilt for size),stable ($(WASM_NIGHTLY) with rust-src is not installed: a larger package))"
	$(PKG_BUILD) --out-dir pkg --out-name hwsigner -- $(PKG_ARGS)
	$(PKG_BUILD) --out-dir pkg/full --out-name hwsigner_full -- $(PKG_ARGS) --features $(FULL_ADDONS)
	$(PKG_BUILD) --out-dir pkg/simulator --out-name hwsigner_sim -- $(PKG_ARGS) --features sim-entry
	$(call minify_glue,pkg/hwsigner.js)
	$(call minify_glue,pkg/full/hwsigner_full.js)
	$(call minify_glue,pkg/simulator/hwsigner_sim.js)
	rm -f pkg/full/package.json pkg/full/README.md pkg/full/.gitignore
	rm -f pkg/simulator/package.json pkg/simulator/README.md pkg/simulator/.gitignore
	cp pkg-template/simulator.js pkg-template/simulator.d.ts pkg/
	@# wasm-bindgen declares `[Symbol.dispose]()` on every class, which only type-checks
	@# with lib esnext; `free()` stays (the JS keeps Symbol.dispose where it exists).
	sed -i '/\[Symbol\.dispose\](): void;/d' pkg/hwsigner.d.ts pkg/full/hwsigner_full.d.ts pkg/simulator/hwsigner_sim.d.ts
	node -e '$(FILL_PACKAGE_JSON)' pkg-template/package.json "$(CRATE_VERSION)" pkg/package.json
	cp pkg-template/README.md pkg/README.md
	@for f in hwsigner.js hwsigner_bg.wasm hwsigner.d.ts hwsigner_bg.wasm.d.ts package.json README.md \
	  full/hwsigner_full.js full/hwsigner_full_bg.wasm full/hwsigner_full.d.ts \
	  simulator.js simulator.d.ts simulator/hwsigner_sim.js simulator/hwsigner_sim_bg.wasm simulator/hwsigner_sim.d.ts; do \
	  [[ -s pkg/$$f ]] || { echo "build: pkg/$$f missing" >&2; exit 1; }; done
	@echo "build: pkg/ ready (hwsigner $(CRATE_VERSION), $$(stat -c %s pkg/hwsigner_bg.wasm) bytes wasm, full $$(stat -c %s pkg/full/hwsigner_full_bg.wasm), simulator $$(stat -c %s pkg/simulator/hwsigner_sim_bg.wasm))"

# Incremental caches are only worth their disk in an edit loop, not in one full run.
test: export CARGO_INCREMENTAL := 0
test: setup
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --all-targets --features cli -- -D warnings
	cargo clippy --lib --target wasm32-unknown-unknown -- -D warnings
	@# The npm entries' feature sets: the default entry (no simulator, no add-ons), the
	@# full entry (the add-ons) and the simulator entry; and the library's own tests
	@# without the add-ons.
	cargo clippy --lib --target wasm32-unknown-unknown --no-default-features -- -D warnings
	cargo clippy --lib --target wasm32-unknown-unknown --no-default-features --features $(FULL_ADDONS) -- -D warnings
	cargo clippy --lib --target wasm32-unknown-unknown --no-default-features --features sim-entry -- -D warnings
	cargo clippy --lib --no-default-features --profile test -- -D warnings
	cargo test --lib --no-default-features
	cargo test --features cli
	WASM_BINDGEN_TEST_TIMEOUT=300 $(WASM_PACK) test --headless --chrome --chromedriver /usr/bin/chromedriver -- --test web
	$(MAKE) --no-print-directory build
	node tests/js/release_check.mjs
	node tests/js/typecheck.mjs
	node tests/js/bundlers.mjs
	node tests/js/demo_e2e.mjs
	@echo "test: all passed; target/ holds $$(du -sh target | cut -f1)"

demo: build
	@echo "demo: open http://127.0.0.1:8080/www/  (Ctrl-C to stop)"
	python3 -m http.server 8080 --bind 127.0.0.1 --directory "$(CURDIR)"

clean:
	rm -rf pkg target

# Benchmarks against the official clients (bench/run.mjs): Ledger signing in one
# Chromium page (hwsigner's release wasm vs ledger-bitcoin@0.3.0), native, Trezor vs
# trezorlib, bundle sizes and start-up. Prints a table, writes bench/results.json.
# RUNS=n timed runs per case (default and minimum 5).
bench: build
	@[[ -d bench/node_modules/ledger-bitcoin ]] || (cd bench && npm ci --no-audit --no-fund)
	cargo build --profile native-bench --example bench
	node bench/run.mjs

# Fuzzing (cargo-fuzz on the pinned nightly): every target for FUZZ_SECONDS, seeded from tests/vectors.
# A crash leaves its input in fuzz/artifacts/<target>/: fix the bug, then copy the input
# into fuzz/regressions/<target>/ (run by tests/fuzz_regressions.rs).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = $(basename $(notdir $(wildcard fuzz/fuzz_targets/*.rs)))
VECTORS ?= $(CURDIR)/tests/vectors

fuzz: setup
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked || cargo install cargo-fuzz
	python3 scripts/fuzz_seeds.py "$(VECTORS)"
	cd fuzz && cargo +$(WASM_NIGHTLY) fuzz build
	@mkdir -p fuzz/logs; failed=0; \
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$t fuzz/artifacts/$$t; \
	  (cd fuzz && cargo +$(WASM_NIGHTLY) fuzz run $$t corpus/$$t regressions/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 >logs/$$t.log 2>&1) || failed=1; \
	  execs=$$(awk '/stat::number_of_executed_units/{print $$2}' fuzz/logs/$$t.log | tail -1); \
	  crashes=$$(ls fuzz/artifacts/$$t | wc -l); \
	  echo "fuzz: $$t execs=$${execs:-0} crashes=$$crashes"; \
	  [[ $$crashes == 0 ]] || failed=1; \
	done; exit $$failed
