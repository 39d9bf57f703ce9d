#!/usr/bin/env bash
# Throughput and latency of page serving: the Kazakh home page, one Kazakh article and the
# Russian home page of the news demo, under wrk on loopback, against nginx serving the same
# bytes from files. CACHE=on measures the page cache (each page is cached by the first GET),
# CACHE=off the renderer. See bench/README.md; results go to docs/perf.md.
#
# Both servers run side by side and each page is measured in ROUNDS rounds of baspa then nginx,
# back to back: this machine's throughput drifts by ±15% over minutes, which a baspa-only block
# followed by an nginx-only block would put into the ratio. Reported: the run with the median
# req/s of each server, and the median of the rounds' ratios.
#
# Variables (all optional): CACHE (on), BENCH_OUT (/tmp/baspa-bench-results), BASPA_PORT (18082),
# NGINX_PORT (18083), WRK_SECONDS (10), WRK_THREADS (2), WRK_CONNECTIONS (16), WARMUP_SECONDS (3),
# ROUNDS (3), START_TIMEOUT_S (60), BASPA_BIN (skip the build).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OUT=${BENCH_OUT:-/tmp/baspa-bench-results}
BASPA_PORT=${BASPA_PORT:-18082}
NGINX_PORT=${NGINX_PORT:-18083}
WRK_SECONDS=${WRK_SECONDS:-10}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-16}
WARMUP_SECONDS=${WARMUP_SECONDS:-3}
ROUNDS=${ROUNDS:-3}
START_TIMEOUT_S=${START_TIMEOUT_S:-60}
CACHE=${CACHE:-on}
case $CACHE in on) CACHE_ENABLED=true ;; off) CACHE_ENABLED=false ;; *) echo "error: CACHE must be on or off" >&2; exit 1 ;; esac
HOST_KK=baq.localhost
HOST_RU=rus.baq.localhost

WORK=$(mktemp -d /tmp/baspa-pages.XXXXXX)
chmod 755 "$WORK" # nginx workers may run as another user
PIDS=()

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

