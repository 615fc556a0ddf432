"""The local lab: a real Kubernetes control plane and emulated ACK hosts.

Every inventory host is a network namespace on a private bridge with its own
hostname, its own /etc/kubernetes (through /etc/netns), its own
/var/lib/kubelet and /var/lib/etcd, and its own sshd. Masters are initialised
with `kubeadm init phase ...` and run their static pods under the host's init
(lab/hostinit.py). haproxy plays the SLB in front of the API servers, kwok keeps
the Node objects Ready and moves pods through their lifecycle, and
lab/cloud.py answers PVCs of the ACK storage classes and LoadBalancer Services.

Modules by concern: state (paths, shape, lab.json), util (processes, waits),
net (bridge, namespaces, host files), daemons (host inits, haproxy, kwok,
cloud), pki, kubeadm, nodes, crds (Gateway API), inventory, status (the
published `status --json` contract) and cli.
"""
