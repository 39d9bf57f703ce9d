#!/usr/bin/env bash
# Admin content list server time (issue 4: under 100 ms with 10,000 articles): runs
# `baspa bench admin-list` on SQLite (fresh temp data dir) and PostgreSQL (fresh database,
# dropped afterwards). The router is called in-process, so the figures are server time only.
#
# Variables: ARTICLES (10000), PG_HOST (127.0.0.1), PG_PORT (5432), PG_USER (postgres),
# BASPA_BIN (skip the build), BENCH_OUT (/tmp/baspa-bench-results).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ARTICLES=${ARTICLES:-10000}
PG_HOST=${PG_HOST:-127.0.0.1} PG_PORT=${PG_PORT:-5432} PG_USER=${PG_USER:-postgres}
OUT=${BENCH_OUT:-/tmp/baspa-bench-results}
DB_NAME=baspa_adminlist_$$_$RANDOM
WORK=$(mktemp -d /tmp/baspa-adminlist.XXXXXX)
PG_CREATED=0

pg() { psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -v ON_ERROR_STOP=1 -qAt -c "$1"; }
cleanup() {
    ((PG_CREATED)) && { pg "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null 2>&1 || true; }
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_build
mkdir -p "$OUT" "$WORK/sqlite" "$WORK/pg"
# The first run seeds (and builds the search index in the background); the second is measured.
"$BIN" --data-dir "$WORK/sqlite" bench admin-list --articles "$ARTICLES" >/dev/null 2>&1
echo "{\"backend\":\"sqlite\",\"load1\":$(load1),\"result\":$("$BIN" --data-dir "$WORK/sqlite" bench admin-list --articles "$ARTICLES" 2>/dev/null | tail -1)}" | tee -a "$OUT/admin_list.jsonl"
pg "CREATE DATABASE \"$DB_NAME\"" && PG_CREATED=1
URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$DB_NAME"
BASPA_DATABASE_URL=$URL "$BIN" --data-dir "$WORK/pg" bench admin-list --articles "$ARTICLES" >/dev/null 2>&1
echo "{\"backend\":\"postgres\",\"load1\":$(load1),\"result\":$(BASPA_DATABASE_URL=$URL "$BIN" --data-dir "$WORK/pg" bench admin-list --articles "$ARTICLES" 2>/dev/null | tail -1)}" | tee -a "$OUT/admin_list.jsonl"
