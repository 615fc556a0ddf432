"""CIDR planning for ACK-style clusters (guide section 1.4), IPv4, IPv6 and dual stack.

A plan is plain data::

    vpc_cidr: 192.168.0.0/16
    vswitches: [{name: vsw-a, cidr: 192.168.0.0/24}, ...]      # or bare CIDR strings
    clusters: [{name: prod, pod_cidr: 172.20.0.0/16, service_cidr: 172.21.0.0/20,
                pods_per_node: 128, node_prefix: 24 (optional), nodes: 300 (optional),
                ip_stack: ipv4 | dual | ipv6, network_mode: flannel | terway,
                zones: [...] (Terway, see terway.py)}]
    peer_routes: [{name: to-vpc-b, cidr: 10.1.0.0/16}, ...]    # routes to peered VPCs
    idc_routes: [{name: idc, cidr: 10.8.0.0/13}, ...]          # routes to the on-premises IDC
    reserved: [{name: lab, cidr: 10.99.0.0/16}, ...]           # ranges nothing may use

A dual-stack pod or service CIDR is a list of two CIDRs or the Kubernetes
comma form ``10.0.0.0/16,fd00:10::/56``, one of each family.

Overlaps are found by sorting every block once and sweeping it with a stack of
the blocks that are still open, one sweep per address family. Two CIDR blocks
either nest or are disjoint, so every block still on the stack contains the
new one, and the stack is never deeper than the prefix lengths plus exact
repeats: the sweep is O(n log n + overlaps) where comparing all pairs is O(n^2).
"""

from __future__ import annotations

import ipaddress
import math
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import (
    InputError,
    field_path,
    positive_int,
)

PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
# Unique local addresses: where IPv6 pod and service CIDRs are proposed.
PRIVATE_RANGES_V6 = ("fd00::/8",)

# Ranges no pod, service or vSwitch CIDR should use, with the severity of an
# overlap and why. A plan's own `reserved` list adds to them (severity error).
DEFAULT_RESERVED = (
    ("Docker bridge", "172.17.0.0/16", "warning", "hosts running Docker route it to docker0"),
    ("IPv4 link-local", "169.254.0.0/16", "error", "link-local, used by the metadata service"),
    (
        "shared address space",
        "100.64.0.0/10",
        "error",
        "ACK and Alibaba Cloud services (DNS, metadata, SLB health checks) use it",
    ),
    ("IPv6 link-local", "fe80::/10", "error", "link-local, never routed"),
)

# kube-apiserver refuses a --service-cluster-ip-range with more than 20 host
# bits: "for 32-bit addresses, the mask must be >= 12" and ">= 108" for 128-bit
# ones (validateMaxCIDRRange, maxCIDRBits = 20, in
# kubernetes/cmd/kube-apiserver/app/options/validation.go; kubeadm checks the
# same in cmd/kubeadm/app/apis/kubeadm/validation/validation.go,
# ValidateServiceSubnetSize).
SERVICE_MAX_HOST_BITS = 20
# The smallest service CIDR that works, in host bits (IPv4 and IPv6 alike):
# - kube-apiserver refuses a range of fewer than 8 addresses ("the service cluster IP range
#   must be at least 8 IP addresses", ServiceIPRange in kubernetes/kubernetes
#   pkg/controlplane/services.go), and gives the first one to the kubernetes Service;
# - kubeadm puts the cluster DNS Service on the 10th address (GetDNSIP in
#   cmd/kubeadm/app/constants/constants.go, GetIndexedIP(serviceSubnet, 10)), so the range
#   needs at least 11 addresses: 16 as a CIDR, /28 for IPv4, /124 for IPv6.
SERVICE_MIN_HOST_BITS = 4
# kube-controller-manager refuses a per-node mask more than 16 bits longer than
# the cluster CIDR's (clusterSubnetMaxDiff = 16 in
# kubernetes/pkg/controller/nodeipam/ipam/cidrset/cidr_set.go; kubeadm checks it
# too, ValidatePodSubnetNodeMask): with the default IPv6 /64 node mask an IPv6
# pod CIDR must be /48 or longer.
NODE_MASK_MAX_DIFF = 16
# kube-controller-manager's default --node-cidr-mask-size-ipv6.
DEFAULT_NODE_PREFIX_V6 = 64
# At most this many proposals of each kind in one plan.
MAX_PROPOSALS = 32

