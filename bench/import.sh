#!/usr/bin/env bash
# WordPress import time (issue 8, MG-1..MG-6): loads the fixture dumps (shared/fixtures/wordpress)
# into fresh MariaDB databases, then times `baspa import wordpress` for both sites into a fresh
# target on each backend, and a second run (which must change nothing). Prints one JSON line per
# backend; drops every database it created. See bench/README.md; results go to docs/perf.md.
#
# Variables (all optional): FIXTURES (/work/shared/fixtures/wordpress), BACKENDS
# ("sqlite postgres mariadb"), PG_HOST/PG_PORT/PG_USER, MY_HOST/MY_PORT/MY_USER, BENCH_OUT,
# BASPA_BIN (skip the build), SCALE (unset: skip; e.g. 10: also time `baspa bench import --scale 10`,
# the WXR fixtures multiplied SCALE times, into a fresh SQLite data dir).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FIXTURES=${FIXTURES:-/work/shared/fixtures/wordpress}
BACKENDS=${BACKENDS:-sqlite postgres mariadb}
OUT=${BENCH_OUT:-/tmp/baspa-bench-results}
PG_HOST=${PG_HOST:-127.0.0.1} PG_PORT=${PG_PORT:-5432} PG_USER=${PG_USER:-postgres}
MY_HOST=${MY_HOST:-127.0.0.1} MY_PORT=${MY_PORT:-3306} MY_USER=${MY_USER:-root}
TAG=$$_$RANDOM
WORK=$(mktemp -d /tmp/baspa-import.XXXXXX)
CREATED_MY=() CREATED_PG=()

my() { mariadb -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" "$@"; }
pg() { psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -v ON_ERROR_STOP=1 -qAt -c "$1"; }

cleanup() {
    local d
    for d in "${CREATED_MY[@]}"; do my -e "DROP DATABASE IF EXISTS \`$d\`" || true; done
    for d in "${CREATED_PG[@]}"; do pg "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

bench_build
bench_clean_env
mkdir -p "$OUT"

for site in kk ru; do
    db=wp_bench_${site}_$TAG
    my -e "CREATE DATABASE \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci"
    CREATED_MY+=("$db")
    my "$db" <"$FIXTURES/$site.sql"
done
SRC="mysql://$MY_USER@$MY_HOST:$MY_PORT/wp_bench"

run_import() {
    local data=$1 url=$2 label=$3 start end
    start=$EPOCHREALTIME
    "$BIN" --data-dir "$data" ${url:+--database-url "$url"} import wordpress \
        --site "kk=${SRC}_kk_$TAG" --uploads "kk=$FIXTURES/uploads-kk" --host kk=baq.localhost \
        --site "ru=${SRC}_ru_$TAG" --uploads "ru=$FIXTURES/uploads-ru" --host ru=rus.baq.localhost \
        >"$OUT/import-$label.json"
    end=$EPOCHREALTIME
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }'
}

for backend in $BACKENDS; do
    data=$WORK/$backend
    mkdir -p "$data"
    url=
    case $backend in
        sqlite) ;;
        postgres)
            pg "CREATE DATABASE \"baspa_import_$TAG\""
            CREATED_PG+=("baspa_import_$TAG")
            url="postgres://$PG_USER@$PG_HOST:$PG_PORT/baspa_import_$TAG"
            ;;
        mariadb)
            my -e "CREATE DATABASE \`baspa_import_$TAG\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            CREATED_MY+=("baspa_import_$TAG")
            url="mysql://$MY_USER@$MY_HOST:$MY_PORT/baspa_import_$TAG"
            ;;
    esac
    [[ -n $url ]] && "$BIN" --data-dir "$data" --database-url "$url" migrate >/dev/null
    [[ -z $url ]] && "$BIN" --data-dir "$data" migrate >/dev/null
    echo "== $backend: first run" >&2
    first=$(run_import "$data" "$url" "$backend-1")
    echo "== $backend: second run" >&2
    second=$(run_import "$data" "$url" "$backend-2")
    changes=$(grep -m1 '"changes"' "$OUT/import-$backend-2.json" | tr -dc '0-9')
    pairs=$(grep -c '"evidence"' "$OUT/import-$backend-1.json" || true)
    printf '{"backend":"%s","first_run_s":%s,"second_run_s":%s,"second_run_changes":%s,"pairs":%s,"load1":"%s"}\n' \
        "$backend" "$first" "$second" "${changes:-null}" "$pairs" "$(load1)"
done

if [[ -n ${SCALE:-} ]]; then
    echo "== sqlite: fixture x $SCALE (WXR)" >&2
    mkdir -p "$WORK/scaled"
    "$BIN" --data-dir "$WORK/scaled" bench import --scale "$SCALE" --fixtures "$FIXTURES" | tee "$OUT/import-scale-$SCALE.json"
fi
