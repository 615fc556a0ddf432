"""Where the lab keeps things, its shape (names, addresses, zones) and lab.json.

lab.json (under STATE) is private to the lab: the hosts, the options the lab
was brought up with and what `down` must undo. Other programs read the lab
through `lab/lab status --json` (ackolab.status) instead.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .util import LabError, run

LAB = Path(__file__).resolve().parent.parent
ROOT = LAB.parent
STATE = Path(os.environ.get("ACKOPS_LAB_STATE", "/var/lib/ackops-lab"))
CACHE = Path(
    os.environ.get("ACKOPS_LAB_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ackops-lab"
)
BINDIR = CACHE / "bin"
INVENTORY_DIR = ROOT / "inventories" / "lab"
STATE_FILE = STATE / "lab.json"
SSH_DIR = STATE / "ssh"
SSH_KEY = SSH_DIR / "id_ed25519"
KNOWN_HOSTS = SSH_DIR / "known_hosts"
# The lab's own long-lived credential (kwok, the cloud stand-in); survives expire-certs.
LAB_ADMIN_KUBECONFIG = STATE / "lab-admin.kubeconfig"
# The cluster's admin.conf as the inventory points at it.
KUBECONFIG = INVENTORY_DIR / "kubeconfig"

NS_PREFIX = "ackl-"
BRIDGE = "acklbr0"
VETH_PREFIX = "acklv"
NET = ipaddress.ip_network("10.250.0.0/24")
SLB_IP = "10.250.0.1"
# The SLB (daemons.py) checks /readyz every 1s and takes a master out after 2
# failures: within 3s. The API servers keep serving a little longer than that
# once told to stop, and renew-certs is told to allow that long.
LB_DRAIN_SECONDS = 4
APISERVER_SHUTDOWN_DELAY = "5s"
INGRESS_LB_IP = "10.250.0.250"
MASTER_BASE, WORKER_BASE = 10, 100
REGION = "cn-hangzhou"
ZONES = ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"]
POD_SUBNET = "172.20.0.0/16"
SERVICE_SUBNET = "172.21.0.0/20"
CLUSTER_NAME = "ack-lab"
SIZES = {"small": (1, 2), "ha": (3, 3)}
SSH_USER = "root"
SSH_PORT = 22


def versions() -> dict[str, str]:
    out = {}
    for line in (LAB / "versions.env").read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip()
    return out


@dataclass
class Host:
    name: str  # inventory hostname
    role: str  # master | worker
    index: int
    ip: str
    node_name: str  # Kubernetes node name, ACK style
    zone: str

    @property
    def ns(self) -> str:
        return NS_PREFIX + self.name

    @property
    def veth(self) -> str:
        return f"{VETH_PREFIX}{int(self.ip.rsplit('.', 1)[1])}"

    @property
    def state(self) -> Path:
        return STATE / "hosts" / self.name

    @property
    def etc(self) -> Path:
        """The host's /etc overlay (ip netns exec binds its entries over /etc)."""
        return Path("/etc/netns") / self.ns

    @property
    def etc_kubernetes(self) -> Path:
        return self.etc / "kubernetes"

    @property
    def kubelet_dir(self) -> Path:
        return self.state / "var-lib-kubelet"


def node_name_for(host: str) -> str:
    # ACK names nodes <region>.<instance id>; instance ids are i-bp1 + 17 chars.
    return f"{REGION}.i-bp1{hashlib.sha1(host.encode()).hexdigest()[:17]}"


def topology(masters: int, workers: int) -> list[Host]:
    hosts = []
    for role, count, base in (("master", masters, MASTER_BASE), ("worker", workers, WORKER_BASE)):
        for i in range(1, count + 1):
            name = f"lab-{role}-{i}"
            ip = str(NET[base + i])
            hosts.append(Host(name, role, i, ip, node_name_for(name), ZONES[(i - 1) % 3]))
    return hosts


@dataclass
class Lab:
    """The lab being built or managed: its hosts and the options it was brought up with."""

    hosts: list[Host]
    opts: dict
    v: dict = field(default_factory=versions)
    # Mount targets lab up had to create on the machine; lab down removes them.
    made_dirs: list[str] = field(default_factory=list)
    # Docker Swarm managers (`up --swarm`, ackolab.swarm): hosts without Kubernetes.
    swarm_hosts: list[Host] = field(default_factory=list)

    @property
    def all_hosts(self) -> list[Host]:
        """Every namespaced host: the cluster's, then the Swarm's."""
        return self.hosts + self.swarm_hosts

    @property
    def masters(self) -> list[Host]:
        return [h for h in self.hosts if h.role == "master"]

    @property
    def workers(self) -> list[Host]:
        return [h for h in self.hosts if h.role == "worker"]

    def host(self, name: str) -> Host:
        """A host by inventory name, node name or address."""
        host = next((h for h in self.hosts if name in (h.name, h.node_name, h.ip)), None)
        if host is None:
            raise LabError(f"no lab host {name!r}; hosts: {', '.join(h.name for h in self.hosts)}")
        return host


def load_state() -> dict | None:
    return json.loads(STATE_FILE.read_text()) if STATE_FILE.exists() else None


def save_state(state: dict) -> None:
    STATE_FILE.write_text(json.dumps(state, indent=1))


def new_state(lab: Lab, args: dict) -> dict:
    return {
        "hosts": [asdict(h) for h in lab.hosts],
        "opts": lab.opts,
        "made_dirs": lab.made_dirs,
        "swarm_hosts": [asdict(h) for h in lab.swarm_hosts],
        # The flags this lab was brought up with, so callers can tell whether
        # the running lab is the one they want (tests reuse it when it is).
        "args": args,
    }


def require_lab() -> Lab:
    state = load_state()
    if not state:
        raise LabError("the lab is not up: run `lab/lab up`")
    return Lab(
        [Host(**h) for h in state["hosts"]],
        state["opts"],
        made_dirs=state.get("made_dirs", []),
        swarm_hosts=[Host(**h) for h in state.get("swarm_hosts", [])],
    )


def kubectl(*args: str, kubeconfig: Path | None = None, check: bool = True, **kw):
    """kubectl on the machine, with the lab's own credential unless told otherwise."""
    kc = kubeconfig or LAB_ADMIN_KUBECONFIG
    return run([str(BINDIR / "kubectl"), "--kubeconfig", str(kc), *args], check=check, **kw)