IP_STACKS = ("ipv4", "dual", "ipv6")
NETWORK_MODES = ("flannel", "terway")

# Kinds of block, in the order their pair names are written (pod_overlaps_vpc).
ROLE_ORDER = ("pod", "service", "vswitch", "vpc", "peer_route", "idc_route", "reserved")
ROLE_LABEL = {
    "pod": "pod CIDR",
    "service": "service CIDR",
    "vswitch": "vSwitch",
    "vpc": "VPC",
    "peer_route": "route to peered VPC",
    "idc_route": "route to IDC",
    "reserved": "reserved range",
}

# Which overlapping pairs are mistakes, how bad, and why. Pairs not listed
# (service/service across clusters, pod/vswitch which the VPC check covers,
# route/route) may overlap. Reserved ranges carry their own severity and reason.
RULES = {
    ("vswitch", "vswitch"): ("error", "vSwitches in one VPC must not overlap"),
    ("pod", "vpc"): ("error", "pod addresses would shadow hosts in the VPC"),
    ("pod", "pod"): ("error", "two clusters in one VPC would route the same pod addresses"),
    ("pod", "service"): ("error", "service IPs would capture pod traffic"),
    ("pod", "peer_route"): ("error", "pods could not reach the peered VPC"),
    ("pod", "idc_route"): ("error", "pods could not reach the IDC"),
    ("service", "vpc"): ("error", "service IPs would capture traffic to hosts in the VPC"),
    ("service", "vswitch"): ("error", "service IPs would capture traffic to hosts in the VPC"),
    ("service", "peer_route"): ("warning", "pods could not reach those peered-VPC addresses"),
    ("service", "idc_route"): ("warning", "pods could not reach those IDC addresses"),
    ("vpc", "peer_route"): ("error", "a peered VPC must not overlap this VPC"),
    ("vpc", "idc_route"): ("error", "the IDC range must not overlap this VPC"),
    ("pod", "reserved"): ("reserved", ""),
    ("service", "reserved"): ("reserved", ""),
    ("vswitch", "reserved"): ("reserved", ""),
}


@dataclass(frozen=True, slots=True)
class Block:
    role: str
    name: str
    field: str
    cidr: str
    first: int
    last: int
    cluster: str | None = None
    version: int = 4
    severity: str | None = None  # reserved ranges: the severity of using them
    why: str | None = None  # reserved ranges: why

    def party(self) -> dict:
        return {"role": self.role, "name": self.name, "field": self.field, "cidr": self.cidr}

    def label(self) -> str:
        return f"{self.name} {self.cidr}"


