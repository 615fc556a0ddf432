# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""free_cidrs filter: free blocks of a given size that collide with nothing."""

from __future__ import annotations

DOCUMENTATION = r"""
name: free_cidrs
author: ack-runbooks contributors (@ackops)
version_added: "1.0.0"
short_description: Propose free CIDRs of a given size that overlap none in use
description:
  - Returns the first O(count) aligned blocks of prefix O(prefix) in
    O(search_space) that overlap none of the CIDRs in O(_input).
  - Use it to pick a pod or service CIDR for a new cluster; feed it the VPC,
    vSwitches, existing pod and service CIDRs and every route.
  - Fails with a message when the space cannot hold O(count) such blocks, or when
    O(count) is above 32.
  - The search space's address family decides the blocks' (IPv6 with, for example,
    O(search_space=[fd00::/8]) and O(prefix=112)); used CIDRs of the other family
    are ignored.
options:
  _input:
    description: CIDRs already in use.
    type: list
    elements: str
    required: true
  prefix:
    description: Prefix length of the blocks wanted (16 for a /16; at most 32, or 128 for IPv6).
    type: int
    required: true
  count:
    description: How many blocks to propose.
    type: int
    default: 1
  search_space:
    description: Where to look, in order.
    type: list
    elements: str
    default: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]
"""

EXAMPLES = r"""
- name: A free /16 for the pods of a new cluster
  ansible.builtin.debug:
    msg: "{{ ['10.0.0.0/8', '172.16.0.0/16'] | ackops.runbooks.free_cidrs(prefix=16) }}"
  # => ['172.17.0.0/16']
"""

RETURN = r"""
_value:
  description: The proposed CIDRs, in search order.
  type: list
  elements: str
"""

from ansible_collections.ackops.runbooks.plugins.module_utils.planning.cidr_plan import (
    free_cidrs,
)
from ansible_collections.ackops.runbooks.plugins.plugin_utils.filter_args import (
    documented_filter,
)


@documented_filter(DOCUMENTATION)
def free_cidrs_filter(used, prefix, count, search_space):
    return free_cidrs(used, prefix, count, search_space)


class FilterModule:
    def filters(self):
        return {"free_cidrs": free_cidrs_filter}
