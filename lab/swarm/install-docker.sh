#!/usr/bin/env bash
# Debian packages the lab's Swarm host needs (`lab/lab up --swarm` runs this;
# a lab without --swarm never does): docker.io for dockerd, containerd, runc
# and the docker CLI, and busybox-static, the binary the Swarm's only image is
# built from (no image registry is reachable). Installs only what is missing.
# The packages' services are not started on the machine: the lab starts its
# own dockerd inside the Swarm host's namespaces.
set -euo pipefail
need=()
[[ -x /usr/sbin/dockerd && -x /usr/bin/docker && -x /usr/bin/containerd ]] || need+=(docker.io)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || need+=(busybox-static)
((${#need[@]})) || exit 0
echo "[lab swarm] installing: ${need[*]}" >&2
policy=/usr/sbin/policy-rc.d
made_policy=
if [[ ! -e $policy ]]; then
    # Keep apt from starting docker.service/containerd on the machine itself.
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    made_policy=1
fi
cleanup() { [[ -z $made_policy ]] || rm -f "$policy"; }
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