def parse_cidr(
    field: str, value: Any, versions: tuple[int, ...] = (4, 6)
) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """Parse a CIDR strictly; the message says what is wrong and, if it can, the fix."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(field, value, "must be a CIDR string such as 10.0.0.0/16")
    text = value.strip()
    if "/" not in text:
        raise InputError(field, value, "has no prefix length: write it as a CIDR, e.g. /16")
    if "%" in text:
        # Python 3.9+ parses an IPv6 scope (zone) id and keeps it in the network's text; a
        # zone names an interface of one host, never a range Kubernetes or a VPC can use.
        raise InputError(
            field, value, "holds a zone id (%...): a CIDR has no interface part; remove it"
        )
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise InputError(field, value, f"is not a valid IPv4 or IPv6 CIDR ({exc})") from None
        raise InputError(
            field, value, f"has host bits set: did you mean {loose.with_prefixlen}?"
        ) from None
    if network.version not in versions:
        family = "IPv4" if versions == (4,) else "IPv6"
        raise InputError(field, value, f"is IPv{network.version}: this field takes {family} only")
    return network


def block(
    role: str,
    name: str,
    field: str,
    value: Any,
    cluster: str | None = None,
    versions: tuple[int, ...] = (4, 6),
    severity: str | None = None,
    why: str | None = None,
) -> Block:
    network = value if isinstance(value, ipaddress._BaseNetwork) else None
    if network is None:
        network = parse_cidr(field, value, versions)
    return Block(
        role=role,
        name=name,
        field=field,
        cidr=network.with_prefixlen,
        first=int(network.network_address),
        last=int(network.broadcast_address),
        cluster=cluster,
        version=network.version,
        severity=severity,
        why=why,
    )


def _entries(plan: dict, key: str, field: str) -> list:
    value = plan.get(key)
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise InputError(f"{field}.{key}", value, "must be a list")
    return list(value)


def _named_blocks(plan: dict, key: str, role: str, field: str) -> list[Block]:
    """vSwitches, routes, reserved ranges: each a CIDR string or a mapping with cidr and name."""
    blocks = []
    for index, entry in enumerate(_entries(plan, key, field)):
        where = f"{field}.{key}[{index}]"
        extra = {"severity": "error", "why": "the plan reserves it"} if role == "reserved" else {}
        if isinstance(entry, dict):
            if "cidr" not in entry:
                raise InputError(where, entry, "has no 'cidr' key")
            name = str(entry.get("name", index))
            blocks.append(
                block(role, f"{ROLE_LABEL[role]} '{name}'", f"{where}.cidr", entry["cidr"], **extra)
            )
        else:
            blocks.append(block(role, f"{ROLE_LABEL[role]} #{index}", where, entry, **extra))
    return blocks


def _mapping(field: str, value: Any) -> dict:
    if not isinstance(value, dict):
        raise InputError(field, value, "must be a mapping")
    return value


def _choice(field: str, value: Any, choices: tuple[str, ...], default: str) -> str:
    if value is None:
        return default
    if value not in choices:
        raise InputError(field, value, f"must be one of {', '.join(choices)}")
    return value


def cidr_list(field: str, value: Any) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """One CIDR, a comma-separated pair or a list: at most one per address family."""
    if isinstance(value, str) and "," in value:
        items = [(f"{field}", part) for part in value.split(",")]
    elif isinstance(value, (list, tuple)):
        if not value:
            raise InputError(field, value, "must hold at least one CIDR")
        items = [(f"{field}[{i}]", part) for i, part in enumerate(value)]
    else:
        items = [(field, value)]
    networks = [parse_cidr(where, part) for where, part in items]
    if len(networks) > 2 or len({n.version for n in networks}) != len(networks):
        raise InputError(field, value, "must hold one CIDR per address family (IPv4, IPv6)")
    return networks


def _families(stack: str) -> set[int]:
    return {"ipv4": {4}, "dual": {4, 6}, "ipv6": {6}}[stack]


def service_prefix_problem(version: int, prefix: int) -> str | None:
    """Why a service CIDR /``prefix`` of IPv``version`` cannot work, None when it can."""
    bits = 32 if version == 4 else 128
    if bits - prefix < SERVICE_MIN_HOST_BITS:
        return (
            f"is too small for a service CIDR: {2 ** (bits - prefix)} addresses; kube-apiserver "
            "needs at least 8 and kubeadm puts cluster DNS on the 10th address, so at least "
            f"{2**SERVICE_MIN_HOST_BITS}: the mask must be <= /{bits - SERVICE_MIN_HOST_BITS} "
            f"for IPv{version}"
        )
    return None


def check_service_size(field: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> None:
    """Refuse what kube-apiserver or kubeadm refuse: more than 20 host bits, fewer than 4."""
    bits = network.max_prefixlen
    small = service_prefix_problem(network.version, network.prefixlen)
    if small:
        raise InputError(field, network.with_prefixlen, small)
    if bits - network.prefixlen > SERVICE_MAX_HOST_BITS:
        raise InputError(
            field,
            network.with_prefixlen,
            f"is too large for a service CIDR: {network.num_addresses} addresses; kube-apiserver "
            f"accepts at most 2^{SERVICE_MAX_HOST_BITS} ({2**SERVICE_MAX_HOST_BITS}), so the "
            f"mask must be >= /{bits - SERVICE_MAX_HOST_BITS} for IPv{network.version}",
        )


def cluster_settings(cluster: Any, where: str, index: int) -> dict:
    """A cluster's parsed settings: name, stack, mode, pod and service networks."""
    cluster = _mapping(where, cluster)
    name = str(cluster.get("name", index))
    stack = _choice(f"{where}.ip_stack", cluster.get("ip_stack"), IP_STACKS, "ipv4")
    mode = _choice(f"{where}.network_mode", cluster.get("network_mode"), NETWORK_MODES, "flannel")
    families = _families(stack)
    settings = {"name": name, "ip_stack": stack, "network_mode": mode, "pod": [], "service": []}
    for role in ("pod", "service"):
        key = f"{role}_cidr"
        value = cluster.get(key)
        if value is None:
            if role == "pod" and mode == "terway":
                continue  # Terway pods take addresses from pod vSwitches
            raise InputError(f"{where}.{key}", None, f"is required for a {mode} cluster")
        networks = cidr_list(f"{where}.{key}", value)
        given = {n.version for n in networks}
        if role == "pod" and mode == "terway":
            raise InputError(
                f"{where}.{key}",
                value,
                "is not used in Terway mode (pods take addresses from the zones' pod vSwitches): "
                "remove it or set network_mode: flannel",
            )
        if given != families:
            wanted = " and ".join(f"IPv{v}" for v in sorted(families))
            raise InputError(
                f"{where}.{key}", value, f"must hold {wanted} for ip_stack {stack} (one each)"
            )
        if role == "service":
            for network in networks:
                check_service_size(f"{where}.{key}", network)
        settings[role] = networks
    if mode == "terway":
        for key in ("node_prefix", "node_prefix_v6"):
            if cluster.get(key) is not None:
                raise InputError(
                    f"{where}.{key}",
                    cluster[key],
                    "is a Flannel setting: Terway pods take single addresses from pod "
                    "vSwitches, there is no per-node block",
                )
    if mode == "flannel" and 6 in families:
        raise InputError(
            f"{where}.ip_stack",
            stack,
            "needs network_mode: terway on ACK (Flannel is IPv4 only)",
        )
    return settings


