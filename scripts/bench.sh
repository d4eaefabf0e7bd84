#!/usr/bin/env bash
# The benchmark: the same load generator (`hookgate bench`) drives, one after the
# other on this machine, the baseline endpoint (examples/baseline.rs), hookgate with
# the null output, with the file output (fsync on), and with Kafka (a local Tansu
# broker, acks=all): the maximum rate at a fixed concurrency, then the latency at
# half of that rate. Also idle memory. Prints a table of ratios to the baseline.
#
#   scripts/bench.sh                 # 10 s per run after 2 s of warm-up
#   DURATION=30s CONCURRENCY=64 KAFKA_CONCURRENCY=512 scripts/bench.sh
#   SKIP_KAFKA=1 scripts/bench.sh    # without the broker
#   SKIP_SPOOL=1 scripts/bench.sh    # Kafka without the spool runs
#   TRACING=1 scripts/bench.sh       # also the null output with [telemetry.otlp] at
#                                    # sample_ratio 1.0 and 0.01, exporting to a local
#                                    # OTLP sink that discards (python3)
#   HOOKGATE_BIN=/path/to/hookgate scripts/bench.sh   # another build (before/after
#                                    # comparisons; the generator is that build's too)
#
# Results (JSON per run and summary.md) go to $OUT (default target/bench/<time>).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-2s}"
CONCURRENCY="${CONCURRENCY:-32}"
# The broker's acknowledgement takes milliseconds (linger.ms, acks=all): Kafka's
# maximum needs many more requests in flight than the in-process outputs do.
KAFKA_CONCURRENCY="${KAFKA_CONCURRENCY:-256}"
OUT="${OUT:-target/bench/$(date +%Y%m%d-%H%M%S)}"
TOOLS="${HOOKGATE_TOOLS_DIR:-$HOME/.cache/hookgate-tools}"
TANSU="${HOOKGATE_TANSU:-$TOOLS/bin/tansu}"
GATEWAY_PORT=18080
BASELINE_PORT=19090
BROKER_PORT=19092
mkdir -p "$OUT"

if [ -z "${HOOKGATE_BIN:-}" ]; then
  echo "== building (release)"
  cargo build --release --locked --quiet --bin hookgate --example baseline
fi
BIN="${HOOKGATE_BIN:-target/release/hookgate}"
BASELINE="${HOOKGATE_BASELINE:-$(dirname "$BIN")/examples/baseline}"

PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

wait_http() {
  for _ in $(seq 1 200); do
    if "$BIN" probe --timeout 1s "$1" >/dev/null 2>&1; then return 0; fi
    sleep 0.05
  done
  echo "error: nothing answers $1" >&2
  return 1
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }

# config_with OUTPUT_BLOCK FILE: benches/gateway.toml with its output swapped.
config_with() {
  awk -v block="$1" '
    /^# --- output ---$/ {print; print block; skip=1; next}
    /^# --- end output ---$/ {skip=0}
    !skip {print}' benches/gateway.toml > "$2"
}

bench() { # NAME URL ARGS...
  local name="$1" url="$2"; shift 2
  echo "== $name"
  "$BIN" bench --config benches/gateway.toml --duration "$DURATION" --warmup "$WARMUP" \
    --quiet --json "$@" "$url" > "$OUT/$name.json"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("   %.0f req/s  p50 %.2f ms  p99 %.2f ms  %s" % (r["requests_per_second"], r["latency_ms"]["p50"], r["latency_ms"]["p99"], r["statuses"]))' "$OUT/$name.json"
}

start_gateway() { # CONFIG NAME
  "$BIN" serve --config "$1" 2> "$OUT/$2.log" &
  GW=$!
  PIDS+=("$GW")
  wait_http "http://127.0.0.1:$GATEWAY_PORT/healthz"
  sleep 2
  echo "$(rss_kb "$GW")" > "$OUT/$2.idle-rss-kb"
}

