#!/usr/bin/env bash
# show-report.sh RUNBOOK: print the newest report a runbook wrote under
# reports/ (reports/RUNBOOK*.md preferred, then .txt, then .json).
set -euo pipefail
cd "$(dirname "$0")/.."
runbook=$1
shopt -s nullglob
for ext in md txt json; do
    reports=(reports/"$runbook"*."$ext")
    if [ ${#reports[@]} -gt 0 ]; then
        newest=$(ls -t "${reports[@]}" | head -n 1)
        echo "== $newest"
        cat "$newest"
        exit 0
    fi
done
echo "No report from $runbook under reports/; see the play recap above." >&2