def plan_blocks(plan: Any, field: str = "network") -> tuple[Block | None, list[Block]]:
    """Parse a plan into (the VPC block, every block including the VPC and reserved ranges)."""
    plan = _mapping(field, plan)
    blocks: list[Block] = []
    vpc = None
    if plan.get("vpc_cidr") is not None:
        vpc = block("vpc", "VPC", f"{field}.vpc_cidr", plan["vpc_cidr"], versions=(4,))
        blocks.append(vpc)
    blocks += _named_blocks(plan, "vswitches", "vswitch", field)
    seen_names = set()
    for index, cluster in enumerate(_entries(plan, "clusters", field)):
        where = f"{field}.clusters[{index}]"
        settings = cluster_settings(cluster, where, index)
        name = settings["name"]
        if name in seen_names:
            raise InputError(f"{where}.name", name, "is used by another cluster")
        seen_names.add(name)
        for role in ("pod", "service"):
            for network in settings[role]:
                blocks.append(
                    block(
                        role,
                        f"cluster '{name}' {ROLE_LABEL[role]}",
                        f"{where}.{role}_cidr",
                        network,
                        cluster=name,
                    )
                )
    blocks += _named_blocks(plan, "peer_routes", "peer_route", field)
    blocks += _named_blocks(plan, "idc_routes", "idc_route", field)
    blocks += reserved_blocks(plan, field)
    return vpc, blocks


def reserved_blocks(plan: dict, field: str = "network") -> list[Block]:
    """The default reserved ranges and the plan's own ``reserved`` list."""
    defaults = [
        block("reserved", f"{ROLE_LABEL['reserved']} '{name}'", None, cidr, severity=sev, why=why)
        for name, cidr, sev, why in DEFAULT_RESERVED
    ]
    return defaults + _named_blocks(plan, "reserved", "reserved", field)


def conflict_between(a: Block, b: Block) -> dict | None:
    """The conflict two overlapping blocks make, or None when they may overlap."""
    if a.version != b.version:
        return None
    if ROLE_ORDER.index(a.role) > ROLE_ORDER.index(b.role):
        a, b = b, a
    rule = RULES.get((a.role, b.role))
    if rule is None or (a.cluster is not None and a.cluster == b.cluster and a.role == b.role):
        return None
    severity, why = rule
    if b.role == "reserved":
        severity, why = b.severity or "error", f"{b.cidr} is reserved: {b.why}"
    return {
        "type": f"{a.role}_overlaps_{b.role}",
        "severity": severity,
        "first": a.party(),
        "second": b.party(),
        "message": f"{a.label()} overlaps {b.label()}: {why}",
    }


