#!/usr/bin/env bash
# Debian's chromium, for the headless checks of the HTML reports
# (tests/html_browser.py, used by tests/unit/test_report_html.py and
# tests/integration/test_runner.py). Installs only when it is missing, so a
# second run costs nothing. Needs root to install, as CI has; without root it
# says what to install and the HTML checks fail naming the same command.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
if [[ $(id -u) -ne 0 ]]; then
    echo "[setup] chromium is missing: as root, run apt-get install --no-install-recommends chromium" >&2
    exit 0
fi
echo "[setup] installing Debian's chromium (headless checks of the HTML reports)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
