#!/usr/bin/env bash
# Build the lab's binaries from Go modules into a cache shared by every clone on
# this machine. A build is skipped when the stamped binaries of the pinned
# versions are already there, so a second run costs a few `--version` calls.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lab/versions.env
. "$here/versions.env"
cache=${ACKOPS_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ackops-lab}
bindir="$cache/bin"
mkdir -p "$bindir"
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local

log() { printf '[lab build] %s\n' "$*" >&2; }

# stamp_ok BIN EXPECTED: true when BIN exists and reports EXPECTED in its version.
stamp_ok() {
    local bin=$bindir/$1 want=$2
    [[ -x $bin ]] || return 1
    local got
    case $1 in
        kubectl) got=$("$bin" version --client -o json 2>/dev/null | grep -o '"gitVersion": *"[^"]*"' | sed -n 1p) ;;
        kubeadm) got=$("$bin" version -o short 2>/dev/null) ;;
        etcd) got=$("$bin" --version 2>/dev/null | sed -n 1p) ;;
        kwok) got=$("$bin" --version 2>/dev/null | sed -n 1p) ;;
        *) got=$("$bin" --version 2>/dev/null) ;;
    esac
    [[ $got == *"$want"* ]]
}

build_kubernetes() {
    local v=$KUBERNETES_VERSION cmds=(kube-apiserver kube-controller-manager kube-scheduler kubeadm kubectl)
    local missing=() c
    for c in "${cmds[@]}"; do stamp_ok "$c" "$v" || missing+=("$c"); done
    if ((${#missing[@]} == 0)); then log "kubernetes $v: cached"; return; fi
    log "kubernetes $v: building ${missing[*]} (cold build takes tens of minutes on 2 cores)"
    local minor=${v#v1.}; minor=${minor%%.*}
    local date; date=$(go mod download -json "k8s.io/kubernetes@$v" | sed -n 's/.*"Time": *"\([^"]*\)".*/\1/p' | sed -n 1p)
    # Fall back to the module's .info time; never the wall clock, so builds are reproducible.
    [[ -n $date ]] || date=$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$v.info")
    local x="" pkg
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        x+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
        x+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date -X $pkg.gitCommit=$KUBERNETES_GIT_COMMIT"
    done
    local pkgs=()
    for c in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
    (cd "$here/gomod/kubernetes" && go build -trimpath -ldflags "-s -w$x" -o "$bindir/" "${pkgs[@]}")
}

build_etcd() {
    if stamp_ok etcd "${ETCD_VERSION#v}"; then log "etcd $ETCD_VERSION: cached"; return; fi
    log "etcd $ETCD_VERSION: building"
    (cd "$here/gomod/etcd" && go build -trimpath -ldflags "-s -w" -o "$bindir/etcd" go.etcd.io/etcd/server/v3)
    (cd "$here/gomod/etcd" && go build -trimpath -ldflags "-s -w" -o "$bindir/etcdctl" go.etcd.io/etcd/etcdctl/v3)
}

build_kwok() {
    if stamp_ok kwok "${KWOK_VERSION#v}"; then log "kwok $KWOK_VERSION: cached"; return; fi
    log "kwok $KWOK_VERSION: building"
    (cd "$here/gomod/kwok" && go build -trimpath -ldflags "-s -w" -o "$bindir/kwok" sigs.k8s.io/kwok/cmd/kwok)
}

# The standard channel's CRDs from the Go module (no build: the YAML is in the
# module), into $cache/gateway-api-<version>/ for lab/ackolab/crds.py to apply.
build_gateway_api() {
    local v=$GATEWAY_API_VERSION dest="$cache/gateway-api-$GATEWAY_API_VERSION"
    if [[ -e $dest/.complete ]]; then log "gateway-api $v CRDs: cached"; return; fi
    log "gateway-api $v CRDs: fetching the module"
    local dir
    dir=$(go mod download -json "sigs.k8s.io/gateway-api@$v" | sed -n 's/.*"Dir": *"\([^"]*\)".*/\1/p')
    [[ -d $dir/config/crd/standard ]] || { log "no config/crd/standard in sigs.k8s.io/gateway-api@$v"; return 1; }
    rm -rf "$dest" && mkdir -p "$dest"
    local f
    for f in "$dir"/config/crd/standard/*.yaml; do
        # Only the CRDs: the channel also ships a ValidatingAdmissionPolicy.
        if grep -q '^kind: CustomResourceDefinition' "$f"; then install -m 0644 "$f" "$dest/"; fi
    done
    touch "$dest/.complete"
}

targets=("$@")
((${#targets[@]})) || targets=(etcd kwok kubernetes gateway_api)
for t in "${targets[@]}"; do "build_$t"; done
log "binaries in $bindir, CRDs in $cache"
