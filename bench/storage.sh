#!/usr/bin/env bash
# Storage throughput: `baspa bench storage --articles N` on SQLite (fresh temp data dir),
# PostgreSQL and MariaDB (fresh databases, dropped afterwards). Collects the JSON lines.
# See bench/README.md; results go to docs/perf.md. Other per-backend workloads reuse this
# script through WORKLOAD and WORKLOAD_ARGS (bench/journal.sh does).
#
# Variables (all optional): ARTICLES (1000), BACKENDS ("sqlite postgres mariadb"),
# WORKLOAD (storage), WORKLOAD_ARGS ("--articles $ARTICLES"),
# PG_HOST (127.0.0.1), PG_PORT (5432), PG_USER (postgres), MY_HOST (127.0.0.1), MY_PORT (3306),
# MY_USER (root), BENCH_OUT (/tmp/baspa-bench-results), BASPA_BIN (skip the build).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ARTICLES=${ARTICLES:-1000}
WORKLOAD=${WORKLOAD:-storage}
read -r -a WORKLOAD_ARGS <<<"${WORKLOAD_ARGS:---articles $ARTICLES}"
BACKENDS=${BACKENDS:-sqlite postgres mariadb}
OUT=${BENCH_OUT:-/tmp/baspa-bench-results}
PG_HOST=${PG_HOST:-127.0.0.1} PG_PORT=${PG_PORT:-5432} PG_USER=${PG_USER:-postgres}
MY_HOST=${MY_HOST:-127.0.0.1} MY_PORT=${MY_PORT:-3306} MY_USER=${MY_USER:-root}
DB_NAME=baspa_bench_$$_$RANDOM

WORK=$(mktemp -d /tmp/baspa-storage.XXXXXX)
PG_CREATED=0 MY_CREATED=0

pg() { psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -v ON_ERROR_STOP=1 -qAt -c "$1"; }
my() { mariadb -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" -e "$1"; }

cleanup() {
    ((PG_CREATED)) && { pg "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null 2>&1 || echo "warning: could not drop PostgreSQL database $DB_NAME" >&2; }
    ((MY_CREATED)) && { my "DROP DATABASE IF EXISTS \`$DB_NAME\`" >/dev/null 2>&1 || echo "warning: could not drop MariaDB database $DB_NAME" >&2; }
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$OUT"
bench_clean_env
bench_build
cd "$WORK" # no ./baspa.toml gets picked up

# run_bench BACKEND [--database-url URL]: one JSON line on stdout (with wall time added).
run_bench() {
    local backend=$1 t0 t1 line l0
    shift
    l0=$(load1)
    echo "== $backend: bench $WORKLOAD ${WORKLOAD_ARGS[*]}" >&2
    t0=${EPOCHREALTIME/./}
    if ! line=$("$BIN" --data-dir "$WORK/data-$backend" "$@" bench "$WORKLOAD" "${WORKLOAD_ARGS[@]}" 2>"$WORK/$backend.err"); then
        echo "error: $backend run failed:" >&2
        tail -n 20 "$WORK/$backend.err" >&2
        return 1
    fi
    t1=${EPOCHREALTIME/./}
    line=$(grep '^{' <<<"$line" | tail -n 1)
    local wall
    wall=$(awk -v us=$((t1 - t0)) 'BEGIN { printf "%.1f", us / 1e6 }')
    echo "   $line (wall $wall s, 1-min load $l0 -> $(load1))" >&2
    echo "$backend wall_s=$wall loadavg_1m_start=$l0 loadavg_1m_end=$(load1) date=$(date -u +%FT%TZ)" >>"$OUT/$WORKLOAD-meta.txt"
    echo "$line"
}

: >"$OUT/$WORKLOAD.jsonl"
: >"$OUT/$WORKLOAD-meta.txt"
for backend in $BACKENDS; do
    case $backend in
    sqlite)
        mkdir -p "$WORK/data-sqlite"
        run_bench sqlite >>"$OUT/$WORKLOAD.jsonl"
        ;;
    postgres)
        pg "CREATE DATABASE \"$DB_NAME\" ENCODING 'UTF8'"
        PG_CREATED=1
        run_bench postgres --database-url "postgres://$PG_USER@$PG_HOST:$PG_PORT/$DB_NAME" >>"$OUT/$WORKLOAD.jsonl"
        pg "DROP DATABASE \"$DB_NAME\" WITH (FORCE)"
        PG_CREATED=0
        ;;
    mariadb)
        my "CREATE DATABASE \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        MY_CREATED=1
        run_bench mariadb --database-url "mysql://$MY_USER@$MY_HOST:$MY_PORT/$DB_NAME" >>"$OUT/$WORKLOAD.jsonl"
        my "DROP DATABASE \`$DB_NAME\`"
        MY_CREATED=0
        ;;
    *)
        echo "error: unknown backend $backend (sqlite, postgres, mariadb)" >&2
        exit 1
        ;;
    esac
done

if [[ $WORKLOAD != storage ]]; then
    cat "$OUT/$WORKLOAD.jsonl"
    exit 0
fi

# A small table for docs/perf.md.
echo "== results in $OUT/storage.jsonl (wall time and load in storage-meta.txt)" >&2
awk '
    BEGIN { print "| backend | insert via actions (articles/s) | bare rows (articles/s) | overhead (bare/actions) | read by slug (/s) | listing page (/s) |"; print "|---|---:|---:|---:|---:|---:|" }
    {
        line = $0; delete v
        gsub(/[{}"]/, "", line); n = split(line, kv, ",")
        for (i = 1; i <= n; i++) { split(kv[i], p, ":"); v[p[1]] = p[2] }
        printf "| %s | %.0f | %.0f | %.2f | %.0f | %.0f |\n", v["backend"], v["insert_articles_per_s_actions"], v["insert_articles_per_s_bare_rows"], v["action_overhead_ratio"], v["read_article_by_slug_per_s"], v["read_listing_page_per_s"]
    }' "$OUT/$WORKLOAD.jsonl"
echo "raw:"
cat "$OUT/$WORKLOAD.jsonl"
