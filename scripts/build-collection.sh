#!/usr/bin/env bash
# Build the ackops.runbooks collection artifact into build/ from a copy of the
# collection tree with its symlinks resolved (see stage-collection.sh), then
# prove it installs by installing it into a throw-away collections path.
set -euo pipefail
cd "$(dirname "$0")/.."
venv_bin=${VENV_BIN:-.venv/bin}

staged=$(scripts/stage-collection.sh)
"$venv_bin/ansible-galaxy" collection build --force --output-path build "$staged"

version=$(sed -n 's/^version: *//p' "$staged/galaxy.yml")
artifact="build/ackops-runbooks-${version}.tar.gz"
check_dir=$(mktemp -d)
trap 'rm -rf "$check_dir"' EXIT
# --no-deps: the dependencies are pinned in requirements.yml and come from the
# `ansible` package here; Galaxy is not needed to prove the artifact installs.
ANSIBLE_COLLECTIONS_PATH="$check_dir" "$venv_bin/ansible-galaxy" collection install --force --no-deps -p "$check_dir" "$artifact"
test -f "$check_dir/ansible_collections/ackops/runbooks/MANIFEST.json"
echo "collection artifact: $artifact (installs cleanly)"
