"""A checked plan as the inputs ACK takes: Terraform variables and a CreateCluster body.

- ``terraform``: variables named after the arguments of the alicloud provider's
  ``alicloud_cs_managed_kubernetes`` resource (``pod_cidr``, ``service_cidr``,
  ``node_cidr_mask``, ``ip_stack``, ``vswitch_ids``, ``pod_vswitch_ids``), plus
  ``node_vswitches`` / ``pod_vswitches`` (``zone_id``, ``cidr_block``, the
  arguments of ``alicloud_vswitch``) for vSwitches still to be created.
- ``create_cluster``: the network fields of the JSON body of ACK's CreateCluster
  API (``container_cidr``, ``service_cidr``, ``node_cidr_mask`` as a string,
  ``ip_stack``, ``vswitch_ids``, ``pod_vswitch_ids``).

vSwitch IDs exist only once the vSwitches do: when a zone lacks one, the ID
lists are left out and ``missing`` says which to fill in. ``problems`` lists
what ACK would refuse (a node CIDR mask outside 24-28, an IPv6-only stack).
"""

from __future__ import annotations

from ansible_collections.ackops.runbooks.plugins.module_utils.planning.cidr_plan import (
    _entries,
    cluster_settings,
)

# ACK (and the provider's node_cidr_mask) accepts per-node masks /24 to /28.
ACK_NODE_MASKS = (24, 28)
ACK_IP_STACKS = ("ipv4", "dual")


def _ids(zones: list[dict], kind: str, missing: list[str]) -> list[str] | None:
    ids = []
    for zone in zones:
        sizing = zone[f"{kind}_vswitch"]
        if sizing.get("id"):
            ids.append(sizing["id"])
        else:
            missing.append(
                f"{kind}_vswitch_id of zone {zone['zone']} (vSwitch {sizing['cidr']}): "
                "create it, then set its ID"
            )
    return ids if len(ids) == len(zones) else None


def export_cluster(cluster: dict, settings: dict, capacity: list, zones: list) -> dict:
    """The Terraform variables and CreateCluster body of one cluster of a validated plan."""
    services = {n.version: n.with_prefixlen for n in settings["service"]}
    pods = {n.version: n.with_prefixlen for n in settings["pod"]}
    problems, missing, notes = [], [], []
    stack = settings["ip_stack"]
    if stack not in ACK_IP_STACKS:
        problems.append(f"ip_stack {stack}: ACK takes {' or '.join(ACK_IP_STACKS)}")
    terraform: dict = {"ip_stack": stack, "service_cidr": services.get(4)}
    body: dict = {"ip_stack": stack, "service_cidr": services.get(4)}
    if 6 in services:
        notes.append(
            f"IPv6 service CIDR {services[6]}: the provider's and CreateCluster's documented "
            "arguments carry one service CIDR (IPv4); set the IPv6 one where ACK asks for it"
        )
    if settings["network_mode"] == "flannel":
        terraform["pod_cidr"] = body["container_cidr"] = pods.get(4)
        v4_capacity = [c for c in capacity if ":" not in c["pod_cidr"]]
        if v4_capacity:
            mask = v4_capacity[0]["node_block"]["prefix"]
            low, high = ACK_NODE_MASKS
            if not low <= mask <= high:
                problems.append(
                    f"node_cidr_mask {mask}: ACK accepts {low} to {high} "
                    f"({2 ** (32 - high) - 2} to {2 ** (32 - low) - 2} pods per node)"
                )
            terraform["node_cidr_mask"] = mask
            body["node_cidr_mask"] = str(mask)
    node_zones = [z for z in zones if z.get("node_vswitch")]
    if node_zones:
        ids = _ids(node_zones, "node", missing)
        terraform["node_vswitches"] = [
            {"zone_id": z["zone"], "cidr_block": z["node_vswitch"]["cidr"]} for z in node_zones
        ]
        if ids is not None:
            terraform["vswitch_ids"] = body["vswitch_ids"] = ids
    elif cluster.get("vswitch_ids"):
        terraform["vswitch_ids"] = body["vswitch_ids"] = list(cluster["vswitch_ids"])
    else:
        missing.append("vswitch_ids: list the cluster's zones or give vswitch_ids")
    if settings["network_mode"] == "terway":
        ids = _ids(zones, "pod", missing)
        terraform["pod_vswitches"] = [
            {"zone_id": z["zone"], "cidr_block": z["pod_vswitch"]["cidr"]} for z in zones
        ]
        if ids is not None:
            terraform["pod_vswitch_ids"] = body["pod_vswitch_ids"] = ids
        notes.append("Terway: add the terway-eniip addon (addons) to the cluster")
        if stack == "dual":
            notes.append(
                "dual stack: the VPC and every vSwitch need IPv6 enabled (Alibaba Cloud "
                "assigns each vSwitch a /64)"
            )
    return {
        "terraform": terraform,
        "create_cluster": body,
        "missing": missing,
        "problems": problems,
        "notes": notes,
    }


def export_plan(plan: dict, network_result: dict, field: str = "network") -> dict:
    """Exports for every cluster of a plan that ``validate_plan`` accepted, by cluster name."""
    exports = {}
    for index, cluster in enumerate(_entries(plan, "clusters", field)):
        settings = cluster_settings(cluster, f"{field}.clusters[{index}]", index)
        name = settings["name"]
        capacity = [c for c in network_result["capacity"] if c["cluster"] == name]
        zones = [z for z in network_result["zones"] if z["cluster"] == name]
        exports[name] = export_cluster(cluster, settings, capacity, zones)
    return exports
