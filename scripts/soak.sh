#!/usr/bin/env bash
# Soak benchmark: steady load through a tap → Kafka → worker (2 candidates) → Postgres for a long
# time, as separate processes. Reports each process's RSS (after warm-up, at the end, peak), the
# capture→diff lag (p50/p95/max, from the stored timestamps), client latency, and whether errors
# grow (first half vs second half). Writes Markdown to ${SOAK_OUT:-$SHADOWTAP_CACHE/soak.md}.
#
# Usage: scripts/soak.sh
#   SOAK_SECS=900   measured seconds (after SOAK_WARMUP=60)    SOAK_RATE=300  requests per second
#   SOAK_INDEX=embedded|off  the worker's vector index (embedded: in a scratch folder, size reported)
#   SOAK_BIN=DIR    soak another build (a folder with its shadowtap and shadowtap-load)
# Needs ports 127.0.0.1:18180-18184 and the local PostgreSQL (a scratch database is created).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SECS="${SOAK_SECS:-900}"
WARMUP="${SOAK_WARMUP:-60}"
RATE="${SOAK_RATE:-300}"
OUT="${SOAK_OUT:-$SHADOWTAP_CACHE/soak.md}"
P_TAP=18180 P_PROD=18181 P_FAITHFUL=18182 P_REGRESSING=18183 P_ADMIN=18184
ADMIN_DB="${SOAK_ADMIN_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DB="shadowtap_soak_$(date +%s)"
DB_URL="${ADMIN_DB%/*}/$DB"

check_postgres
start_kafka
if [ -n "${SOAK_BIN:-}" ]; then
  BIN="$SOAK_BIN" # a folder with another build's shadowtap and shadowtap-load
else
  log "building shadowtap and shadowtap-load (release)"
  (cd "$ROOT" && cargo build --release --quiet --bin shadowtap --bin shadowtap-load)
  BIN="$CARGO_TARGET_DIR/release"
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/shadowtap-soak.XXXXXX")"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$ADMIN_DB" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  [ -n "${SOAK_KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

psql "$ADMIN_DB" -qc "CREATE DATABASE $DB" >/dev/null
export DATABASE_URL="$DB_URL"
export SHADOWTAP_BUS__KAFKA__TOPIC="shadowtap.soak.$(date +%s)"
export SHADOWTAP_BUS__KAFKA__GROUP="$SHADOWTAP_BUS__KAFKA__TOPIC"
export SHADOWTAP_BUS__KAFKA__BROKERS="$KAFKA_ADDR"
export SHADOWTAP_LOG="${SHADOWTAP_LOG:-warn}"
export SHADOWTAP_INDEX__BACKEND="${SOAK_INDEX:-embedded}"
export SHADOWTAP_INDEX__DIR="$WORK/index" # never the user's default index folder

start() { # name, args...
  local name="$1"; shift
  "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=("$!")
  eval "PID_$name=$!"
}
wait_port() {
  for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done
  log "nothing listens on $1"; return 1
}

start prod "$BIN/shadowtap" fake-provider --persona production --listen "127.0.0.1:$P_PROD"
start faithful "$BIN/shadowtap" fake-provider --persona faithful --listen "127.0.0.1:$P_FAITHFUL"
start regressing "$BIN/shadowtap" fake-provider --persona regressing --listen "127.0.0.1:$P_REGRESSING"
"$BIN/shadowtap" migrate >/dev/null
start tap "$BIN/shadowtap" tap --bus kafka --listen "127.0.0.1:$P_TAP" --upstream "http://127.0.0.1:$P_PROD"
start worker "$BIN/shadowtap" worker --bus kafka --admin-listen "127.0.0.1:$P_ADMIN" \
  --candidate "faithful=http://127.0.0.1:$P_FAITHFUL" --candidate "regressing=http://127.0.0.1:$P_REGRESSING"
for p in $P_PROD $P_FAITHFUL $P_REGRESSING $P_TAP $P_ADMIN; do wait_port "$p"; done

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
anon_kib() { awk '/^RssAnon/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
TANSU_PID="$(pgrep -f "$TANSU_BIN broker" | head -1 || true)"
sample_rss() { # label
  printf '%s %s %s %s %s\n' "$1" "$(rss_kib "$PID_tap")" "$(rss_kib "$PID_worker")" \
    "$( [ -n "$TANSU_PID" ] && rss_kib "$TANSU_PID" || echo 0)" "$(anon_kib "$PID_worker")" >>"$WORK/rss.txt"
}

cat >"$WORK/body.json" <<'JSON'
{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"What is the capital of France? Answer in one word."}],"temperature":0}
JSON

log "soak: $RATE rps for ${WARMUP}s warm-up + ${SECS}s measured"
( while kill -0 "$PID_tap" 2>/dev/null; do sample_rss "t=$(date +%s)"; sleep 10; done ) &
SAMPLER=$!
"$BIN/shadowtap-load" --url "http://127.0.0.1:$P_TAP/v1/chat/completions" --rate "$RATE" \
  --duration "$SECS" --warmup "$WARMUP" --connections 128 --body-file "$WORK/body.json" >"$WORK/load.json"
