#!/usr/bin/env bash
# Memory (VmRSS, VmHWM) of `baspa serve` with N published articles in kk and ru (default
# 100,000): after start, after the first visits of home, an article, the archive, a feed and the
# sitemap, and after 10 s of wrk on a cached article (issue 7 scope (d)). SQLite, page cache on.
# See bench/README.md; results go to docs/perf.md.
#
# Variables (all optional): ARTICLES (100000), SEED_DIR (/tmp/baspa-bench-seed-bare-ARTICLES),
# BENCH_OUT (/tmp/baspa-bench-results),
# BASPA_PORT (18087), WRK_SECONDS (10), SETTLE_SECONDS (60: wait before the last reading),
# BASPA_BIN (skip the build).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OUT=${BENCH_OUT:-/tmp/baspa-bench-results}
ARTICLES=${ARTICLES:-100000}
BASPA_PORT=${BASPA_PORT:-18087}
WRK_SECONDS=${WRK_SECONDS:-10}
SETTLE_SECONDS=${SETTLE_SECONDS:-60}
HOST_KK=baq.localhost
WORK=$(mktemp -d /tmp/baspa-memory.XXXXXX)
S_PID=

cleanup() {
    if [[ -n $S_PID ]]; then
        kill -TERM "$S_PID" 2>/dev/null || true
        wait "$S_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mem_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
get() { curl -s -o /dev/null -w '%{http_code}' -H "Host: $HOST_KK" "http://127.0.0.1:$BASPA_PORT$1" || echo 000; }

mkdir -p "$OUT"
bench_clean_env
bench_build
require_free_port "$BASPA_PORT"
cd "$WORK"
# The seeded rows are kept in $SEED_DIR (marker .seeded) and copied for each run, so every run
# starts from the same data with no search index yet (the first start builds it).
SEED=${SEED_DIR:-/tmp/baspa-bench-seed-bare-$ARTICLES}
if [[ ! -f $SEED/.seeded ]]; then
    rm -rf "$SEED"
    echo "== seeding $ARTICLES bare articles x kk/ru into $SEED" >&2
    seed_started=$(date +%s)
    BASPA_LOG=error "$BIN" --data-dir "$SEED" bench seed-bare --articles "$ARTICLES" >&2
    echo "$(($(date +%s) - seed_started))" >"$SEED/.seeded"
fi
seed_s=$(<"$SEED/.seeded")
DATA=$WORK/data
cp -a "$SEED" "$DATA"

echo "== baspa serve on 127.0.0.1:$BASPA_PORT" >&2
BASPA_LOG=warn BASPA__SECURITY__REQUESTS_PER_MINUTE=0 BASPA__SECURITY__PAGES_PER_MINUTE=0 \
    "$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$BASPA_PORT" >"$WORK/serve.log" 2>&1 &
S_PID=$!
for _ in $(seq 1 600); do
    [[ $(get /) == 200 ]] && break
    sleep 0.1
done
[[ $(get /) == 200 ]] || { echo "error: the server did not answer /:" >&2; tail -n 20 "$WORK/serve.log" >&2; exit 1; }
sleep 3
rss_start=$(mem_kb "$S_PID" VmRSS)

# An article: the first /slug or /section/slug of the Kazakh sitemap (the sitemap index when it is split).
sitemap_code=$(curl -s -o "$WORK/sitemap.xml" -w '%{http_code}' -H "Host: $HOST_KK" "http://127.0.0.1:$BASPA_PORT/sitemap-kk.xml" || echo 000)
# (sed -n 1p rather than head: head would close the pipe early and pipefail would stop the script)
first=$(grep -o '<loc>[^<]*</loc>' "$WORK/sitemap.xml" | sed -n -e 's#^<loc>[a-z]*://[^/]*##' -e 's#</loc>$##' -e 1p)
if [[ $first == *.xml ]]; then # an index: read its first part
    curl -s -o "$WORK/sitemap.xml" -H "Host: $HOST_KK" "http://127.0.0.1:$BASPA_PORT$first"
fi
ARTICLE=$(grep -o '<loc>[^<]*</loc>' "$WORK/sitemap.xml" | sed -e 's#^<loc>[a-z]*://[^/]*##' -e 's#</loc>$##' |
    grep -E '^/[^/]+(/[^/]+)?$' | grep -v -e '^/tag/' -e '\.xml$' | sed -n 1p || true)
[[ -n $ARTICLE ]] || { echo "error: no article in the sitemap (status $sitemap_code):" >&2; head -c 600 "$WORK/sitemap.xml" >&2; exit 1; }
declare -A CODES
for path in / "$ARTICLE" "/archive/$(date -u +%Y/%m)/" /feed.xml /sitemap-kk.xml /sitemap.xml; do
    CODES[$path]=$(get "$path")
    echo "   GET $path: ${CODES[$path]}" >&2
done
rss_visited=$(mem_kb "$S_PID" VmRSS)
wrk -t2 -c64 -d"${WRK_SECONDS}s" --latency -H "Host: $HOST_KK" "http://127.0.0.1:$BASPA_PORT$ARTICLE" >"$OUT/wrk-memory.txt" 2>&1
rps=$(awk '$1 == "Requests/sec:" { print $2 }' "$OUT/wrk-memory.txt")
rss_end=$(mem_kb "$S_PID" VmRSS)
# The first start also rebuilds the search index in the background; its peak is caught here.
sleep "$SETTLE_SECONDS"
rss_settled=$(mem_kb "$S_PID" VmRSS)
hwm=$(mem_kb "$S_PID" VmHWM)
codes=""
for path in "${!CODES[@]}"; do codes+="${codes:+,}\"$path\":${CODES[$path]}"; done
printf '{"bench":"memory","date":"%s","cpus":%s,"articles_per_language":%s,"seed_s":%s,"vm_rss_kb_after_start":%s,"vm_rss_kb_after_visits":%s,"vm_rss_kb_after_wrk":%s,"settle_s":%s,"vm_rss_kb_settled":%s,"vm_hwm_kb":%s,"wrk_article_req_per_s":%s,"status":{%s}}\n' \
    "$(date -u +%FT%TZ)" "$(nproc)" "$ARTICLES" "$seed_s" "$rss_start" "$rss_visited" "$rss_end" "$SETTLE_SECONDS" "$rss_settled" "$hwm" "${rps:-null}" "$codes" |
    tee "$OUT/memory.json"