alive() { [[ -r /proc/$1/status ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# Stops one server started here (TERM, then KILL after 10 s) and forgets its PID.
stop_server() {
    local pid=$1 i kept=()
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 1000; i++)); do
        alive "$pid" || break
        sleep 0.01
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for i in "${PIDS[@]}"; do [[ $i == "$pid" ]] || kept+=("$i"); done
    PIDS=("${kept[@]}")
}

# fetch PORT HOST PATH FILE: GET with curl, body to FILE; prints the status code.
fetch() {
    local code
    code=$(curl -s -o "$4" -w '%{http_code}' -H "Host: $2" "http://127.0.0.1:$1$3") || code=000
    echo "$code"
}

# start_server NAME PORT HOST CMD...: spawns CMD in the background and waits until GET / (with
# Host: HOST) answers 200. Sets S_PID.
start_server() {
    local name=$1 port=$2 host=$3 deadline code=none
    shift 3
    require_free_port "$port"
    "$@" >>"$WORK/$name.stdout" 2>>"$WORK/$name.stderr" &
    S_PID=$!
    PIDS+=("$S_PID")
    deadline=$((SECONDS + START_TIMEOUT_S))
    while :; do
        code=$(fetch "$port" "$host" / /dev/null)
        [[ $code == 200 ]] && return 0
        if ! alive "$S_PID"; then
            echo "error: $name exited during startup; its stderr:" >&2
            tail -n 20 "$WORK/$name.stderr" >&2
            exit 1
        fi
        if ((SECONDS > deadline)); then
            echo "error: $name gave no 200 for GET / within ${START_TIMEOUT_S}s (last status: $code)" >&2
            tail -n 20 "$WORK/$name.stderr" >&2
            exit 1
        fi
        sleep 0.05
    done
}

# wrk_run NAME PORT HOST PATH WARM: prints "REQ_PER_S P50_MS P99_MS NON2XX ERRORS LOAD1_BEFORE"
# and keeps wrk's output in $OUT/wrk-pages-NAME.txt. Latencies are converted to milliseconds.
# WARM=1 runs an unmeasured warm-up first.
wrk_run() {
    local name=$1 port=$2 host=$3 path=$4 warm=$5 f="$OUT/wrk-pages-$1.txt" l0
    # Unmeasured warm-up, the same for both servers: caches filled, connections' first costs paid.
    if ((warm && WARMUP_SECONDS > 0)); then
        wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${WARMUP_SECONDS}s" -H "Host: $host" "http://127.0.0.1:$port$path" >/dev/null 2>&1 || true
    fi
    l0=$(load1)
    wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${WRK_SECONDS}s" --latency -H "Host: $host" "http://127.0.0.1:$port$path" >"$f" 2>&1 ||
        { echo "error: wrk failed for $name:" >&2; cat "$f" >&2; exit 1; }
    awk -v l0="$l0" '
        function ms(v) {
            if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
            if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
            if (v ~ /m$/) return substr(v, 1, length(v) - 1) * 60000
            if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
            return v + 0
        }
        $1 == "Requests/sec:" { rps = $2 }
        $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
        /Non-2xx or 3xx responses:/ { non2xx = $NF }
        /Socket errors:/ { errs = $0; sub(/.*Socket errors: /, "", errs); gsub(/ /, "", errs) }
        END {
            if (rps == "") exit 1
            printf "%s %.3f %.3f %s %s %s\n", rps, p50, p99, non2xx + 0, (errs == "" ? "none" : errs), l0
        }' "$f" || { echo "error: could not parse $f" >&2; exit 1; }
}

for tool in wrk nginx curl; do
    command -v "$tool" >/dev/null || { echo "error: $tool is not installed (apt-get install wrk nginx-light curl)" >&2; exit 1; }
done

mkdir -p "$OUT"
bench_clean_env
bench_build
cd "$WORK" # no ./baspa.toml gets picked up
export BASPA_LOG=info
load_start=$(load1)
date_start=$(date -u +%FT%TZ)

# ---- seed the news demo into a fresh data dir ---------------------------------------------------
DATA=$WORK/data
mkdir -p "$DATA"
echo "== seeding the news demo into $DATA" >&2
# demo prints an admin login; it stays in $WORK (deleted on exit) and is not shown.
BASPA_LOG=error "$BIN" --data-dir "$DATA" demo --no-serve >"$WORK/demo.out" 2>"$WORK/demo.err" ||
    { echo "error: demo --no-serve failed:" >&2; tail -n 20 "$WORK/demo.err" >&2; exit 1; }

# The demo queued the WebP variants of its images; made here first, so the server's job runner
# finds them done instead of spending both cores on them (and purging pages) during the runs.
BASPA_LOG=error "$BIN" --data-dir "$DATA" media convert-all >"$WORK/convert.out" 2>&1 ||
    { echo "error: media convert-all failed:" >&2; tail -n 20 "$WORK/convert.out" >&2; exit 1; }

# ---- baspa -------------------------------------------------------------------------------------
# wrk is one client address sending thousands of requests a second: exactly what the monitor's
# per-address limits (SC-7) refuse, so they are off here (the monitor still runs).
start_server baspa "$BASPA_PORT" "$HOST_KK" env BASPA__CACHE__ENABLED=$CACHE_ENABLED \
    BASPA__SECURITY__REQUESTS_PER_MINUTE=0 BASPA__SECURITY__PAGES_PER_MINUTE=0 "$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$BASPA_PORT"
BASPA_PID=$S_PID

# One article: the first <loc> of the Kazakh sitemap whose path is exactly /section/slug (no
# trailing slash, which marks sections and subsections; not a /tag/ page).
code=$(fetch "$BASPA_PORT" "$HOST_KK" /sitemap-kk.xml "$WORK/sitemap-kk.xml")
[[ $code == 200 ]] || { echo "error: GET /sitemap-kk.xml gave $code" >&2; exit 1; }
ARTICLE_PATH=$(grep -o '<loc>[^<]*</loc>' "$WORK/sitemap-kk.xml" |
    sed -e 's#^<loc>[a-z]*://[^/]*##' -e 's#</loc>$##' |
    grep -E '^/[^/]+/[^/]+$' | grep -v '^/tag/' | head -n 1 || true)
[[ -n $ARTICLE_PATH ]] || { echo "error: no /section/slug article in sitemap-kk.xml" >&2; exit 1; }
[[ $ARTICLE_PATH =~ ^/[A-Za-z0-9._~/-]+$ ]] || { echo "error: unexpected characters in article path $ARTICLE_PATH" >&2; exit 1; }
echo "   article: $ARTICLE_PATH" >&2

# The pages under test: NAME HOST PATH. Their bytes are saved for nginx.
PAGES=("home-kk $HOST_KK /" "article-kk $HOST_KK $ARTICLE_PATH" "home-ru $HOST_RU /")
declare -A P_HOST P_PATH P_BYTES
for p in "${PAGES[@]}"; do
    read -r name host path <<<"$p"
    P_HOST[$name]=$host P_PATH[$name]=$path
    code=$(fetch "$BASPA_PORT" "$host" "$path" "$WORK/$name.html")
    [[ $code == 200 ]] || { echo "error: GET $path (Host: $host) gave $code" >&2; exit 1; }
    P_BYTES[$name]=$(wc -c <"$WORK/$name.html")
    cp "$WORK/$name.html" "$OUT/pages-$name.html"
done
cmp -s "$WORK/home-kk.html" "$WORK/home-ru.html" && { echo "error: kk and ru home pages are identical" >&2; exit 1; }

# ---- nginx reference: the same bytes from files --------------------------------------------------
NGX=$WORK/nginx
mkdir -p "$NGX/www" "$NGX/tmp"
for p in "${PAGES[@]}"; do
    read -r name _ _ <<<"$p"
    cp "$WORK/$name.html" "$NGX/www/$name.html"
done
chmod -R a+rX "$NGX"
cat >"$NGX/nginx.conf" <<EOF
worker_processes auto;
daemon off;
master_process on;
pid $NGX/nginx.pid;
error_log $NGX/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $NGX/tmp/body;
    proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi;
    uwsgi_temp_path $NGX/tmp/uwsgi;
    scgi_temp_path $NGX/tmp/scgi;
    types { }
    default_type "text/html; charset=utf-8";
    # nginx at its best for small static files: zero-copy send, open files kept, and keep-alive
    # connections never closed by a request count (1.22 closes them after 1,000 requests by
    # default; hyper does not, and wrk would pay reconnects on nginx's side only).
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    open_file_cache max=100 inactive=60s;
    server {
        listen 127.0.0.1:$NGINX_PORT default_server;
        server_name $HOST_KK;
        root $NGX/www;
        location = / { try_files /home-kk.html =404; }
        location = $ARTICLE_PATH { try_files /article-kk.html =404; }
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        server_name $HOST_RU;
        root $NGX/www;
        location = / { try_files /home-ru.html =404; }
    }
}
EOF
start_server nginx "$NGINX_PORT" "$HOST_KK" nginx -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/error.log"
for p in "${PAGES[@]}"; do
    read -r name host path <<<"$p"
    code=$(fetch "$NGINX_PORT" "$host" "$path" "$WORK/nginx-$name.html")
    [[ $code == 200 ]] && cmp -s "$WORK/nginx-$name.html" "$WORK/$name.html" ||
        { echo "error: nginx did not serve baspa's bytes for $name (status $code)" >&2; exit 1; }
