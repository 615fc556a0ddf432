#!/usr/bin/env bash
# Static checks that need no cluster:
#   - ansible-doc renders every plugin (module, filter, lookup, ...) and every
#     role argument spec of ackops.runbooks, with no warning;
#   - the example inventory parses and has the groups the runbooks use;
#   - ansible-playbook --syntax-check passes on every playbook in playbooks/
#     and every root shim (*.yml at the top, except requirements.yml).
# New plugins, roles and playbooks are picked up by their location: there is
# no list to update.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
failures=0
checked=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# ansible-doc exits 0 even when a plugin is missing or its docs are broken; it
# only warns. Treat any warning, error or empty output as a failure.
render_doc() {
    local type=$1 name=$2 out err
    checked=$((checked + 1))
    err=$(mktemp)
    if ! out=$("$bin/ansible-doc" -t "$type" "$name" 2>"$err"); then
        fail "ansible-doc -t $type $name exited non-zero: $(cat "$err")"
    elif [ -s "$err" ] || [ -z "$out" ]; then
        fail "ansible-doc -t $type $name: $(cat "$err")"
    else
        echo "ok: ansible-doc -t $type $name"
    fi
    rm -f "$err"
}

# plugins/<dir> -> ansible-doc plugin type. module_utils, doc_fragments,
# plugin_utils and action plugins (documented by their module) have no page.
declare -A doc_type=(
    [modules]=module [filter]=filter [test]=test [lookup]=lookup
    [inventory]=inventory [callback]=callback [connection]=connection
    [become]=become [cache]=cache [strategy]=strategy [vars]=vars
)
shopt -s nullglob
for dir in "${!doc_type[@]}"; do
    for file in plugins/"$dir"/*.py; do
        name=$(basename "$file" .py)
        [ "$name" = __init__ ] && continue
        # One filter/test per file, named like the file (see CONVENTIONS).
        render_doc "${doc_type[$dir]}" "ackops.runbooks.$name"
    done
done
for spec in roles/*/meta/argument_specs.yml; do
    role=$(basename "$(dirname "$(dirname "$spec")")")
    render_doc role "ackops.runbooks.$role"
done

# The example inventory must parse (unparsed inventories are fatal in
# ansible.cfg) and carry the groups every runbook targets.
example=inventories/example/hosts.yml
checked=$((checked + 1))
if graph=$("$bin/ansible-inventory" -i "$example" --graph 2>&1); then
    for group in masters workers ingress kube_control_plane kube_node; do
        grep -q "@$group:" <<<"$graph" || fail "$example has no group $group"
    done
    echo "ok: ansible-inventory -i $example"
else
    fail "ansible-inventory -i $example: $graph"
fi

playbooks=(playbooks/*.yml playbooks/*.yaml)
for shim in *.yml *.yaml; do
    # Not playbooks: Galaxy requirements, the execution environment and navigator settings.
    case "$shim" in requirements.yml | execution-environment.yml | ansible-navigator.yml) continue ;; esac
    playbooks+=("$shim")
done
for playbook in "${playbooks[@]}"; do
    checked=$((checked + 1))
    # The example inventory stands in for the lab's, which exists only while
    # the lab is up.
    if out=$("$bin/ansible-playbook" -i "$example" --syntax-check "$playbook" 2>&1); then
        echo "ok: ansible-playbook --syntax-check $playbook"
    else
        fail "ansible-playbook --syntax-check $playbook:"$'\n'"$out"
    fi
done

echo "static checks: $checked run, $failures failed"
[ "$failures" -eq 0 ]
