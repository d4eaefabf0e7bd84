#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 600 s each), starting from the
# small committed seeds in fuzz/seeds/<target>. Not part of CI: run it before a
# release or after touching a parser.
#   ./scripts/fuzz.sh                 # all targets, 10 minutes each
#   FUZZ_SECONDS=60 ./scripts/fuzz.sh mapping_eval
# Needs cargo-fuzz (installed into the tools cache on first use). cargo-fuzz wants
# nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them.
# Crashes land in fuzz/artifacts/<target>/; the grown corpus in fuzz/corpus/<target>/
# (git-ignored: minimise it with `cargo fuzz cmin` and copy only new, small seeds back).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

TOOLS="${HOOKGATE_TOOLS_DIR:-$HOME/.cache/hookgate-tools}"
export PATH="$TOOLS/bin:$PATH"
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install --locked --root "$TOOLS" cargo-fuzz
fi
export RUSTC_BOOTSTRAP=1

SECONDS_EACH="${FUZZ_SECONDS:-600}"
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(signature_header mapping_eval config_load)

cargo fuzz build
for t in "${TARGETS[@]}"; do
  mkdir -p "corpus/$t"
  echo "== fuzzing $t for ${SECONDS_EACH}s"
  cargo fuzz run "$t" "corpus/$t" "seeds/$t" -- -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 2>&1 | tail -n 5
done