done
declare -A B_RES N_RES RATIO
# median_run RUN...: the run (a wrk_run line) with the median req/s.
median_run() {
    printf '%s\n' "$@" | sort -g -k1,1 | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'
}
echo "== wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${WRK_SECONDS}s --latency, $ROUNDS rounds of baspa (127.0.0.1:$BASPA_PORT) then nginx (127.0.0.1:$NGINX_PORT)" >&2
for p in "${PAGES[@]}"; do
    read -r name host path <<<"$p"
    b_runs=() n_runs=() ratios=()
    for ((round = 1; round <= ROUNDS; round++)); do
        # wrk runs in the foreground (not in a command substitution): an error exits the script and
        # a signal's cleanup waits for it (at most WRK_SECONDS).
        wrk_run "baspa-$name-$round" "$BASPA_PORT" "$host" "$path" $((round == 1)) >"$WORK/wrk.res"
        b_runs+=("$(<"$WORK/wrk.res")")
        wrk_run "nginx-$name-$round" "$NGINX_PORT" "$host" "$path" $((round == 1)) >"$WORK/wrk.res"
        n_runs+=("$(<"$WORK/wrk.res")")
        read -r b_rps _ b_p99 _ _ b_l0 <<<"${b_runs[-1]}"
        read -r n_rps _ n_p99 _ _ n_l0 <<<"${n_runs[-1]}"
        ratios+=("$(ratio "$b_rps" "$n_rps")")
        echo "   $name round $round: baspa $b_rps req/s (p99 $b_p99 ms, load $b_l0), nginx $n_rps req/s (p99 $n_p99 ms, load $n_l0), ratio ${ratios[-1]}" >&2
    done
    B_RES[$name]=$(median_run "${b_runs[@]}")
    N_RES[$name]=$(median_run "${n_runs[@]}")
    RATIO[$name]=$(median "${ratios[@]}")
    for server in baspa nginx; do
        if [[ $server == baspa ]]; then res=${B_RES[$name]}; else res=${N_RES[$name]}; fi
        read -r rps p50 p99 non2xx err l0 <<<"$res"
        echo "   $server $name (median run): $rps req/s, p50 $p50 ms, p99 $p99 ms, non-2xx $non2xx, socket errors $err" >&2
    done
    echo "   $name: median ratio of the rounds ${RATIO[$name]}" >&2
