#!/usr/bin/env bash
# Benchmark the tap against nginx `mirror`, all measured in one run on this machine.
#
# A fast fake upstream (nginx `return 200` with a ~600-byte chat.completion) is called
#   direct | through `shadowtap tap` (capture on, Kafka up) | through nginx with `mirror` to a sink
# at fixed rates (open loop with src/bin/shadowtap-load.rs: latency from the scheduled send time, so
# no coordinated omission; wrk cannot hold a rate and wrk2 is not in Debian) and at maximum
# throughput (wrk -t1 -c32 with a POST script; extra rows show where the tap's CPU goes: Kafka
# down, --redact off, capture off per request, and CPU time per request of each proxy and of its
# capture side, from /proc). Then the capture side goes slow or down at 500 rps:
# the tap with its Kafka broker down (127.0.0.1:1) or a black hole (accepts, never answers), and
# nginx mirroring to the black hole. It prints p50/p99, the latency the proxy adds to direct
# (p50 and p99 deltas) and throughput ratios to direct, and writes the same as Markdown to
# ${BENCH_OUT:-$SHADOWTAP_CACHE/bench-tap.md}.
#
# On a 2-core machine the load generator, the upstream, the proxy (and the Kafka broker) share the
# cores, so absolute numbers swing from run to run; only ratios and deltas from the same run mean
# anything.
#
# Usage: scripts/bench-tap.sh
#   BENCH_RATES="500 1000 2000"  fixed rates (rps)          BENCH_DURATION=10  measured seconds per run
#   BENCH_WARMUP=2               unmeasured seconds first   BENCH_CONNECTIONS=32  connections
#   BENCH_SLOW_RATE=500          rate of the capture-slow/down runs
#   BENCH_OUT=FILE               Markdown results          BENCH_KEEP_KAFKA=1  leave a broker we started
#   BENCH_BASELINE_BIN=FILE      another shadowtap binary (e.g. the previous commit's release build),
#                                measured as "tap (baseline)" at fixed rates and max throughput
#   BENCH_BASELINE_ENV="K=V …"   environment of that baseline tap (e.g. a setting to compare); with it
#                                alone, the baseline is this build with that environment
# Needs ports 127.0.0.1:18081-18090. Installs wrk and nginx with apt-get if they are missing.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RATES="${BENCH_RATES:-500 1000 2000}"
DURATION="${BENCH_DURATION:-10}"
WARMUP="${BENCH_WARMUP:-2}"
CONNS="${BENCH_CONNECTIONS:-32}"
SLOW_RATE="${BENCH_SLOW_RATE:-500}"
OUT="${BENCH_OUT:-$SHADOWTAP_CACHE/bench-tap.md}"
TIMEOUT=5 # per-request timeout of the load generator (from the scheduled time)

P_UPSTREAM=18081   # nginx: the fake production provider
P_MIRROR=18082     # nginx: proxy_pass to the upstream + mirror to the fast sink
P_SINK=18083       # nginx: the fast capture sink (204)
P_MIRROR_BH=18084  # nginx: proxy_pass to the upstream + mirror to the black hole
P_BLACKHOLE=18085  # python: accepts and never answers
P_TAP=18086        # shadowtap tap, Kafka up
P_TAP_DOWN=18087   # shadowtap tap, Kafka broker down
P_TAP_BH=18088     # shadowtap tap, Kafka "broker" is the black hole
P_TAP_NOREDACT=18089  # shadowtap tap, Kafka up, --redact off (where the capture CPU goes)
P_TAP_BASE=18090   # BENCH_BASELINE_BIN's tap, Kafka up (same settings as P_TAP)
BASELINE_BIN="${BENCH_BASELINE_BIN:-}"
read -r -a BASELINE_ENV <<<"${BENCH_BASELINE_ENV:-}"
if [ -z "$BASELINE_BIN" ] && [ "${#BASELINE_ENV[@]}" -gt 0 ]; then
  BASELINE_BIN="$CARGO_TARGET_DIR/release/shadowtap"
