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
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.selectors import (
    matches as selector_matches,
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
# On a node whose dedication taint this runbook added: only such a taint is ever removed.
TAINT_ANNOTATION = "ingress-ha.ackops.io/dedicated-taint"
ZONE_SPREAD = "topology.kubernetes.io/zone"
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


def ready_state(node: dict) -> str:
    """The node's Ready condition as kubectl shows it: Ready, NotReady, Unknown, no status."""
    conditions = node.get("status", {}).get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == "Ready"), None)
    if ready is None:
        return "no Ready condition"
    return {"True": "Ready", "False": "NotReady"}.get(ready.get("status"), "Unknown")


def tolerates(tolerations: list[dict], taint: dict) -> bool:
    """Whether one of ``tolerations`` tolerates ``taint`` (the scheduler's matching rules)."""
    for tol in tolerations:
        if tol.get("effect") and tol["effect"] != taint.get("effect"):
            continue
        if not tol.get("key"):
            if tol.get("operator") == "Exists":
                return True
            continue
        if tol["key"] != taint.get("key"):
            continue
        if tol.get("operator") == "Exists" or tol.get("value", "") == taint.get("value", ""):
            return True
    return False


def other_selector(controller: dict) -> dict:
    """The controller's nodeSelector without the ingress label: what a node must match too."""
    selector = controller["spec"]["template"]["spec"].get("nodeSelector") or {}
    return {k: v for k, v in selector.items() if k != INGRESS_LABEL}


def matches(node: dict, node_selector: dict) -> bool:
    labels = node.get("metadata", {}).get("labels") or {}
    return all(labels.get(k) == v for k, v in node_selector.items())


def node_problems(
    node: dict, tolerations: list[dict], node_selector: dict | None = None
) -> list[str]:
    """Why the controller's pods cannot run on ``node`` now; [] when they can.

    NotReady (or Unknown), cordoned, a NoSchedule/NoExecute taint the
    controller does not tolerate, or a label of the controller's other
    nodeSelector keys missing. The runbook's own dedication taint is not
    counted: the runbook adds its toleration or removes the taint.
    """
    problems = []
    for key, value in sorted((node_selector or {}).items()):
        if (node.get("metadata", {}).get("labels") or {}).get(key) != value:
            problems.append(f"not matching the controller's nodeSelector {key}={value}")
    state = ready_state(node)
    if state != "Ready":
        problems.append(state)
    if node.get("spec", {}).get("unschedulable"):
        problems.append("cordoned (spec.unschedulable)")
    for taint in node.get("spec", {}).get("taints") or []:
        if taint.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        if taint.get("key") == INGRESS_LABEL or tolerates(tolerations, taint):
            continue
        value = f"={taint['value']}" if taint.get("value") else ""
        problems.append(f"taint {taint.get('key')}{value}:{taint['effect']} not tolerated")
    return problems


def has_ingress_label(node: dict) -> bool:
    labels = node.get("metadata", {}).get("labels") or {}
    return labels.get(INGRESS_LABEL) == INGRESS_VALUE


def zone_of(node: dict) -> str:
    return (node.get("metadata", {}).get("labels") or {}).get(ZONE_LABEL, "")


def select_nodes(
    nodes: list[dict],
    replicas: int,
    requested: list[dict] | None,
    automatic: bool = False,
    tolerations: list[dict] | None = None,
    node_selector: dict | None = None,
) -> list[str]:
    """The names of the nodes that must carry the ingress label.

    ``requested`` is the inventory's ingress group as ``{host, node_name,
    master}`` entries (``master``: the host is in the inventory's masters);
    every one must be a worker the controller can run on now (``node_problems``
    with the controller's ``tolerations``), and they must number at least
    ``replicas``. Empty or None chooses ``replicas`` usable workers, but only
    with ``automatic``: an empty group is otherwise refused, since labelling
    arbitrary workers (and, with prune, unlabelling the real ingress nodes) is
    never a silent fallback. Every problem is reported at once, before
    anything is changed.
    """
    by_name = {n["metadata"]["name"]: n for n in nodes}

    def problems_of(node: dict) -> list[str]:
        return node_problems(node, tolerations or [], node_selector)

    if requested:
        return _requested_nodes(by_name, replicas, requested, problems_of)
    if not automatic:
        raise IngressHAError(
            "the ingress group is empty or missing and automatic selection was not asked for: "
            "name the ingress nodes in the inventory's ingress group (ingress_ha_group), or set "
            "ingress_ha_automatic_selection (module option automatic_selection) to let the "
            f"runbook choose {replicas} ready workers"
        )
    return _automatic_nodes(nodes, replicas, problems_of)