done
b_hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$BASPA_PID/status")
for pid in "${PIDS[@]}"; do stop_server "$pid"; done

# ---- results --------------------------------------------------------------------------------------
load_end=$(load1)
res_json() { # res_json "RPS P50 P99 NON2XX ERR LOAD1"
    local rps p50 p99 non2xx err l0
    read -r rps p50 p99 non2xx err l0 <<<"$1"
    printf '{"req_per_s":%s,"p50_ms":%s,"p99_ms":%s,"non_2xx":%s,"socket_errors":"%s","loadavg_1m_before":%s}' \
        "$rps" "$p50" "$p99" "$non2xx" "$err" "$l0"
}
{
    printf '{"bench":"pages","date":"%s","cpus":%s,"loadavg_1m_start":%s,"loadavg_1m_end":%s,"data":"demo news (fresh data dir)","cache":"%s",' \
        "$date_start" "$(nproc)" "$load_start" "$load_end" "$CACHE"
    printf '"wrk":{"threads":%s,"connections":%s,"seconds":%s,"rounds":%s},"baspa_vm_hwm_kb":%s,"pages":{' \
        "$WRK_THREADS" "$WRK_CONNECTIONS" "$WRK_SECONDS" "$ROUNDS" "${b_hwm:-null}"
    sep=""
    for p in "${PAGES[@]}"; do
        read -r name _ _ <<<"$p"
        read -r b_rps _ b_p99 _ <<<"${B_RES[$name]}"
        read -r n_rps _ n_p99 _ <<<"${N_RES[$name]}"
        printf '%s"%s":{"host":"%s","path":"%s","bytes":%s,"baspa":%s,"nginx":%s,' "$sep" "${name/-/_}" \
            "${P_HOST[$name]}" "${P_PATH[$name]}" "${P_BYTES[$name]}" "$(res_json "${B_RES[$name]}")" "$(res_json "${N_RES[$name]}")"
        printf '"ratio_req_per_s_baspa_over_nginx":%s,"ratio_p99_baspa_over_nginx":%s}' \
            "${RATIO[$name]}" "$(ratio "$b_p99" "$n_p99")"
        sep=","
    done
    printf '}}\n'
} >"$OUT/pages-cache-$CACHE-c$WRK_CONNECTIONS.json"
cp "$OUT/pages-cache-$CACHE-c$WRK_CONNECTIONS.json" "$OUT/pages.json"
echo "== 1-minute load average: $load_start at the start, $load_end at the end ($(nproc) cores)" >&2
echo "== results in $OUT (pages.json, wrk-pages-*.txt, pages-*.html)" >&2
cat "$OUT/pages.json"