fi
if [ -n "$BASELINE_BIN" ] && [ ! -x "$BASELINE_BIN" ] && [ -z "${BENCH_BASELINE_ENV:-}" ]; then
  echo "BENCH_BASELINE_BIN=$BASELINE_BIN is not an executable" >&2
  exit 1
fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- tools -------------------------------------------------------------------------------------
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]} with apt-get"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

for port in $P_UPSTREAM $P_MIRROR $P_SINK $P_MIRROR_BH $P_BLACKHOLE $P_TAP $P_TAP_DOWN $P_TAP_BH $P_TAP_NOREDACT $P_TAP_BASE; do
  if port_open "$port"; then
    log "port 127.0.0.1:$port is in use (another benchmark running?); the benchmark needs 18081-18090"
    exit 1
  fi
done

log "building shadowtap and shadowtap-load (release)"
(cd "$ROOT" && cargo build --release --quiet --bin shadowtap --bin shadowtap-load)
BIN="$CARGO_TARGET_DIR/release"

# --- processes and cleanup ---------------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/shadowtap-bench.XXXXXX")"
PIDS=()
declare -A PID_OF=()
KAFKA_STARTED_HERE=0
TOPIC="shadowtap.bench.$(date +%s).$$"
TOPIC_CREATED=0

stop_pid() {
  local pid="$1"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  set +e
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  if [ "$TOPIC_CREATED" = 1 ] && [ -x "$TANSU_BIN" ]; then
    "$TANSU_BIN" topic delete --broker "tcp://$KAFKA_ADDR" "$TOPIC" >/dev/null 2>&1
  fi
  if [ "$KAFKA_STARTED_HERE" = 1 ] && [ "${BENCH_KEEP_KAFKA:-0}" != 1 ]; then
    local kpid
    kpid="$(ss -Htlnp "sport = :${KAFKA_ADDR##*:}" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)"
    if [ -n "$kpid" ]; then
      log "stopping the Kafka broker this benchmark started (pid $kpid)"
      stop_pid "$kpid"
    fi
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME COMMAND...: run in the background with output in $WORK/NAME.log.
start() {
  local name="$1"
  shift
  "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=("$!")
  PID_OF[$name]=$!
}

wait_port() {
  local name="$1" port="$2"
  for _ in $(seq 1 100); do
    port_open "$port" && return 0
    sleep 0.1
  done
  log "$name did not start listening on 127.0.0.1:$port; its log:"
  tail -20 "$WORK/$name.log" >&2 || true
  exit 1
}

# --- fixtures ----------------------------------------------------------------------------------
# ~600 bytes, one line: nginx's `return` sends it verbatim.
RESPONSE='{"id":"chatcmpl-bench0000000000000000000001","object":"chat.completion","created":1730000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_bench0001","choices":[{"index":0,"message":{"role":"assistant","content":"Your order #A-1042 shipped on Tuesday and should arrive within three to five business days. You will get an email with the tracking link as soon as the carrier scans the parcel. Is there anything else I can help you with today?","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":58,"completion_tokens":49,"total_tokens":107,"completion_tokens_details":{"reasoning_tokens":0}}}'
BODY="$WORK/request.json"
cat >"$BODY" <<'JSON'
{"model":"gpt-4o-mini","temperature":0.2,"max_tokens":256,"messages":[{"role":"system","content":"You are a concise, friendly customer-support assistant for an online shop."},{"role":"user","content":"Hi! Where is my order A-1042? I ordered it last week and have not heard anything since."}]}
JSON

USER_LINE=""
[ "$(id -u)" -eq 0 ] && USER_LINE="user root;"

# nginx_conf NAME WORKERS HTTP_BLOCK: an nginx prefix in $WORK/NAME with everything kept inside it.
nginx_conf() {
  local name="$1" workers="$2" http="$3" dir="$WORK/$1"
  mkdir -p "$dir/tmp"
  cat >"$dir/nginx.conf" <<EOF
$USER_LINE
worker_processes $workers;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
$http
}
EOF
}

start_nginx() {
  local name="$1" port="$2" dir="$WORK/$1"
  "$NGINX" -t -q -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf"
  start "$name" "$NGINX" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" -g 'daemon off;'
  wait_port "$name" "$port"
}

nginx_conf upstream 1 "
  server {
    listen 127.0.0.1:$P_UPSTREAM;
    location = /v1/chat/completions {
      if (\$request_method != POST) { return 405; }
      default_type application/json;
      return 200 '$RESPONSE';
    }
    location / { return 404; }
  }"

nginx_conf sink 1 "
  server {
    listen 127.0.0.1:$P_SINK;
    location / { return 204; }
  }"

# The mirror peer: the Debian default worker count (auto), upstream keep-alive, and generous
# timeouts towards the mirror (1 s, not the default 60 s) so a black hole costs as little as it can.
mirror_server() {
  local port="$1" target="$2"
  cat <<EOF
  server {
    listen 127.0.0.1:$port;
    location / {
      mirror /__mirror;
      proxy_pass http://production;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
    location = /__mirror {
      internal;
      proxy_pass http://$target\$request_uri;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_connect_timeout 1s;
      proxy_send_timeout 1s;
      proxy_read_timeout 1s;
    }
  }
EOF
}
nginx_conf mirror auto "
  upstream production { server 127.0.0.1:$P_UPSTREAM; keepalive 64; }
  upstream sink { server 127.0.0.1:$P_SINK; keepalive 64; }
  upstream blackhole { server 127.0.0.1:$P_BLACKHOLE; keepalive 64; }
$(mirror_server "$P_MIRROR" sink)
$(mirror_server "$P_MIRROR_BH" blackhole)"

cat >"$WORK/blackhole.py" <<'PY'
"""Accept TCP connections, read and discard, never answer."""
import selectors, socket, sys

sel = selectors.DefaultSelector()
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(4096)
srv.setblocking(False)
sel.register(srv, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        sock = key.fileobj
        if sock is srv:
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            conn.setblocking(False)
            sel.register(conn, selectors.EVENT_READ)
            continue
        try:
            data = sock.recv(65536)
        except BlockingIOError:
            continue
        except OSError:
            data = b""
        if not data:
            sel.unregister(sock)
            sock.close()
PY

cat >"$WORK/post.lua" <<'LUA'
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench-0000000000000000000000000000000000000000"
local extra = os.getenv("BENCH_HEADER") or ""
local name, value = extra:match("^([^:]+):%s*(.*)$")
if name then wrk.headers[name] = value end
done = function(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    'JSON {"url":"%s","rate":0,"achieved_rps":%.1f,"requests":%d,"errors":%d,' ..
    '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"p999_ms":%.3f,"max_ms":%.3f}\n',
    os.getenv("BENCH_URL"), (summary.requests - e.status) / secs, summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000))
end
LUA

# --- start everything --------------------------------------------------------------------------
log "starting the fake upstream, the capture sink, the black hole and the nginx mirror peer"
start_nginx upstream "$P_UPSTREAM"
start_nginx sink "$P_SINK"
start blackhole python3 "$WORK/blackhole.py" "$P_BLACKHOLE"
wait_port blackhole "$P_BLACKHOLE"
start_nginx mirror "$P_MIRROR"
wait_port mirror "$P_MIRROR_BH"

kafka_up || KAFKA_STARTED_HERE=1
start_kafka
if [ -x "$TANSU_BIN" ]; then
  "$TANSU_BIN" topic create --broker "tcp://$KAFKA_ADDR" --partitions 6 "$TOPIC" >"$WORK/topic.log" 2>&1 \
    || { log "could not create topic $TOPIC:"; cat "$WORK/topic.log" >&2; exit 1; }
  TOPIC_CREATED=1
fi
KAFKA_PID="$(ss -Htlnp "sport = :${KAFKA_ADDR##*:}" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 || true)"

# start_tap NAME PORT BROKERS REDACT [extra env...]   (TAP_BIN: the binary, default this build)
start_tap() {
  local name="$1" port="$2" brokers="$3" redact="$4"
  shift 4
  start "$name" env -u SHADOWTAP_CONFIG SHADOWTAP_LOG=warn \
    SHADOWTAP_BUS__KAFKA__TOPIC="$TOPIC" SHADOWTAP_BUS__KAFKA__BROKERS="$brokers" "$@" \
    "${TAP_BIN:-$BIN/shadowtap}" tap --bus kafka --listen "127.0.0.1:$port" --upstream "http://127.0.0.1:$P_UPSTREAM" \
    --redact "$redact"
  wait_port "$name" "$port"
}
log "starting the taps (Kafka up on $KAFKA_ADDR, topic $TOPIC; Kafka down; Kafka a black hole)"
start_tap tap "$P_TAP" "$KAFKA_ADDR" on
start_tap tap-down "$P_TAP_DOWN" 127.0.0.1:1 on SHADOWTAP_BUS__KAFKA__MESSAGE_TIMEOUT_MS=1000
start_tap tap-bh "$P_TAP_BH" "127.0.0.1:$P_BLACKHOLE" on SHADOWTAP_BUS__KAFKA__MESSAGE_TIMEOUT_MS=1000
start_tap tap-noredact "$P_TAP_NOREDACT" "$KAFKA_ADDR" off
[ -n "$BASELINE_BIN" ] && TAP_BIN="$BASELINE_BIN" start_tap tap-base "$P_TAP_BASE" "$KAFKA_ADDR" on "${BASELINE_ENV[@]}"

PATH_V1=/v1/chat/completions
declare -A URL=(
  [direct]="http://127.0.0.1:$P_UPSTREAM$PATH_V1"
  [tap]="http://127.0.0.1:$P_TAP$PATH_V1"
  [tap_nocap]="http://127.0.0.1:$P_TAP$PATH_V1"
  [tap_noredact]="http://127.0.0.1:$P_TAP_NOREDACT$PATH_V1"
  [mirror]="http://127.0.0.1:$P_MIRROR$PATH_V1"
  [tap_down]="http://127.0.0.1:$P_TAP_DOWN$PATH_V1"
  [tap_bh]="http://127.0.0.1:$P_TAP_BH$PATH_V1"
  [mirror_bh]="http://127.0.0.1:$P_MIRROR_BH$PATH_V1"
  [tap_base]="http://127.0.0.1:$P_TAP_BASE$PATH_V1"
)

# Every path answers the upstream's bytes.
python3 - "$BODY" "$RESPONSE" "${URL[direct]}" "${URL[tap]}" "${URL[mirror]}" "${URL[tap_down]}" \
  "${URL[tap_bh]}" "${URL[tap_noredact]}" <<'PY'
import sys, urllib.request
body, expected, urls = open(sys.argv[1], "rb").read(), sys.argv[2].encode(), sys.argv[3:]
for url in urls:
    req = urllib.request.Request(url, data=body, headers={
        "content-type": "application/json", "authorization": "Bearer sk-bench-sanity"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        got = resp.read()
    if resp.status != 200 or got != expected:
        sys.exit(f"sanity check failed for {url}: {resp.status} {got[:200]!r}")
PY

# --- measure -----------------------------------------------------------------------------------
RESULTS="$WORK/results.jsonl"
: >"$RESULTS"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")"
if awk '{exit !($1 > 0.5)}' /proc/loadavg 2>/dev/null; then
  log "warning: load average $LOAD_BEFORE before the benchmark; other work on this machine skews the numbers"
fi

record() { # GROUP TARGET JSON
  if [ -z "$3" ]; then
    log "no result for $2 in '$1'"
    exit 1
  fi
  printf '{"group":"%s","target":"%s","r":%s%s}\n' "$1" "$2" "$3" "${4:-}" >>"$RESULTS"
}

fixed() { # GROUP TARGET RATE
  local line
  line="$("$BIN/shadowtap-load" --url "${URL[$2]}" --rate "$3" --duration "$DURATION" \
    --warmup "$WARMUP" --connections "$CONNS" --body-file "$BODY" --timeout "$TIMEOUT")"
  record "$1" "$2" "$line"
  log "  $(printf '%-10s %s' "$2" "$line")"
}

# CPU seconds (user + system) used so far by each named process and its descendants, as JSON.
cpu_snapshot() {
  python3 - "$@" <<'PY'
import json, os, sys
tick = os.sysconf("SC_CLK_TCK")
def tree(pid):
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                todo += open(f"/proc/{p}/task/{task}/children").read().split()
        except OSError:
            pass
    return pids
def cpu(pid):
    total = 0
    for p in tree(pid):
        try:
            fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError):
            pass
    return total / tick
out = {}
for spec in sys.argv[1:]:
    name, pid = spec.split("=")
    if pid:
        out[name] = cpu(pid)
print(json.dumps(out))
PY
}

CPU_PROCS=()
cpu_procs() {
  CPU_PROCS=("upstream=${PID_OF[upstream]}" "tap=${PID_OF[tap]}" "tap_down=${PID_OF[tap-down]}"
    "tap_noredact=${PID_OF[tap-noredact]}" "mirror=${PID_OF[mirror]}" "sink=${PID_OF[sink]}"
    "kafka=$KAFKA_PID" "tap_base=${PID_OF[tap-base]:-}")
}

maxrate() { # GROUP TARGET
  local line before after header=""
  [ "$2" = tap_nocap ] && header="x-shadowtap-capture: off"
  BENCH_URL="${URL[$2]}" BENCH_BODY="$BODY" BENCH_HEADER="$header" \
    wrk -t1 -c"$CONNS" -d"${WARMUP}s" --timeout "${TIMEOUT}s" -s "$WORK/post.lua" "${URL[$2]}" >/dev/null
  before="$(cpu_snapshot "${CPU_PROCS[@]}")"
  line="$(BENCH_URL="${URL[$2]}" BENCH_BODY="$BODY" BENCH_HEADER="$header" \
    wrk -t1 -c"$CONNS" -d"${DURATION}s" --timeout "${TIMEOUT}s" -s "$WORK/post.lua" "${URL[$2]}" \
    | sed -n 's/^JSON //p')"
  after="$(cpu_snapshot "${CPU_PROCS[@]}")"
  record "$1" "$2" "$line" ",\"cpu_before\":$before,\"cpu_after\":$after"
  log "  $(printf '%-10s %s' "$2" "$line")"
}

for rate in $RATES; do
  log "fixed rate $rate rps (${WARMUP}s warmup + ${DURATION}s, open loop)"
  FIXED_TARGETS=(direct tap)
  [ -n "$BASELINE_BIN" ] && FIXED_TARGETS+=(tap_base)
  FIXED_TARGETS+=(mirror)
  for target in "${FIXED_TARGETS[@]}"; do fixed "fixed $rate rps" "$target" "$rate"; done
done
log "maximum throughput (wrk -t1 -c$CONNS, ${DURATION}s)"
cpu_procs
MAX_TARGETS=(direct tap)
[ -n "$BASELINE_BIN" ] && MAX_TARGETS+=(tap_base)
MAX_TARGETS+=(tap_down tap_noredact tap_nocap mirror)
for target in "${MAX_TARGETS[@]}"; do maxrate "max throughput" "$target"; done
log "capture side slow or down, $SLOW_RATE rps"
for target in direct tap_down tap_bh mirror_bh; do fixed "capture down, $SLOW_RATE rps" "$target" "$SLOW_RATE"; done

# What the taps did with the captures.
METRICS="$WORK/metrics.txt"
METRIC_TAPS=(tap)
[ -n "$BASELINE_BIN" ] && METRIC_TAPS+=(tap_base)
METRIC_TAPS+=(tap_down tap_bh tap_noredact)
for name in "${METRIC_TAPS[@]}"; do
  case "$name" in
    tap) port=$P_TAP ;; tap_down) port=$P_TAP_DOWN ;; tap_bh) port=$P_TAP_BH ;;
    tap_noredact) port=$P_TAP_NOREDACT ;; tap_base) port=$P_TAP_BASE ;;
  esac
  python3 - "$name" "http://127.0.0.1:$port/metrics" >>"$METRICS" <<'PY'
