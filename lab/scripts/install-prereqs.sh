#!/usr/bin/env bash
# Debian packages the lab needs on the machine that runs it: sshd for every
# emulated host, haproxy as the SLB, iproute2/util-linux for the namespaces,
# and the hosts' own Python with cryptography (what Ansible modules run with on
# a real node). Installs only what is missing, so a second run costs nothing.
set -euo pipefail
need=()
[[ -x /usr/sbin/sshd ]] || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
command -v ssh-keygen >/dev/null || need+=(openssh-client)
[[ -x /usr/sbin/haproxy ]] || need+=(haproxy)
command -v ip >/dev/null || need+=(iproute2)
command -v nsenter >/dev/null || need+=(util-linux)
/usr/bin/python3 -c 'import cryptography, yaml' 2>/dev/null || need+=(python3-cryptography python3-yaml)
if ((${#need[@]})); then
    echo "[lab prereqs] installing: ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
