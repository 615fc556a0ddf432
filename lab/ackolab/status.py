"""`lab/lab status`: the published contract (`--json`) and the human report.

The JSON document is what other programs (tests, benchmarks, scripts) read
instead of the lab's private files; lab/README.md documents it. Keys are only
ever added within a schema version: a removal or a change of meaning bumps
SCHEMA_VERSION.
"""

from __future__ import annotations

import json

import yaml

from . import swarm
from .daemons import daemons, host_running
from .kubeadm import apiserver_readyz
from .nodes import kwok_node_names
from .state import (
    BINDIR,
    INGRESS_LB_IP,
    INVENTORY_DIR,
    KNOWN_HOSTS,
    KUBECONFIG,
    LAB_ADMIN_KUBECONFIG,
    SLB_IP,
    SSH_KEY,
    SSH_PORT,
    SSH_USER,
    Lab,
    kubectl,
    load_state,
    require_lab,
    versions,
)
from .util import port_open, run

SCHEMA_VERSION = 1


def contract() -> dict:
    """The status document: what is always there, and with `up` the running lab."""
    v = versions()
    doc: dict = {
        "schema_version": SCHEMA_VERSION,
        "up": False,
        "inventory": str(INVENTORY_DIR / "hosts.yml"),
        "kubeconfig": str(KUBECONFIG),
        "lab_kubeconfig": str(LAB_ADMIN_KUBECONFIG),
        "kubectl": str(BINDIR / "kubectl"),
        "kubeadm": str(BINDIR / "kubeadm"),
        "ssh": {"user": SSH_USER, "private_key": str(SSH_KEY), "known_hosts": str(KNOWN_HOSTS)},
        "slb": {"address": SLB_IP, "port": 6443, "endpoint": f"https://{SLB_IP}:6443"},
        "ingress_lb_ip": INGRESS_LB_IP,
        "versions": {
            "kubernetes": v["KUBERNETES_VERSION"],
            "etcd": v["ETCD_VERSION"],
            "kwok": v["KWOK_VERSION"],
            "gateway_api": v["GATEWAY_API_VERSION"],
        },
    }
    state = load_state()
    # A lab whose `up` did not finish is not up (`up` writes up_seconds last).
    if not state or "up_seconds" not in state:
        return doc
    lab = require_lab()
    kwok_only = kwok_node_names(lab.opts)
    healthy = kubectl("get", "--raw", "/readyz", "--request-timeout=5s", check=False)
    doc.update(
        up=True,
        size=lab.opts.get("size"),
        args=state.get("args", {}),
        up_seconds=state["up_seconds"],
        hosts=[
            {
                "name": h.name,
                "role": h.role,
                "address": h.ip,
                "node_name": h.node_name,
                "zone": h.zone,
                "ssh_user": SSH_USER,
                "ssh_port": SSH_PORT,
                "running": host_running(h),
                "paths": {
                    "etc_kubernetes": str(h.etc_kubernetes),
                    "var_lib_kubelet": str(h.kubelet_dir),
                },
            }
            for h in lab.hosts
        ],
        node_names=[h.node_name for h in lab.hosts] + kwok_only,
        kwok_node_names=kwok_only,
        crds=state.get("crds", []),
        daemons=daemons(),
        api={"endpoint": doc["slb"]["endpoint"], "healthy": healthy.returncode == 0},
        swarm=swarm.status(lab),
    )
    return doc


def report(lab: Lab) -> dict:
    """The human report: what the binaries say they are, per-host health, daemons."""
    state = load_state() or {}
    out: dict = {"size": lab.opts.get("size"), "up_seconds": state.get("up_seconds")}
    out["versions"] = {
        name: run([str(BINDIR / name), "--version"], check=False).stdout.strip()
        for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")
    }
    out["versions"]["kubeadm"] = run(
        [str(BINDIR / "kubeadm"), "version", "-o", "short"], check=False
    ).stdout.strip()
    out["versions"]["kwok"] = run([str(BINDIR / "kwok"), "--version"], check=False).stdout.strip()
    hosts = []
    for h in lab.hosts:
        entry = {"host": h.name, "role": h.role, "ip": h.ip, "node": h.node_name}
        entry["ssh"] = port_open(h.ip, SSH_PORT)
        pods = h.state / "static-pods.json"
        if pods.exists():
            entry["static_pods"] = {
                p["name"]: ("running" if p["pid"] else "down") + f" restarts={p['restarts']}"
                for p in json.loads(pods.read_text())
            }
        if h.role == "master":
            entry["apiserver_readyz"] = apiserver_readyz(h).stdout.strip() or "down"
        hosts.append(entry)
    out["hosts"] = hosts
    out["slb"] = {"address": f"{SLB_IP}:6443", "open": port_open(SLB_IP, 6443)}
    out["daemons"] = {d["name"]: "running" if d["alive"] else "dead" for d in daemons()}
    out["crds"] = state.get("crds", [])
    return out


def print_report(lab: Lab) -> None:
    print(yaml.safe_dump(report(lab), sort_keys=False))
    nodes = kubectl("get", "nodes", "-o", "wide", check=False)
    print(nodes.stdout or nodes.stderr)
