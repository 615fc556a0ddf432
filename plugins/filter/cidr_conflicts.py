# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cidr_conflicts filter: every rule a network plan breaks, both parties named."""

from __future__ import annotations

DOCUMENTATION = r"""
name: cidr_conflicts
author: ack-runbooks contributors (@ackops)
version_added: "1.0.0"
short_description: Conflicts in a VPC / vSwitch / pod / service CIDR plan
description:
  - Checks a network plan against the ACK guide's rules and returns one entry
    per conflict, each naming both parties (their role, name, plan field and CIDR).
  - The VPC must lie in 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16; vSwitches
    inside the VPC and disjoint; each pod CIDR disjoint from the VPC, every
    service CIDR, other clusters' pod CIDRs and the routes to peered VPCs and to
    the IDC; service CIDRs disjoint from the VPC (they may repeat across clusters).
  - Also reports planned node counts the pod CIDR cannot hold, and pods per node
    that do not fit a pinned per-node block.
  - IPv4 and IPv6 (and dual-stack clusters, one CIDR per family) are checked, each
    family on its own. Pod, service and vSwitch CIDRs on a reserved range (the
    Docker bridge 172.17.0.0/16, link-local 169.254.0.0/16 and fe80::/10,
    100.64.0.0/10, and the plan's C(reserved) list) are conflicts.
  - Terway clusters (C(network_mode=terway)) list C(zones); each zone's node and pod
    vSwitches are sized from its nodes and C(pods_per_node), checked when given.
  - Refused outright, naming the field and the numbers, is what cannot work (a
    service CIDR with more than 20 host bits (kube-apiserver's limit), a pod CIDR
    that holds no node, a malformed CIDR).
  - Overlaps are found by one sort and a sweep, so route tables of thousands of
    entries are checked in about the time it takes to sort them.
options:
  _input:
    description:
      - The plan, with keys C(vpc_cidr), C(vswitches), C(clusters) (each with
        C(name), C(pod_cidr), C(service_cidr), optional C(pods_per_node),
        C(node_prefix), C(nodes), C(ip_stack), C(network_mode), C(zones)),
        C(peer_routes), C(idc_routes) and C(reserved).
      - vSwitches and routes are CIDR strings or mappings with C(cidr) and C(name).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Fail when the plan has conflicts
  ansible.builtin.assert:
    that: plan | ackops.runbooks.cidr_conflicts | length == 0
    fail_msg: "{{ plan | ackops.runbooks.cidr_conflicts | map(attribute='message') }}"
  vars:
    plan:
      vpc_cidr: 192.168.0.0/16
      vswitches: [192.168.0.0/24, 192.168.1.0/24]
      clusters:
        - {name: prod, pod_cidr: 172.20.0.0/16, service_cidr: 172.21.0.0/20}
      idc_routes: [{name: office, cidr: 10.0.0.0/8}]
"""

RETURN = r"""
_value:
  description: The conflicts; empty when the plan is sound.
  type: list
  elements: dict
  contains:
    type:
      description: "The rule broken, e.g. C(pod_overlaps_vpc), C(vswitch_outside_vpc)."
      type: str
    severity: {description: C(error) or C(warning)., type: str}
    first: {description: "One party: role, name, field, cidr.", type: dict}
    second: {description: "The other party: role, name, field, cidr.", type: dict}
    message: {description: One line naming both parties and the reason., type: str}
"""

from ansible_collections.ackops.runbooks.plugins.module_utils.planning.cidr_plan import (
    validate_plan,
)
from ansible_collections.ackops.runbooks.plugins.plugin_utils.filter_args import (
    documented_filter,
)


@documented_filter(DOCUMENTATION)
def cidr_conflicts(plan):
    return validate_plan(plan, field="plan")["conflicts"]


class FilterModule:
    def filters(self):
        return {"cidr_conflicts": cidr_conflicts}
