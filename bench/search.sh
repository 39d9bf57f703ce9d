#!/usr/bin/env bash
# Search index benchmark: generates N articles per language (Kazakh and Russian, from the news
# demo's vocabulary), builds an on-disk index, reports build time, index size and p50/p95/p99
# query latency over Q queries. See docs/search.md; numbers go to docs/perf.md.
#
# Usage: bench/search.sh [N]            (N articles per language, default 100000)
# Variables (all optional): QUERIES (1000), WORDS (250 body words per article),
# BENCH_OUT (/tmp/baspa-bench-results), CARGO_TARGET_DIR (/work/bench-target).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ARTICLES=${1:-${ARTICLES:-100000}}
QUERIES=${QUERIES:-1000}
WORDS=${WORDS:-250}
OUT=${BENCH_OUT:-/tmp/baspa-bench-results}
WORK=$(mktemp -d /tmp/baspa-search-bench.XXXXXX)

cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$OUT"
echo "== cargo build --release -p baspa-search --example search_bench (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)" >&2
(cd "$BENCH_ROOT" && cargo build --release -p baspa-search --example search_bench --quiet)
BIN=$CARGO_TARGET_DIR/release/examples/search_bench

LOAD_BEFORE=$(load1)
START=$EPOCHREALTIME
LINE=$("$BIN" "$ARTICLES" --queries "$QUERIES" --words "$WORDS" --dir "$WORK/index")
WALL=$(awk -v a="$START" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
LOAD_AFTER=$(load1)

RESULT="${LINE%\}},\"wall_s\":$WALL,\"load1_before\":$LOAD_BEFORE,\"load1_after\":$LOAD_AFTER}"
echo "$RESULT" >"$OUT/search.json"
echo "$RESULT"
