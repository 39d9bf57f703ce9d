#!/usr/bin/env bash
# Baspa without its page cache against WordPress 6.1 (Debian's `wordpress` package, PHP-FPM,
# MariaDB) showing the same article: the Kazakh fixture site (../shared/fixtures/wordpress/kk.sql)
# is loaded into a fresh MariaDB database and served by a private nginx + php-fpm on loopback; the
# same post's title and body are published in a fresh Baspa data dir. wrk measures both (issue 7
# acceptance: uncached Baspa >= 20x WordPress req/s). See bench/README.md; results in docs/perf.md.
#
# Needs (Debian): wordpress php-fpm php-mysql nginx-light wrk curl, MariaDB on MY_HOST:MY_PORT.
# Variables (all optional): BENCH_OUT (/tmp/baspa-bench-results), BASPA_PORT (18084),
# WP_PORT (18085), WRK_SECONDS (10), WRK_THREADS (2), WRK_CONNECTIONS (64), FPM_CHILDREN (8),
# FIXTURES (../shared/fixtures/wordpress from the repo), MY_HOST (127.0.0.1), MY_PORT (3306),
# MY_USER (root), BASPA_BIN (skip the build).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OUT=${BENCH_OUT:-/tmp/baspa-bench-results}
BASPA_PORT=${BASPA_PORT:-18084}
WP_PORT=${WP_PORT:-18085}
WRK_SECONDS=${WRK_SECONDS:-10}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
FPM_CHILDREN=${FPM_CHILDREN:-8}
FIXTURES=${FIXTURES:-$BENCH_ROOT/../shared/fixtures/wordpress}
MY_HOST=${MY_HOST:-127.0.0.1} MY_PORT=${MY_PORT:-3306} MY_USER=${MY_USER:-root}
DB_NAME=baspa_wp_bench_$$
HOST_KK=baq.localhost
FPM_BIN=$(command -v php-fpm8.2 || command -v php-fpm || true)

for tool in wrk nginx curl mariadb; do
    command -v "$tool" >/dev/null || { echo "error: $tool is not installed" >&2; exit 1; }
done
[[ -n $FPM_BIN ]] || { echo "error: php-fpm is not installed (apt-get install php-fpm php-mysql)" >&2; exit 1; }
[[ -f /usr/share/wordpress/wp-settings.php ]] || { echo "error: Debian's wordpress package is not installed" >&2; exit 1; }
[[ -f $FIXTURES/kk.sql ]] || { echo "error: no $FIXTURES/kk.sql" >&2; exit 1; }

