#!/usr/bin/env bash
# The benchmark: the same load generator (`hookgate bench`) drives, one after the
# other on this machine, the baseline endpoint (examples/baseline.rs), hookgate with
# the null output, with the file output (fsync on), and with Kafka (a local Tansu
# broker, acks=all): the rate at a fixed concurrency, then the latency at half of
# that rate; a WhatsApp batch of 100 items against a single item; the spool. Each
# step runs RUNS times: the table gives the median with min–max. Also idle memory,
# and the gateway's CPU time per request (`--server-pid`).
#
# Where the machine has two CPUs or more, the generator (and the broker) run on the
# first half of them and the gateway on the other half (taskset): the gateway's CPU
# time is then its own work, not the generator's.
#
#   scripts/bench.sh                 # 10 s per run after 2 s of warm-up, 3 runs
#   DURATION=30s RUNS=5 CONCURRENCY=64 scripts/bench.sh
#   SKIP_KAFKA=1 scripts/bench.sh    # without the broker
#   SKIP_SPOOL=1 scripts/bench.sh    # Kafka without the spool runs (the spool's
#                                    # fallback mode writes a batch's items one after
#                                    # the other: its batch row is the "before")
#   SKIP_BATCH=1 scripts/bench.sh    # Kafka without the batch rows
#   SKIP_BASELINE=1 SKIP_FILE=1 scripts/bench.sh   # without those rows (a producer
#                                    # settings table only needs null and Kafka)
#   PIN=0 scripts/bench.sh           # no taskset
#   TRACING=1 scripts/bench.sh       # also the null output with [telemetry.otlp] at
#                                    # sample_ratio 1.0 and 0.01, exporting to a local
#                                    # OTLP sink that discards (python3)
#   KAFKA_EXTRA=$'"linger.ms" = 1' scripts/bench.sh   # librdkafka properties for
#                                    # every Kafka gateway (the defaults' measurements)
#   HOOKGATE_BIN=/path/to/hookgate scripts/bench.sh   # another build (before/after
#                                    # comparisons; the generator is that build's too)
#
# Results (JSON per run and summary.md) go to $OUT (default target/bench/<time>).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-2s}"
RUNS="${RUNS:-3}"
CONCURRENCY="${CONCURRENCY:-64}"
# Kafka's own maximum needs more requests in flight than the in-process outputs
# (each waits for the broker's acknowledgement).
KAFKA_CONCURRENCY="${KAFKA_CONCURRENCY:-256}"
# A fresh Tansu answers in ~6 ms for its first minute and in ~1.5 ms once it has
# taken a burst: each broker gets this much load before anything is measured.
BROKER_WARMUP="${BROKER_WARMUP:-10s}"
OUT="${OUT:-target/bench/$(date +%Y%m%d-%H%M%S)}"
TOOLS="${HOOKGATE_TOOLS_DIR:-$HOME/.cache/hookgate-tools}"
TANSU="${HOOKGATE_TANSU:-$TOOLS/bin/tansu}"
GATEWAY_PORT=18080
BASELINE_PORT=19090
BROKER_PORT=19092
mkdir -p "$OUT"
OUT_ABS="$(cd "$OUT" && pwd)"

if [ -z "${HOOKGATE_BIN:-}" ]; then
  echo "== building (release)"
  cargo build --release --locked --quiet --bin hookgate --example baseline
fi
BIN="${HOOKGATE_BIN:-target/release/hookgate}"
BASELINE="${HOOKGATE_BASELINE:-$(dirname "$BIN")/examples/baseline}"

CPUS=$(nproc)
GEN=()
SERVE=()
if [ "${PIN:-1}" != 0 ] && [ "$CPUS" -ge 2 ] && command -v taskset >/dev/null; then
  HALF_CPUS=$((CPUS / 2))
  GEN=(taskset -c "0-$((HALF_CPUS - 1))")
  SERVE=(taskset -c "$HALF_CPUS-$((CPUS - 1))")
fi
{
  echo "machine: $(uname -n), $CPUS CPUs; generator and broker: ${GEN[*]:-unpinned}; gateway: ${SERVE[*]:-unpinned}"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "binary: $BIN; $RUNS runs of $DURATION after $WARMUP of warm-up"
} | tee "$OUT/machine.txt"

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

# The WhatsApp source the batch rows post to (the generator signs with its secret).
WHATSAPP_SOURCE=$'\n[[source]]\nid = "whatsapp"\nprovider = "whatsapp-cloud"\nsecrets = ["bench-whatsapp-secret"]\n'