def overlapping_conflicts(blocks: Iterable[Block]) -> list[dict]:
    """Every rule-breaking overlap among ``blocks``, by sort and sweep per address family."""
    ordered = sorted(blocks, key=lambda blk: (blk.version, blk.first, -blk.last))
    open_blocks: list[Block] = []
    conflicts = []
    for current in ordered:
        while open_blocks and (
            open_blocks[-1].version != current.version or open_blocks[-1].last < current.first
        ):
            open_blocks.pop()
        # Blocks nest or are disjoint: whatever is still open contains `current`.
        for container in open_blocks:
            conflict = conflict_between(container, current)
            if conflict is not None:
                conflicts.append(conflict)
        open_blocks.append(current)
    return conflicts


def _outside(inner: Block, outer_first: int, outer_last: int) -> bool:
    return inner.first < outer_first or inner.last > outer_last


def containment_conflicts(vpc: Block | None, blocks: list[Block]) -> list[dict]:
    """The VPC inside a private range; every IPv4 vSwitch inside the VPC."""
    conflicts = []
    if vpc is not None:
        ranges = [ipaddress.ip_network(r) for r in PRIVATE_RANGES]
        if all(_outside(vpc, int(r.network_address), int(r.broadcast_address)) for r in ranges):
            conflicts.append(
                {
                    "type": "vpc_outside_private_ranges",
                    "severity": "error",
                    "first": vpc.party(),
                    "second": {
                        "role": "private_ranges",
                        "name": "private ranges",
                        "field": None,
                        "cidr": ", ".join(PRIVATE_RANGES),
                    },
                    "message": f"{vpc.field}: VPC {vpc.cidr} is not inside "
                    f"{', '.join(PRIVATE_RANGES)} (or a subnet of one)",
                }
            )
        for vswitch in (b for b in blocks if b.role == "vswitch" and b.version == 4):
            if _outside(vswitch, vpc.first, vpc.last):
                conflicts.append(
                    {
                        "type": "vswitch_outside_vpc",
                        "severity": "error",
                        "first": vswitch.party(),
                        "second": vpc.party(),
                        "message": f"{vswitch.label()} is not inside VPC {vpc.cidr}: "
                        "a vSwitch must be a subnet of its VPC",
                    }
                )
    return conflicts


