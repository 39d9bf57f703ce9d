#!/usr/bin/env bash
# WordPress import time (issue 8, MG-1..MG-6): loads the fixture dumps (shared/fixtures/wordpress)
# into fresh MariaDB databases, and a SCALE times larger copy of each (the fixture's posts,
# attachments, comments and their meta and terms replicated SCALE-1 times in SQL with new ids,
# suffixed slugs and dates moved back four years per copy, so copies neither clash nor pair with
# each other; files are shared). Then times `baspa import wordpress` (a RELEASE build) for both
# sites into a fresh target on each backend, and a second run (which must change nothing). Prints
# one JSON line per backend and source; drops every database it created. See bench/README.md;
# results go to docs/perf.md.
#
# Variables (all optional): FIXTURES (/work/shared/fixtures/wordpress), BACKENDS
# ("sqlite postgres mariadb"), PG_HOST/PG_PORT/PG_USER, MY_HOST/MY_PORT/MY_USER, BENCH_OUT,
# BASPA_BIN (skip the build), SCALE (10; 1 or empty: the fixture only).
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

SCALE=${SCALE-10}
[[ -z $SCALE ]] && SCALE=1

# Replicates every wp_posts row (ID < 100000) of database $1 $2-1 times: copy k gets ids + k*100000,
# slugs and old slugs suffixed -xk, titles suffixed (k), dates four years earlier per copy; its meta,
# term links, comments (threads kept) and comment meta follow.
scale_source() {
    local db=$1 scale=$2 k sql
    # post_name is VARCHAR(200): a long percent-encoded slug is cut at its last whole escape before
    # 195 characters so the suffix is kept (copies must not share a permalink).
    my "$db" -e "CREATE FUNCTION short_slug(s TEXT) RETURNS TEXT DETERMINISTIC
        RETURN IF(CHAR_LENGTH(s) <= 195, s, IF(LOCATE('%', s) = 0, LEFT(s, 195),
            LEFT(s, 195 - CHAR_LENGTH(SUBSTRING_INDEX(LEFT(s, 195), '%', -1)) - 1)))"
    for ((k = 1; k < scale; k++)); do
        sql="SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO';
        INSERT INTO wp_posts SELECT ID + $k*100000, post_author,
            IF(post_date LIKE '0000%', post_date, post_date - INTERVAL 4*$k YEAR),
            IF(post_date_gmt LIKE '0000%', post_date_gmt, post_date_gmt - INTERVAL 4*$k YEAR),
            post_content, CONCAT(post_title, ' ($k)'), post_excerpt, post_status, comment_status, ping_status,
            post_password, IF(post_name = '', '', CONCAT(short_slug(post_name), '-x$k')), to_ping, pinged, post_modified,
            post_modified_gmt, post_content_filtered, IF(post_parent = 0, 0, post_parent + $k*100000),
            CONCAT(guid, '&copy=$k'), menu_order, post_type, post_mime_type, comment_count
            FROM wp_posts WHERE ID < 100000;
        INSERT INTO wp_postmeta (post_id, meta_key, meta_value) SELECT post_id + $k*100000, meta_key,
            CASE meta_key WHEN '_thumbnail_id' THEN meta_value + $k*100000
                          WHEN '_wp_old_slug' THEN CONCAT(short_slug(meta_value), '-x$k') ELSE meta_value END
            FROM wp_postmeta WHERE post_id < 100000;
        INSERT INTO wp_term_relationships SELECT object_id + $k*100000, term_taxonomy_id, term_order
            FROM wp_term_relationships WHERE object_id < 100000;
        INSERT INTO wp_comments SELECT comment_ID + $k*100000, comment_post_ID + $k*100000, comment_author,
            comment_author_email, comment_author_url, comment_author_IP,
            IF(comment_date LIKE '0000%', comment_date, comment_date - INTERVAL 4*$k YEAR),
            IF(comment_date_gmt LIKE '0000%', comment_date_gmt, comment_date_gmt - INTERVAL 4*$k YEAR),
            comment_content, comment_karma, comment_approved, comment_agent, comment_type,
            IF(comment_parent = 0, 0, comment_parent + $k*100000), user_id
            FROM wp_comments WHERE comment_ID < 100000;
        INSERT INTO wp_commentmeta (comment_id, meta_key, meta_value) SELECT comment_id + $k*100000, meta_key,
            meta_value FROM wp_commentmeta WHERE comment_id < 100000;"
        my "$db" -e "$sql"
    done
}

