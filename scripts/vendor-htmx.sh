#!/usr/bin/env bash
# Vendor htmx (the dashboard's only JavaScript) from the npm registry: no front-end build step.
# Usage: scripts/vendor-htmx.sh [VERSION]   (writes src/b2b_gateway/api/static/htmx.min.js)
set -euo pipefail
version=${1:-2.0.11}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "htmx.org@$version" >/dev/null && tar xzf htmx.org-*.tgz)
cp "$tmp/package/dist/htmx.min.js" src/b2b_gateway/api/static/htmx.min.js
echo "vendored htmx $version" >&2
