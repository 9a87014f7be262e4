#!/bin/sh
# Lesson 6, a solution: build the vault if needed, then take the code out of the layer
# that wrote it, from `docker save`, without creating or running a container.
set -eu
cd "$(dirname "$0")"
docker image inspect lesson-6-vault >/dev/null 2>&1 || docker build -q -t lesson-6-vault vault/ >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
docker save lesson-6-vault | tar -x -C "$work"
# Layers are tars named in manifest.json: blobs/sha256/<digest> (Engine 25 and later) or
# <id>/layer.tar (older engines). The code is in the one that wrote it.
for layer in $(sed 's/.*"Layers":\[\([^]]*\)\].*/\1/' "$work/manifest.json" | tr ',"' '\n\n'); do
  if tar -tf "$work/$layer" | grep -qx 'vault/recovery-code.txt'; then
    tar -xOf "$work/$layer" vault/recovery-code.txt > recovery-code.txt
  fi
done
echo "Recovered: $(wc -c < recovery-code.txt) bytes."