import re, sys, urllib.request
text = urllib.request.urlopen(sys.argv[2], timeout=10).read().decode()
def total(prefix):
    return int(sum(float(l.rsplit(" ", 1)[1]) for l in text.splitlines()
                   if l.startswith(prefix) and not l.startswith("#")))
print(f"{sys.argv[1]}\t{total('shadowtap_captures_published_total')}\t{total('shadowtap_captures_dropped_total')}\t{total('shadowtap_capture_records_total')}")
PY
done

# --- report ------------------------------------------------------------------------------------
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")"
python3 - "$RESULTS" "$METRICS" "$OUT" "$CONNS" "$DURATION" "$WARMUP" "$RATES" "$SLOW_RATE" \
  "$LOAD_BEFORE" "$LOAD_AFTER" <<'PY'
import json, os, platform, subprocess, sys, time

(results_path, metrics_path, out_path, conns, duration, warmup, rates, slow_rate,
 load_before, load_after) = sys.argv[1:11]
rows = [json.loads(l) for l in open(results_path) if l.strip()]
metrics = {}
for line in open(metrics_path):
    name, published, dropped, records = line.split("\t")
    metrics[name] = (int(published), int(dropped), int(records))

LABEL = {
    "direct": "direct",
    "tap": "tap (capture on, Kafka up)",
    "mirror": "nginx mirror (fast sink)",
    "tap_down": "tap (Kafka down)",
    "tap_nocap": "tap (capture off by header)",
    "tap_noredact": "tap (Kafka up, --redact off)",
    "tap_bh": "tap (Kafka black hole)",
    "mirror_bh": "nginx mirror (black-hole sink)",
    "tap_base": "tap (baseline"
    + (f" {os.path.basename(os.environ['BENCH_BASELINE_BIN'])}" if os.environ.get("BENCH_BASELINE_BIN") else "")
    + (f" {os.environ['BENCH_BASELINE_ENV']}" if os.environ.get("BENCH_BASELINE_ENV") else "") + ")",
}

