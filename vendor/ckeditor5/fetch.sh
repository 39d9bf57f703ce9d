#!/usr/bin/env bash
# Re-fetches the pinned CKEditor 5 browser build (GPL-2.0-or-later; used with licenseKey 'GPL')
# and its Russian translation. Kazakh UI strings are ours: ../../crates/baspa-site/admin-assets/ckeditor-kk.js
set -euo pipefail
version=48.5.2
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "ckeditor5@$version" >/dev/null && tar xzf "ckeditor5-$version.tgz")
cp "$tmp/package/dist/browser/ckeditor5.umd.js" "$tmp/package/dist/browser/ckeditor5.css" \
   "$tmp/package/dist/translations/ru.umd.js" "$tmp/package/LICENSE.md" "$tmp/package/COPYING.GPL" .
echo "ckeditor5 $version" > VERSION
