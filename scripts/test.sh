#!/usr/bin/env bash
# The whole test suite, as the README documents it and CI runs it:
# installs the real components the tests need (Debian's redis-server, and the Tansu
# Kafka-protocol broker cached under $HOOKGATE_TOOLS_DIR, default
# ~/.cache/hookgate-tools), then runs
# formatting, lints, unit + integration tests, and `hookgate check` on the shipped
# mappings and fixtures. The tests start and stop the broker and Redis themselves.
# Exits non-zero on any failure; a test that cannot get its broker fails.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo not found: install Rust (https://rustup.rs) first" >&2
  exit 1
fi

if ! command -v redis-server >/dev/null 2>&1; then
  echo "== installing Debian's redis-server"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server
fi

TOOLS="${HOOKGATE_TOOLS_DIR:-$HOME/.cache/hookgate-tools}"
TANSU_VERSION="0.6.0"
if [ ! -x "$TOOLS/bin/tansu" ] || [ ! -f "$TOOLS/.tansu-$TANSU_VERSION" ]; then
  echo "== installing tansu $TANSU_VERSION into $TOOLS (about 8 minutes the first time)"
  mkdir -p "$TOOLS"
  cargo install --locked --root "$TOOLS" tansu --version "$TANSU_VERSION" --features dynostore,libsql
  touch "$TOOLS/.tansu-$TANSU_VERSION"
fi
export HOOKGATE_TANSU="$TOOLS/bin/tansu"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings

echo "== cargo test"
cargo test --locked --all-targets

echo "== hookgate check (shipped mappings, fixtures, quick-start config)"
cargo run --locked --quiet -- check --config examples/quickstart.toml