def max_nodes(
    pod_cidr: Any, pods_per_node: Any, node_prefix: Any = None, field_root: str = ""
) -> dict:
    """How many nodes a pod CIDR holds, by the guide's count and by per-node blocks.

    The guide divides the addresses by the pods per node (/16 at 128 -> 512).
    Per-node blocks, as kube-controller-manager allocates them and kubespray
    checks them, are CIDRs that hold at most 2^(bits - prefix) - 2 pods (network
    and broadcast addresses excluded): 128 pods need a /24, so a /16 holds 256
    such blocks. ``node_prefix`` pins the block size (--node-cidr-mask-size; for
    IPv6 the default is kube-controller-manager's /64).

    Refuses, with the numbers, what cannot work: a per-node block larger than
    the pod CIDR, a pod CIDR that holds no node, a pinned mask more than 16
    bits longer than the pod CIDR's.
    """
    field = field_path(field_root, "pod_cidr")
    ppn_field = field_path(field_root, "pods_per_node")
    prefix_field = field_path(field_root, "node_prefix")
    network = pod_cidr if isinstance(pod_cidr, ipaddress._BaseNetwork) else None
    if network is None:
        network = parse_cidr(field, pod_cidr)
    bits = network.max_prefixlen
    pods = positive_int(ppn_field, pods_per_node)
    addresses = network.num_addresses
    if node_prefix is None:
        if network.version == 6:
            block_prefix = DEFAULT_NODE_PREFIX_V6
            rule = f"per-node block /{block_prefix} (kube-controller-manager's IPv6 default)"
            if block_prefix - network.prefixlen > NODE_MASK_MAX_DIFF:
                raise InputError(
                    field,
                    network.with_prefixlen,
                    f"is too large for the default /{block_prefix} IPv6 node mask: "
                    f"kube-controller-manager allows at most {NODE_MASK_MAX_DIFF} bits between "
                    f"them, so use a /{block_prefix - NODE_MASK_MAX_DIFF} or longer, or pin "
                    "node_prefix_v6",
                )
        else:
            block_prefix = bits - math.ceil(math.log2(pods + 2))
            rule = f"smallest per-node block holding {pods} pods + 2 reserved addresses"
            if block_prefix - network.prefixlen > NODE_MASK_MAX_DIFF:
                # Smaller blocks than kube-controller-manager can allocate: the
                # longest mask it accepts is what would be configured.
                block_prefix = network.prefixlen + NODE_MASK_MAX_DIFF
                rule = (
                    f"per-node block /{block_prefix}: the longest mask kube-controller-manager "
                    f"accepts for a /{network.prefixlen} ({NODE_MASK_MAX_DIFF} bits more)"
                )
        pinned = False
    else:
        block_prefix = positive_int(prefix_field, node_prefix)
        if block_prefix > bits:
            raise InputError(prefix_field, node_prefix, f"must be at most /{bits}")
        rule = f"per-node block /{block_prefix} as configured"
        pinned = True
    block_pods = max(2 ** (bits - block_prefix) - 2, 0)
    if block_prefix < network.prefixlen:
        size = 2 ** (bits - block_prefix)
        block_name = f"a /{block_prefix} block" if block_prefix >= 0 else "a block"
        cause = (
            f"{pods} pods per node need {block_name} of {size} addresses per node"
            if not pinned
            else f"the pinned /{block_prefix} per-node block has {size} addresses"
        )
        raise InputError(
            field,
            network.with_prefixlen,
            f"holds no node: {cause}, more than the pod CIDR /{network.prefixlen} "
            f"({addresses} addresses); use a larger pod CIDR or fewer pods per node",
        )
    if pinned and block_prefix - network.prefixlen > NODE_MASK_MAX_DIFF:
        raise InputError(
            prefix_field,
            node_prefix,
            f"is {block_prefix - network.prefixlen} bits longer than the pod CIDR "
            f"/{network.prefixlen}; kube-controller-manager allows at most {NODE_MASK_MAX_DIFF} "
            f"(node_prefix <= {network.prefixlen + NODE_MASK_MAX_DIFF})",
        )
    block_nodes = 2 ** (block_prefix - network.prefixlen)
    guide_nodes = addresses // pods if network.version == 4 else block_nodes
    if guide_nodes == 0:
        raise InputError(
            field,
            network.with_prefixlen,
            f"holds no node: {addresses} addresses at {pods} pods per node",
        )
    return {
        "pod_cidr": network.with_prefixlen,
        "addresses": addresses,
        "pods_per_node": pods,
        "max_nodes": guide_nodes,
        "node_block": {
            "prefix": block_prefix,
            "max_pods": block_pods,
            "max_nodes": block_nodes,
            "fits_pods_per_node": pods <= block_pods,
            "rule": rule,
        },
    }


def capacity_conflicts(plan: dict, field: str = "network") -> tuple[list[dict], list[dict]]:
    """Max nodes per cluster pod CIDR, and conflicts where the plan wants more than fits."""
    capacities, conflicts = [], []
    for index, cluster in enumerate(_entries(plan, "clusters", field)):
        where = f"{field}.clusters[{index}]"
        settings = cluster_settings(cluster, where, index)
        name = settings["name"]
        if cluster.get("pods_per_node") is None and "pods_per_node" in cluster:
            raise InputError(f"{where}.pods_per_node", None, "must be a whole number above zero")
        for network in settings["pod"]:
            v6 = network.version == 6
            prefix_key = "node_prefix_v6" if v6 else "node_prefix"
            capacity = max_nodes(
                network,
                cluster.get("pods_per_node", 128),
                cluster.get(prefix_key),
                field_root=where,
            )
            capacity["cluster"] = name
            capacities.append(capacity)
            conflicts += _capacity_verdicts(cluster, where, name, capacity, prefix_key)
    return capacities, conflicts


