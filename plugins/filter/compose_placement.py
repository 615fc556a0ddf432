# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""compose_placement filter: Swarm placement constraints to Kubernetes node affinity."""

from __future__ import annotations

DOCUMENTATION = r"""
name: compose_placement
author: ack-runbooks contributors (@ackops)
version_added: "1.2.0"
short_description: Swarm placement constraints to a Kubernetes node affinity, tolerations and report lines
description:
  - Converts C(deploy.placement.constraints) exactly as the converter does -
    C(node.labels.*) and C(engine.labels.*) (through O(label_map)),
    C(node.hostname) (through O(node_names)), C(node.role), C(node.platform.os)
    and C(node.platform.arch); C(==) becomes C(In), C(!=) C(NotIn).
  - With O(node_labels) (the labels the Kubernetes nodes carry), a constraint
    no node satisfies is flagged in its report entry.
  - An operator other than C(==) or C(!=), or an attribute Swarm does not know,
    fails naming the constraint.
options:
  _input:
    description: 'The constraints, for example C(["node.labels.zone == west", "node.role != manager"]).'
    type: list
    elements: str
    required: true
  label_map:
    description: Swarm attribute (C(node.labels.zone)) to Kubernetes label key.
    type: dict
    default: {}
  node_names:
    description: Swarm host name to Kubernetes node name.
    type: dict
    default: {}
  node_labels:
    description: Kubernetes node label to the list of its values on the nodes.
    type: dict
"""

EXAMPLES = r"""
- name: The affinity the labels step must satisfy
  ansible.builtin.debug:
    msg: "{{ ['node.labels.zone == west'] | ackops.runbooks.compose_placement(label_map={'node.labels.zone': 'topology.kubernetes.io/zone'}) }}"
"""

RETURN = r"""
_value:
  description: The placement.
  type: dict
  contains:
    nodeAffinity: {description: "The pod spec's affinity.nodeAffinity (empty without constraints).", type: dict}
    tolerations: {description: Tolerations needed (control-plane nodes)., type: list, elements: dict}
    entries: {description: One migration report entry per constraint., type: list, elements: dict}
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.convert import (
    placement_affinity,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.errors import ComposeError
from ansible_collections.ackops.runbooks.plugins.plugin_utils.filter_args import documented_filter


@documented_filter(DOCUMENTATION)
def compose_placement(constraints, label_map, node_names, node_labels=None):
    try:
        return placement_affinity(
            constraints, label_map=label_map, node_names=node_names, node_labels=node_labels
        )
    except ComposeError as exc:
        raise AnsibleFilterError(f"compose_placement: {exc}") from None


class FilterModule:
    def filters(self):
        return {"compose_placement": compose_placement}
