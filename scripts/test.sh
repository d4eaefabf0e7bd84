#!/usr/bin/env bash
# The whole test suite, as the README documents it and CI runs it:
# formatting, lints, unit + integration tests, and `hookgate check` on the
# shipped mappings and fixtures. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo not found: install Rust (https://rustup.rs) first" >&2
  exit 1
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings

echo "== cargo test"
cargo test --locked --all-targets

echo "== hookgate check (shipped mappings, fixtures, quick-start config)"
cargo run --locked --quiet -- check --config examples/quickstart.toml