def _capacity_verdicts(cluster, where, name, capacity, prefix_key) -> list[dict]:
    conflicts = []
    blocks = capacity["node_block"]
    party = {
        "role": "pod",
        "name": f"cluster '{name}' pod CIDR",
        "field": f"{where}.pod_cidr",
        "cidr": capacity["pod_cidr"],
    }
    if not blocks["fits_pods_per_node"]:
        conflicts.append(
            {
                "type": "pods_per_node_exceed_node_block",
                "severity": "error",
                "first": party,
                "second": {
                    "role": "pods_per_node",
                    "name": "pods per node",
                    "field": f"{where}.pods_per_node",
                    "cidr": None,
                },
                "message": f"cluster '{name}': {capacity['pods_per_node']} pods per node do not "
                f"fit a /{blocks['prefix']} node block (at most {blocks['max_pods']})",
            }
        )
    if cluster.get("nodes") is None:
        return conflicts
    nodes = positive_int(f"{where}.nodes", cluster["nodes"])
    # Without a pinned node block the guide's count is the limit and the
    # block rule a warning; a pinned block size is what will be allocated.
    pinned = cluster.get(prefix_key) is not None
    limit = blocks["max_nodes"] if pinned else capacity["max_nodes"]
    if nodes > min(limit, blocks["max_nodes"]):
        severity = "error" if nodes > limit else "warning"
        conflicts.append(
            {
                "type": "nodes_exceed_pod_cidr",
                "severity": severity,
                "first": party,
                "second": {
                    "role": "nodes",
                    "name": "planned nodes",
                    "field": f"{where}.nodes",
                    "cidr": None,
                },
                "message": f"cluster '{name}': {nodes} planned nodes exceed what "
                f"{capacity['pod_cidr']} holds at {capacity['pods_per_node']} pods "
                f"per node ({capacity['max_nodes']} by address count, "
                f"{blocks['max_nodes']} by /{blocks['prefix']} node blocks)",
            }
        )
    return conflicts


def validate_plan(plan: Any, field: str = "network") -> dict:
    """Every verdict on a plan: conflicts (each naming both parties) and capacities."""
    # Zone vSwitches (Terway pod vSwitches above all) join the blocks checked.
    from ansible_collections.ackops.runbooks.plugins.module_utils.planning.terway import (
        plan_zones,
    )

    vpc, blocks = plan_blocks(plan, field)
    zones, zone_blocks, conflicts = plan_zones(plan, vpc, blocks, field)
    blocks += zone_blocks
    conflicts = containment_conflicts(vpc, blocks) + overlapping_conflicts(blocks) + conflicts
    capacities, capacity_problems = capacity_conflicts(plan, field)
    conflicts += capacity_problems
    checked = [b for b in blocks if b.role != "reserved" or b.field is not None]
    return {
        "valid": not any(c["severity"] == "error" for c in conflicts),
        "conflicts": conflicts,
        "capacity": capacities,
        "zones": zones,
        "blocks": len(checked),
    }


