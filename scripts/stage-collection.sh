#!/usr/bin/env bash
# Copy the committed collection tree to build/ansible_collections/ackops/runbooks
# with its symlinks resolved. ansible-galaxy skips symlinks that point outside
# the collection and ansible-test wants real files under an
# ansible_collections/<namespace>/<name>/ path, so both work on this copy.
# Prints the path of the copy.
set -euo pipefail
cd "$(dirname "$0")/.."

src=collections/ansible_collections/ackops/runbooks
dest=build/ansible_collections/ackops/runbooks

rm -rf "$dest"
mkdir -p "$dest"
# -L dereferences every symlink; bytecode and tool caches are not part of it.
cp -RL "$src/." "$dest/"
find "$dest" \( -name __pycache__ -o -name .pytest_cache -o -name .ruff_cache \) -prune \
    -exec rm -rf {} +
find "$dest" -name '*.py[co]' -delete
echo "$dest"
