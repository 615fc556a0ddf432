"""Per-zone vSwitch sizing for ACK clusters, Terway (ENI) mode above all.

In Terway mode pods take their addresses from pod vSwitches, one (or more) per
zone, so a zone's pod vSwitch must hold the zone's nodes times the pods per
node; its node vSwitch must hold the nodes. A cluster lists its zones::

    network_mode: terway
    pods_per_node: 64
    ip_headroom: 0.2                       # optional: spare addresses for rolling updates
    zones:
      - {name: cn-hangzhou-i, nodes: 40, node_vswitch: 192.168.0.0/24 (optional),
         pod_vswitch: 192.168.32.0/19 (optional), node_vswitch_id: vsw-... (optional),
         pod_vswitch_id: vsw-... (optional)}

A vSwitch given is checked (size, overlaps, inside the VPC); one left out is
proposed from the VPC's free space, the largest first so that big blocks stay
aligned. Flannel clusters may list zones too: only node vSwitches are sized.
"""

from __future__ import annotations

import ipaddress
import math
from fractions import Fraction
from typing import Any

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import (
    InputError,
    exact_number,
    positive_int,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.planning.cidr_plan import (
    Block,
    _entries,
    _mapping,
    block,
    cluster_settings,
    free_cidrs,
)

# Alibaba Cloud reserves the first and the last three addresses of every
# vSwitch CIDR block, and a vSwitch's mask is /16 to /29.
VSWITCH_RESERVED = 4
VSWITCH_LARGEST, VSWITCH_SMALLEST = 16, 29


def vswitch_prefix(addresses: int, field: str, what: str) -> int:
    """The smallest vSwitch prefix holding ``addresses`` usable addresses."""
    need = addresses + VSWITCH_RESERVED
    prefix = min(32 - math.ceil(math.log2(need)), VSWITCH_SMALLEST)
    if prefix < VSWITCH_LARGEST:
        usable = 2 ** (32 - VSWITCH_LARGEST) - VSWITCH_RESERVED
        raise InputError(
            field,
            addresses,
            f"addresses for {what} do not fit one vSwitch: a vSwitch is at most "
            f"/{VSWITCH_LARGEST} ({usable} usable addresses); spread the nodes over more "
            "zones or lower pods_per_node",
        )
    return prefix


def _headroom(field: str, value: Any) -> Fraction:
    if value is None:
        return Fraction(0)
    ratio = exact_number(field, value)
    if ratio < 0 or ratio > 10:
        raise InputError(field, value, "must be between 0 and 10 (0.2 means 20 % spare addresses)")
    return ratio


def plan_zones(plan: dict, vpc: Block | None, blocks: list[Block], field: str = "network"):
    """Size every cluster's zone vSwitches: (zones, new vSwitch blocks, conflicts)."""
    requests = []  # (prefix, zone entry, kind) for vSwitches to propose
    zones: list[dict] = []
    new_blocks: list[Block] = []
    conflicts: list[dict] = []
    for index, cluster in enumerate(_entries(plan, "clusters", field)):
        where = f"{field}.clusters[{index}]"
        settings = cluster_settings(cluster, where, index)
        terway = settings["network_mode"] == "terway"
        entries = cluster.get("zones")
        if entries is None:
            if terway:
                raise InputError(
                    f"{where}.zones",
                    None,
                    "is required in Terway mode: list each zone with its node count",
                )
            continue
        if not isinstance(entries, list) or not entries:
            raise InputError(f"{where}.zones", entries, "must be a non-empty list of zones")
        pods = positive_int(f"{where}.pods_per_node", cluster.get("pods_per_node", 128))
        headroom = _headroom(f"{where}.ip_headroom", cluster.get("ip_headroom"))
        seen = set()
        for zone_index, zone in enumerate(entries):
            zwhere = f"{where}.zones[{zone_index}]"
            zone = _mapping(zwhere, zone)
            name = zone.get("name")
            if not isinstance(name, str) or not name.strip():
                raise InputError(f"{zwhere}.name", name, "must be the zone ID, e.g. cn-hangzhou-i")
            if name in seen:
                raise InputError(f"{zwhere}.name", name, "is listed twice in this cluster")
            seen.add(name)
            nodes = positive_int(f"{zwhere}.nodes", zone.get("nodes"))
            for key in ("pod_vswitch", "pod_vswitch_id"):
                if not terway and zone.get(key) is not None:
                    raise InputError(
                        f"{zwhere}.{key}",
                        zone[key],
                        "is for Terway: a Flannel cluster's pods use pod_cidr "
                        "(set network_mode: terway or remove it)",
                    )
            entry = {
                "cluster": settings["name"],
                "zone": name,
                "nodes": nodes,
                "pods_per_node": pods if terway else None,
            }
            kinds = [("node", nodes)]
            if terway:
                kinds.append(("pod", math.ceil(nodes * pods * (1 + headroom))))
            for kind, needed in kinds:
                label = f"cluster '{settings['name']}' zone {name} {kind} vSwitch"
                key = f"{kind}_vswitch"
                prefix = vswitch_prefix(needed, f"{zwhere}.nodes", label)
                sizing = {"needed": needed, "prefix": prefix, "id": zone.get(f"{key}_id")}
                if zone.get(key) is not None:
                    given = block("vswitch", label, f"{zwhere}.{key}", zone[key], versions=(4,))
                    network = ipaddress.ip_network(given.cidr)
                    usable = network.num_addresses - VSWITCH_RESERVED
                    sizing |= {"cidr": given.cidr, "usable": usable, "proposed": False}
                    new_blocks.append(given)
                    conflicts += _size_verdicts(given, network, usable, needed, prefix, label)
                else:
                    sizing |= {"cidr": None, "usable": 2 ** (32 - prefix) - VSWITCH_RESERVED}
                    sizing["proposed"] = True
                    requests.append((prefix, sizing, label, f"{zwhere}.{key}"))
                entry[key] = sizing
            zones.append(entry)
        total = sum(z["nodes"] for z in zones if z["cluster"] == settings["name"])
        if cluster.get("nodes") is not None and terway:
            planned = positive_int(f"{where}.nodes", cluster["nodes"])
            if planned != total:
                raise InputError(
                    f"{where}.nodes",
                    cluster["nodes"],
                    f"differs from the {total} nodes its zones list: in Terway mode the zones "
                    "say how many nodes each pod vSwitch serves (drop nodes or fix the zones)",
                )
    if requests:
        if vpc is None:
            raise InputError(
                requests[0][3],
                None,
                "is not given, and there is no network.vpc_cidr to propose it from",
            )
        used = [b for b in blocks if b.role != "vpc"] + new_blocks
        for prefix, sizing, label, where in sorted(requests, key=lambda r: r[0]):
            (cidr,) = free_cidrs(used, prefix, 1, [vpc.cidr], field_root=where, prefix_name="size")
            sizing["cidr"] = cidr
            proposed = block("vswitch", f"{label} (proposed)", where, cidr)
            used.append(proposed)
            new_blocks.append(proposed)
    return zones, new_blocks, conflicts


def _size_verdicts(given, network, usable, needed, prefix, label) -> list[dict]:
    problems = []
    if not VSWITCH_LARGEST <= network.prefixlen <= VSWITCH_SMALLEST:
        problems.append(
            f"a vSwitch mask must be /{VSWITCH_LARGEST} to /{VSWITCH_SMALLEST}, "
            f"not /{network.prefixlen}"
        )
    if usable < needed:
        problems.append(
            f"{usable} usable addresses ({network.num_addresses} minus {VSWITCH_RESERVED} "
            f"reserved) for {needed} needed: use a /{prefix} or larger"
        )
    return [
        {
            "type": "vswitch_too_small" if usable < needed else "vswitch_mask_invalid",
            "severity": "error",
            "first": given.party(),
            "second": {"role": "zone", "name": label, "field": None, "cidr": None},
            "message": f"{label} {given.cidr}: {problem}",
        }
        for problem in problems
    ]