stop_gateway() { # NAME
  hwm_kb "$GW" > "$OUT/$1.peak-rss-kb"
  kill -TERM "$GW"
  wait "$GW" || true
}

# 1. The baseline.
"$BASELINE" "127.0.0.1:$BASELINE_PORT" 2>/dev/null &
BL=$!
PIDS+=("$BL")
sleep 0.3
bench baseline "http://127.0.0.1:$BASELINE_PORT" --concurrency "$CONCURRENCY"
kill "$BL"; wait "$BL" 2>/dev/null || true

# 2. hookgate, null output: the pipeline without I/O.
config_with $'[output]\nkind = "null"' "$OUT/null.toml"
start_gateway "$OUT/null.toml" null
bench null "http://127.0.0.1:$GATEWAY_PORT" --concurrency "$CONCURRENCY"
# Savanto alone: the provider the comparison with Vector uses (docs/performance.md).
bench null-savanto "http://127.0.0.1:$GATEWAY_PORT" --concurrency "$CONCURRENCY" --source savanto
stop_gateway null

# 2b. The same with traces exported (TRACING=1): a local http/protobuf sink that
#     answers every export and keeps nothing.
if [ -n "${TRACING:-}" ]; then
  SINK_PORT=14318
  python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200); self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0"); self.end_headers()
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()' "$SINK_PORT" &
  PIDS+=("$!")
  for ratio in 1.0 0.01; do
    config_with $'[output]\nkind = "null"' "$OUT/null-traced-$ratio.toml"
    printf '\n[telemetry.otlp]\nendpoint = "http://127.0.0.1:%s"\nsample_ratio = %s\n' \
      "$SINK_PORT" "$ratio" >> "$OUT/null-traced-$ratio.toml"
    start_gateway "$OUT/null-traced-$ratio.toml" "null-traced-$ratio"
    bench "null-traced-$ratio" "http://127.0.0.1:$GATEWAY_PORT" --concurrency "$CONCURRENCY"
    python3 -c 'import sys, urllib.request as u; t = u.urlopen(sys.argv[1]).read().decode()
print("   dropped spans:", " ".join(l for l in t.splitlines() if l.startswith("hookgate_trace_spans_dropped_total")))' \
      "http://127.0.0.1:$GATEWAY_PORT/metrics"
    stop_gateway "null-traced-$ratio"
  done
fi

# 3. hookgate, file output with fsync.
config_with "[output]
kind = \"file\"
path = \"$PWD/$OUT/events.ndjson\"
dead_letter_path = \"$PWD/$OUT/dead-letters.ndjson\"" "$OUT/file.toml"
start_gateway "$OUT/file.toml" file
bench file "http://127.0.0.1:$GATEWAY_PORT" --concurrency "$CONCURRENCY"
stop_gateway file

# 4. hookgate, Kafka output (Tansu, in memory, acks=all). Each Kafka gateway gets a
#    fresh broker, so the spool runs do not start on a broker already holding the
#    previous runs' records.
start_broker() { # NAME
  "$TANSU" broker --listener-url "tcp://127.0.0.1:$BROKER_PORT" \
    --advertised-listener-url "tcp://127.0.0.1:$BROKER_PORT" \
    --storage-engine memory://tansu/ > "$OUT/tansu-$1.log" 2>&1 &
  BROKER=$!
  PIDS+=("$BROKER")
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$BROKER_PORT") 2>/dev/null && break; sleep 0.1; done
  "$TANSU" topic create --broker "tcp://127.0.0.1:$BROKER_PORT" --partitions 6 webhooks.events >/dev/null
  "$TANSU" topic create --broker "tcp://127.0.0.1:$BROKER_PORT" --partitions 1 webhooks.dead-letter >/dev/null
}
stop_broker() {
  kill "$BROKER" 2>/dev/null || true
  wait "$BROKER" 2>/dev/null || true
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$BROKER_PORT") 2>/dev/null || break; sleep 0.1; done
}