# bench NAME URL ARGS...: RUNS runs, NAME.1.json … NAME.$RUNS.json.
bench() {
  local name="$1" url="$2"; shift 2
  echo "== $name"
  local pid_args=()
  [ -n "${GW:-}" ] && [ "$url" = "http://127.0.0.1:$GATEWAY_PORT" ] && pid_args=(--server-pid "$GW")
  for i in $(seq 1 "$RUNS"); do
    "${GEN[@]}" "$BIN" bench --config "${BENCH_CONFIG:-benches/gateway.toml}" --duration "$DURATION" \
      --warmup "$WARMUP" --quiet --json "${pid_args[@]}" "$@" "$url" > "$OUT/$name.$i.json"
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("   %.0f req/s  p50 %.2f ms  p99 %.2f ms  cpu %s µs/req  %s" % (r["requests_per_second"], r["latency_ms"]["p50"], r["latency_ms"]["p99"], "%.1f" % r["server_cpu_us_per_request"] if "server_cpu_us_per_request" in r else "-", r["statuses"]))' "$OUT/$name.$i.json"
  done
}

# Load that is not measured: a broker's first burst.
warm() {
  "${GEN[@]}" "$BIN" bench --config "${BENCH_CONFIG:-benches/gateway.toml}" --duration "$BROKER_WARMUP" \
    --warmup 0s --quiet --json "$@" "http://127.0.0.1:$GATEWAY_PORT" > /dev/null
}

start_gateway() { # CONFIG NAME
  "${SERVE[@]}" "$BIN" serve --config "$1" 2> "$OUT/$2.log" &
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
  GW=
}

# 1. The baseline.
if [ -z "${SKIP_BASELINE:-}" ]; then
  "${SERVE[@]}" "$BASELINE" "127.0.0.1:$BASELINE_PORT" 2>/dev/null &
  BL=$!
  PIDS+=("$BL")
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$BASELINE_PORT") 2>/dev/null && break; sleep 0.05; done
  bench baseline "http://127.0.0.1:$BASELINE_PORT" --concurrency "$CONCURRENCY"
  kill "$BL"; wait "$BL" 2>/dev/null || true
fi

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
if [ -z "${SKIP_FILE:-}" ]; then
  config_with "[output]
kind = \"file\"
path = \"$OUT_ABS/events.ndjson\"
dead_letter_path = \"$OUT_ABS/dead-letters.ndjson\"" "$OUT/file.toml"
  start_gateway "$OUT/file.toml" file
  bench file "http://127.0.0.1:$GATEWAY_PORT" --concurrency "$CONCURRENCY"
  stop_gateway file
fi

# 4. hookgate, Kafka output (Tansu, in memory, acks=all). Each Kafka gateway gets a
#    fresh broker, warmed up before anything is measured.
start_broker() { # NAME
  "${GEN[@]}" "$TANSU" broker --listener-url "tcp://127.0.0.1:$BROKER_PORT" \
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
kafka_output() { # [SPOOL_BLOCK]
  printf '[output]\nkind = "kafka"\nbrokers = "127.0.0.1:%s"\n%s\n[output.librdkafka]\n%s\n' \
    "$BROKER_PORT" "${1:-}" "${KAFKA_EXTRA:-}"
}

if [ -z "${SKIP_KAFKA:-}" ]; then
  [ -x "$TANSU" ] || { echo "error: no Tansu at $TANSU (run scripts/test.sh once, or SKIP_KAFKA=1)" >&2; exit 1; }
  start_broker kafka
  config_with "$(kafka_output)" "$OUT/kafka.toml"
  start_gateway "$OUT/kafka.toml" kafka
  warm --concurrency "$KAFKA_CONCURRENCY"
  bench kafka "http://127.0.0.1:$GATEWAY_PORT" --concurrency "$CONCURRENCY"
  # The latency at half the rate kafka reached (its median run), right after it:
  # open loop, latency counted from each request's scheduled time.
  HALF=$(python3 -c 'import json,sys,statistics; print(max(1, int(statistics.median(json.load(open(f)).get("requests_per_second") for f in sys.argv[1:]) / 2)))' "$OUT"/kafka.[0-9]*.json)
  bench kafka-half "http://127.0.0.1:$GATEWAY_PORT" --rate "$HALF"
  bench kafka-max "http://127.0.0.1:$GATEWAY_PORT" --concurrency "$KAFKA_CONCURRENCY"
  stop_gateway kafka
  stop_broker

  # 5. A WhatsApp delivery of 100 messages against one of a single message, one
  #    request at a time (the answer's time), then 8 in flight.
  if [ -z "${SKIP_BATCH:-}" ]; then
    start_broker kafka-batch
    config_with "$(kafka_output)" "$OUT/kafka-batch.toml"
    echo "$WHATSAPP_SOURCE" >> "$OUT/kafka-batch.toml"
    BENCH_CONFIG="$OUT/kafka-batch.toml"
    start_gateway "$OUT/kafka-batch.toml" kafka-batch
    warm --concurrency "$KAFKA_CONCURRENCY"
    for items in single batch-100; do
      bench "kafka-$items" "http://127.0.0.1:$GATEWAY_PORT" --concurrency 1 \
        --source whatsapp --fixtures "benches/fixtures/$items"
    done
    for items in single batch-100; do
      bench "kafka-$items-c8" "http://127.0.0.1:$GATEWAY_PORT" --concurrency 8 \
        --source whatsapp --fixtures "benches/fixtures/$items"
    done
    BENCH_CONFIG=
    stop_gateway kafka-batch
    stop_broker
  fi

  # 6. Kafka behind the spool: fallback (a healthy broker: should cost nothing) and
  #    always (write-ahead: the answer waits for a local fsync, not the broker's
  #    round trip), at the same concurrency as the direct path.
  if [ -z "${SKIP_SPOOL:-}" ]; then
    for mode in fallback always; do
      rm -rf "$OUT_ABS/spool-$mode"
      start_broker "kafka-$mode"
      config_with "$(kafka_output "[output.spool]
path = \"$OUT_ABS/spool-$mode\"
mode = \"$mode\"")" "$OUT/kafka-$mode.toml"
      echo "$WHATSAPP_SOURCE" >> "$OUT/kafka-$mode.toml"
      start_gateway "$OUT/kafka-$mode.toml" "kafka-$mode"
      warm --concurrency "$KAFKA_CONCURRENCY"
      bench "kafka-$mode" "http://127.0.0.1:$GATEWAY_PORT" --concurrency "$CONCURRENCY"
      # fallback writes a batch's items one after the other, always together.
      BENCH_CONFIG="$OUT/kafka-$mode.toml"
      bench "kafka-$mode-batch-100" "http://127.0.0.1:$GATEWAY_PORT" --concurrency 1 \
        --source whatsapp --fixtures benches/fixtures/batch-100
      BENCH_CONFIG=
      stop_gateway "kafka-$mode"
      stop_broker
    done
  fi
