#!/usr/bin/env bash
# show-report.sh RUNBOOK: print the newest report a runbook wrote, in the
# directory the runbooks write to by default: $ACKOPS_REPORT_DIR when set (a
# relative path is relative to the project root, where ansible-playbook runs),
# else reports/ (RUNBOOK*.md preferred, then .txt, then .json). See
# roles/report/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
runbook=$1
dir=${ACKOPS_REPORT_DIR:-reports}
shopt -s nullglob
for ext in md txt json; do
    reports=("$dir/$runbook"*."$ext")
    if [ ${#reports[@]} -gt 0 ]; then
        newest=$(ls -t "${reports[@]}" | sed -n 1p)
        echo "== $newest"
        cat "$newest"
        exit 0
    fi
done
echo "No report from $runbook under $dir/; see the play recap above." >&2
