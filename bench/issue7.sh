#!/usr/bin/env bash
# Every issue-7 measurement in ONE run, one after the other on the same machine and binary, and a
# summary against the acceptance goals (docs/perf.md):
#   (a, c) cached pages vs nginx at 64 and 256 connections   bench/pages.sh CACHE=on
#   (b)    uncached Baspa vs WordPress 6.1                     bench/wordpress.sh
#   (d)    memory with ARTICLES articles                       bench/memory.sh
#   (e)    WebP variants of 4000x3000 JPEGs                    baspa bench webp
#          Lighthouse mobile, home/section/article             bench/lighthouse.sh
# Variables (all optional): BENCH_OUT (/tmp/baspa-bench-results), ARTICLES (100000; 0 skips the
# memory run), BASPA_BIN (skip the build), ROUNDS (5: pages.sh's rounds per page; more rounds, a
# steadier median on a machine whose speed drifts); the scripts' own variables pass through.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OUT=${BENCH_OUT:-/tmp/baspa-bench-results}
ARTICLES=${ARTICLES:-100000}
mkdir -p "$OUT"
bench_build
export BASPA_BIN=$BIN BENCH_OUT=$OUT ROUNDS=${ROUNDS:-5}
here=$(dirname "${BASH_SOURCE[0]}")
started=$(date -u +%FT%TZ)
load_start=$(load1)

for c in 64 256; do
    echo "== pages, cache on, $c connections" >&2
    CACHE=on WRK_CONNECTIONS=$c bash "$here/pages.sh" >/dev/null
done
echo "== WordPress" >&2
bash "$here/wordpress.sh" >/dev/null
echo "== WebP" >&2
"$BIN" bench webp --images 8 >"$OUT/webp.json"
echo "== Lighthouse" >&2
bash "$here/lighthouse.sh" >/dev/null
if ((ARTICLES > 0)); then
    echo "== memory, $ARTICLES articles" >&2
    ARTICLES=$ARTICLES bash "$here/memory.sh" >/dev/null
fi

# The summary: each goal with the measured value and whether it holds.
python3 - "$OUT" "$started" "$load_start" "$(load1)" "$ARTICLES" <<'PY'
import json, sys
out, started, l0, l1, articles = sys.argv[1:]
read = lambda name: json.load(open(f"{out}/{name}"))
c64, c256 = read("pages-cache-on-c64.json"), read("pages-cache-on-c256.json")
wp, webp, lh = read("wordpress.json"), read("webp.json"), read("lighthouse.json")
art64, art256 = c64["pages"]["article_kk"], c256["pages"]["article_kk"]
pages = {p["page"]: p for p in lh["pages"]}
goals = [
    ("cached article >= 0.8x nginx req/s (64 conns)", art64["ratio_req_per_s_baspa_over_nginx"], 0.8, ">="),
    ("cached article >= 0.8x nginx req/s (256 conns)", art256["ratio_req_per_s_baspa_over_nginx"], 0.8, ">="),
    ("uncached article >= 20x WordPress req/s", wp["ratio_req_per_s_baspa_over_wordpress"], 20, ">="),
    ("cached article p99 < 5 ms at 64 conns", art64["baspa"]["p99_ms"], 5, "<"),
    ("WebP variants of a 4000x3000 JPEG < 2 s", webp["one_image_s_median"], 2, "<"),
]
for name, p in pages.items():
    goals.append((f"Lighthouse {name} performance >= 95", p["performance"], 95, ">="))
    for cat in ("accessibility", "best_practices", "seo"):
        goals.append((f"Lighthouse {name} {cat} = 100", p[cat], 100, ">="))
if "article" in pages:
    goals.append(("article HTML+CSS+JS transfer <= 50 KB", pages["article"]["html_css_js_transfer_bytes"] / 1000, 50, "<="))
ok = lambda v, goal, op: {">=": v >= goal, "<": v < goal, "<=": v <= goal}[op]
summary = {
    "bench": "issue7", "started": started, "loadavg_1m_start": float(l0), "loadavg_1m_end": float(l1),
    "goals": [{"goal": g, "measured": v, "met": ok(v, goal, op)} for g, v, goal, op in goals],
}
if int(articles) > 0:
    summary["memory"] = read("memory.json")
json.dump(summary, open(f"{out}/issue7.json", "w"), indent=1)
for g in summary["goals"]:
    print(f"{'met    ' if g['met'] else 'NOT MET'}  {g['goal']}: {g['measured']}")
PY
