# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dedicated, highly available ingress nodes (ACK guide, section 3): the plan.

Pure decisions on plain dicts: which nodes carry the ingress label, what each
node, the controller and its PodDisruptionBudget must look like, whether the
replicas ended up one per labelled node. ``converge.py`` drives them through
an ``ObjectClient``; ``report.py`` turns the outcome into the result and the
Markdown report.
"""

from __future__ import annotations

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import (
    describe,
    eviction,
)

__all__ = ["eviction"]  # the Eviction manifest comes from the access layer

INGRESS_LABEL = "node-role.kubernetes.io/ingress"
INGRESS_VALUE = "true"
MASTER_KEYS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
ZONE_LABEL = "topology.kubernetes.io/zone"
HOSTNAME_TOPOLOGY = "kubernetes.io/hostname"
DEDICATED_TAINT = {"key": INGRESS_LABEL, "value": INGRESS_VALUE, "effect": "NoSchedule"}
DEDICATED_TOLERATION = {
    "key": INGRESS_LABEL,
    "operator": "Equal",
    "value": INGRESS_VALUE,
    "effect": "NoSchedule",
}
MANAGED_BY = "ackops.runbooks.ingress_ha"
# Gray-release annotations (service-match, service-weight) need this controller.
GRAY_RELEASE_MINIMUM = "0.12.0-5"


class IngressHAError(RunbookError):
    """Refused or failed; the message names the hosts, nodes or objects concerned."""


# ---- nodes


def master_reason(node: dict) -> str | None:
    """Why a node is a master (a control-plane label or taint), None for a worker."""
    labels = node.get("metadata", {}).get("labels") or {}
    for key in MASTER_KEYS:
        if key in labels:
            return f"label {key}"
    for taint in node.get("spec", {}).get("taints") or []:
        if taint.get("key") in MASTER_KEYS:
            return f"taint {taint['key']}:{taint.get('effect', '')}"
    return None


def is_ready(node: dict) -> bool:
    conditions = node.get("status", {}).get("conditions") or []
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
    return ready and not node.get("spec", {}).get("unschedulable")


def has_ingress_label(node: dict) -> bool:
    labels = node.get("metadata", {}).get("labels") or {}
    return labels.get(INGRESS_LABEL) == INGRESS_VALUE


def zone_of(node: dict) -> str:
    return (node.get("metadata", {}).get("labels") or {}).get(ZONE_LABEL, "")


def select_nodes(nodes: list[dict], replicas: int, requested: list[dict] | None) -> list[str]:
    """The names of the nodes that must carry the ingress label.

    ``requested`` is the inventory's ingress group as ``{host, node_name,
    master}`` entries (``master``: the host is in the inventory's masters);
    empty or None chooses ``replicas`` workers automatically. Every problem is
    reported at once, before anything is changed.
    """
    by_name = {n["metadata"]["name"]: n for n in nodes}
    if requested:
        return _requested_nodes(by_name, replicas, requested)
    return _automatic_nodes(nodes, replicas)


def _requested_nodes(by_name: dict, replicas: int, requested: list[dict]) -> list[str]:
    problems = []
    wanted: list[str] = []
    for entry in requested:
        host, name = entry["host"], entry.get("node_name") or entry["host"]
        node = by_name.get(name)
        if entry.get("master"):
            problems.append(f"host {host} (node {name}) is in the masters group")
        elif node is None:
            problems.append(f"host {host}: no node named {name} in the cluster (k8s_node_name?)")
        elif master_reason(node):
            problems.append(f"host {host}: node {name} is a master ({master_reason(node)})")
        elif name not in wanted:
            wanted.append(name)
    if problems:
        raise IngressHAError(
            "refusing to label masters or unknown nodes as ingress nodes: "
            + "; ".join(problems)
            + ". Ingress nodes must be workers."
        )
    if len(wanted) < replicas:
        raise IngressHAError(
            f"the ingress group has {len(wanted)} node(s) ({', '.join(sorted(wanted))}) "
            f"for {replicas} replicas: every replica needs a node of its own; add workers "
            "to the ingress group or lower the replicas"
        )
    return sorted(wanted)


def _automatic_nodes(nodes: list[dict], replicas: int) -> list[str]:
    """``replicas`` ready workers, spread over zones, keeping nodes already labelled."""
    eligible = [n for n in nodes if not master_reason(n) and is_ready(n)]
    if len(eligible) < replicas:
        names = ", ".join(sorted(n["metadata"]["name"] for n in eligible)) or "none"
        raise IngressHAError(
            f"only {len(eligible)} ready, schedulable worker(s) ({names}) for {replicas} "
            "replicas: every replica needs a node of its own and masters are never chosen"
        )
    chosen: list[dict] = []
    per_zone: dict[str, int] = {}
    remaining = list(eligible)
    while len(chosen) < replicas:
        # The least used zone first, then nodes already labelled (no churn), then by name.
        best = min(
            remaining,
            key=lambda n: (
                per_zone.get(zone_of(n), 0),
                not has_ingress_label(n),
                n["metadata"]["name"],
            ),
        )
        remaining.remove(best)
        chosen.append(best)
        per_zone[zone_of(best)] = per_zone.get(zone_of(best), 0) + 1
    return sorted(n["metadata"]["name"] for n in chosen)


def node_view(node: dict, labels: dict | None = None, taints: list | None = None) -> dict:
    """The part of a Node this runbook manages, as a valid Node manifest."""
    meta = node["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": meta["name"],
            "labels": dict(meta.get("labels") or {}) if labels is None else labels,
        },
        "spec": {
            "taints": list(node.get("spec", {}).get("taints") or []) if taints is None else taints
        },
    }


def _pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def plan_node(node: dict, wanted: bool, prune: bool, dedicate: bool) -> dict | None:
    """Labels and taints ``node`` must get; None when it is right already.

    Returns ``before``/``after`` views, the JSON-patch ``operations`` and the
    ``actions`` taken (label, unlabel, taint, untaint).
    """
    before = node_view(node)
    labels = dict(before["metadata"]["labels"])
    actions = []
    if wanted and not has_ingress_label(node):
        labels[INGRESS_LABEL] = INGRESS_VALUE
        actions.append("label")
    elif not wanted and prune and INGRESS_LABEL in labels:
        del labels[INGRESS_LABEL]
        actions.append("unlabel")
    ingress_node = labels.get(INGRESS_LABEL) == INGRESS_VALUE
    current = before["spec"]["taints"]
    ours = [t for t in current if t.get("key") == INGRESS_LABEL]
    taints = [t for t in current if t.get("key") != INGRESS_LABEL]
    if dedicate and ingress_node:
        if ours == [DEDICATED_TAINT]:
            taints = list(current)  # keep its position: no change
        else:
            taints.append(dict(DEDICATED_TAINT))
            actions.append("taint")
    elif ours:
        actions.append("untaint")
    after = node_view(node, labels, taints)
    if after == before:
        return None
    operations = []
    label_path = f"/metadata/labels/{_pointer(INGRESS_LABEL)}"
    if "label" in actions:
        if node["metadata"].get("labels"):
            operations.append({"op": "add", "path": label_path, "value": INGRESS_VALUE})
        else:
            operations.append({"op": "add", "path": "/metadata/labels", "value": labels})
    if "unlabel" in actions:
        operations.append({"op": "remove", "path": label_path})
    if taints != before["spec"]["taints"]:
        if taints:
            operations.append({"op": "add", "path": "/spec/taints", "value": taints})
        else:
            operations.append({"op": "remove", "path": "/spec/taints"})
    return {
        "node": node["metadata"]["name"],
        "actions": actions,
        "operations": operations,
        "before": before,
        "after": after,
    }


# ---- controller


def controller_container(controller: dict) -> dict:
    """The ingress controller's container: the one whose image names ingress, else the first."""
    containers = controller["spec"]["template"]["spec"].get("containers") or []
    if not containers:
        raise IngressHAError(f"{describe(controller)} has no containers")
    return next((c for c in containers if "ingress" in c.get("image", "")), containers[0])


def selector_labels(controller: dict) -> dict:
    labels = (controller["spec"].get("selector") or {}).get("matchLabels") or {}
    if not labels:
        raise IngressHAError(
            f"{describe(controller)} selects its pods without matchLabels; the anti-affinity "
            "and the PodDisruptionBudget need them"
        )
    return dict(labels)


def anti_affinity_term(labels: dict) -> dict:
    return {"labelSelector": {"matchLabels": dict(labels)}, "topologyKey": HOSTNAME_TOPOLOGY}


def controller_body(controller: dict, replicas: int, node_count: int, dedicate: bool) -> dict:
    """The server-side apply body for the controller: only the fields this runbook owns.

    nodeSelector (the current keys plus the ingress label), a required pod
    anti-affinity per hostname on the pods' own labels, the tolerations (an
    atomic list: the current ones are kept, the dedicated one added or
    dropped), and for a Deployment the replicas and, when there is no spare
    labelled node, a rolling update that stops one pod before starting its
    replacement (a surge pod would have nowhere to go).
    """
    kind = controller["kind"]
    pod_spec = controller["spec"]["template"]["spec"]
    term = anti_affinity_term(selector_labels(controller))
    current_terms = ((pod_spec.get("affinity") or {}).get("podAntiAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or []
    terms = [t for t in current_terms if t != term] + [term]
    template_spec: dict = {
        # nodeSelector is an atomic map: keep the keys already there.
        "nodeSelector": {**(pod_spec.get("nodeSelector") or {}), INGRESS_LABEL: INGRESS_VALUE},
        "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": terms}},
    }
    tolerations = [t for t in pod_spec.get("tolerations") or [] if t != DEDICATED_TOLERATION]
    if dedicate:
        tolerations.append(dict(DEDICATED_TOLERATION))
    if tolerations:
        template_spec["tolerations"] = tolerations
    spec: dict = {"template": {"spec": template_spec}}
    if kind == "Deployment":
        spec["replicas"] = replicas
        strategy = controller["spec"].get("strategy") or {}
        if node_count <= replicas and strategy.get("type", "RollingUpdate") == "RollingUpdate":
            spec["strategy"] = {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1},
            }
    meta = controller["metadata"]
    return {
        "apiVersion": controller.get("apiVersion", "apps/v1"),
        "kind": kind,
        "metadata": {"name": meta["name"], "namespace": meta["namespace"]},
        "spec": spec,
    }


