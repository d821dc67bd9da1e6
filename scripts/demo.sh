#!/usr/bin/env bash
# Run the demo: fake production + two fake candidates, tap, worker and dashboard on this machine.
# Needs only PostgreSQL (DATABASE_URL, or the local server on 127.0.0.1:5432).
# Usage: scripts/demo.sh [--requests N] [--exit] [--listen ADDR] [--ui-listen ADDR]
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

check_postgres
ensure_embeddings
cd "$ROOT"
exec cargo run --quiet --bin shadowtap -- demo "$@"