WORK=$(mktemp -d /tmp/baspa-wp.XXXXXX)
chmod 755 "$WORK"
PIDS=()
WP_CONFIG=/etc/wordpress/config-baspabench$$.php
my() { mariadb --default-character-set=utf8mb4 -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" "$@"; }
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    my -e "DROP DATABASE IF EXISTS \`$DB_NAME\`" 2>/dev/null || true
    rm -f "$WP_CONFIG"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wrk_once NAME PORT HOST PATH: "REQ_PER_S P50_MS P99_MS NON2XX" (wrk output kept in $OUT).
wrk_once() {
    local f="$OUT/wrk-wp-$1.txt"
    wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${WRK_SECONDS}s" --latency -H "Host: $3" "http://127.0.0.1:$2$4" >"$f" 2>&1 ||
        { echo "error: wrk failed for $1" >&2; cat "$f" >&2; exit 1; }
    awk '
        function ms(v) {
            if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
            if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
            if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
            return v + 0
        }
        $1 == "Requests/sec:" { rps = $2 } $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
        /Non-2xx or 3xx responses:/ { non2xx = $NF }
        END { if (rps == "") exit 1; printf "%s %.3f %.3f %s\n", rps, p50, p99, non2xx + 0 }' "$f"
}

wait_200() { # PORT HOST PATH
    local i code
    for ((i = 0; i < 600; i++)); do
        code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $2" "http://127.0.0.1:$1$3" || true)
        [[ $code == 200 ]] && return 0
        sleep 0.1
    done
    echo "error: no 200 from 127.0.0.1:$1$3 (Host: $2), last $code" >&2
    curl -s -D - -o /dev/null -H "Host: $2" "http://127.0.0.1:$1$3" | head -n 12 >&2 || true
    tail -n 20 "$WORK"/*.err 2>/dev/null >&2 || true
    exit 1
}

mkdir -p "$OUT"
bench_clean_env
bench_build
date_start=$(date -u +%FT%TZ)
load_start=$(load1)

# ---- WordPress: the fixture database, Debian's WordPress, private php-fpm + nginx -------------
echo "== loading $FIXTURES/kk.sql into MariaDB $DB_NAME" >&2
my -e "CREATE DATABASE \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci"
my "$DB_NAME" <"$FIXTURES/kk.sql"
my "$DB_NAME" -e "UPDATE wp_options SET option_value='http://$HOST_KK:$WP_PORT' WHERE option_name IN ('siteurl','home')"
# The fixture site used twentytwentyone; Debian's package ships twentytwentythree only.
my "$DB_NAME" -e "UPDATE wp_options SET option_value='twentytwentythree' WHERE option_name IN ('template','stylesheet')"
read -r POST_ID <<<"$(my -N "$DB_NAME" -e "SELECT ID FROM wp_posts WHERE post_type='post' AND post_status='publish' AND post_content LIKE '%<p>%' ORDER BY ID LIMIT 1")"
my -N --raw "$DB_NAME" -e "SELECT post_title FROM wp_posts WHERE ID=$POST_ID" >"$WORK/title.txt"
my -N --raw "$DB_NAME" -e "SELECT post_content FROM wp_posts WHERE ID=$POST_ID" >"$WORK/body.html"
WP_PATH=$(my -N "$DB_NAME" -e "SELECT CONCAT('/', DATE_FORMAT(post_date, '%Y/%m'), '/', post_name, '/') FROM wp_posts WHERE ID=$POST_ID")
echo "   post $POST_ID: $(head -c 80 "$WORK/title.txt") at $WP_PATH" >&2

cat >"$WP_CONFIG" <<EOF
<?php
define('DB_NAME', '$DB_NAME');
define('DB_USER', '$MY_USER');
define('DB_PASSWORD', '');
define('DB_HOST', '$MY_HOST:$MY_PORT');
define('WP_CONTENT_DIR', '/usr/share/wordpress/wp-content');
\$table_prefix = 'wp_';
EOF
chmod 644 "$WP_CONFIG"
cat >"$WORK/php-fpm.conf" <<EOF
[global]
error_log = $WORK/php-fpm.err
daemonize = no
[bench]
listen = $WORK/php-fpm.sock
listen.mode = 0666
pm = static
pm.max_children = $FPM_CHILDREN
EOF
"$FPM_BIN" -F -y "$WORK/php-fpm.conf" -R 2>>"$WORK/php-fpm.err" &
PIDS+=($!)
mkdir -p "$WORK/ngx-tmp"
cat >"$WORK/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/ngx-tmp/body;
    proxy_temp_path $WORK/ngx-tmp/proxy;
    fastcgi_temp_path $WORK/ngx-tmp/fastcgi;
    uwsgi_temp_path $WORK/ngx-tmp/uwsgi;
    scgi_temp_path $WORK/ngx-tmp/scgi;
    include /etc/nginx/mime.types;
    server {
        listen 127.0.0.1:$WP_PORT;
        root /usr/share/wordpress;
        index index.php;
        location / { try_files \$uri \$uri/ /index.php?\$args; }
        location ~ \.php\$ {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
            fastcgi_param WORDPRESS_CONFIG baspabench$$;
            # Debian's fastcgi_params passes no port in HTTP_HOST: WordPress would redirect to itself.
            fastcgi_param HTTP_HOST \$host:\$server_port;
            fastcgi_pass unix:$WORK/php-fpm.sock;
        }
    }
}
EOF
nginx -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/nginx.err" 2>>"$WORK/nginx.err" &
PIDS+=($!)
wait_200 "$WP_PORT" "$HOST_KK:$WP_PORT" "$WP_PATH"
curl -s -H "Host: $HOST_KK:$WP_PORT" "http://127.0.0.1:$WP_PORT$WP_PATH" >"$OUT/wp-article.html"
title_start=$(head -c 40 "$WORK/title.txt")
grep -qF "$title_start" "$OUT/wp-article.html" || { echo "error: WordPress's page does not show the post title" >&2; exit 1; }
echo "== wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${WRK_SECONDS}s: WordPress $WP_PATH" >&2
WP_RES=$(wrk_once wordpress "$WP_PORT" "$HOST_KK:$WP_PORT" "$WP_PATH")
echo "   wordpress: $WP_RES (req/s p50 p99 non-2xx)" >&2
for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
PIDS=()

# ---- Baspa: the same title and body, cache off ----------------------------------------------------
cd "$WORK"
DATA=$WORK/data
B_PATH=$(BASPA_LOG=error "$BIN" --data-dir "$DATA" bench article --lang kk --title "$(cat "$WORK/title.txt")" --body-file "$WORK/body.html")
env BASPA_LOG=error BASPA__CACHE__ENABLED=false BASPA__SECURITY__REQUESTS_PER_MINUTE=0 BASPA__SECURITY__PAGES_PER_MINUTE=0 \
    "$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$BASPA_PORT" 2>"$WORK/baspa.err" &
PIDS+=($!)
wait_200 "$BASPA_PORT" "$HOST_KK" "$B_PATH"
curl -s -H "Host: $HOST_KK" "http://127.0.0.1:$BASPA_PORT$B_PATH" >"$OUT/baspa-article.html"
grep -qF "$title_start" "$OUT/baspa-article.html" || { echo "error: Baspa's page does not show the post title" >&2; exit 1; }
echo "== wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${WRK_SECONDS}s: Baspa (cache off) $B_PATH" >&2
B_RES=$(wrk_once baspa-uncached "$BASPA_PORT" "$HOST_KK" "$B_PATH")
echo "   baspa: $B_RES (req/s p50 p99 non-2xx)" >&2

read -r w_rps w_p50 w_p99 w_non <<<"$WP_RES"
read -r b_rps b_p50 b_p99 b_non <<<"$B_RES"
printf '{"bench":"wordpress","date":"%s","cpus":%s,"loadavg_1m_start":%s,"loadavg_1m_end":%s,"wordpress":"%s","php_fpm_children":%s,"wrk":{"threads":%s,"connections":%s,"seconds":%s},"post_id":%s,"wordpress_bytes":%s,"baspa_bytes":%s,"wordpress_result":{"req_per_s":%s,"p50_ms":%s,"p99_ms":%s,"non_2xx":%s},"baspa_uncached":{"req_per_s":%s,"p50_ms":%s,"p99_ms":%s,"non_2xx":%s},"ratio_req_per_s_baspa_over_wordpress":%s}\n' \
    "$date_start" "$(nproc)" "$load_start" "$(load1)" "$(dpkg-query -W -f '${Version}' wordpress 2>/dev/null || echo unknown)" "$FPM_CHILDREN" \
    "$WRK_THREADS" "$WRK_CONNECTIONS" "$WRK_SECONDS" "$POST_ID" "$(wc -c <"$OUT/wp-article.html")" "$(wc -c <"$OUT/baspa-article.html")" \
    "$w_rps" "$w_p50" "$w_p99" "$w_non" "$b_rps" "$b_p50" "$b_p99" "$b_non" "$(ratio "$b_rps" "$w_rps")" | tee "$OUT/wordpress.json"
