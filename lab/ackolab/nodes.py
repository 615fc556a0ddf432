"""Node objects (kwok keeps them Ready), the ACK objects the lab seeds, readiness."""

from __future__ import annotations

import json

import yaml

from .state import LAB, REGION, STATE, ZONES, Lab, kubectl
from .util import wait_for


def kwok_node_names(opts: dict) -> list[str]:
    """API-only nodes for scale tests (`up --kwok-nodes N`): no host behind them."""
    return [f"{REGION}.i-kwok{i:05d}" for i in range(1, int(opts.get("kwok_nodes") or 0) + 1)]


def node_objects(lab: Lab) -> list[dict]:
    nodes = [node_object(lab, h.node_name, h.ip, h.name, h.zone, h.role) for h in lab.hosts]
    for i, name in enumerate(kwok_node_names(lab.opts), start=1):
        nodes.append(node_object(lab, name, None, name, ZONES[i % 3], "worker", kwok_only=True))
    return nodes


def node_object(lab: Lab, name, ip, hostname, zone, role, kwok_only=False) -> dict:
    labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": "amd64",
        "topology.kubernetes.io/region": REGION,
        "topology.kubernetes.io/zone": zone,
        # What the disk CSI plugin labels its nodes with (allowedTopologies may use it).
        "topology.diskplugin.csi.alibabacloud.com/zone": zone,
        "node.kubernetes.io/instance-type": "ecs.g7.xlarge",
        "ackops.io/lab": "kwok-only" if kwok_only else "host",
    }
    taints = []
    if role == "master":
        labels["node-role.kubernetes.io/control-plane"] = ""
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
        taints.append({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"})
        if lab.opts.get("legacy_master_taint"):
            labels["node-role.kubernetes.io/master"] = ""
            taints.append({"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"})
    addresses = [{"type": "Hostname", "address": hostname}]
    if ip:
        addresses.insert(0, {"type": "InternalIP", "address": ip})
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {"taints": taints, "providerID": f"{REGION}.{name.split('.', 1)[1]}"},
        "status": {
            "addresses": addresses,
            "capacity": {"cpu": "4", "memory": "16Gi", "pods": "128", "ephemeral-storage": "120Gi"},
            "allocatable": {
                "cpu": "3900m",
                "memory": "14Gi",
                "pods": "128",
                "ephemeral-storage": "110Gi",
            },
        },
    }


def create_nodes(lab: Lab) -> None:
    path = STATE / "nodes.yaml"
    path.write_text(yaml.safe_dump_all(node_objects(lab)))
    kubectl("apply", "--server-side", "--field-manager=ackops-lab", "-f", str(path))


def seed_ack_objects() -> None:
    kubectl("apply", "--server-side", "--field-manager=ackops-lab", "-f", str(LAB / "manifests"))


def wait_nodes_ready(lab: Lab, timeout: float = 120) -> None:
    expected = {h.node_name for h in lab.hosts}

    def ready() -> bool:
        out = kubectl("get", "nodes", "-o", "json", check=False)
        if out.returncode != 0:
            return False
        items = json.loads(out.stdout)["items"]
        # Ready, and the node lifecycle controller has lifted its not-ready taint.
        ok = {
            n["metadata"]["name"]
            for n in items
            if any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in n.get("status", {}).get("conditions", [])
            )
            and not any(
                t["key"].startswith("node.kubernetes.io/")
                for t in n.get("spec", {}).get("taints", [])
            )
        }
        return expected <= ok and len(ok) == len(items)

    wait_for(ready, timeout, "every node to be Ready")