SETS=(x1)
((SCALE > 1)) && SETS+=("x$SCALE")
for set in "${SETS[@]}"; do
    for site in kk ru; do
        db=wp_bench_${site}_${set}_$TAG
        my -e "CREATE DATABASE \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci"
        CREATED_MY+=("$db")
        my "$db" <"$FIXTURES/$site.sql"
        [[ $set != x1 ]] && scale_source "$db" "$SCALE"
    done
done
SRC="mysql://$MY_USER@$MY_HOST:$MY_PORT/wp_bench"

run_import() {
    local data=$1 url=$2 label=$3 set=$4 start end
    start=$EPOCHREALTIME
    "$BIN" --data-dir "$data" ${url:+--database-url "$url"} import wordpress \
        --site "kk=${SRC}_kk_${set}_$TAG" --uploads "kk=$FIXTURES/uploads-kk" --host kk=baq.localhost \
        --site "ru=${SRC}_ru_${set}_$TAG" --uploads "ru=$FIXTURES/uploads-ru" --host ru=rus.baq.localhost \
        >"$OUT/import-$label.json" 2>"$OUT/import-$label.log"
    end=$EPOCHREALTIME
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }'
}

rows() { my -N "$1" -e "SELECT (SELECT COUNT(*) FROM wp_posts) + (SELECT COUNT(*) FROM wp_comments)"; }

for set in "${SETS[@]}"; do
for backend in $BACKENDS; do
    data=$WORK/$backend-$set
    target=baspa_import_${set}_$TAG
    mkdir -p "$data"
    url=
    case $backend in
        sqlite) ;;
        postgres)
            pg "CREATE DATABASE \"$target\""
            CREATED_PG+=("$target")
            url="postgres://$PG_USER@$PG_HOST:$PG_PORT/$target"
            ;;
        mariadb)
            my -e "CREATE DATABASE \`$target\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            CREATED_MY+=("$target")
            url="mysql://$MY_USER@$MY_HOST:$MY_PORT/$target"
            ;;
    esac
    [[ -n $url ]] && "$BIN" --data-dir "$data" --database-url "$url" migrate >/dev/null
    [[ -z $url ]] && "$BIN" --data-dir "$data" migrate >/dev/null
    echo "== $backend, source $set: first run" >&2
    load_before=$(load1)
    first=$(run_import "$data" "$url" "$backend-$set-1" "$set")
    echo "== $backend, source $set: second run" >&2
    second=$(run_import "$data" "$url" "$backend-$set-2" "$set")
    written=$(grep -m1 '"changes"' "$OUT/import-$backend-$set-1.json" | tr -dc '0-9')
    changes=$(grep -m1 '"changes"' "$OUT/import-$backend-$set-2.json" | tr -dc '0-9')
    clean=$(grep -m1 '"clean"' "$OUT/import-$backend-$set-1.json" | tr -dc 'a-z' | sed 's/clean//')
    pairs=$(grep -c '"evidence"' "$OUT/import-$backend-$set-1.json" || true)
    source_rows=$(($(rows "wp_bench_kk_${set}_$TAG") + $(rows "wp_bench_ru_${set}_$TAG")))
    printf '{"backend":"%s","source":"%s","source_rows":%s,"first_run_s":%s,"objects_written":%s,"clean":%s,"second_run_s":%s,"second_run_changes":%s,"pairs":%s,"load1_before":"%s","load1_after":"%s"}\n' \
        "$backend" "$set" "$source_rows" "$first" "${written:-null}" "${clean:-null}" "$second" "${changes:-null}" "$pairs" \
        "$load_before" "$(load1)"
done
done
