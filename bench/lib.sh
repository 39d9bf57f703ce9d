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

# Prints the median of the integer arguments (the lower middle one for an even count).
median() {
    printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

# Microseconds to milliseconds with one decimal.
us_to_ms() {
    awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'
}

# a / b with two decimals.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "null"; else printf "%.2f", a / b }'
}

# Exits with an error when something already listens on 127.0.0.1:$1.
require_free_port() {
    if { exec {_fd}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null; then
        exec {_fd}>&-
        echo "error: port 127.0.0.1:$1 is already in use (set another with the script's *_PORT variable)" >&2
        exit 1
    fi
}
