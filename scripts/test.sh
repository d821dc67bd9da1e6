#!/usr/bin/env bash
# Run the whole test suite: provisions and starts what the tests need (Kafka broker), idempotently.
# Usage: scripts/test.sh [extra cargo-nextest arguments]
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

check_postgres
start_kafka
ensure_python_sdk
ensure_embeddings
ensure_browser
export SHADOWTAP_TEST_ARTIFACTS="${SHADOWTAP_TEST_ARTIFACTS:-$ROOT/artifacts}"
cd "$ROOT"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --no-fail-fast "$@"
else
  log "cargo-nextest not found; using cargo test"
  cargo test --no-fail-fast "$@"
fi
