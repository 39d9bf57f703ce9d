#!/usr/bin/env bash
# Backup and restore (issue 10, BK-1): a SQLite site of ARTICLES articles (default 10000, each in
# kk and ru) and IMAGES media files (default 1000, 100 KB each of incompressible bytes, like
# JPEGs) is backed up to a local folder (portable export + VACUUM INTO dump + media objects,
# zstd + age), verified, backed up again (incremental: no media re-uploaded), a change-log link
# taken with nothing changed (the per-minute cost of point in time), and restored
# into a fresh SQLite database and data folder. Prints one JSON line; results: docs/perf.md.
#
# Variables (all optional): ARTICLES, IMAGES, BASPA_BIN, BENCH_OUT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ARTICLES=${ARTICLES:-10000}
IMAGES=${IMAGES:-1000}
OUT=${BENCH_OUT:-/tmp/baspa-bench-results}/backup
bench_build
bench_clean_env
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/baspa-bench-backup.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }

"$BIN" backup keygen --out backup.key >keygen.txt
RECIPIENT=$(sed -n 's/^recipient for backup.recipients: //p' keygen.txt)
cat >baspa.toml <<EOF
[storage]
data_dir = "data"
[backup]
targets = ["backups"]
recipients = ["$RECIPIENT"]
identity_file = "backup.key"
EOF

echo "== seeding $ARTICLES articles" >&2
"$BIN" bench seed --articles "$ARTICLES" >&2
mkdir -p data/media
for i in $(seq 1 "$IMAGES"); do
    head -c 102400 /dev/urandom >"data/media/bench-$i.jpg"
done
DATA_MB=$(du -sm data | cut -f1)

echo "== backup create" >&2
t0=$EPOCHREALTIME
"$BIN" backup create --quiet >create.txt
t1=$EPOCHREALTIME
ARCHIVE_BYTES=$(find backups/archives -name '*.tar.zst.age' -printf '%s\n' | head -1)
OBJECTS_MB=$(du -sm backups/objects | cut -f1)

echo "== backup verify" >&2
"$BIN" backup verify >verify.txt
t2=$EPOCHREALTIME

echo "== second backup (incremental media)" >&2
"$BIN" backup create --quiet >create2.txt
t3=$EPOCHREALTIME

echo "== change log (point in time) with nothing changed: the cost of each scheduled minute" >&2
"$BIN" backup delta >delta.txt
t3b=$EPOCHREALTIME

echo "== restore into a new database and data folder" >&2
"$BIN" backup restore --to-database-url "sqlite://$WORK/restored/baspa.sqlite" --to-data-dir "$WORK/restored" >restore.txt
t4=$EPOCHREALTIME

printf '{"bench":"backup","date":"%s","articles":%s,"images":%s,"data_dir_mb":%s,"create_ms":%s,"archive_bytes":%s,"media_objects_mb":%s,"verify_ms":%s,"second_create_ms":%s,"delta_unchanged_ms":%s,"restore_ms":%s,"loadavg_1m":%s,"binary":"%s"}\n' \
    "$(date -u +%FT%TZ)" "$ARTICLES" "$IMAGES" "$DATA_MB" "$(ms "$t0" "$t1")" "$ARCHIVE_BYTES" "$OBJECTS_MB" \
    "$(ms "$t1" "$t2")" "$(ms "$t2" "$t3")" "$(ms "$t3" "$t3b")" "$(ms "$t3b" "$t4")" "$(load1)" "$BIN" | tee "$OUT/result.json"
