#!/usr/bin/env bash
# Re-fetches the pinned mammoth.js browser build (BSD-2-Clause): .docx → HTML in the editor.
set -euo pipefail
version=1.13.0
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "mammoth@$version" >/dev/null && tar xzf "mammoth-$version.tgz")
cp "$tmp/package/mammoth.browser.min.js" "$tmp/package/LICENSE" .
echo "mammoth $version" > VERSION
