"""CIDR planning for ACK-style clusters (guide section 1.4).

A plan is plain data::

    vpc_cidr: 192.168.0.0/16
    vswitches: [{name: vsw-a, cidr: 192.168.0.0/24}, ...]      # or bare CIDR strings
    clusters: [{name: prod, pod_cidr: 172.20.0.0/16, service_cidr: 172.21.0.0/20,
                pods_per_node: 128, node_prefix: 24 (optional), nodes: 300 (optional)}]
    peer_routes: [{name: to-vpc-b, cidr: 10.1.0.0/16}, ...]    # routes to peered VPCs
    idc_routes: [{name: idc, cidr: 10.8.0.0/13}, ...]          # routes to the on-premises IDC

Overlaps are found by sorting every block once and sweeping it with a stack of
the blocks that are still open. Two CIDR blocks either nest or are disjoint, so
every block still on the stack contains the new one, and the stack is never
deeper than the 33 prefix lengths plus exact repeats: the sweep is
O(n log n + overlaps) where comparing all pairs is O(n^2).
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

# Kinds of block, in the order their pair names are written (pod_overlaps_vpc).
ROLE_ORDER = ("pod", "service", "vswitch", "vpc", "peer_route", "idc_route")
ROLE_LABEL = {
    "pod": "pod CIDR",
    "service": "service CIDR",
    "vswitch": "vSwitch",
    "vpc": "VPC",
    "peer_route": "route to peered VPC",
    "idc_route": "route to IDC",
}

# Which overlapping pairs are mistakes, how bad, and why. Pairs not listed
# (service/service across clusters, pod/vswitch which the VPC check covers,
# route/route) may overlap.
RULES = {
    ("vswitch", "vswitch"): ("error", "vSwitches in one VPC must not overlap"),
    ("pod", "vpc"): ("error", "pod addresses would shadow hosts in the VPC"),
    ("pod", "pod"): ("error", "two clusters in one VPC would route the same pod addresses"),
    ("pod", "service"): ("error", "service IPs would capture pod traffic"),
    ("pod", "peer_route"): ("error", "pods could not reach the peered VPC"),
    ("pod", "idc_route"): ("error", "pods could not reach the IDC"),
    ("service", "vpc"): ("error", "service IPs would capture traffic to hosts in the VPC"),
    ("service", "peer_route"): ("warning", "pods could not reach those peered-VPC addresses"),
    ("service", "idc_route"): ("warning", "pods could not reach those IDC addresses"),
    ("vpc", "peer_route"): ("error", "a peered VPC must not overlap this VPC"),
    ("vpc", "idc_route"): ("error", "the IDC range must not overlap this VPC"),
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

    def party(self) -> dict:
        return {"role": self.role, "name": self.name, "field": self.field, "cidr": self.cidr}

    def label(self) -> str:
        return f"{self.name} {self.cidr}"


def parse_cidr(field: str, value: Any) -> ipaddress.IPv4Network:
    """Parse an IPv4 CIDR strictly; the message says what is wrong and, if it can, the fix."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(field, value, "must be a CIDR string such as 10.0.0.0/16")
    text = value.strip()
    if "/" not in text:
        raise InputError(field, value, "has no prefix length: write it as a CIDR, e.g. /16")
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise InputError(field, value, f"is not a valid IPv4 CIDR ({exc})") from None
        raise InputError(
            field, value, f"has host bits set: did you mean {loose.with_prefixlen}?"
        ) from None
    if network.version != 4:
        raise InputError(field, value, "is IPv6: plans are IPv4 only")
    return network


def block(role: str, name: str, field: str, value: Any, cluster: str | None = None) -> Block:
    network = parse_cidr(field, value)
    return Block(
        role=role,
        name=name,
        field=field,
        cidr=network.with_prefixlen,
        first=int(network.network_address),
        last=int(network.broadcast_address),
        cluster=cluster,
    )


def _entries(plan: dict, key: str, field: str) -> list:
    value = plan.get(key)
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise InputError(f"{field}.{key}", value, "must be a list")
    return list(value)


