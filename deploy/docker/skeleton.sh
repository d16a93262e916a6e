#!/bin/sh
# Writes the workspace's dependency skeleton to OUT: the root manifest and lock file, every
# member's Cargo.toml, and a one-line stub for every target cargo knows (libraries,
# binaries, build scripts, tests, benches, examples). Building the skeleton compiles the
# dependencies only, so the Dockerfile caches them in a layer that changes when a manifest
# or the lock file does, not when a source file does.
#
# The targets come from `cargo metadata --no-deps` on the real tree (SRC), so a member
# added to the root Cargo.toml is picked up with nothing to edit here.
#
# usage: skeleton.sh SRC OUT
set -eu
src=$(cd "$1" && pwd)
out=$2
mkdir -p "$out"
out=$(cd "$out" && pwd)

cp "$src/Cargo.toml" "$src/Cargo.lock" "$out/"
if [ -f "$src/rust-toolchain.toml" ]; then
  cp "$src/rust-toolchain.toml" "$out/"
fi

metadata=$(cd "$src" && cargo metadata --no-deps --format-version 1 --locked --offline)

# Every workspace member's manifest: "manifest_path":"/abs/member/Cargo.toml".
echo "$metadata" | grep -o '"manifest_path":"[^"]*"' | cut -d'"' -f4 | while read -r manifest; do
  rel=${manifest#"$src"/}
  mkdir -p "$out/$(dirname "$rel")"
  cp "$manifest" "$out/$rel"
done

# Every target's source file gets `fn main() {}`: a binary, a build script and a
# harness-less bench need it, and a library only warns that it is unused.
echo "$metadata" | grep -o '"src_path":"[^"]*"' | cut -d'"' -f4 | while read -r path; do
  rel=${path#"$src"/}
  mkdir -p "$out/$(dirname "$rel")"
  echo 'fn main() {}' > "$out/$rel"
done