def fmt(x, digits=3):
    return "-" if x is None else f"{x:.{digits}f}"

def signed(x):
    return "-" if x is None else f"{x:+.3f}"

groups = []
for row in rows:
    if row["group"] not in groups:
        groups.append(row["group"])
table = []
for group in groups:
    members = [r for r in rows if r["group"] == group]
    direct = next(r["r"] for r in members if r["target"] == "direct")
    for r in members:
        d = r["r"]
        is_direct = r["target"] == "direct"
        proxy_us = capture_us = None
        if "cpu_after" in r and d["requests"]:
            delta = {k: r["cpu_after"][k] - r["cpu_before"].get(k, 0) for k in r["cpu_after"]}
            per = lambda k: delta[k] * 1e6 / d["requests"] if k in delta else None
            proxy_us, capture_us = {
                "tap": (per("tap"), per("kafka")),
                "tap_nocap": (per("tap"), per("kafka")),
                "tap_down": (per("tap_down"), None),
                "tap_noredact": (per("tap_noredact"), per("kafka")),
                "tap_base": (per("tap_base"), per("kafka")),
                "mirror": (per("mirror"), per("sink")),
            }.get(r["target"], (None, None))
        table.append({
            "group": group,
            "target": LABEL.get(r["target"], r["target"]),
            "key": r["target"],
            "rps": d["achieved_rps"],
            "p50": d["p50_ms"],
            "p99": d["p99_ms"],
            "dp50": None if is_direct else d["p50_ms"] - direct["p50_ms"],
            "dp99": None if is_direct else d["p99_ms"] - direct["p99_ms"],
            "ratio": d["achieved_rps"] / direct["achieved_rps"] if direct["achieved_rps"] else None,
            "errors": d["errors"],
            "requests": d["requests"],
            "proxy_us": proxy_us,
            "capture_us": capture_us,
        })

