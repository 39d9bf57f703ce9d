#!/usr/bin/env bash
# Cold start, first home page, memory and home-page throughput of `baspa serve` (SQLite, 10,000
# articles x kk/ru), against nginx serving the same home-page bytes from a file.
# See bench/README.md; results go to docs/perf.md.
#
# Variables (all optional): ARTICLES (10000), RUNS (5), SEED_DIR (/tmp/baspa-bench-seed-$ARTICLES),
# BENCH_OUT (/tmp/baspa-bench-results), BASPA_PORT (18080), NGINX_PORT (18081), WRK_SECONDS (10),
# WRK_THREADS (2), WRK_CONNECTIONS (16), START_TIMEOUT_S (60), BASPA_BIN (skip the build),
# INSTALL_TOOLS (1: apt-get install nginx-light / wrk when missing; 0: skip what is missing).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ARTICLES=${ARTICLES:-10000}
RUNS=${RUNS:-5}
SEED_DIR=${SEED_DIR:-/tmp/baspa-bench-seed-$ARTICLES}
OUT=${BENCH_OUT:-/tmp/baspa-bench-results}
BASPA_PORT=${BASPA_PORT:-18080}
NGINX_PORT=${NGINX_PORT:-18081}
WRK_SECONDS=${WRK_SECONDS:-10}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-16}
START_TIMEOUT_S=${START_TIMEOUT_S:-60}
INSTALL_TOOLS=${INSTALL_TOOLS:-1}
HOST_KK=baq.localhost
HOST_RU=rus.baq.localhost

WORK=$(mktemp -d /tmp/baspa-cold.XXXXXX)
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

# A 1 ms sleep without forking: a timed read on a pipe nobody writes to.
exec {SLEEP_FD}<> <(:)
nap() { read -r -t 0.001 -u "$SLEEP_FD" _ || true; }

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

