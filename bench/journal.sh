#!/usr/bin/env bash
# Journal verification (SC-6, issue 5): seeds ENTRIES journal entries (default 100000) on each
# backend, anchors the head, and times `journal verify` (every hash recomputed + the newest
# signed anchor). The acceptance bar is under 5 s for 100,000 entries. Results: docs/perf.md.
#
# Variables (all optional): ENTRIES (100000), BACKENDS, and those of bench/storage.sh.
set -euo pipefail
ENTRIES=${ENTRIES:-100000}
WORKLOAD=journal WORKLOAD_ARGS="--entries $ENTRIES" exec "$(dirname "${BASH_SOURCE[0]}")/storage.sh"
