#!/usr/bin/python
# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module ackops.runbooks.swarm_node_labels: Swarm node labels onto the Kubernetes nodes that replace them."""

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_node_labels
author: ack-runbooks contributors (@ackops)
version_added: "1.3.0"
short_description: Put Swarm node labels on the Kubernetes nodes that take over from each Swarm node
description:
  - The labels step of the migrate-swarm runbook. O(node_map) says which
    Kubernetes nodes replace which Swarm node (from the inventory). Each label of
    the Swarm node (C(docker node inspect) C(Spec.Labels)) and, with
    O(engine_labels), each engine label becomes a node label - named by
    O(label_map) when it maps C(node.labels.X) or C(engine.labels.X), else C(X),
    the rule the converter uses for placement constraints, so the converted
    node affinity selects these nodes.
  - Server-side applies only C(metadata.labels) of each Node (field manager
    C(ackops-migrate-swarm)); other labels are left alone. A dry run in check mode.
  - Refuses, changing nothing, when a node already carries one of the labels
    with another value that this runbook did not set, when a mapped Kubernetes
    node does not exist, or when two Swarm nodes would give one node different values.
  - Returns RV(node_labels), every label value the cluster's nodes carry once
    the labels are set - what the converter's C(node_labels) option needs to
    flag a constraint no node satisfies.
extends_documentation_fragment:
  - ackops.runbooks.attributes
  - ackops.runbooks.k8s_auth
attributes:
  check_mode:
    support: full
    details: A server-side dry run.
  diff_mode:
    support: full
    details: The labels before and after, per Node changed.
  idempotent:
    support: full
options:
  swarm_nodes:
    description: The Swarm nodes (RV(ackops.runbooks.swarm_stack_info#module:nodes)) - C(hostname), C(labels), C(engine_labels).
    type: list
    elements: dict
    required: true
  node_map:
    description: Swarm node host name to the Kubernetes node names (the inventory's C(k8s_node_name)) that replace it.
    type: dict
    default: {}
  label_map:
    description: C(node.labels.X) / C(engine.labels.X) to a Kubernetes label key (the converter's O(label_map)).
    type: dict
    default: {}
  engine_labels:
    description: Migrate engine labels too (placement constraints on C(engine.labels.*) need them).
    type: bool
    default: true
  apply:
    description: Set the labels; V(false) only computes them (the analyze and convert steps).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Migrate the Swarm node labels
  ackops.runbooks.swarm_node_labels:
    swarm_nodes: "{{ shop_live.nodes }}"
    node_map: {swarm-db-1: [cn-hangzhou.i-bp1db001]}
    label_map: {node.labels.zone: topology.kubernetes.io/zone}
"""

RETURN = r"""
labels:
  description: Per Kubernetes node, the labels it gets from Swarm.
  returned: success
  type: dict
entries:
  description: One entry per label migrated (C(swarm_node), C(node), C(attribute), C(label), C(value)) or Swarm node left unmapped.
  returned: success
  type: list
  elements: dict
node_labels:
  description: Label to the values the cluster's nodes carry after this step.
  returned: success
  type: dict
live_node_labels:
  description: Label to the values the cluster's nodes carry now, before this step.
  returned: success
  type: dict
changes:
  description: The Nodes whose labels changed (or would).
  returned: success
  type: list
  elements: str
error:
  description: On failure, C(type), C(object) (the Node or Swarm node), C(field) (the label), C(cause).
  returned: failure
  type: dict
"""

from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.module import run_k8s_module
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import field_owners
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.label_keys import (
    normalise_label_map,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.labels import (
    LabelError,
    cluster_labels,
    conflicts,
    desired_labels,
)

FIELD_MANAGER = "ackops-migrate-swarm"
OPTIONS = {
    "swarm_nodes": {"type": "list", "elements": "dict", "required": True},
    "node_map": {"type": "dict", "default": {}},
    "label_map": {"type": "dict", "default": {}},
    "engine_labels": {"type": "bool", "default": True},
    "apply": {"type": "bool", "default": True},
}


def owned_labels(node: dict) -> set[str]:
    """The labels this runbook's field manager already owns on ``node``."""
    prefix = ".metadata.labels."
    return {
        path[len(prefix) :]
        for path in field_owners(node).get(f"{FIELD_MANAGER} (Apply)", [])
        if path.startswith(prefix)
    }


def label_nodes(module, connect, changes) -> dict:
    params = module.params
    node_map = {
        str(k): [str(n) for n in (v if isinstance(v, list) else [v])]
        for k, v in params["node_map"].items()
    }
    wanted, entries = desired_labels(
        params["swarm_nodes"],
        node_map,
        normalise_label_map(params["label_map"]),
        params["engine_labels"],
    )
    client = connect()
    nodes = {n["metadata"]["name"]: n for n in client.list("v1", "Node")}
    live = {name: dict(n["metadata"].get("labels") or {}) for name, n in nodes.items()}
    owned = {name: owned_labels(n) for name, n in nodes.items()}
    found = conflicts(wanted, live, owned)
    if found:
        first = found[0]
        raise LabelError(
            "; ".join(f"Node {c['node']}: {c['cause']}" for c in found)
            + " - nothing labelled; fix migrate_swarm_node_map / migrate_swarm_label_map",
            obj=f"Node {first['node']}",
            field=first["label"],
            details={"conflicts": found},
        )
    result = {
        "changed": False,
        "labels": wanted,
        "entries": entries,
        "node_labels": cluster_labels(live, wanted),
        "live_node_labels": cluster_labels(live, {}),
        "changes": [],
    }
    if not params["apply"]:
        result["changes"] = [
            f"label Node {n}"
            for n, labels in sorted(wanted.items())
            if any(live[n].get(k) != v for k, v in labels.items())
        ]
        return result
    bodies = [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}}
        for name, labels in sorted(wanted.items())
    ]
    results = client.apply_all(bodies, dry_run=module.check_mode, changes=changes)
    result["changed"] = any(r["changed"] for r in results)
    result["changes"] = [f"label {r['object']}" for r in results if r["changed"]]
    if module._diff:
        result["diff"] = [r["diff"] for r in results if r["changed"]]
    return result


def main():
    run_k8s_module(OPTIONS, label_nodes, FIELD_MANAGER)


if __name__ == "__main__":
    main()
