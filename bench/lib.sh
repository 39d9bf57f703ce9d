# Shared helpers for the scripts in bench/ (sourced, not run). See bench/README.md.
# shellcheck shell=bash

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/bench-target}
export LC_ALL=C # EPOCHREALTIME must use '.' as the decimal point

# The binary under test: BASPA_BIN if given, otherwise a release build (a no-op when fresh).
bench_build() {
    if [[ -n ${BASPA_BIN:-} ]]; then
        BIN=$BASPA_BIN
    else
        echo "== cargo build --release -p baspa (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)" >&2
        (cd "$BENCH_ROOT" && cargo build --release -p baspa --quiet)
        BIN=$CARGO_TARGET_DIR/release/baspa
    fi
    [[ -x $BIN ]] || { echo "error: no baspa binary at $BIN" >&2; exit 1; }
}

# Keep the caller's environment from redirecting baspa to another database or config.
bench_clean_env() {
    unset BASPA_DATABASE_URL
    local v
    for v in $(compgen -e); do
        [[ $v == BASPA__* ]] && unset "$v"
    done
    return 0
}

# Prints the median of the numeric arguments (the lower middle one for an even count).
median() {
    printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

# Microseconds to milliseconds with one decimal.
us_to_ms() {
    awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'
}

# a / b with three significant digits (0.00479, 3.26, 209).
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "null"; else { r = a / b; if (r >= 100) printf "%.0f", r; else printf "%.3g", r } }'
}

# Exits with an error when something already listens on 127.0.0.1:$1.
require_free_port() {
    if { exec {_fd}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null; then
        exec {_fd}>&-
        echo "error: port 127.0.0.1:$1 is already in use (set another with the script's *_PORT variable)" >&2
        exit 1
    fi
}

# The 1-minute load average. The machine has 2 cores: above ~1 something else competes with the
# benchmark (a build, a test run), and the numbers are worth less; the scripts record it.
load1() {
    cut -d' ' -f1 /proc/loadavg
}