head = ["scenario", "target", "rps", "p50 ms", "p99 ms", "+p50 ms", "+p99 ms", "rps/direct", "errors",
        "proxy CPU µs/req", "capture CPU µs/req"]
def cells(t):
    return [t["group"], t["target"], f'{t["rps"]:.0f}', fmt(t["p50"]), fmt(t["p99"]),
            signed(t["dp50"]), signed(t["dp99"]), fmt(t["ratio"], 2), f'{t["errors"]}/{t["requests"]}',
            fmt(t["proxy_us"], 1), fmt(t["capture_us"], 1)]

lines = [head] + [cells(t) for t in table]
widths = [max(len(l[i]) for l in lines) for i in range(len(head))]
rule = "  " + "-" * (sum(widths) + 2 * (len(widths) - 1))
def show(l):
    print("  " + "  ".join(c.ljust(w) if j < 2 else c.rjust(w) for j, (c, w) in enumerate(zip(l, widths))))
print()
print("tap benchmark: added latency (+p50/+p99 = proxy minus direct) and throughput vs direct, same run")
print(rule)
show(head)
prev = None
for l in lines[1:]:
    if l[0] != prev:
        print(rule)
        prev = l[0]
        show(l)
    else:
        show([""] + l[1:])
print(rule)

def find(group, key):
    return next((t for t in table if t["group"] == group and t["key"] == key), None)

