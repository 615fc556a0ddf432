#!/usr/bin/python
# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module ackops.runbooks.cluster_plan_info: size and check a cluster plan in one call."""

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster_plan_info
author: ack-runbooks contributors (@ackops)
version_added: "1.0.0"
short_description: Size masters and workers and check a CIDR plan before building a cluster
description:
  - Applies section 1 of the ACK planning guide to a plan and returns exact answers.
  - Masters are sized from O(node_count) (beyond 200 nodes the guide's table ends
    and the result says what the extrapolation assumes).
  - Workers are sized from O(workers.total_cores), O(workers.failure_ratio) and
    the sizes on offer; the guide's examples come out exactly (160 cores at 0.1 is
    10 x 16 cores with a load cap of 144, at 0.2 it is 5 x 32 with a cap of 128).
  - The network plan is checked for every conflict the guide names, each reported
    with both parties; the node capacity of each pod CIDR is given by address
    count and by per-node blocks (kubespray's 2^(32-prefix)-2 rule).
  - With O(proposals), free pod and service CIDRs that collide with nothing in
    the plan are proposed.
  - Computes only; nothing on any host changes. Parts left out are not evaluated.
  - Unusable input (malformed CIDR, zero or negative counts, a failure ratio of 1
    or more) fails with a message naming the field and the value. Conflicts do not
    fail the module; RV(valid) says whether the plan has any error.
extends_documentation_fragment:
  - ackops.runbooks.attributes
attributes:
  check_mode:
    details: Computes only; runs the same in check mode.
  diff_mode:
    support: none
    details: Computes only, nothing to diff.
  idempotent:
    support: full
options:
  node_count:
    description: Worker nodes the cluster will have, for the master size.
    type: int
  workers:
    description: Worker sizing inputs.
    type: dict
    suboptions:
      total_cores:
        description: Total cores the workloads need.
        type: int
        required: true
      failure_ratio:
        description: Share of the cluster that may be lost at once, above 0 and below 1.
        type: float
        required: true
      instance_cores:
        description: Instance sizes on offer, in cores.
        type: list
        elements: int
        default: [4, 8, 16, 32, 64, 96]
      memory_per_core_gib:
        description: GiB of memory per core (4 general purpose, 8 memory-heavy Java).
        type: float
        default: 4
  network:
    description: The network plan to check.
    type: dict
    suboptions:
      vpc_cidr:
        description: The VPC CIDR; must lie in 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16.
        type: str
      vswitches:
        description: vSwitch CIDRs, each a CIDR string or a mapping with C(cidr) and C(name).
        type: list
        elements: raw
        default: []
      clusters:
        description: The clusters in the VPC.
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description: Cluster name, used in messages.
            type: str
            required: true
          ip_stack:
            description:
              - V(ipv4) (the default), V(dual) (one IPv4 and one IPv6 CIDR each for pods and
                services) or V(ipv6). ACK takes V(ipv4) and V(dual); dual stack needs Terway.
            type: str
            choices: [ipv4, dual, ipv6]
          network_mode:
            description:
              - V(flannel) (the default) gives pods addresses from O(network.clusters[].pod_cidr);
                V(terway) (ENI) gives them addresses from each zone's pod vSwitch, sized from
                O(network.clusters[].zones) and O(network.clusters[].pods_per_node).
            type: str
            choices: [flannel, terway]
          pod_cidr:
            description:
              - The cluster's pod CIDR; for dual stack a list of two (or C(v4,v6)). Required
                with Flannel, refused with Terway.
            type: raw
          service_cidr:
            description:
              - The cluster's service CIDR; for dual stack a list of two (or C(v4,v6)).
              - At most 20 host bits (IPv4 /12 or longer, IPv6 /108 or longer), as
                kube-apiserver enforces.
            type: raw
            required: true
          pods_per_node:
            description: Maximum pods per node (kubelet maxPods).
            type: int
            default: 128
          node_prefix:
            description:
              - IPv4 per-node pod block prefix if pinned (C(--node-cidr-mask-size), ACK's
                C(node_cidr_mask)); at most 16 bits longer than the pod CIDR's.
            type: int
          node_prefix_v6:
            description: IPv6 per-node block prefix (kube-controller-manager's default is 64).
            type: int
          nodes:
            description: Planned node count, checked against the pod CIDR's capacity.
            type: int
          ip_headroom:
            description: Spare share of pod addresses in Terway pod vSwitches (0.2 = 20 %).
            type: float
          vswitch_ids:
            description: IDs of the cluster's node vSwitches, for the exports, when O(network.clusters[].zones) is not given.
            type: list
            elements: str
          zones:
            description:
              - One entry per zone. Each node vSwitch (and, with Terway, pod vSwitch) given is
                checked for size and overlaps; one left out is proposed from the VPC's free space.
            type: list
            elements: dict
            suboptions:
              name: {description: Zone ID such as C(cn-hangzhou-i)., type: str, required: true}
              nodes: {description: Nodes in this zone., type: int, required: true}
              node_vswitch: {description: CIDR of the zone's node vSwitch., type: str}
              pod_vswitch: {description: CIDR of the zone's pod vSwitch (Terway)., type: str}
              node_vswitch_id: {description: ID of the node vSwitch once it exists., type: str}
              pod_vswitch_id: {description: ID of the pod vSwitch once it exists., type: str}
      peer_routes:
        description: Routes to peered VPCs (CIDR strings or mappings with C(cidr), C(name)).
        type: list
        elements: raw
        default: []
      idc_routes:
        description: Routes to the on-premises IDC (CIDR strings or mappings).
        type: list
        elements: raw
        default: []
      reserved:
        description:
          - Ranges no pod, service or vSwitch CIDR may use (CIDR strings or mappings with
            C(cidr), C(name)), besides the built-in ones (172.17.0.0/16 Docker bridge,
            169.254.0.0/16 and fe80::/10 link-local, 100.64.0.0/10).
        type: list
        elements: raw
        default: []
  proposals:
    description: Ask for free CIDRs for a new cluster.
    type: dict
    suboptions:
      pod_prefix:
        description: Prefix length of the pod CIDRs to propose.
        type: int
        default: 16
      service_prefix:
        description: Prefix length of the service CIDRs to propose.
        type: int
        default: 20
      count:
        description: How many of each to propose (at most 32).
        type: int
        default: 1
      search_space:
        description: Where to look, in order; reserved ranges are never proposed.
        type: list
        elements: str
        default: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]
      ip_stack:
        description: V(dual) also proposes IPv6 pod and service CIDRs.
        type: str
        choices: [ipv4, dual]
        default: ipv4
      pod_prefix_v6:
        description: Prefix length of the IPv6 pod CIDRs to propose.
        type: int
        default: 56
      service_prefix_v6:
        description: Prefix length of the IPv6 service CIDRs to propose (108 or longer).
        type: int
        default: 112
      search_space_v6:
        description: Where to look for IPv6 CIDRs.
        type: list
        elements: str
        default: ["fd00::/8"]
seealso:
  - plugin: ackops.runbooks.cidr_conflicts
    plugin_type: filter
  - plugin: ackops.runbooks.max_nodes
    plugin_type: filter
  - plugin: ackops.runbooks.free_cidrs
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Plan a 300-node cluster in a VPC shared with another one
  ackops.runbooks.cluster_plan_info:
    node_count: 300
    workers:
      total_cores: 160
      failure_ratio: 0.1
    network:
      vpc_cidr: 192.168.0.0/16
      vswitches: [{name: vsw-h, cidr: 192.168.0.0/20}, {name: vsw-i, cidr: 192.168.16.0/20}]
      clusters:
        - {name: prod, pod_cidr: 172.20.0.0/16, service_cidr: 172.21.0.0/20, nodes: 300}
        - {name: staging, pod_cidr: 172.22.0.0/16, service_cidr: 172.21.0.0/20}
      idc_routes: [{name: office, cidr: 10.0.0.0/8}]
    proposals:
      pod_prefix: 16
  register: plan

- name: Stop when the plan has errors
  ansible.builtin.assert:
    that: plan.valid
    fail_msg: "{{ plan.network.conflicts | map(attribute='message') }}"
"""

RETURN = r"""
master:
  description: Master size (see the master_spec filter); null without O(node_count).
  returned: always
  type: dict
  sample: {node_count: 300, cores: 32, memory_gib: 128, source: extrapolated, notes: ["..."]}
workers:
  description:
    - Worker options and the recommendation (see the worker_plan filter).
    - Null without O(workers).
  returned: always
  type: dict
  sample:
    recommended: {instance_cores: 16, count: 10, total_cores: 160, load_cap_cores: 144}
network:
  description: Verdicts on O(network); null without it.
  returned: always
  type: dict
  contains:
    valid:
      description: True when no conflict has severity C(error).
      type: bool
    conflicts:
      description: One entry per conflict (see the cidr_conflicts filter), both parties named.
      type: list
      elements: dict
    capacity:
      description: Per cluster, max nodes by address count and by per-node blocks.
      type: list
      elements: dict
    zones:
      description:
        - Per cluster and zone, the node vSwitch and (Terway) pod vSwitch, each with C(cidr),
          C(prefix), C(usable), C(needed), C(proposed) and C(id).
      type: list
      elements: dict
    exports:
      description:
        - Per cluster name, C(terraform) (variables named after alicloud_cs_managed_kubernetes'
          arguments), C(create_cluster) (network fields of ACK's CreateCluster body),
          C(missing) (vSwitch IDs to fill in), C(problems) (what ACK would refuse), C(notes).
      type: dict
    blocks:
      description: How many CIDRs were checked.
      type: int
  sample:
    valid: false
    conflicts:
      - type: pod_overlaps_idc_route
        severity: error
        first:
          role: pod
          name: "cluster 'prod' pod CIDR"
          field: "network.clusters[0].pod_cidr"
          cidr: 10.20.0.0/16
        second:
          role: idc_route
          name: "route to IDC 'office'"
          field: "network.idc_routes[0].cidr"
          cidr: 10.0.0.0/8
        message: "cluster 'prod' pod CIDR 10.20.0.0/16 overlaps route to IDC 'office' 10.0.0.0/8: ..."
    capacity:
      - {cluster: prod, pod_cidr: 172.20.0.0/16, pods_per_node: 128, max_nodes: 512,
         node_block: {prefix: 24, max_pods: 254, max_nodes: 256}}
    blocks: 7
proposals:
  description: Free CIDRs; null without O(proposals).
  returned: always
  type: dict
  sample: {pod_cidrs: [172.16.0.0/16], service_cidrs: [172.17.0.0/20]}
valid:
  description:
    - False when the network plan has a conflict of severity C(error).
    - What ACK would refuse (the exports' C(problems)) counts as such a conflict,
      of type C(ack_would_refuse).
  returned: always
  type: bool
report_markdown:
  description: The whole plan as a Markdown report.
  returned: always
  type: str
export_files:
  description:
    - The ACK exports as file texts by suffix, for the report writer; empty without clusters.
    - C(auto.tfvars.json) maps C(ack_clusters) to the Terraform variables of each cluster by
      name; C(createcluster.json) maps each cluster name to its CreateCluster body.
  returned: always
  type: dict
error:
  description:
    - On failure (unusable input), C(type) (V(input), or V(internal) for a bug), C(field) (the
      option, for example C(network.clusters[0].pod_cidr)), C(cause), C(details); C(host) and
      C(object) are null, the module reads nothing.
  returned: failure
  type: dict
  sample: {type: input, host: null, object: null, field: "workers.failure_ratio",
           cause: "1.5 must be greater than 0 and less than 1 (0.1 means 10 %)", details: {}}
partial_changes:
  description: On failure, always empty (the module only computes).
  returned: failure
  type: list
  elements: dict
"""

import math

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import run_module
from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError
from ansible_collections.ackops.runbooks.plugins.module_utils.planning.cluster_plan import (
    build_plan,
    export_files,
    markdown,
)

ROUTES = {"type": "list", "elements": "raw", "default": []}
ARGSPEC = {
    "node_count": {"type": "int"},
    "workers": {
        "type": "dict",
        "options": {
            "total_cores": {"type": "int", "required": True},
            "failure_ratio": {"type": "float", "required": True},
            "instance_cores": {
                "type": "list",
                "elements": "int",
                "default": [4, 8, 16, 32, 64, 96],
            },
            "memory_per_core_gib": {"type": "float", "default": 4},
        },
    },
    "network": {
        "type": "dict",
        "options": {
            "vpc_cidr": {"type": "str"},
            "vswitches": dict(ROUTES),
            "clusters": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "name": {"type": "str", "required": True},
                    "ip_stack": {"type": "str", "choices": ["ipv4", "dual", "ipv6"]},
                    "network_mode": {"type": "str", "choices": ["flannel", "terway"]},
                    "pod_cidr": {"type": "raw"},
                    "service_cidr": {"type": "raw", "required": True},
                    "pods_per_node": {"type": "int", "default": 128},
                    "node_prefix": {"type": "int"},
                    "node_prefix_v6": {"type": "int"},
                    "nodes": {"type": "int"},
                    "ip_headroom": {"type": "float"},
                    "vswitch_ids": {"type": "list", "elements": "str"},
                    "zones": {
                        "type": "list",
                        "elements": "dict",
                        "options": {
                            "name": {"type": "str", "required": True},
                            "nodes": {"type": "int", "required": True},
                            "node_vswitch": {"type": "str"},
                            "pod_vswitch": {"type": "str"},
                            "node_vswitch_id": {"type": "str"},
                            "pod_vswitch_id": {"type": "str"},
                        },
                    },
                },
            },
            "peer_routes": dict(ROUTES),
            "idc_routes": dict(ROUTES),
            "reserved": dict(ROUTES),
        },
    },
    "proposals": {
        "type": "dict",
        "options": {
            "pod_prefix": {"type": "int", "default": 16},
            "service_prefix": {"type": "int", "default": 20},
            "count": {"type": "int", "default": 1},
            "search_space": {
                "type": "list",
                "elements": "str",
                "default": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
            },
            "ip_stack": {"type": "str", "choices": ["ipv4", "dual"], "default": "ipv4"},
            "pod_prefix_v6": {"type": "int", "default": 56},
            "service_prefix_v6": {"type": "int", "default": 112},
            "search_space_v6": {"type": "list", "elements": "str", "default": ["fd00::/8"]},
        },
    },
}


def plan_cluster(params: dict) -> dict:
    plan = build_plan(
        params["node_count"], params["workers"], params["network"], params["proposals"]
    )
    return {
        "changed": False,
        "report_markdown": markdown(plan),
        "export_files": export_files(plan),
        **plan,
    }


def infinite_value(value, path: str = "", texts: bool = False):
    """The path and value of the first infinite number in ``value`` (``texts``: or "inf")."""
    if isinstance(value, float) and math.isinf(value):
        return path, value
    if texts and isinstance(value, str) and value.strip().lower().lstrip("+-") in _INFINITE:
        return path, value
    if isinstance(value, dict):
        items = [(f"{path}.{k}" if path else str(k), v) for k, v in value.items()]
    elif isinstance(value, list):
        items = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
    else:
        items = []
    for where, item in items:
        found = infinite_value(item, where, texts)
        if found:
            return found
    return None


_INFINITE = ("inf", "infinity")


def _refuse_infinite(params: dict) -> dict:
    # numbers first: a text "inf" (a cluster name, say) is only blamed when no number is
    found = infinite_value(params) or infinite_value(params, texts=True) or ("?", None)
    raise InputError(found[0], found[1], "must be a finite number")


def main():
    try:
        module = AnsibleModule(argument_spec=ARGSPEC, supports_check_mode=True)
    except OverflowError:
        # Ansible's int conversion raises on an infinite float (.inf) instead of refusing
        # it: read the arguments unconverted and refuse with the field, not a traceback.
        module = AnsibleModule(
            argument_spec={name: {"type": "raw"} for name in ARGSPEC}, supports_check_mode=True
        )
        run_module(module, lambda _changes: _refuse_infinite(module.params))
        return
    run_module(module, lambda _changes: plan_cluster(module.params))


if __name__ == "__main__":
    main()
