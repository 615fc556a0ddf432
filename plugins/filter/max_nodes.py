# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""max_nodes filter: how many nodes a pod CIDR holds."""

from __future__ import annotations

DOCUMENTATION = r"""
name: max_nodes
author: ack-runbooks contributors (@ackops)
version_added: "1.0.0"
short_description: Node capacity of a pod CIDR, by address count and by per-node blocks
description:
  - The guide's count, addresses divided by pods per node (a /16 at 128 pods per
    node holds 512 nodes), as RV(_value.max_nodes).
  - Alongside it the per-node-block rule kubespray enforces, a block of prefix
    P holding at most 2^(32-P)-2 pods, as RV(_value.node_block) (128 pods need a
    /24, so a /16 holds 256 nodes that way).
options:
  _input:
    description: The pod CIDR, IPv4 or IPv6, e.g. C(172.20.0.0/16).
    type: str
    required: true
  pods_per_node:
    description: Maximum pods per node (kubelet maxPods).
    type: int
    default: 128
  node_prefix:
    description:
      - The per-node block prefix if it is pinned (kube-controller-manager
        C(--node-cidr-mask-size), kubespray C(kube_network_node_prefix)).
      - When omitted, the smallest block that holds O(pods_per_node) (IPv4), or /64 (IPv6).
      - Refused when the block is larger than the pod CIDR or more than 16 bits longer than
        its prefix; a pod CIDR that holds no node is refused too, with the numbers.
    type: int
"""

EXAMPLES = r"""
- name: Nodes a /16 holds at 128 pods per node
  ansible.builtin.debug:
    msg: "{{ '172.20.0.0/16' | ackops.runbooks.max_nodes(pods_per_node=128) }}"
  # => max_nodes: 512, node_block: {prefix: 24, max_pods: 254, max_nodes: 256}
"""

RETURN = r"""
_value:
  description: The capacity.
  type: dict
  contains:
    pod_cidr:
      description: The pod CIDR, normalised.
      type: str
    addresses:
      description: Addresses in the pod CIDR.
      type: int
    pods_per_node:
      description: Pods per node asked for.
      type: int
    max_nodes:
      description:
        - Addresses divided by pods per node (the guide's figure); for IPv6, the per-node
          block count.
      type: int
    node_block:
      description: The per-node block view.
      type: dict
      contains:
        prefix:
          description: Prefix of each node's block.
          type: int
        max_pods:
          description: Pods one block holds, 2^(bits-prefix)-2.
          type: int
        max_nodes:
          description: Blocks the pod CIDR holds.
          type: int
        fits_pods_per_node:
          description: Whether O(pods_per_node) fits one block.
          type: bool
        rule:
          description: How the block size was chosen.
          type: str
"""

from ansible_collections.ackops.runbooks.plugins.module_utils.planning.cidr_plan import (
    max_nodes,
)
from ansible_collections.ackops.runbooks.plugins.plugin_utils.filter_args import (
    documented_filter,
)


@documented_filter(DOCUMENTATION)
def max_nodes_filter(pod_cidr, pods_per_node, node_prefix=None):
    return max_nodes(pod_cidr, pods_per_node, node_prefix)


class FilterModule:
    def filters(self):
        return {"max_nodes": max_nodes_filter}
