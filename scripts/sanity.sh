#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection with its symlinks resolved
# (scripts/stage-collection.sh), run locally with Python 3.11: no container
# engine is available. Every sanity test runs; ansible-test installs each
# test's pinned requirements from the package index into its own virtualenv
# under ~/.ansible/test/venv (cached after the first run).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
venv_bin=$repo/.venv/bin

# ansible-test fetches get-pip.py from a CI host that is not reachable here;
# give it the stand-in it looks for in its cache (see the script's docstring).
pip_version=$("$venv_bin/python" -c '
import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="3.11"))["pip"])')
get_pip_cache=~/.ansible/test/cache/get_pip_${pip_version//./_}.py
mkdir -p "$(dirname "$get_pip_cache")"
cp scripts/ansible-test-get-pip.py "$get_pip_cache"

staged=$(scripts/stage-collection.sh)

# The shellcheck sanity test needs the shellcheck binary once the collection
# ships a shell script (e.g. in a role's files/); it is a Debian package.
if [ -n "$(find "$staged" -name '*.sh' -print -quit)" ] && ! command -v shellcheck >/dev/null; then
    echo "sanity: installing shellcheck for the shellcheck sanity test" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null; }
fi

cd "$staged"
# build/ is ignored by the project's git, and ansible-test lists a collection's
# files with git when it sits in a work tree: without a repository of its own
# the copy would look empty and every test would be skipped.
git init -q .
git add -A

exec "$venv_bin/ansible-test" sanity --python 3.11 --color no "$@"
