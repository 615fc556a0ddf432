"""The control plane: kubeadm configuration and phases, stacked etcd, API readiness."""

from __future__ import annotations

import shutil

import yaml

from . import pki
from .daemons import in_host
from .state import (
    APISERVER_SHUTDOWN_DELAY,
    CLUSTER_NAME,
    POD_SUBNET,
    SERVICE_SUBNET,
    SLB_IP,
    Host,
    Lab,
)
from .util import log, wait_for

# What `kubeadm join --control-plane` copies from the first master.
SHARED_PKI = [
    "ca.crt", "ca.key", "sa.key", "sa.pub", "front-proxy-ca.crt", "front-proxy-ca.key",
    "etcd/ca.crt", "etcd/ca.key",
]  # fmt: skip


def kubeadm_config(lab: Lab, master: Host) -> str:
    validity = lab.opts.get("cert_validity") or "8760h"
    ca_validity = lab.opts.get("ca_validity") or "87600h"
    taints = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    if lab.opts.get("legacy_master_taint"):
        taints.append({"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"})
    init = {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "InitConfiguration",
        "localAPIEndpoint": {"advertiseAddress": master.ip, "bindPort": 6443},
        "nodeRegistration": {
            "name": master.node_name,
            "criSocket": "unix:///run/containerd/containerd.sock",
            "taints": taints,
        },
    }
    etcd_sans = [m.ip for m in lab.masters]
    cluster = {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "ClusterConfiguration",
        "clusterName": CLUSTER_NAME,
        "kubernetesVersion": lab.v["KUBERNETES_VERSION"],
        "controlPlaneEndpoint": f"{SLB_IP}:6443",
        "certificatesDir": "/etc/kubernetes/pki",
        "networking": {
            "podSubnet": POD_SUBNET,
            "serviceSubnet": SERVICE_SUBNET,
            "dnsDomain": "cluster.local",
        },
        "apiServer": {
            "certSANs": [SLB_IP, f"apiserver.{CLUSTER_NAME}.local"],
            # As a production cluster behind an SLB runs it: a stopping API server
            # fails /readyz but serves for this long, so the SLB (daemons.py:
            # health check every 1s, out after 2 failures) takes it out before
            # it stops accepting connections.
            "extraArgs": [{"name": "shutdown-delay-duration", "value": APISERVER_SHUTDOWN_DELAY}],
        },
        "controllerManager": {"extraArgs": [{"name": "node-cidr-mask-size", "value": "25"}]},
        "etcd": {
            "local": {
                "dataDir": "/var/lib/etcd",
                "serverCertSANs": etcd_sans,
                "peerCertSANs": etcd_sans,
            }
        },
        "certificateValidityPeriod": validity,
        "caCertificateValidityPeriod": ca_validity,
    }
    return yaml.safe_dump_all([init, cluster], sort_keys=False)


def kubeadm(master: Host, *args: str):
    return in_host(
        master, ["kubeadm", *args, "--config", "/etc/kubernetes/kubeadm-config.yaml", "-v=1"]
    )


def init_control_plane(lab: Lab) -> None:
    first = lab.masters[0]
    for master in lab.masters:
        (master.state / "runner.paused").touch()
    for master in lab.masters:
        (master.etc_kubernetes / "kubeadm-config.yaml").write_text(kubeadm_config(lab, master))
        if master is not first:
            for rel in SHARED_PKI:
                src, dst = first.etc_kubernetes / "pki" / rel, master.etc_kubernetes / "pki" / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
        log(f"{master.name}: kubeadm init phase certs/kubeconfig/etcd/control-plane")
        kubeadm(master, "init", "phase", "certs", "all")
        kubeadm(master, "init", "phase", "kubeconfig", "all")
        kubeadm(master, "init", "phase", "etcd", "local")
        kubeadm(master, "init", "phase", "control-plane", "all")
    if len(lab.masters) > 1:
        join_etcd_members(lab)
    for master in lab.masters:
        (master.state / "runner.paused").unlink()
    pki.setup_kubelet_credentials(lab)


def join_etcd_members(lab: Lab) -> None:
    """Bootstrap stacked etcd with every master a member from the start."""
    initial = ",".join(f"{m.node_name}=https://{m.ip}:2380" for m in lab.masters)
    for master in lab.masters:
        path = master.etc_kubernetes / "manifests" / "etcd.yaml"
        pod = yaml.safe_load(path.read_text())
        cmd = pod["spec"]["containers"][0]["command"]
        cmd[:] = [c for c in cmd if not c.startswith("--initial-cluster=")]
        cmd.append(f"--initial-cluster={initial}")
        path.write_text(yaml.safe_dump(pod, sort_keys=False))


def apiserver_readyz(master: Host):
    """/readyz of one master's own API server, asked from inside the master."""
    return in_host(
        master,
        [
            "kubectl",
            "--kubeconfig",
            "/etc/kubernetes/admin.conf",
            "--server",
            f"https://{master.ip}:6443",
            "get",
            "--raw",
            "/readyz",
        ],
        check=False,
    )


def wait_api(lab: Lab, timeout: float = 180) -> None:
    def ready() -> bool:
        return all(apiserver_readyz(m).returncode == 0 for m in lab.masters)

    wait_for(ready, timeout, "every API server to be ready", lambda: control_plane_logs(lab))


def control_plane_logs(lab: Lab) -> str:
    out = []
    for m in lab.masters:
        for name in ("etcd", "kube-apiserver"):
            path = m.state / "log" / f"{name}.log"
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-8:]
                out.append(f"--- {m.name} {name}.log\n" + "\n".join(tail))
    return "\n".join(out)


def bind_cluster_admins(lab: Lab) -> None:
    # kubeadm binds kubeadm:cluster-admins (admin.conf's group) through super-admin.conf.
    first = lab.masters[0]
    in_host(
        first,
        [
            "kubectl",
            "--kubeconfig",
            "/etc/kubernetes/super-admin.conf",
            "create",
            "clusterrolebinding",
            "kubeadm:cluster-admins",
            "--clusterrole=cluster-admin",
            "--group=kubeadm:cluster-admins",
        ],
        check=False,
    )
    kubeadm(first, "init", "phase", "upload-config", "kubeadm")
