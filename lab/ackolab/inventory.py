"""inventories/lab/: the Ansible inventory, its group_vars and the admin kubeconfig."""

from __future__ import annotations

import shutil

import yaml

from .pki import write_private
from .state import (
    INVENTORY_DIR,
    KNOWN_HOSTS,
    KUBECONFIG,
    LB_DRAIN_SECONDS,
    REGION,
    SLB_IP,
    SSH_KEY,
    SSH_USER,
    Host,
    Lab,
)
from .swarm import docker_host as swarm_docker_host

HOSTS_FILE = INVENTORY_DIR / "hosts.yml"
# Files of inventories/lab/ kept in git: lab down leaves them.
COMMITTED = ("README.md", "empty.yml")
HEADER = "# Written by `lab/lab up`; removed by `lab/lab down`. Do not edit.\n"


def write_inventory(lab: Lab) -> None:
    group_vars = INVENTORY_DIR / "group_vars"
    group_vars.mkdir(parents=True, exist_ok=True)

    def hostvars(h: Host) -> dict:
        return {"ansible_host": h.ip, "k8s_node_name": h.node_name, "lab_zone": h.zone}

    inventory = {
        "all": {
            "children": {
                "masters": {"hosts": {h.name: hostvars(h) for h in lab.masters}},
                "workers": {"hosts": {h.name: hostvars(h) for h in lab.workers}},
                "ingress": {"hosts": {}},
                "kube_control_plane": {"children": {"masters": {}}},
                "kube_node": {"children": {"workers": {}}},
            }
        }
    }
    if lab.swarm_hosts:  # `up --swarm`: Docker Swarm managers, no Kubernetes
        inventory["all"]["children"]["swarm_managers"] = {
            "hosts": {
                h.name: {
                    "ansible_host": h.ip,
                    "lab_zone": h.zone,
                    "swarm_docker_host": swarm_docker_host(h),
                }
                for h in lab.swarm_hosts
            }
        }
    HOSTS_FILE.write_text(HEADER + yaml.safe_dump(inventory, sort_keys=False))
    all_vars = {
        "ansible_user": SSH_USER,
        "ansible_ssh_private_key_file": str(SSH_KEY),
        "ansible_ssh_common_args": (
            f"-o UserKnownHostsFile={KNOWN_HOSTS} -o StrictHostKeyChecking=yes"
        ),
        "ansible_python_interpreter": "/usr/bin/python3",
        "k8s_kubeconfig": str(KUBECONFIG),
        "k8s_api_endpoint": f"https://{SLB_IP}:6443",
        # The lab's SLB takes a stopped master out within 3s (kubeadm.py,
        # daemons.py); renew-certs waits for it no longer than that.
        "renew_certs_lb_drain_seconds": LB_DRAIN_SECONDS,
        "lab_size": lab.opts.get("size"),
        # The region and the zones of the lab's nodes (their topology.kubernetes.io labels).
        "lab_region": REGION,
        "lab_zones": sorted({h.zone for h in lab.hosts}),
    }
    (group_vars / "all.yml").write_text(HEADER + yaml.safe_dump(all_vars, sort_keys=False))
    refresh_kubeconfig(lab)


def refresh_kubeconfig(lab: Lab) -> None:
    """The first master's admin.conf, as the inventory's kubeconfig."""
    write_private(KUBECONFIG, (lab.masters[0].etc_kubernetes / "admin.conf").read_bytes())


def remove_inventory() -> None:
    for entry in INVENTORY_DIR.iterdir() if INVENTORY_DIR.exists() else []:
        if entry.name not in COMMITTED:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
