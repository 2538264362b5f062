#!/usr/bin/env bash
# The pinned nightly that builds the npm package's wasm for size (`WASM_NIGHTLY` in the
# Makefile): prints its name when it is installed with rust-src and the wasm32 target,
# nothing otherwise. `--name` prints the name alone. setup.sh installs the toolchain when
# this prints nothing; `make build` uses it when this prints its name.
set -uo pipefail
cd "$(dirname "$0")/.."
name=${WASM_NIGHTLY:-$(awk '/^export WASM_NIGHTLY *:=/ { print $NF; exit }' Makefile)}
if [[ ${1:-} == --name ]]; then
  echo "$name"
  exit 0
fi
[[ -n $name ]] || exit 0
sysroot=$(rustup run "$name" rustc --print sysroot 2>/dev/null) || exit 0
if [[ -d $sysroot/lib/rustlib/src/rust/library && -d $sysroot/lib/rustlib/wasm32-unknown-unknown ]]; then
  echo "$name"
fi
