#!/usr/bin/env bash
# Create .venv with Python 3.11 and install requirements-dev.txt into it, only
# when the requirements changed since the last install (a hash stamp in .venv),
# so every make target can call this cheaply. The `ansible` package brings the
# collections listed in requirements.yml, which is how a machine without Galaxy
# gets them.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
stamp=$venv/.requirements.sha256
python=${PYTHON:-python3.11}

if ! command -v "$python" >/dev/null 2>&1; then
    echo "setup: $python not found. ack-runbooks needs Python 3.11 on the controller" >&2
    echo "       (ansible-core 2.19; install python3.11 and python3.11-venv, or set PYTHON=)." >&2
    exit 1
fi

if [ -x "$venv/bin/python" ] && ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "setup: $venv is not a Python 3.11 virtualenv; recreating it" >&2
    rm -rf "$venv"
fi
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
    rm -f "$stamp"
fi

wanted=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    "$venv/bin/python" -m pip install --disable-pip-version-check -q -r requirements-dev.txt
    echo "$wanted" > "$stamp"
    echo "setup: installed requirements-dev.txt into $venv"
fi