def _merged(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for first, last in sorted(intervals):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def _interval(field: str, used: Any) -> tuple[int, int, int]:
    if isinstance(used, Block):
        return used.version, used.first, used.last
    network = parse_cidr(field, used)
    return network.version, int(network.network_address), int(network.broadcast_address)


def free_cidrs(
    used: Iterable[Any],
    prefix: Any,
    count: Any = 1,
    search_space: Iterable[Any] = PRIVATE_RANGES,
    field_root: str = "",
    prefix_name: str = "prefix",
) -> list[str]:
    """The first ``count`` aligned /``prefix`` blocks of ``search_space`` that overlap nothing used.

    ``used`` holds CIDR strings or Blocks, of either family; the search space's
    family decides which of them count. Jumps past each used range instead of
    testing every candidate, so the cost follows the used ranges, not the space.
    """
    prefix_field = field_path(field_root, prefix_name)
    size_prefix = positive_int(prefix_field, prefix)
    wanted = positive_int(field_path(field_root, "count"), count)
    if wanted > MAX_PROPOSALS:
        raise InputError(
            field_path(field_root, "count"),
            count,
            f"asks for more than {MAX_PROPOSALS} proposals: ask for at most {MAX_PROPOSALS}",
        )
    space_field, used_field = field_path(field_root, "search_space"), field_path(field_root, "used")
    if isinstance(search_space, str) or not search_space:
        raise InputError(space_field, search_space, "must be a non-empty list of CIDRs")
    spaces = [parse_cidr(f"{space_field}[{i}]", s) for i, s in enumerate(search_space)]
    versions = {s.version for s in spaces}
    if len(versions) != 1:
        raise InputError(space_field, search_space, "must hold CIDRs of one address family")
    version = versions.pop()
    bits = 32 if version == 4 else 128
    if size_prefix > bits:
        raise InputError(prefix_field, prefix, f"must be at most {bits} for IPv{version}")
    intervals = [_interval(f"{used_field}[{i}]", u) for i, u in enumerate(used)]
    occupied = _merged((first, last) for v, first, last in intervals if v == version)
    lasts = [last for _first, last in occupied]
    size = 2 ** (bits - size_prefix)
    address = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    found: list[str] = []
    for space in spaces:
        if space.prefixlen > size_prefix:
            continue
        position, end = int(space.network_address), int(space.broadcast_address)
        while len(found) < wanted:
            candidate = -(-position // size) * size
            if candidate + size - 1 > end:
                break
            index = bisect_left(lasts, candidate)
            if index < len(occupied) and occupied[index][0] <= candidate + size - 1:
                position = occupied[index][1] + 1
                continue
            found.append(f"{address(candidate)}/{size_prefix}")
            # the block is taken: overlapping search spaces must not hand it out again
            occupied.insert(index, (candidate, candidate + size - 1))
            lasts.insert(index, candidate + size - 1)
            position = candidate + size
    if len(found) < wanted:
        raise InputError(
            prefix_field,
            size_prefix,
            f"leaves only {len(found)} of {wanted} free block(s) in "
            f"{', '.join(s.with_prefixlen for s in spaces)}: ask for a smaller block or fewer",
        )
    return found


def propose(
    plan: Any, proposals: Any, field: str = "proposals", plan_field: str = "network"
) -> dict:
    """Free pod and service CIDRs for a new cluster that collide with nothing in the plan.

    Reserved ranges (the defaults and the plan's own) are never proposed. With
    ``ip_stack: dual`` IPv6 pod and service CIDRs are proposed too, from
    ``search_space_v6`` (default fd00::/8).
    """
    request = _mapping(field, proposals if proposals is not None else {})
    blocks = plan_blocks(plan if plan is not None else {}, plan_field)[1]
    count = request.get("count", 1)
    stack = _choice(f"{field}.ip_stack", request.get("ip_stack"), ("ipv4", "dual"), "ipv4")
    result = {}
    used = list(blocks)
    for role, key, default, space_key, default_space in (
        ("pod", "pod_prefix", 16, "search_space", PRIVATE_RANGES),
        ("service", "service_prefix", 20, "search_space", PRIVATE_RANGES),
        ("pod_v6", "pod_prefix_v6", 56, "search_space_v6", PRIVATE_RANGES_V6),
        ("service_v6", "service_prefix_v6", 112, "search_space_v6", PRIVATE_RANGES_V6),
    ):
        if role.endswith("_v6") and stack != "dual":
            continue
        prefix = request.get(key, default)
        if role.startswith("service"):
            bits = 32 if role == "service" else 128
            number = positive_int(f"{field}.{key}", prefix)
            if bits - number > SERVICE_MAX_HOST_BITS:
                raise InputError(
                    f"{field}.{key}",
                    prefix,
                    f"is too large for a service CIDR: kube-apiserver accepts at most "
                    f"{SERVICE_MAX_HOST_BITS} host bits (/{bits - SERVICE_MAX_HOST_BITS} or longer)",
                )
            small = number <= bits and service_prefix_problem(4 if bits == 32 else 6, number)
            if small:
                raise InputError(f"{field}.{key}", prefix, small)
        search = request.get(space_key) or default_space
        if isinstance(search, (list, tuple)):  # each entry of the family the key is for
            family = (6,) if space_key.endswith("_v6") else (4,)
            for i, entry in enumerate(search):
                parse_cidr(f"{field}.{space_key}[{i}]", entry, family)
        found = free_cidrs(used, prefix, count, search, field_root=field, prefix_name=key)
        used += [block(role, f"proposed {role} CIDR", None, cidr) for cidr in found]
        result[f"{role}_cidrs"] = found
    return result
