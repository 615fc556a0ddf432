# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Swarm node labels onto the Kubernetes nodes that take over from each Swarm node.

The inventory says which Kubernetes nodes replace which Swarm node
(``node_map``: Swarm host name -> Kubernetes node names). Each Swarm node
label ``node.labels.X`` (and engine label ``engine.labels.X``) becomes the node
label the converter's constraints select: ``label_map`` when it names one,
else ``X`` - the rule of ``label_keys.label_key`` the converter uses too, so the converted node
affinity finds the labelled nodes.

A label a node already carries with another value is a conflict, not an
overwrite: the runbook refuses and names node, label and both values.
"""

from __future__ import annotations

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.label_keys import (
    label_key,
    valid_key,
    valid_value,
)


class LabelError(RunbookError):
    error_type = "input"


def desired_labels(
    swarm_nodes: list[dict],
    node_map: dict[str, list[str]],
    label_map: dict[str, str] | None = None,
    engine_labels: bool = True,
) -> tuple[dict[str, dict[str, str]], list[dict]]:
    """Kubernetes node -> labels it must carry, and one report entry per label (or unmapped node)."""
    label_map = label_map or {}
    by_host = {n.get("hostname"): n for n in swarm_nodes}
    unknown = sorted(set(node_map) - set(by_host))
    if unknown:
        raise LabelError(
            f"names Swarm nodes the Swarm does not have: {unknown} (it has {sorted(by_host)})",
            obj="migrate_swarm_node_map",
        )
    wanted: dict[str, dict[str, str]] = {}
    origin: dict[tuple[str, str], str] = {}
    entries: list[dict] = []
    for hostname in sorted(by_host):
        node = by_host[hostname]
        targets = node_map.get(hostname)
        if not targets:
            entries.append(
                {
                    "swarm_node": hostname,
                    "status": "unmapped",
                    "note": "no Kubernetes node is mapped to it: its labels are not migrated",
                }
            )
            continue
        sources = [("node.labels", node.get("labels") or {})]
        if engine_labels:
            sources.append(("engine.labels", node.get("engine_labels") or {}))
        for prefix, labels in sources:
            for name, value in sorted(labels.items()):
                attribute = f"{prefix}.{name}"
                key = label_key(attribute, label_map)
                value = "" if value is None else str(value)
                if not key:  # mapped to null or "": not migrated
                    entries.append(
                        {
                            "swarm_node": hostname,
                            "attribute": attribute,
                            "status": "skipped",
                            "note": f"{attribute}={value} not migrated (label_map maps it to null or '')",
                        }
                    )
                    continue
                if not valid_key(key) or not valid_value(value):
                    raise LabelError(
                        f"{attribute}={value!r} of Swarm node {hostname} is not a valid "
                        f"Kubernetes label ({key}={value}); map it with migrate_swarm_label_map",
                        obj=f"Swarm node {hostname}",
                        field=attribute,
                    )
                for target in targets:
                    have = wanted.setdefault(target, {})
                    if key in have and have[key] != value:
                        raise LabelError(
                            f"Kubernetes node {target} would get {key}={have[key]} from Swarm node "
                            f"{origin[(target, key)]} and {key}={value} from {hostname}",
                            obj=f"Node {target}",
                            field=key,
                        )
                    have[key] = value
                    origin[(target, key)] = hostname
                    entries.append(
                        {
                            "swarm_node": hostname,
                            "node": target,
                            "attribute": attribute,
                            "label": key,
                            "value": value,
                            "status": "mapped",
                        }
                    )
    return wanted, entries


def conflicts(wanted: dict[str, dict[str, str]], live: dict[str, dict[str, str]], owned=None):
    """Labels a node already has with another value (not set by this runbook before)."""
    owned = owned or {}
    found = []
    for node, labels in sorted(wanted.items()):
        if node not in live:
            found.append({"node": node, "label": None, "cause": "no such Kubernetes node"})
            continue
        for key, value in sorted(labels.items()):
            current = live[node].get(key)
            if current is not None and current != value and key not in owned.get(node, ()):
                found.append(
                    {
                        "node": node,
                        "label": key,
                        "cause": f"has {key}={current}, Swarm says {value}",
                    }
                )
    return found


def cluster_labels(live: dict[str, dict[str, str]], wanted: dict[str, dict[str, str]]) -> dict:
    """Label -> sorted values over all nodes once the wanted labels are set (the converter's node_labels)."""
    values: dict[str, set[str]] = {}
    for node in sorted(set(live) | set(wanted)):
        for key, value in {**live.get(node, {}), **wanted.get(node, {})}.items():
            values.setdefault(key, set()).add(value)
    return {key: sorted(v) for key, v in sorted(values.items())}
