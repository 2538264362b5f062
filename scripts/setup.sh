#!/usr/bin/env bash
# Installs everything `make build` / `make test` need on a fresh Debian 12 machine (as
# root). Idempotent: every step checks first, so a second run is quick and prints only
# "setup: all set". Each install prints one line; its full output goes to
# .tools/logs/<step>.log and is shown (tail) only when the step fails.
#
# Deliberately never sets RUSTFLAGS: an environment RUSTFLAGS replaces build.rustflags
# from .cargo/config.toml and silently drops --cfg=web_sys_unstable_apis.
#
# `setup.sh --native` (for `make check`) installs only what the native build and tests
# need: the Debian -dev packages, rustfmt and clippy, and the Python venv.
set -euo pipefail

NATIVE_ONLY=0
[[ ${1:-} == --native ]] && NATIVE_ONLY=1

cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS="$ROOT/.tools"
LOGS="$TOOLS/logs"
BINARYEN_VERSION=132.0.0
BINARYEN_BIN="$TOOLS/binaryen/node_modules/.bin"
ESBUILD_VERSION=0.28.2
ESBUILD_BIN="$TOOLS/esbuild/node_modules/.bin/esbuild"
APT_PACKAGES=(clang pkg-config libudev-dev libusb-1.0-0-dev chromium chromium-driver)
((NATIVE_ONLY)) && APT_PACKAGES=(pkg-config libudev-dev libusb-1.0-0-dev)

export PATH="$HOME/.cargo/bin:$PATH"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export DEBIAN_FRONTEND=noninteractive
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

installed=0

# run_step NAME DESCRIPTION CMD...: print one line, run CMD with output to a log.
run_step() {
  local name=$1 desc=$2
  shift 2
  mkdir -p "$LOGS"
  echo "setup: installing $desc"
  installed=$((installed + 1))
  if ! "$@" >"$LOGS/$name.log" 2>&1; then
    echo "setup: FAILED installing $desc (last lines of $LOGS/$name.log):" >&2
    tail -n 40 "$LOGS/$name.log" >&2
    return 1
  fi
}

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# --- Debian packages -------------------------------------------------------------
missing=()
for p in "${APT_PACKAGES[@]}"; do
  if [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) != "install ok installed" ]]; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  apt_install() {
    as_root apt-get update &&
      as_root apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=600 \
        "${APT_PACKAGES[@]}"
  }
  run_step apt "Debian packages: ${missing[*]}" apt_install
fi
if [[ -e /usr/bin/wasm-opt ]]; then
  echo "setup: WARNING: /usr/bin/wasm-opt exists (Debian binaryen): it breaks the release" \
    "module; the Makefile puts $BINARYEN_BIN first on PATH, but consider" \
    "'apt-get remove binaryen'" >&2
fi

# --- Rust toolchain pieces --------------------------------------------------------
if ! command -v cargo >/dev/null || ! command -v rustup >/dev/null; then
  echo "setup: cargo/rustup not found (expected in ~/.cargo/bin); cannot continue" >&2
  exit 1
fi
if ((NATIVE_ONLY == 0)) && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  run_step rust-target "rust target wasm32-unknown-unknown" \
    rustup target add wasm32-unknown-unknown
fi
components=$(rustup component list --installed)
for c in rustfmt clippy; do
  if ! grep -q "^$c" <<<"$components"; then
    run_step "rust-$c" "rust component $c" rustup component add "$c"
  fi
done

if ((NATIVE_ONLY == 0)); then
if ! command -v wasm-pack >/dev/null; then
  run_step wasm-pack "wasm-pack (cargo install, ~2 min)" cargo install wasm-pack --locked
fi

# --- wasm-bindgen-cli at exactly the crate's wasm-bindgen version ------------------
lock_version() {
  [[ -f Cargo.lock ]] || return 0
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/^version = "|"$/, ""); print; exit }' Cargo.lock
}
WB_VERSION=$(lock_version)
if [[ -z $WB_VERSION && ! -f Cargo.lock ]]; then
  mkdir -p "$LOGS"
  cargo generate-lockfile >"$LOGS/generate-lockfile.log" 2>&1 || true
  WB_VERSION=$(lock_version)
fi
if [[ -z $WB_VERSION ]]; then
  # No usable Cargo.lock (e.g. the manifest does not resolve yet): use the "=X" pin.
  WB_VERSION=$(sed -nE 's/^wasm-bindgen *= *(\{ *version *= *)?"=([0-9][^"]*)".*/\2/p' Cargo.toml | head -n1)
fi
if [[ -z $WB_VERSION ]]; then
  echo "setup: cannot determine the wasm-bindgen version (no Cargo.lock entry, no '=X' pin" \
    "in Cargo.toml; see $LOGS/generate-lockfile.log)" >&2
  exit 1
