#!/usr/bin/env bash
# Lighthouse (npm `lighthouse`, Debian `chromium`) on the news demo's home, a section and an
# article, mobile preset (Lighthouse's default form factor and throttling), page cache on.
# Records performance, accessibility, best-practices and SEO scores and each page's transfer
# size (issue 7 acceptance). See bench/README.md; results go to docs/perf.md.
#
# Variables (all optional): BENCH_OUT (/tmp/baspa-bench-results), BASPA_PORT (18086),
# LIGHTHOUSE_DIR (/var/cache/baspa-ci/lighthouse: `npm install lighthouse@12` is run there once),
# BASPA_BIN (skip the build).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OUT=${BENCH_OUT:-/tmp/baspa-bench-results}
BASPA_PORT=${BASPA_PORT:-18086}
LH_DIR=${LIGHTHOUSE_DIR:-/var/cache/baspa-ci/lighthouse}
CHROME=$(command -v chromium || command -v chromium-browser || true)
[[ -n $CHROME ]] || { echo "error: chromium is not installed (apt-get install chromium)" >&2; exit 1; }
if [[ ! -x $LH_DIR/node_modules/.bin/lighthouse ]]; then
    mkdir -p "$LH_DIR"
    (cd "$LH_DIR" && { [[ -f package.json ]] || npm init -y >/dev/null; } && npm install --no-audit --no-fund lighthouse@12 >/dev/null)
fi
LH=$LH_DIR/node_modules/.bin/lighthouse

WORK=$(mktemp -d /tmp/baspa-lh.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$OUT"
bench_clean_env
bench_build
cd "$WORK"
DATA=$WORK/data
BASPA_LOG=error "$BIN" --data-dir "$DATA" demo --no-serve >/dev/null 2>"$WORK/demo.err" ||
    { echo "error: demo failed" >&2; tail "$WORK/demo.err" >&2; exit 1; }
# The demo's kk host is baq.localhost; Chromium resolves *.localhost to loopback.
BASPA_LOG=error "$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$BASPA_PORT" 2>"$WORK/baspa.err" &
PIDS+=($!)
BASE=http://baq.localhost:$BASPA_PORT
for _ in $(seq 1 100); do curl -sf -o /dev/null "$BASE/" && break; sleep 0.1; done
curl -sf -o "$WORK/sitemap.xml" "$BASE/sitemap-kk.xml" || { echo "error: no sitemap" >&2; exit 1; }
paths=$(grep -o '<loc>[^<]*</loc>' "$WORK/sitemap.xml" | sed -e 's#^<loc>[a-z]*://[^/]*##' -e 's#</loc>$##')
SECTION=$(grep -E '^/[^/]+/$' <<<"$paths" | head -n 1)
ARTICLE=$(grep -E '^/[^/]+/[^/]+$' <<<"$paths" | grep -v '^/tag/' | head -n 1)
echo "== lighthouse $("$LH" --version) on $BASE/, $SECTION, $ARTICLE (mobile)" >&2
results=()
for page in "home /" "section $SECTION" "article $ARTICLE"; do
    read -r name path <<<"$page"
    # Once to fill the page cache, then measured.
    curl -sf -o /dev/null "$BASE$path"
    "$LH" "$BASE$path" --quiet --output=json --output-path="$OUT/lighthouse-$name.json" \
        --chrome-path="$CHROME" --chrome-flags="--headless=new --no-sandbox --disable-gpu" \
        --only-categories=performance,accessibility,best-practices,seo >/dev/null 2>"$WORK/lh-$name.err" ||
        { echo "error: lighthouse failed on $path" >&2; tail "$WORK/lh-$name.err" >&2; exit 1; }
    results+=("$(python3 - "$OUT/lighthouse-$name.json" "$name" "$path" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
c = r["categories"]
score = lambda k: round(c[k]["score"] * 100)
items = r["audits"]["network-requests"]["details"]["items"]
transfer = sum(i.get("transferSize", 0) for i in items)
# What the issue's size goal counts: the page itself, its styles and scripts (not images).
code = sum(i.get("transferSize", 0) for i in items if i.get("resourceType") in ("Document", "Stylesheet", "Script"))
print(json.dumps({"page": sys.argv[2], "path": sys.argv[3], "performance": score("performance"),
    "accessibility": score("accessibility"), "best_practices": score("best-practices"), "seo": score("seo"),
    "transfer_bytes": transfer, "html_css_js_transfer_bytes": code, "requests": len(items),
    "lcp_ms": round(r["audits"]["largest-contentful-paint"]["numericValue"]),
    "cls": r["audits"]["cumulative-layout-shift"]["numericValue"]}))
EOF
)")
    echo "   ${results[-1]}" >&2
done
printf '{"bench":"lighthouse","date":"%s","lighthouse":"%s","chromium":"%s","preset":"mobile (default)","pages":[%s]}\n' \
    "$(date -u +%FT%TZ)" "$("$LH" --version)" "$("$CHROME" --version 2>/dev/null | tr -d '\n')" "$(IFS=,; echo "${results[*]}")" | tee "$OUT/lighthouse.json"