checks = []
t = find("fixed 1000 rps", "tap")
if t:
    checks.append(f"tap at 1000 rps: added p50 {t['dp50']:+.3f} ms (target <= 0.2), "
                  f"added p99 {t['dp99']:+.3f} ms (target <= 1)")
tap_max, mirror_max = find("max throughput", "tap"), find("max throughput", "mirror")
if tap_max and mirror_max:
    checks.append(f"max throughput vs direct: tap {tap_max['ratio']:.2f}x, nginx mirror {mirror_max['ratio']:.2f}x "
                  f"(tap/mirror {tap_max['rps'] / mirror_max['rps']:.2f})")
base_max = find("max throughput", "tap_base")
if tap_max and base_max:
    checks.append(f"max throughput, this tap vs the baseline tap: {tap_max['rps'] / base_max['rps']:.2f}x "
                  f"({fmt(tap_max['proxy_us'], 1)} vs {fmt(base_max['proxy_us'], 1)} µs CPU per request)")
for g in groups:
    if g.startswith("capture down"):
        for key in ("tap_down", "tap_bh", "mirror_bh"):
            t = find(g, key)
            if t:
                checks.append(f"{g}, {LABEL[key]}: p50 {t['dp50']:+.3f} ms, p99 {t['dp99']:+.3f} ms vs direct, "
                              f"{t['errors']} errors")