def pdb_manifest(controller: dict, max_unavailable: int) -> dict:
    """A policy/v1 PodDisruptionBudget for the controller's pods (same name)."""
    meta = controller["metadata"]
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "labels": {"app.kubernetes.io/managed-by": MANAGED_BY},
        },
        "spec": {
            "maxUnavailable": max_unavailable,
            "selector": {"matchLabels": selector_labels(controller)},
        },
    }


def changed_fields(before: dict | None, after: dict | None, prefix: str = "") -> list[str]:
    """Dotted paths whose value differs (noise removed), for the report."""
    if before is None:
        return ["created"]
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [prefix] if before != after else []
    paths = []
    for key in sorted(set(before) | set(after)):
        path = f"{prefix}.{key}" if prefix else key
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict) and path.count(".") < 3:
            paths.extend(changed_fields(old, new, path))
        else:
            paths.append(path)
    return paths


# ---- pods and placement


def live_pods(pods: list[dict]) -> list[dict]:
    """Pods that count: not terminating, not finished."""
    return [
        p
        for p in pods
        if not p["metadata"].get("deletionTimestamp")
        and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    ]


def pod_ready(pod: dict) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def placement(pods: list[dict], labelled: set[str], expected: int) -> tuple[list[dict], list[str]]:
    """Where the live pods run, and what breaks 'one ready replica per labelled node'."""
    rows, problems, seen = [], [], {}
    for pod in sorted(live_pods(pods), key=lambda p: p["metadata"]["name"]):
        name = pod["metadata"]["name"]
        node = pod.get("spec", {}).get("nodeName")
        rows.append({"pod": name, "node": node, "ready": pod_ready(pod)})
        if not node:
            problems.append(f"pod {name} is not scheduled")
            continue
        if node not in labelled:
            problems.append(f"pod {name} runs on {node}, which has no {INGRESS_LABEL} label")
        if node in seen:
            problems.append(f"pods {seen[node]} and {name} share node {node}")
        seen[node] = name
        if not pod_ready(pod):
            problems.append(f"pod {name} on {node} is not ready")
    if len(rows) != expected:
        problems.append(f"{len(rows)} controller pod(s) running, {expected} expected")
    return rows, problems


def pods_to_move(pods: list[dict], labelled: set[str]) -> list[dict]:
    """Running pods left on nodes without the label (a nodeSelector does not evict)."""
    return [
        p
        for p in live_pods(pods)
        if p.get("spec", {}).get("nodeName") and p["spec"]["nodeName"] not in labelled
    ]


def rollout_done(controller: dict) -> bool:
    spec, status = controller["spec"], controller.get("status") or {}
    if status.get("observedGeneration", 0) < controller["metadata"].get("generation", 0):
        return False
    if controller["kind"] == "DaemonSet":
        desired = status.get("desiredNumberScheduled", 0)
        return (
            status.get("updatedNumberScheduled", 0) == desired
            and status.get("numberAvailable", 0) == desired
        )
    wanted = spec.get("replicas", 1)
    return (
        status.get("updatedReplicas", 0) == wanted
        and status.get("replicas", 0) == wanted
        and status.get("availableReplicas", 0) == wanted
    )