def _requested_nodes(by_name: dict, replicas: int, requested: list[dict], problems_of) -> list[str]:
    problems = []
    unusable = []
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
        elif problems_of(node):
            unusable.append(f"host {host}: node {name} is {', '.join(problems_of(node))}")
        elif name not in wanted:
            wanted.append(name)
    if problems:
        raise IngressHAError(
            "refusing to label masters or unknown nodes as ingress nodes: "
            + "; ".join(problems + unusable)
            + ". Ingress nodes must be workers."
        )
    if unusable:
        raise IngressHAError(
            "refusing ingress nodes the controller cannot run on now: "
            + "; ".join(unusable)
            + ". Fix the nodes (uncordon, recover, or tolerate the taint) or take them out of "
            "the ingress group."
        )
    if len(wanted) < replicas:
        raise IngressHAError(
            f"the ingress group has {len(wanted)} node(s) ({', '.join(sorted(wanted))}) "
            f"for {replicas} replicas: every replica needs a node of its own; add workers "
            "to the ingress group or lower the replicas"
        )
    return sorted(wanted)


def _automatic_nodes(nodes: list[dict], replicas: int, problems_of) -> list[str]:
    """``replicas`` usable workers, spread over zones, keeping nodes already labelled."""
    eligible = [n for n in nodes if not master_reason(n) and not problems_of(n)]
    if len(eligible) < replicas:
        names = ", ".join(sorted(n["metadata"]["name"] for n in eligible)) or "none"
        skipped = [
            f"{n['metadata']['name']} ({', '.join(problems_of(n))})"
            for n in nodes
            if not master_reason(n) and problems_of(n)
        ]
        raise IngressHAError(
            f"only {len(eligible)} ready, schedulable worker(s) ({names}) for {replicas} "
            "replicas: every replica needs a node of its own and masters are never chosen"
            + (f"; skipped: {'; '.join(skipped)}" if skipped else "")
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


def node_view(
    node: dict,
    labels: dict | None = None,
    taints: list | None = None,
    annotations: dict | None = None,
) -> dict:
    """The part of a Node this runbook manages, as a valid Node manifest."""
    meta = node["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": meta["name"],
            "labels": dict(meta.get("labels") or {}) if labels is None else labels,
            "annotations": {
                k: v for k, v in (meta.get("annotations") or {}).items() if k == TAINT_ANNOTATION
            }
            if annotations is None
            else annotations,
        },
        "spec": {
            "taints": list(node.get("spec", {}).get("taints") or []) if taints is None else taints
        },
    }


def _pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def tainted_by_us(node: dict) -> bool:
    """The dedication taint is on the node and this runbook put it there (its annotation)."""
    meta = node.get("metadata") or {}
    taints = node.get("spec", {}).get("taints") or []
    return DEDICATED_TAINT in taints and TAINT_ANNOTATION in (meta.get("annotations") or {})


def foreign_dedication_taint(node: dict) -> bool:
    """The dedication taint is on the node, but not put there by this runbook."""
    taints = node.get("spec", {}).get("taints") or []
    return DEDICATED_TAINT in taints and not tainted_by_us(node)