# Sum of a field (VmRSS, VmHWM; kB) over a process and its direct children (nginx workers).
mem_kb() {
    local pid=$1 field=$2 p total=0 v
    for p in "$pid" $(pgrep -P "$pid" || true); do
        v=$(awk -v f="$field:" '$1 == f { print $2 }' "/proc/$p/status" 2>/dev/null || true)
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

# curl's time_total for GET / in ms; prints "CODE MS". Used to save pages and for sanity checks.
get_home() {
    local port=$1 host=$2 body=$3 out
    out=$(curl -s -o "$body" -w '%{http_code} %{time_total}' -H "Host: $host" "http://127.0.0.1:$port/") || out="000 0"
    awk -v c="${out%% *}" -v t="${out##* }" 'BEGIN { printf "%s %.2f\n", c, t * 1000 }'
}

# raw_get PORT HOST: one GET / over bash's /dev/tcp, no fork until the status line is in.
# Returns 1 when the connection is refused. Sets G_T_OPEN (µs, connection accepted), G_T_STATUS
# (µs, status line read; baspa renders the whole page before it sends the head) and G_STATUS.
# The rest of the response is drained with cat, outside the timing.
raw_get() {
    local port=$1 host=$2 fd line=""
    { exec {fd}<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
    G_T_OPEN=${EPOCHREALTIME/./}
    printf 'GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: baspa-bench\r\nAccept: */*\r\nConnection: close\r\n\r\n' "$host" >&"$fd"
    IFS= read -r -t 30 line <&"$fd" || true
    G_T_STATUS=${EPOCHREALTIME/./}
    G_STATUS=${line#* }
    G_STATUS=${G_STATUS%% *}
    [[ $line == HTTP/* ]] || G_STATUS=000
    cat <&"$fd" >/dev/null 2>&1 || true
    exec {fd}>&-
    return 0
}

# start_measured NAME PORT HOST CMD...
# Spawns CMD in the background and polls (about every 1 ms, no fork) with GET / until a 200
# status line arrives. Sets S_PID, S_LISTEN_US (spawn until the port first accepted a connection),
# S_READY_US (spawn until the status line of the first 200), S_FIRST_MS (that first successful
# request: connection accepted until its status line), S_STATUS (last status seen).
start_measured() {
    local name=$1 port=$2 host=$3 t0 t_listen="" n=0 deadline
    shift 3
    require_free_port "$port"
    t0=${EPOCHREALTIME/./}
    "$@" >>"$WORK/$name.stdout" 2>>"$WORK/$name.stderr" &
    S_PID=$!
    PIDS+=("$S_PID")
    deadline=$((t0 + START_TIMEOUT_S * 1000000))
    S_STATUS=none
    while :; do
        if raw_get "$port" "$host"; then
            [[ -n $t_listen ]] || t_listen=$G_T_OPEN
            S_STATUS=$G_STATUS
            [[ $S_STATUS == 200 ]] && break
        fi
        if ((++n % 50 == 0)) && ! alive "$S_PID"; then
            echo "error: $name exited during startup; its stderr:" >&2
            tail -n 20 "$WORK/$name.stderr" >&2
            exit 1
        fi
        if ((${EPOCHREALTIME/./} > deadline)); then
            echo "error: $name gave no 200 for GET / within ${START_TIMEOUT_S}s (last status: $S_STATUS)" >&2
            tail -n 20 "$WORK/$name.stderr" >&2
            exit 1
        fi
        nap
    done
    S_LISTEN_US=$((t_listen - t0))
    S_READY_US=$((G_T_STATUS - t0))
    S_FIRST_MS=$(us_to_ms2 $((G_T_STATUS - G_T_OPEN)))
}

us_to_ms2() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }

# Median of 5 more GET / on a running server (ms, measured like the first one).
warm_ms() {
    local port=$1 host=$2 i times=()
    for ((i = 0; i < 5; i++)); do
        raw_get "$port" "$host" || { echo "error: warm GET / refused" >&2; exit 1; }
        [[ $G_STATUS == 200 ]] || { echo "error: warm GET / gave $G_STATUS" >&2; exit 1; }
        times+=($((G_T_STATUS - G_T_OPEN)))
    done
    us_to_ms2 "$(median "${times[@]}")"
}

ensure_tool() { # ensure_tool COMMAND PACKAGE...
    local cmd=$1 pkg
    shift
    command -v "$cmd" >/dev/null && return 0
    [[ $INSTALL_TOOLS == 1 && $(id -u) == 0 ]] || return 1
    for pkg in "$@"; do
        echo "== apt-get install -y $pkg" >&2
        if DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >"$WORK/apt.log" 2>&1 ||
            { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >"$WORK/apt.log" 2>&1; }; then
            command -v "$cmd" >/dev/null && return 0
        fi
    done
    return 1
}

mkdir -p "$OUT"
bench_clean_env
bench_build
cd "$WORK" # no ./baspa.toml gets picked up
export BASPA_LOG=info
load_start=$(load1)

# ---- seed (cached) -------------------------------------------------------------------------
if [[ -f $SEED_DIR/.seeded ]]; then
    echo "== reusing seeded data dir $SEED_DIR" >&2
else
    echo "== seeding $ARTICLES articles x 2 languages into $SEED_DIR (once; cached)" >&2
    rm -rf "$SEED_DIR"
    mkdir -p "$SEED_DIR"
    seed_t0=${EPOCHREALTIME/./}
    "$BIN" --data-dir "$SEED_DIR" bench seed --articles "$ARTICLES" >"$WORK/seed.out" 2>"$WORK/seed.err" ||
        { cat "$WORK/seed.err" >&2; exit 1; }
    seed_t1=${EPOCHREALTIME/./}
    { cat "$WORK/seed.out"; echo "wall_s $(awk -v us=$((seed_t1 - seed_t0)) 'BEGIN { printf "%.1f", us / 1e6 }')"; echo "date $(date -u +%FT%TZ)"; } >"$SEED_DIR/.seeded.tmp"
    mv "$SEED_DIR/.seeded.tmp" "$SEED_DIR/.seeded"
fi
seed_line=$(grep '^seeded' "$SEED_DIR/.seeded")
seed_rate=$(awk '/^seeded/ { for (i = 1; i <= NF; i++) if ($i == "at") print $(i + 1) }' "$SEED_DIR/.seeded")
seed_wall=$(awk '$1 == "wall_s" { print $2 }' "$SEED_DIR/.seeded")
seed_date=$(awk '$1 == "date" { print $2 }' "$SEED_DIR/.seeded")
echo "   $seed_line (wall ${seed_wall}s, $seed_date)" >&2
# Pending migrations (a newer binary) are applied here, untimed, so every run starts alike.
"$BIN" --data-dir "$SEED_DIR" migrate >/dev/null 2>"$WORK/migrate.err" || { cat "$WORK/migrate.err" >&2; exit 1; }
db_mb=$(du -sm "$SEED_DIR" | awk '{ print $1 }')

# ---- baspa cold starts ---------------------------------------------------------------------
b_ready=() b_listen=() b_first=() b_warm=() b_rss=() b_hwm=() b_internal=()
for ((run = 1; run <= RUNS; run++)); do
    : >"$WORK/baspa.stderr"
    start_measured baspa "$BASPA_PORT" "$HOST_KK" \
        "$BIN" --data-dir "$SEED_DIR" serve --listen "127.0.0.1:$BASPA_PORT"
    b_ready+=("$S_READY_US") b_listen+=("$S_LISTEN_US") b_first+=("$S_FIRST_MS")
    b_rss+=("$(mem_kb "$S_PID" VmRSS)") b_hwm+=("$(mem_kb "$S_PID" VmHWM)")
    b_internal+=("$(sed -e 's/\x1b\[[0-9;]*m//g' "$WORK/baspa.stderr" | sed -n 's/.*startup_ms=\([0-9]*\).*/\1/p' | head -n 1)")
    b_warm+=("$(warm_ms "$BASPA_PORT" "$HOST_KK")")
    if ((run == 1)); then
        kk=$(get_home "$BASPA_PORT" "$HOST_KK" "$WORK/home-kk.html")
        [[ ${kk%% *} == 200 ]] || { echo "error: GET / on $HOST_KK gave ${kk%% *}" >&2; exit 1; }
        ru=$(get_home "$BASPA_PORT" "$HOST_RU" "$WORK/home-ru.html")
        [[ ${ru%% *} == 200 ]] || { echo "error: GET / on $HOST_RU gave ${ru%% *}" >&2; exit 1; }
    fi
    stop_server "$S_PID"
    echo "   baspa run $run: first 200 after $(us_to_ms "$S_READY_US") ms (port open $(us_to_ms "$S_LISTEN_US") ms, startup_ms=${b_internal[-1]:-?}), first GET / ${S_FIRST_MS} ms, warm ${b_warm[-1]} ms, VmRSS ${b_rss[-1]} kB" >&2
done
home_bytes=$(wc -c <"$WORK/home-kk.html")
home_links=$(grep -o 'жаңалық seed' "$WORK/home-kk.html" | wc -l || true)
cp "$WORK/home-kk.html" "$OUT/home-kk.html"

# ---- nginx reference: the same bytes from a file --------------------------------------------
have_nginx=0
if ensure_tool nginx nginx-light nginx; then
    have_nginx=1
    NGX=$WORK/nginx
    mkdir -p "$NGX/www" "$NGX/tmp"
    cp "$WORK/home-kk.html" "$NGX/www/index.html"
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
    sendfile on;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        server_name $HOST_KK;
        root $NGX/www;
        location = / { try_files /index.html =404; }
    }
}
EOF
    n_ready=() n_listen=() n_first=() n_warm=() n_rss=() n_hwm=()
    for ((run = 1; run <= RUNS; run++)); do
        start_measured nginx "$NGINX_PORT" "$HOST_KK" \
            nginx -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/error.log"
        get_home "$NGINX_PORT" "$HOST_KK" "$WORK/nginx-home.html" >/dev/null
        cmp -s "$WORK/nginx-home.html" "$WORK/home-kk.html" || { echo "error: nginx served other bytes" >&2; exit 1; }
        n_ready+=("$S_READY_US") n_listen+=("$S_LISTEN_US") n_first+=("$S_FIRST_MS")
        n_rss+=("$(mem_kb "$S_PID" VmRSS)") n_hwm+=("$(mem_kb "$S_PID" VmHWM)")
        n_warm+=("$(warm_ms "$NGINX_PORT" "$HOST_KK")")
        stop_server "$S_PID"
        echo "   nginx run $run: first 200 after $(us_to_ms "$S_READY_US") ms (port open $(us_to_ms "$S_LISTEN_US") ms), first GET / ${S_FIRST_MS} ms, warm ${n_warm[-1]} ms, VmRSS ${n_rss[-1]} kB" >&2
    done
else
    echo "   nginx not available: no reference" >&2
fi

# ---- throughput (wrk) ------------------------------------------------------------------------
# wrk_run NAME PORT: prints "REQ_PER_S LAT_P50 LAT_P99 NON2XX ERRORS" and keeps wrk's output.
wrk_run() {
    local name=$1 port=$2 f="$OUT/wrk-$1.txt"
    wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${WRK_SECONDS}s" --latency -H "Host: $HOST_KK" "http://127.0.0.1:$port/" >"$f" 2>&1
    awk '
        $1 == "Requests/sec:" { rps = $2 }
        $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
        /Non-2xx or 3xx responses:/ { non2xx = $NF }
        /Socket errors:/ { errs = $0; sub(/.*Socket errors: /, "", errs); gsub(/ /, "", errs) }
        END { printf "%s %s %s %s %s\n", rps, p50, p99, non2xx + 0, (errs == "" ? "none" : errs) }' "$f"
}
have_wrk=0
if ensure_tool wrk wrk; then
    have_wrk=1
    echo "== wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${WRK_SECONDS}s GET / (Host: $HOST_KK)" >&2
    start_measured baspa "$BASPA_PORT" "$HOST_KK" "$BIN" --data-dir "$SEED_DIR" serve --listen "127.0.0.1:$BASPA_PORT"
    # wrk runs in the foreground (not in a process substitution) so that a signal's cleanup
    # waits for it (at most WRK_SECONDS) instead of leaving it behind.
    wrk_run baspa "$BASPA_PORT" >"$WORK/wrk.res"
    read -r wb_rps wb_p50 wb_p99 wb_non2xx wb_err <"$WORK/wrk.res"
    wb_rss=$(mem_kb "$S_PID" VmHWM)
    stop_server "$S_PID"
    echo "   baspa: $wb_rps req/s, p50 $wb_p50, p99 $wb_p99, non-2xx $wb_non2xx, socket errors $wb_err, VmHWM $wb_rss kB" >&2
    if ((have_nginx)); then
        start_measured nginx "$NGINX_PORT" "$HOST_KK" nginx -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/error.log"
        wrk_run nginx "$NGINX_PORT" >"$WORK/wrk.res"
        read -r wn_rps wn_p50 wn_p99 wn_non2xx wn_err <"$WORK/wrk.res"
        stop_server "$S_PID"
        echo "   nginx: $wn_rps req/s, p50 $wn_p50, p99 $wn_p99, non-2xx $wn_non2xx, socket errors $wn_err" >&2
    fi
else
    echo "   wrk not available: no throughput run" >&2
fi

# ---- report ----------------------------------------------------------------------------------
mb_ready=$(median "${b_ready[@]}") mb_listen=$(median "${b_listen[@]}")
mb_first=$(printf '%s\n' "${b_first[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
mb_warm=$(printf '%s\n' "${b_warm[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
mb_rss=$(median "${b_rss[@]}") mb_hwm=$(median "${b_hwm[@]}")
load_end=$(load1)
mb_internal=$(median "${b_internal[@]}")
mb_internal=${mb_internal:-null}
json_ms_list() { local x s=""; for x in "$@"; do s+="${s:+,}$(us_to_ms "$x")"; done; echo "[$s]"; }
{
    printf '{"bench":"cold_start","date":"%s","articles":%s,"languages":2,"runs":%s,"sqlite_dir_mb":%s,"loadavg_1m_start":%s,"loadavg_1m_end":%s,' "$(date -u +%FT%TZ)" "$ARTICLES" "$RUNS" "$db_mb" "$load_start" "$load_end"
    printf '"seed_articles_per_s":%s,"seed_wall_s":%s,"seed_date":"%s","home_page_bytes":%s,' "$seed_rate" "$seed_wall" "$seed_date" "$home_bytes"
    printf '"baspa":{"spawn_to_first_200_ms":%s,"spawn_to_first_200_ms_runs":%s,"spawn_to_port_open_ms":%s,"startup_ms_logged":%s,' \
        "$(us_to_ms "$mb_ready")" "$(json_ms_list "${b_ready[@]}")" "$(us_to_ms "$mb_listen")" "$mb_internal"
    printf '"first_home_page_ms":%s,"warm_home_page_ms":%s,"vm_rss_kb":%s,"vm_hwm_kb":%s}' "$mb_first" "$mb_warm" "$mb_rss" "$mb_hwm"
    if ((have_nginx)); then
        mn_ready=$(median "${n_ready[@]}") mn_listen=$(median "${n_listen[@]}")
        mn_first=$(printf '%s\n' "${n_first[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
        mn_warm=$(printf '%s\n' "${n_warm[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
        mn_rss=$(median "${n_rss[@]}") mn_hwm=$(median "${n_hwm[@]}")
        printf ',"nginx":{"spawn_to_first_200_ms":%s,"spawn_to_first_200_ms_runs":%s,"spawn_to_port_open_ms":%s,"first_home_page_ms":%s,"warm_home_page_ms":%s,"vm_rss_kb":%s,"vm_hwm_kb":%s}' \
            "$(us_to_ms "$mn_ready")" "$(json_ms_list "${n_ready[@]}")" "$(us_to_ms "$mn_listen")" "$mn_first" "$mn_warm" "$mn_rss" "$mn_hwm"
        printf ',"ratio_cold_start_baspa_over_nginx":%s,"ratio_first_home_page_baspa_over_nginx":%s,"ratio_rss_baspa_over_nginx":%s' \
            "$(ratio "$mb_ready" "$mn_ready")" "$(ratio "$mb_first" "$mn_first")" "$(ratio "$mb_rss" "$mn_rss")"
    fi
    if ((have_wrk)); then
        printf ',"wrk":{"threads":%s,"connections":%s,"seconds":%s,"baspa":{"req_per_s":%s,"p50":"%s","p99":"%s","non_2xx":%s,"socket_errors":"%s","vm_hwm_kb":%s}' \
            "$WRK_THREADS" "$WRK_CONNECTIONS" "$WRK_SECONDS" "$wb_rps" "$wb_p50" "$wb_p99" "$wb_non2xx" "$wb_err" "$wb_rss"
        if ((have_nginx)); then
            printf ',"nginx":{"req_per_s":%s,"p50":"%s","p99":"%s","non_2xx":%s,"socket_errors":"%s"},"ratio_req_per_s_baspa_over_nginx":%s,"ratio_req_per_s_nginx_over_baspa":%s' \
                "$wn_rps" "$wn_p50" "$wn_p99" "$wn_non2xx" "$wn_err" "$(ratio "$wb_rps" "$wn_rps")" "$(ratio "$wn_rps" "$wb_rps")"
        fi
        printf '}'
    fi
    printf '}\n'
} >"$OUT/cold_start.json"
echo "== 1-minute load average: $load_start at the start, $load_end at the end (2 cores)" >&2
echo "== home page: $home_bytes bytes, $home_links article titles; seeded data dir ${db_mb} MB" >&2
echo "== results in $OUT (cold_start.json, wrk-*.txt, home-kk.html)" >&2
cat "$OUT/cold_start.json"
