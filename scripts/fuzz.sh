#!/usr/bin/env bash
# Fuzz the pure parsers (SSE reassembly, JSON diff, redaction, config loading) for a bounded time:
# SECONDS per target (default 60). Fails on any panic or broken property; prints executions reached.
# Usage: scripts/fuzz.sh [SECONDS]   (reproduce a failure with SHADOWTAP_TEST_FUZZ_SEED=<seed>)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export SHADOWTAP_TEST_FUZZ_SECS="${1:-60}"
export SHADOWTAP_TEST_ARTIFACTS="${SHADOWTAP_TEST_ARTIFACTS:-$ROOT/artifacts}"
cd "$ROOT"
log "fuzzing each target for ${SHADOWTAP_TEST_FUZZ_SECS} s"
cargo nextest run --test fuzz --no-fail-fast --test-threads 2 --success-output immediate