def plan_node(node: dict, wanted: bool, prune: bool, dedicate: bool) -> dict | None:
    """Labels, taints and the taint annotation ``node`` must get; None when it is right already.

    The dedication taint is added with the annotation ``TAINT_ANNOTATION``,
    and only a taint carrying it is ever removed (dedication off, or the node
    pruned): a taint someone else put there stays. Returns ``before``/``after``
    views, the JSON-patch ``operations`` and the ``actions`` taken (label,
    unlabel, taint, untaint).
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
    annotated = TAINT_ANNOTATION in before["metadata"]["annotations"]
    taints, annotations = list(current), dict(before["metadata"]["annotations"])
    if dedicate and ingress_node:
        if DEDICATED_TAINT not in current:
            taints.append(dict(DEDICATED_TAINT))
            annotations[TAINT_ANNOTATION] = "true"
            actions.append("taint")
    elif annotated:
        taints = [t for t in current if t != DEDICATED_TAINT]
        annotations.pop(TAINT_ANNOTATION)
        actions.append("untaint")
    after = node_view(node, labels, taints, annotations)
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
    annotation_path = f"/metadata/annotations/{_pointer(TAINT_ANNOTATION)}"
    if "taint" in actions:
        if node["metadata"].get("annotations"):
            operations.append({"op": "add", "path": annotation_path, "value": "true"})
        else:
            operations.append({"op": "add", "path": "/metadata/annotations", "value": annotations})
    if "untaint" in actions:
        operations.append({"op": "remove", "path": annotation_path})
    if taints != current:
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


def spread_constraint(labels: dict) -> dict:
    """Spread the pods over zones, as evenly as the labelled nodes allow (never blocking)."""
    return {
        "maxSkew": 1,
        "topologyKey": ZONE_SPREAD,
        # ScheduleAnyway: with uneven zones DoNotSchedule would leave replicas Pending.
        "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": {"matchLabels": dict(labels)},
    }


def controller_body(
    controller: dict, replicas: int | None, node_count: int, dedicate: bool
) -> dict:
    """The server-side apply body for the controller: only the fields this runbook owns.

    nodeSelector (the current keys plus the ingress label), a required pod
    anti-affinity per hostname on the pods' own labels, a zone topology
    spread, the tolerations (an atomic list: the current ones are kept, the
    dedicated one added or dropped), and for a Deployment the replicas
    (None: an HPA owns them, left out) and, when there is no spare labelled
    node, a rolling update that stops one pod before starting its
    replacement (a surge pod would have nowhere to go).
    """
    kind = controller["kind"]
    pod_spec = controller["spec"]["template"]["spec"]
    labels = selector_labels(controller)
    term = anti_affinity_term(labels)
    current_terms = ((pod_spec.get("affinity") or {}).get("podAntiAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or []
    terms = [t for t in current_terms if t != term] + [term]
    template_spec: dict = {
        # nodeSelector is an atomic map: keep the keys already there.
        "nodeSelector": {**(pod_spec.get("nodeSelector") or {}), INGRESS_LABEL: INGRESS_VALUE},
        "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": terms}},
        # A map-list keyed by topologyKey and whenUnsatisfiable: others' entries stay.
        "topologySpreadConstraints": [spread_constraint(labels)],
    }
    tolerations = [t for t in pod_spec.get("tolerations") or [] if t != DEDICATED_TOLERATION]
    if dedicate:
        tolerations.append(dict(DEDICATED_TOLERATION))
    if tolerations:
        template_spec["tolerations"] = tolerations
    spec: dict = {"template": {"spec": template_spec}}
    if kind == "Deployment":
        if replicas is not None:
            spec["replicas"] = replicas
        wanted = replicas if replicas is not None else controller["spec"].get("replicas", 1)
        strategy = controller["spec"].get("strategy") or {}
        if node_count <= wanted and strategy.get("type", "RollingUpdate") == "RollingUpdate":
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


def selects(selector: dict | None, labels: dict) -> bool:
    """Whether a policy/v1 PodDisruptionBudget's selector selects ``labels``.

    A missing (null) selector selects nothing; an empty one (``{}``) selects
    every pod of the namespace, as policy/v1 defines it (the Eviction API then
    counts that budget too, and refuses a pod that two budgets cover).
    """
    return selector_matches(selector, labels, empty_matches_all=True)


def other_budgets(budgets: list[dict], controller: dict) -> list[str]:
    """Names of PodDisruptionBudgets, not named like the controller, that select its pods."""
    pod_labels = (controller["spec"]["template"].get("metadata") or {}).get("labels") or {}
    return sorted(
        b["metadata"]["name"]
        for b in budgets
        if b["metadata"]["name"] != controller["metadata"]["name"]
        and selects((b.get("spec") or {}).get("selector"), pod_labels)
    )


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
        # OnDelete: the pods keep their template until deleted; only placement counts.
        updated = on_delete(controller) or status.get("updatedNumberScheduled", 0) == desired
        return (
            updated
            and status.get("numberAvailable", 0) == desired
            and not status.get("numberMisscheduled", 0)
        )
    wanted = spec.get("replicas", 1)
    return (
        status.get("updatedReplicas", 0) == wanted
        and status.get("replicas", 0) == wanted
        and status.get("availableReplicas", 0) == wanted
    )


def on_delete(controller: dict) -> bool:
    """A DaemonSet whose pods are replaced only when someone deletes them."""
    strategy = controller["spec"].get("updateStrategy") or {}
    return controller["kind"] == "DaemonSet" and strategy.get("type") == "OnDelete"


def outdated_daemon_pods(controller: dict, pods: list[dict]) -> list[dict]:
    """Live pods of an OnDelete DaemonSet still running an older template (to delete by hand).

    The DaemonSet controller labels each pod ``pod-template-generation`` with the
    template generation, which the API server keeps in the annotation
    ``deprecated.daemonset.template.generation`` and bumps only when the pod
    template changes (pkg/controller/daemon/util GetTemplateGeneration);
    ``metadata.generation`` also moves on any other spec change (e.g.
    revisionHistoryLimit), so it is only the fallback for a DaemonSet without it.
    """
    meta = controller["metadata"]
    generation = str(
        (meta.get("annotations") or {}).get(
            "deprecated.daemonset.template.generation", meta.get("generation", "")
        )
    )
    return [
        p
        for p in live_pods(pods)
        if (p["metadata"].get("labels") or {}).get("pod-template-generation") != generation
    ]


# ---- ownership: Helm charts, ACK add-ons, HPAs

HELM_RELEASE_ANNOTATION = "meta.helm.sh/release-name"
HELM_NAMESPACE_ANNOTATION = "meta.helm.sh/release-namespace"
ADDON_MODE_LABEL = "addonmanager.kubernetes.io/mode"

# Which chart value (the ingress-nginx chart's names) or add-on setting sets a field.
CHART_VALUES = {
    ".spec.replicas": "controller.replicaCount",
    ".spec.strategy": "controller.updateStrategy",
    ".spec.updateStrategy": "controller.updateStrategy",
    ".spec.template.spec.nodeSelector": "controller.nodeSelector",
    ".spec.template.spec.tolerations": "controller.tolerations",
    ".spec.template.spec.affinity": "controller.affinity",
    ".spec.template.spec.topologySpreadConstraints": "controller.topologySpreadConstraints",
}
ADDON_SETTINGS = {
    ".spec.replicas": "the number of replicas",
    ".spec.template.spec.nodeSelector": "the node selector",
    ".spec.template.spec.tolerations": "the tolerations",
    ".spec.template.spec.affinity": "the affinity",
}


def owner_of(controller: dict, managers: list[str] | None = None) -> dict:
    """Who deploys the controller: a Helm release, an ACK/addon-manager add-on, or nobody known.

    Helm: the ``meta.helm.sh/release-name`` annotation, the label
    ``app.kubernetes.io/managed-by=Helm`` or a field manager ``helm``. Add-on: the
    ``addonmanager.kubernetes.io/mode`` label, or a field manager whose name
    says addon (ACK's add-on manager).
    """
    meta = controller["metadata"]
    labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
    if (
        HELM_RELEASE_ANNOTATION in annotations
        or labels.get("app.kubernetes.io/managed-by", "").lower() == "helm"
        or any(m.lower() == "helm" for m in managers or [])
    ):
        return {
            "type": "helm",
            "release": annotations.get(HELM_RELEASE_ANNOTATION, "unknown"),
            "release_namespace": annotations.get(HELM_NAMESPACE_ANNOTATION, meta["namespace"]),
        }
    addon_managers = [m for m in managers or [] if "addon" in m.lower()]
    if ADDON_MODE_LABEL in labels or addon_managers:
        return {
            "type": "addon",
            "mode": labels.get(ADDON_MODE_LABEL, ""),
            "managers": addon_managers,
        }
    return {"type": None}


def _field_key(field: str) -> str:
    return next((key for key in CHART_VALUES if field.startswith(key)), field)


def ownership_advice(owner: dict, fields: list[str]) -> str:
    """What the operator changes instead of letting this runbook take the fields over."""
    keys = sorted({_field_key(f) for f in fields})
    if owner["type"] == "helm":
        values = sorted({CHART_VALUES[k] for k in keys if k in CHART_VALUES})
        return (
            f"the controller is deployed by the Helm release {owner['release_namespace']}/"
            f"{owner['release']}: set {', '.join(values) or 'the matching values'} in its "
            "chart values (and controller.kind/controller.autoscaling for the kind and an HPA) "
            "and run helm upgrade; its next upgrade would revert a change made here"
        )
    if owner["type"] == "addon":
        settings = sorted({ADDON_SETTINGS[k] for k in keys if k in ADDON_SETTINGS})
        return (
            "the controller is a managed add-on: change "
            f"{', '.join(settings) or 'these fields'} in the add-on's configuration (ACK "
            "console, Add-ons, the ingress controller, Configuration) so the add-on manager "
            "does not revert them"
        )
    return "change them where that manager's configuration lives"


def find_hpa(hpas: list[dict], controller: dict) -> dict | None:
    """The HorizontalPodAutoscaler scaling ``controller``, if any."""
    for hpa in hpas:
        ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        if (
            ref.get("kind") == controller["kind"]
            and ref.get("name") == controller["metadata"]["name"]
        ):
            return hpa
    return None


def hpa_report(hpa: dict, labelled: int) -> dict:
    """The HPA's bounds against the labelled nodes (one pod per node under the anti-affinity)."""
    spec = hpa.get("spec") or {}
    minimum, maximum = spec.get("minReplicas", 1), spec.get("maxReplicas", 0)
    problems = []
    if maximum > labelled:
        problems.append(
            f"HorizontalPodAutoscaler {hpa['metadata']['name']} may scale to maxReplicas "
            f"{maximum}, more than the {labelled} labelled ingress node(s): the pods beyond "
            f"{labelled} would stay Pending under the required anti-affinity; lower maxReplicas "
            "or label more ingress nodes"
        )
    if minimum > labelled:
        problems.append(
            f"HorizontalPodAutoscaler {hpa['metadata']['name']} keeps at least minReplicas "
            f"{minimum} pods, more than the {labelled} labelled ingress node(s)"
        )
    return {
        "name": hpa["metadata"]["name"],
        "min_replicas": minimum,
        "max_replicas": maximum,
        "labelled_nodes": labelled,
        "problems": problems,
    }


def zone_warning(nodes: list[dict], labelled: set[str]) -> str | None:
    """A warning when every ingress node sits in one zone (a zone outage takes all of them)."""
    zones = {zone_of(n) for n in nodes if n["metadata"]["name"] in labelled}
    if len(labelled) > 1 and len(zones) == 1:
        zone = next(iter(zones)) or "(no zone label)"
        return (
            f"all {len(labelled)} ingress nodes are in zone {zone}: an outage of that zone "
            "takes every ingress replica down; add ingress nodes in other zones"
        )
    return None


def pods_to_clear(pods: list[dict], nodes: set[str], controller_labels: dict) -> tuple[list, list]:
    """With dedication: the pods on ``nodes`` to evict, and those left (with why).

    Evicted: live pods that are not the controller's and do not tolerate the
    dedication taint. Left, with why, as ``kubectl drain`` leaves them: DaemonSet
    pods (their controller places them by its own rules), mirror pods of static
    manifests, pods no controller would recreate (an eviction deletes them for
    good), and pods with emptyDir volumes (an eviction deletes their data).
    """
    evict, left = [], []
    for pod in live_pods(pods):
        meta = pod["metadata"]
        if (pod.get("spec") or {}).get("nodeName") not in nodes:
            continue
        labels = meta.get("labels") or {}
        if all(labels.get(k) == v for k, v in controller_labels.items()):
            continue
        if tolerates((pod.get("spec") or {}).get("tolerations") or [], DEDICATED_TAINT):
            continue
        owners = [o.get("kind") for o in meta.get("ownerReferences") or []]
        volumes = (pod.get("spec") or {}).get("volumes") or []
        if "DaemonSet" in owners:
            left.append((pod, "DaemonSet pod"))
        elif "kubernetes.io/config.mirror" in (meta.get("annotations") or {}):
            left.append((pod, "static (mirror) pod"))
        elif not owners:
            why = "no controller would recreate it (evicting deletes it for good)"
            left.append((pod, why + "; move or delete it yourself"))
        elif any(isinstance(v, dict) and "emptyDir" in v for v in volumes):
            left.append(
                (pod, "its emptyDir data would be deleted by an eviction; move it yourself")
            )
        else:
            evict.append(pod)
    return evict, left