if [ -z "${SKIP_KAFKA:-}" ]; then
  [ -x "$TANSU" ] || { echo "error: no Tansu at $TANSU (run scripts/test.sh once, or SKIP_KAFKA=1)" >&2; exit 1; }
  start_broker kafka
  config_with "[output]
kind = \"kafka\"
brokers = \"127.0.0.1:$BROKER_PORT\"" "$OUT/kafka.toml"
  start_gateway "$OUT/kafka.toml" kafka
  bench kafka-max "http://127.0.0.1:$GATEWAY_PORT" --concurrency "$KAFKA_CONCURRENCY"
  HALF=$(python3 -c 'import json,sys; print(max(1, int(json.load(open(sys.argv[1]))["requests_per_second"] / 2)))' "$OUT/kafka-max.json")
  # The latency at half the maximum, right after it: the steady state. (On a broker
  # that has not yet taken a burst, Tansu answers in ~6 ms for its first minute
  # whatever the warm-up at a moderate rate; after one, in ~1.5 ms.)
  bench kafka-half "http://127.0.0.1:$GATEWAY_PORT" --rate "$HALF"
  stop_gateway kafka
  stop_broker

  # 5. Kafka behind the spool: fallback (a healthy broker: should cost nothing) and
  #    always (write-ahead: the answer waits for a local fsync, not the broker's
  #    round trip).
  if [ -z "${SKIP_SPOOL:-}" ]; then
    for mode in fallback always; do
      rm -rf "$OUT/spool-$mode"
      start_broker "kafka-$mode"
      config_with "[output]
kind = \"kafka\"
brokers = \"127.0.0.1:$BROKER_PORT\"
[output.spool]
path = \"$PWD/$OUT/spool-$mode\"
mode = \"$mode\"" "$OUT/kafka-$mode.toml"
      start_gateway "$OUT/kafka-$mode.toml" "kafka-$mode"
      bench "kafka-$mode-max" "http://127.0.0.1:$GATEWAY_PORT" --concurrency "$KAFKA_CONCURRENCY"
      stop_gateway "kafka-$mode"
      stop_broker
    done
  fi
fi

python3 - "$OUT" <<'PY' | tee "$OUT/summary.md"
import json, os, sys
out = sys.argv[1]
def load(n):
    p = os.path.join(out, n + ".json")
    return json.load(open(p)) if os.path.exists(p) else None
def kb(n, kind):
    p = os.path.join(out, f"{n}.{kind}-rss-kb")
    return f"{int(open(p).read()) / 1024:.1f}" if os.path.exists(p) else ""
base = load("baseline")
print(f"\n{os.uname().nodename}: {os.cpu_count()} CPUs; generator and server on the same machine\n")
print("| run | load | req/s | × baseline | p50 ms | p90 ms | p99 ms | max ms | non-2xx | idle RSS MB | peak RSS MB |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for name, mem in [("baseline", None), ("null", "null"), ("null-savanto", None),
                  ("null-traced-1.0", "null-traced-1.0"), ("null-traced-0.01", "null-traced-0.01"), ("file", "file"), ("kafka-max", "kafka"), ("kafka-half", None),
                  ("kafka-fallback-max", "kafka-fallback"), ("kafka-always-max", "kafka-always")]:
    r = load(name)
    if r is None:
        continue
    bad = sum(v for k, v in r["statuses"].items() if not k.startswith("2")) + r["transport_errors"] + r["not_sent"]
    l = r["latency_ms"]
    ratio = r["requests_per_second"] / base["requests_per_second"]
    print(f"| {name} | {r['load']} | {r['requests_per_second']:.0f} | {ratio:.2f} | {l['p50']:.2f} | {l['p90']:.2f} | {l['p99']:.2f} | {l['max']:.2f} | {bad} | {kb(mem, 'idle') if mem else ''} | {kb(mem, 'peak') if mem else ''} |")
PY
echo "== results in $OUT"