def _named_blocks(plan: dict, key: str, role: str, field: str) -> list[Block]:
    """vSwitches and routes: each a bare CIDR string or a mapping with cidr and name."""
    blocks = []
    for index, entry in enumerate(_entries(plan, key, field)):
        where = f"{field}.{key}[{index}]"
        if isinstance(entry, dict):
            if "cidr" not in entry:
                raise InputError(where, entry, "has no 'cidr' key")
            name = str(entry.get("name", index))
            blocks.append(
                block(role, f"{ROLE_LABEL[role]} '{name}'", f"{where}.cidr", entry["cidr"])
            )
        else:
            blocks.append(block(role, f"{ROLE_LABEL[role]} #{index}", where, entry))
    return blocks


def _mapping(field: str, value: Any) -> dict:
    if not isinstance(value, dict):
        raise InputError(field, value, "must be a mapping")
    return value


def plan_blocks(plan: Any, field: str = "network") -> tuple[Block | None, list[Block]]:
    """Parse a plan into (the VPC block, every block including the VPC)."""
    plan = _mapping(field, plan)
    blocks: list[Block] = []
    vpc = None
    if plan.get("vpc_cidr") is not None:
        vpc = block("vpc", "VPC", f"{field}.vpc_cidr", plan["vpc_cidr"])
        blocks.append(vpc)
    blocks += _named_blocks(plan, "vswitches", "vswitch", field)
    seen_names = set()
    for index, cluster in enumerate(_entries(plan, "clusters", field)):
        where = f"{field}.clusters[{index}]"
        cluster = _mapping(where, cluster)
        name = str(cluster.get("name", index))
        if name in seen_names:
            raise InputError(f"{where}.name", name, "is used by another cluster")
        seen_names.add(name)
        for role in ("pod", "service"):
            key = f"{role}_cidr"
            if cluster.get(key) is None:
                raise InputError(f"{where}.{key}", None, "is required for every cluster")
            blocks.append(
                block(
                    role,
                    f"cluster '{name}' {ROLE_LABEL[role]}",
                    f"{where}.{key}",
                    cluster[key],
                    cluster=name,
                )
            )
    blocks += _named_blocks(plan, "peer_routes", "peer_route", field)
    blocks += _named_blocks(plan, "idc_routes", "idc_route", field)
    return vpc, blocks


def conflict_between(a: Block, b: Block) -> dict | None:
    """The conflict two overlapping blocks make, or None when they may overlap."""
    if ROLE_ORDER.index(a.role) > ROLE_ORDER.index(b.role):
        a, b = b, a
    rule = RULES.get((a.role, b.role))
    if rule is None or (a.cluster is not None and a.cluster == b.cluster and a.role == b.role):
        return None
    severity, why = rule
    return {
        "type": f"{a.role}_overlaps_{b.role}",
        "severity": severity,
        "first": a.party(),
        "second": b.party(),
        "message": f"{a.label()} overlaps {b.label()}: {why}",
    }


