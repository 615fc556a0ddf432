#!/usr/bin/env bash
# require.sh PATH DESCRIPTION: stop with a message naming what is missing when
# a make target depends on a part of the project that has not landed yet.
set -euo pipefail
if [ ! -e "$1" ]; then
    echo "error: $2 is missing: $1 does not exist yet in this checkout." >&2
    exit 2
fi