fi
if [[ $(wasm-bindgen --version 2>/dev/null | awk '{print $2}') != "$WB_VERSION" ]]; then
  # With --locked this fails on the registry mirror (a pinned transitive version is
  # missing there), so fall back to a fresh resolution.
  wbcli_install() {
    cargo install wasm-bindgen-cli --version "$WB_VERSION" --locked --force ||
      cargo install wasm-bindgen-cli --version "$WB_VERSION" --force
  }
  run_step wasm-bindgen-cli "wasm-bindgen-cli $WB_VERSION (cargo install, ~3 min)" wbcli_install
fi

# --- the pinned nightly that builds the npm package's wasm for size ------------------
# `make build` rebuilds std with it (build-std, panic=immediate-abort): ~40 KB gzip less
# in every entry. Optional: without it the package is built with stable, larger.
WASM_NIGHTLY=$(bash scripts/size-nightly.sh --name)
if [[ -n $WASM_NIGHTLY && -z $(bash scripts/size-nightly.sh) ]]; then
  run_step rust-nightly "rust $WASM_NIGHTLY with rust-src and the wasm32 target (~1 min)" \
    rustup toolchain install "$WASM_NIGHTLY" --profile minimal --component rust-src \
    --target wasm32-unknown-unknown ||
    echo "setup: WARNING: no $WASM_NIGHTLY: the package is built with stable (larger)" >&2
fi

# --- wasm-opt from npm binaryen (never Debian's, never a download by wasm-pack) -----
if [[ ! -x $BINARYEN_BIN/wasm-opt ]]; then
  mkdir -p "$TOOLS/binaryen"
  run_step binaryen "binaryen@$BINARYEN_VERSION (npm, wasm-opt)" \
    npm install --prefix "$TOOLS/binaryen" "binaryen@$BINARYEN_VERSION"
fi

# --- esbuild: minifies the package's JS glue (make build) ----------------------------
if [[ $("$ESBUILD_BIN" --version 2>/dev/null) != "$ESBUILD_VERSION" ]]; then
  mkdir -p "$TOOLS/esbuild"
  run_step esbuild "esbuild@$ESBUILD_VERSION (npm, minifies the package's JS glue)" \
    npm install --prefix "$TOOLS/esbuild" "esbuild@$ESBUILD_VERSION"
fi

# --- JS test peers (tests/js) ------------------------------------------------------
js_deps_ok() {
  node -e '
    const fs = require("fs");
    const want = require("./tests/js/package.json").devDependencies || {};
    for (const [name, ver] of Object.entries(want)) {
      const f = `tests/js/node_modules/${name}/package.json`;
      if (!fs.existsSync(f) || JSON.parse(fs.readFileSync(f)).version !== ver) process.exit(1);
    }' 2>/dev/null &&
    # The bundlers that tests/js/bundlers.mjs runs (their CLIs).
    [[ -x tests/js/node_modules/.bin/vite && -x tests/js/node_modules/.bin/webpack ]]
}
if ! js_deps_ok; then
  if [[ -f tests/js/package-lock.json ]]; then
    run_step js-deps "tests/js npm packages (npm ci)" npm ci --prefix tests/js
  else
    run_step js-deps "tests/js npm packages (npm install)" npm install --prefix tests/js
  fi
fi
fi

# --- Python test peers (the vendors' own clients) ---------------------------------
VENV="$TOOLS/venv"
py_deps_ok() {
  [[ -x $VENV/bin/python ]] || return 1
  local frozen
  frozen=$("$VENV/bin/pip" freeze 2>/dev/null | tr '[:upper:]_' '[:lower:]-')
  while read -r req; do
    [[ -z $req ]] && continue
    grep -qx "$(tr '[:upper:]_' '[:lower:]-' <<<"$req")" <<<"$frozen" || return 1
  done <tests/python/requirements.txt
}
if ! py_deps_ok; then
  py_install() {
    python3 -m venv "$VENV" && "$VENV/bin/pip" install -q -r tests/python/requirements.txt
  }
  run_step python "Python test peers (ledger-bitcoin, trezor) in .tools/venv" py_install
fi

# --- HWI itself, the judge of the hwi command line (tests/hwi.rs, make bench) --------
# In its own venv: HWI pins its own dependencies.
HWI_VENV="$TOOLS/hwi-venv"
HWI_VERSION=3.2.0
if [[ $("$HWI_VENV/bin/hwi" --version 2>/dev/null) != "hwi $HWI_VERSION" ]]; then
  hwi_install() {
    python3 -m venv "$HWI_VENV" && "$HWI_VENV/bin/pip" install -q "hwi==$HWI_VERSION"
  }
  run_step hwi "HWI $HWI_VERSION in .tools/hwi-venv" hwi_install
fi

if ((installed == 0)); then
  echo "setup: all set"
fi