def overlapping_conflicts(blocks: Iterable[Block]) -> list[dict]:
    """Every rule-breaking overlap among ``blocks``, by sort and sweep."""
    ordered = sorted(blocks, key=lambda blk: (blk.first, -blk.last))
    open_blocks: list[Block] = []
    conflicts = []
    for current in ordered:
        while open_blocks and open_blocks[-1].last < current.first:
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
    """The VPC inside a private range; every vSwitch inside the VPC."""
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
        for vswitch in (b for b in blocks if b.role == "vswitch"):
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
    checks them, are CIDRs that hold at most 2^(32 - prefix) - 2 pods (network and
    broadcast addresses excluded): 128 pods need a /24, so a /16 holds 256 such
    blocks. ``node_prefix`` pins the block size (--node-cidr-mask-size).
    """
    field = field_path(field_root, "pod_cidr")
    ppn_field = field_path(field_root, "pods_per_node")
    prefix_field = field_path(field_root, "node_prefix")
    network = parse_cidr(field, pod_cidr)
    pods = positive_int(ppn_field, pods_per_node)
    addresses = network.num_addresses
    smallest_fit = 32 - math.ceil(math.log2(pods + 2))
    if node_prefix is None:
        block_prefix = smallest_fit
        rule = f"smallest per-node block holding {pods} pods + 2 reserved addresses"
    else:
        block_prefix = positive_int(prefix_field, node_prefix)
        if not network.prefixlen <= block_prefix <= 32:
            raise InputError(
                prefix_field,
                node_prefix,
                f"must be between the pod CIDR prefix /{network.prefixlen} and /32",
            )
        rule = f"per-node block /{block_prefix} as configured"
    block_pods = max(2 ** (32 - block_prefix) - 2, 0)
    block_nodes = 2 ** (block_prefix - network.prefixlen)
    return {
        "pod_cidr": network.with_prefixlen,
        "addresses": addresses,
        "pods_per_node": pods,
        "max_nodes": addresses // pods,
        "node_block": {
            "prefix": block_prefix,
            "max_pods": block_pods,
            "max_nodes": block_nodes,
            "fits_pods_per_node": pods <= block_pods,
            "rule": rule,
        },
    }


def capacity_conflicts(plan: dict, field: str = "network") -> tuple[list[dict], list[dict]]:
    """Max nodes per cluster, and conflicts where the plan wants more than fits."""
    capacities, conflicts = [], []
    for index, cluster in enumerate(_entries(plan, "clusters", field)):
        where = f"{field}.clusters[{index}]"
        name = str(cluster.get("name", index))
        capacity = max_nodes(
            cluster["pod_cidr"],
            cluster.get("pods_per_node", 128),
            cluster.get("node_prefix"),
            field_root=where,
        )
        capacity["cluster"] = name
        capacities.append(capacity)
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
            continue
        nodes = positive_int(f"{where}.nodes", cluster["nodes"])
        # Without a pinned node block the guide's count is the limit and the
        # block rule a warning; a pinned block size is what will be allocated.
        pinned = cluster.get("node_prefix") is not None
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
    return capacities, conflicts


def validate_plan(plan: Any, field: str = "network") -> dict:
    """Every verdict on a plan: conflicts (each naming both parties) and capacities."""
    vpc, blocks = plan_blocks(plan, field)
    conflicts = containment_conflicts(vpc, blocks) + overlapping_conflicts(blocks)
    capacities, capacity_problems = capacity_conflicts(plan, field)
    conflicts += capacity_problems
    return {
        "valid": not any(c["severity"] == "error" for c in conflicts),
        "conflicts": conflicts,
        "capacity": capacities,
        "blocks": len(blocks),
    }


def _merged(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for first, last in sorted(intervals):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def _interval(field: str, used: Any) -> tuple[int, int]:
    if isinstance(used, Block):
        return used.first, used.last
    network = parse_cidr(field, used)
    return int(network.network_address), int(network.broadcast_address)


def free_cidrs(
    used: Iterable[Any],
    prefix: Any,
    count: Any = 1,
    search_space: Iterable[Any] = PRIVATE_RANGES,
    field_root: str = "",
    prefix_name: str = "prefix",
) -> list[str]:
    """The first ``count`` aligned /``prefix`` blocks of ``search_space`` that overlap nothing used.

    ``used`` holds CIDR strings or Blocks. Jumps past each used range instead
    of testing every candidate, so the cost follows the used ranges, not the space.
    """
    prefix_field = field_path(field_root, prefix_name)
    size_prefix = positive_int(prefix_field, prefix)
    if size_prefix > 32:
        raise InputError(prefix_field, prefix, "must be at most 32")
    wanted = positive_int(field_path(field_root, "count"), count)
    if isinstance(search_space, str) or not search_space:
        raise InputError(
            field_path(field_root, "search_space"),
            search_space,
            "must be a non-empty list of CIDRs",
        )
    space_field, used_field = field_path(field_root, "search_space"), field_path(field_root, "used")
    spaces = [parse_cidr(f"{space_field}[{i}]", s) for i, s in enumerate(search_space)]
    occupied = _merged(_interval(f"{used_field}[{i}]", u) for i, u in enumerate(used))
    lasts = [last for _first, last in occupied]
    size = 2 ** (32 - size_prefix)
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
            found.append(f"{ipaddress.IPv4Address(candidate)}/{size_prefix}")
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
    """Free pod and service CIDRs for a new cluster that collide with nothing in the plan."""
    request = _mapping(field, proposals or {})
    blocks = plan_blocks(plan or {}, plan_field)[1]
    count = request.get("count", 1)
    space = request.get("search_space") or PRIVATE_RANGES
    pods = free_cidrs(
        blocks,
        request.get("pod_prefix", 16),
        count,
        space,
        field_root=field,
        prefix_name="pod_prefix",
    )
    services = free_cidrs(
        list(blocks) + pods,
        request.get("service_prefix", 20),
        count,
        space,
        field_root=field,
        prefix_name="service_prefix",
    )
    return {"pod_cidrs": pods, "service_cidrs": services}
