#!/bin/bash
# Independent check of a renewal, with openssl and curl only (no project code):
#   check-certs.sh THRESHOLD_DAYS NODE_NAME
# For every kubeadm leaf certificate present on the host (pki/ files and the
# client certificates embedded in kubeconfigs) print "ok|due <name> <notAfter>";
# then prove the kubelet credential: subject, chain to the cluster CA, and the
# API server's own answer to "who am I". Exits non-zero on any failure.
set -euo pipefail
threshold_days=$1
node_name=$2
seconds=$((threshold_days * 86400))
k8s=/etc/kubernetes
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
checked=0
failed=0

check() {  # check NAME PEMFILE
    local end
    end=$(openssl x509 -in "$2" -noout -enddate | cut -d= -f2)
    if openssl x509 -in "$2" -noout -checkend "$seconds" >/dev/null; then
        echo "ok $1 $end"
    else
        echo "due $1 $end"
        failed=$((failed + 1))
    fi
    checked=$((checked + 1))
}

for name in apiserver apiserver-kubelet-client apiserver-etcd-client front-proxy-client \
    etcd/server etcd/peer etcd/healthcheck-client; do
    [ -f "$k8s/pki/$name.crt" ] && check "$name" "$k8s/pki/$name.crt"
done
for conf in admin super-admin controller-manager scheduler; do
    file=$k8s/$conf.conf
    [ -f "$file" ] || continue
    data=$(awk '$1 == "client-certificate-data:" {print $2; exit}' "$file")
    [ -n "$data" ] || { echo "no client-certificate-data in $file"; exit 1; }
    echo "$data" | base64 -d >"$work/$conf.pem"
    check "$conf.conf" "$work/$conf.pem"
done

# The kubelet's credential: the file its kubeconfig names, or the embedded data.
kubelet=$k8s/kubelet.conf
server=$(awk '$1 == "server:" {print $2; exit}' "$kubelet")
cert=$(awk '$1 == "client-certificate:" {print $2; exit}' "$kubelet")
key=$(awk '$1 == "client-key:" {print $2; exit}' "$kubelet")
if [ -z "$cert" ]; then
    awk '$1 == "client-certificate-data:" {print $2; exit}' "$kubelet" | base64 -d >"$work/kubelet.crt"
    awk '$1 == "client-key-data:" {print $2; exit}' "$kubelet" | base64 -d >"$work/kubelet.key"
    cert=$work/kubelet.crt key=$work/kubelet.key
fi
check kubelet.conf "$cert"
subject=$(openssl x509 -in "$cert" -noout -subject -nameopt RFC2253)
case "$subject" in
    *"CN=system:node:$node_name"*"O=system:nodes"* | *"O=system:nodes"*"CN=system:node:$node_name"*) ;;
    *) echo "kubelet credential subject is '$subject', not system:node:$node_name in system:nodes"; exit 1 ;;
esac
openssl verify -CAfile "$k8s/pki/ca.crt" "$cert" >/dev/null
answer=$(curl -sS --fail --max-time 30 --cacert "$k8s/pki/ca.crt" --cert "$cert" --key "$key" \
    -H 'Content-Type: application/json' -X POST \
    -d '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}' \
    "$server/apis/authentication.k8s.io/v1/selfsubjectreviews")
case "$answer" in
    *"\"username\":\"system:node:$node_name\""* | *"\"username\": \"system:node:$node_name\""*) echo "whoami system:node:$node_name" ;;
    *) echo "the API server says the kubelet credential is: $answer"; exit 1 ;;
esac

echo "checked $checked failed $failed"
[ "$checked" -gt 0 ] && [ "$failed" -eq 0 ]