captures = [
    f"{LABEL[k]}: {p} published"
    + (f" in {r} records ({p / r:.1f} per record)" if r else "")
    + f", {d} dropped"
    for k, (p, d, r) in metrics.items()
]
print()
for c in checks:
    print("  " + c)
print("  captures: " + "; ".join(captures))
print(f"  load average before: {load_before}, after: {load_after} (the benchmark itself adds ~2)")

cpu = platform.processor() or ""
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
except OSError:
    pass
nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
md = [
    "# shadowtap tap benchmark",
    "",
    f"{time.strftime('%Y-%m-%d %H:%M %Z')} · {os.cpu_count()} cores ({cpu}) · {nginx} · "
    f"fixed rates {rates} rps open loop (shadowtap-load, {warmup} s warmup + {duration} s, "
    f"≤ {conns} connections, latency from the scheduled send time); max throughput with "
    f"wrk -t1 -c{conns} -d{duration}s; capture slow/down at {slow_rate} rps.",
    "Load generator, upstream, proxy and Kafka share the cores: compare rows within this run only.",
    "+p50/+p99: proxy minus direct in the same group. CPU columns (max throughput only): CPU time "
    "per request of the proxy process(es), and of the capture side (the Kafka broker for the tap, "
    "the sink nginx for the mirror).",
    "",
    "| " + " | ".join(head) + " |",
    "|" + "|".join(["---", "---"] + ["---:"] * (len(head) - 2)) + "|",
]
for t in table:
    md.append("| " + " | ".join(cells(t)) + " |")
md += [""] + [f"- {c}" for c in checks] + [
    "- captures: " + "; ".join(captures),
    f"- load average before: {load_before}, after: {load_after} (the benchmark itself adds ~2)",
    "",
]
with open(out_path, "w") as f:
    f.write("\n".join(md))
print(f"\n  Markdown written to {out_path}")
PY