fi
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"

python3 - "$OUT" <<'PY' | tee "$OUT/summary.md"
import glob, json, os, statistics, sys
out = sys.argv[1]
def runs(n):
    return [json.load(open(p)) for p in sorted(glob.glob(os.path.join(out, n + ".[0-9]*.json")))]
def kb(n, kind):
    p = os.path.join(out, f"{n}.{kind}-rss-kb")
    return f"{int(open(p).read()) / 1024:.1f}" if os.path.exists(p) else ""
def med(rs, f):
    v = [f(r) for r in rs if f(r) is not None]
    return (statistics.median(v), min(v), max(v)) if v else None
def fmt(m, d=0):
    return "" if m is None else f"{m[0]:.{d}f} ({m[1]:.{d}f}–{m[2]:.{d}f})"
rps = lambda r: r["requests_per_second"]
p50 = lambda r: r["latency_ms"]["p50"]
p99 = lambda r: r["latency_ms"]["p99"]
cpu = lambda r: r.get("server_cpu_us_per_request")
print(open(os.path.join(out, "machine.txt")).read())
print("Median of the runs (min–max).\n")
print("| run | load | req/s | × null | p50 ms | p99 ms | CPU µs/req | × null CPU | non-2xx | idle RSS MB | peak RSS MB |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
null = runs("null")
null_rps = med(null, rps)[0] if null else None
null_cpu = med(null, cpu)[0] if null and med(null, cpu) else None
rows = [("baseline", None), ("null", "null"), ("null-savanto", None),
        ("null-traced-1.0", "null-traced-1.0"), ("null-traced-0.01", "null-traced-0.01"),
        ("file", "file"), ("kafka", "kafka"), ("kafka-half", None), ("kafka-max", None),
        ("kafka-single", "kafka-batch"), ("kafka-batch-100", None),
        ("kafka-single-c8", None), ("kafka-batch-100-c8", None),
        ("kafka-fallback", "kafka-fallback"), ("kafka-always", "kafka-always"),
        ("kafka-fallback-batch-100", None), ("kafka-always-batch-100", None)]
for name, mem in rows:
    rs = runs(name)
    if not rs:
        continue
    bad = max(sum(v for k, v in r["statuses"].items() if not k.startswith("2")) + r["transport_errors"] + r["not_sent"] for r in rs)
    r_rps, r_cpu = med(rs, rps), med(rs, cpu)
    x = f"{r_rps[0] / null_rps:.2f}" if null_rps else ""
    xc = f"{r_cpu[0] / null_cpu:.2f}" if null_cpu and r_cpu else ""
    print(f"| {name} | {rs[0]['load']} | {fmt(r_rps)} | {x} | {fmt(med(rs, p50), 2)} | {fmt(med(rs, p99), 2)} | {fmt(r_cpu, 1)} | {xc} | {bad} | {kb(mem, 'idle') if mem else ''} | {kb(mem, 'peak') if mem else ''} |")
single, batch = runs("kafka-single"), runs("kafka-batch-100")
if single and batch:
    print(f"\n100-item batch / single item, answer time (p50, one request at a time): "
          f"{med(batch, p50)[0] / med(single, p50)[0]:.2f}×; p99: {med(batch, p99)[0] / med(single, p99)[0]:.2f}×")
seq_, tog = runs("kafka-fallback-batch-100"), runs("kafka-always-batch-100")
if seq_ and tog:
    print(f"100-item batch behind the spool, answer time p50: items one after the other (fallback) "
          f"{med(seq_, p50)[0]:.2f} ms, together (always) {med(tog, p50)[0]:.2f} ms")
PY
echo "== results in $OUT"
