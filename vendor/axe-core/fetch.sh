#!/usr/bin/env bash
# Re-fetches the pinned axe-core browser build (used only by the browser accessibility test).
set -euo pipefail
version=4.14.1
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "axe-core@$version" >/dev/null && tar xzf "axe-core-$version.tgz")
cp "$tmp/package/axe.min.js" "$tmp/package/LICENSE" "$tmp/package/LICENSE-3RD-PARTY.txt" .
echo "axe-core $version" > VERSION
