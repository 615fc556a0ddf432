# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""master_spec filter: master size for a node count."""

from __future__ import annotations

DOCUMENTATION = r"""
name: master_spec
author: ack-runbooks contributors (@ackops)
version_added: "1.0.0"
short_description: Master (control-plane) size for a node count
description:
  - Returns the master instance size the ACK guide recommends for a cluster of
    O(_input) nodes (1-5 nodes 4 cores/8 GiB, 6-20 4/16, 21-100 8/32, 101-200 16/64).
  - Beyond 200 nodes the guide's table ends; the result is then marked
    C(source=extrapolated) and its notes say what the extrapolation assumes
    (cores and memory double each time the node count doubles).
options:
  _input:
    description: Number of worker nodes the cluster will have; a whole number above zero.
    type: int
    required: true
"""

EXAMPLES = r"""
- name: Size the masters for 120 nodes
  ansible.builtin.debug:
    msg: "{{ 120 | ackops.runbooks.master_spec }}"
  # => cores: 16, memory_gib: 64, source: guide
"""

RETURN = r"""
_value:
  description: The master size.
  type: dict
  contains:
    node_count:
      description: The node count sized for.
      type: int
    cores:
      description: vCPUs per master.
      type: int
    memory_gib:
      description: Memory per master in GiB.
      type: int
    source:
      description: C(guide) from the table, or C(extrapolated) beyond 200 nodes.
      type: str
    notes:
      description: Caveats, including the extrapolation's assumption.
      type: list
      elements: str
"""

from ansible_collections.ackops.runbooks.plugins.module_utils.planning.cluster_sizing import (
    master_spec,
)
from ansible_collections.ackops.runbooks.plugins.plugin_utils.filter_args import (
    documented_filter,
)


@documented_filter(DOCUMENTATION, input_name="node_count")
def master_spec_filter(node_count):
    return master_spec(node_count, field="node_count")


class FilterModule:
    def filters(self):
        return {"master_spec": master_spec_filter}