kill "$SAMPLER" 2>/dev/null || true
log "load done; waiting for the worker to catch up"
q() { psql "$DB_URL" -Atc "$1"; }
sleep 5 # captures still in the tap's queue and librdkafka's
for _ in $(seq 1 300); do
  [ "$(q "SELECT count(*) >= 2 * (SELECT count(*) FROM exchanges) FROM diffs")" = "t" ] && break
  sleep 1
done

# The first WARMUP seconds of captures are not measured.
T0="(SELECT min(captured_at) + make_interval(secs => $WARMUP) FROM exchanges)"
MID="(SELECT min(captured_at) + make_interval(secs => $WARMUP + $SECS / 2.0) FROM exchanges)"
lag="$(q "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY s)::numeric, 3) || ' ' ||
                 round(percentile_cont(0.95) WITHIN GROUP (ORDER BY s)::numeric, 3) || ' ' || round(max(s)::numeric, 3)
          FROM (SELECT extract(epoch FROM d.created_at - e.captured_at) AS s
                FROM diffs d JOIN exchanges e ON e.id = d.exchange_id WHERE e.captured_at >= $T0) x")"
read -r lag_p50 lag_p95 lag_max <<<"$lag"
exchanges="$(q "SELECT count(*) FROM exchanges")"
diffs="$(q "SELECT count(*) FROM diffs")"
errors_first="$(q "SELECT count(*) FROM replays r JOIN exchanges e ON e.id = r.exchange_id WHERE r.error_class IS NOT NULL AND e.captured_at >= $T0 AND e.captured_at < $MID")"
errors_second="$(q "SELECT count(*) FROM replays r JOIN exchanges e ON e.id = r.exchange_id WHERE r.error_class IS NOT NULL AND e.captured_at >= $MID")"
dead="$(q "SELECT count(*) FROM dead_letters")"
dropped="$(curl -s "http://127.0.0.1:$P_TAP/metrics" | awk '/^shadowtap_captures_dropped_total[{ ]/ {s+=$2} END {print s+0}')"
read -r first_label tap_start worker_start tansu_start anon_start < <(sed -n "$((WARMUP / 10 + 1))p" "$WORK/rss.txt")
read -r mid_label tap_mid worker_mid tansu_mid anon_mid < <(sed -n "$((WARMUP / 10 + 1 + SECS / 20))p" "$WORK/rss.txt")
read -r last_label tap_end worker_end tansu_end anon_end < <(tail -1 "$WORK/rss.txt")
index_size="$(du -sh "$WORK/index" 2>/dev/null | cut -f1 || echo -)"
peak() { awk -v c="$1" '{ if ($c > m) m = $c } END { print m+0 }' "$WORK/rss.txt"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
load="$(cat "$WORK/load.json")"
field() { python3 -c "import json,sys;print(json.loads(sys.argv[1])[sys.argv[2]])" "$load" "$1"; }

{
  echo "### Soak: $RATE rps for $SECS s (after ${WARMUP} s warm-up), tap → Kafka → worker (2 candidates) → Postgres"
  echo
  echo "| process | RSS after warm-up | halfway | at end | peak |"
  echo "|---|---|---|---|---|"
  echo "| tap | $(mib "$tap_start") MiB | $(mib "$tap_mid") MiB | $(mib "$tap_end") MiB | $(mib "$(peak 2)") MiB |"
  echo "| worker (index $SHADOWTAP_INDEX__BACKEND) | $(mib "$worker_start") MiB | $(mib "$worker_mid") MiB | $(mib "$worker_end") MiB | $(mib "$(peak 3)") MiB |"
  echo "| worker, anonymous memory only | $(mib "$anon_start") MiB | $(mib "$anon_mid") MiB | $(mib "$anon_end") MiB | $(mib "$(peak 5)") MiB |"
  [ -n "$TANSU_PID" ] && echo "| tansu (broker) | $(mib "$tansu_start") MiB | $(mib "$tansu_mid") MiB | $(mib "$tansu_end") MiB | $(mib "$(peak 4)") MiB |"
  echo
  echo "- client: $(field requests) requests measured, $(field errors) errors, achieved $(field achieved_rps) rps, p50 $(field p50_ms) ms, p99 $(field p99_ms) ms"
  echo "- captures: $exchanges stored, $dropped dropped; $diffs diffs; $dead dead letters"
  echo "- capture → diff lag: p50 ${lag_p50} s, p95 ${lag_p95} s, max ${lag_max} s"
  echo "- replay errors: $errors_first in the first half, $errors_second in the second half"
  [ "$SHADOWTAP_INDEX__BACKEND" = "embedded" ] && echo "- vector index folder at the end: $index_size"
} | tee "$OUT"
log "written to $OUT"
