# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dedicated, highly available ingress nodes (ACK guide, section 3).

Pure decisions on plain dicts: which nodes carry the ingress label, what each
node, the controller and its PodDisruptionBudget must look like, whether the
replicas ended up one per labelled node. ``converge()`` drives them through an
``ObjectClient`` (module_utils/k8s/objects.py): everything is read and checked
before the first write, and in check mode every write is a server-side dry run.
"""

from __future__ import annotations

import time

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError
from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.ack_version import (
    version_gate,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import (
    K8sObjectError,
    describe,
    diff_entry,
    differs,
    strip_noise,
)

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


def eviction(pod: dict) -> dict:
    """A policy/v1 Eviction of ``pod``: honours the PodDisruptionBudget, unlike a delete."""
    meta = pod["metadata"]
    return {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": meta["name"], "namespace": meta["namespace"]},
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


# ---- the run


class Converger:
    """Read, check, then (dry-)apply the ingress HA state; collect the report."""

    def __init__(self, client, params: dict, check_mode: bool, sleep=time.sleep, clock=time.time):
        self.client = client
        self.params = params
        self.check_mode = check_mode
        self.sleep = sleep
        self.clock = clock
        self.changes: list[str] = []
        self.diffs: list[dict] = []

    # reading

    def find_controller(self) -> dict:
        p = self.params
        kinds = (
            ["Deployment", "DaemonSet"]
            if p["controller_kind"] == "auto"
            else [p["controller_kind"]]
        )
        for kind in kinds:
            found = self.client.get("apps/v1", kind, p["controller_name"], p["namespace"])
            if found is not None:
                return found
        raise IngressHAError(
            f"no ingress controller: neither {' nor '.join(kinds)} "
            f"{p['namespace']}/{p['controller_name']} exists (set controller_name or namespace)"
        )

    def pods(self, controller: dict) -> list[dict]:
        selector = ",".join(f"{k}={v}" for k, v in sorted(selector_labels(controller).items()))
        return self.client.list("v1", "Pod", controller["metadata"]["namespace"], selector)

    def service_address(self) -> dict:
        p = self.params
        svc = self.client.get("v1", "Service", p["service_name"], p["namespace"])
        if svc is None:
            return {"name": p["service_name"], "namespace": p["namespace"], "found": False}
        ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        addresses = [i.get("ip") or i.get("hostname") for i in ingress]
        return {
            "name": p["service_name"],
            "namespace": p["namespace"],
            "found": True,
            "type": svc["spec"].get("type"),
            "addresses": [a for a in addresses if a],
        }

    # writing (dry-run in check mode)

    def patch_node(self, plan: dict, node: dict) -> None:
        self.client.json_patch(node, plan["operations"], dry_run=self.check_mode)
        for action in plan["actions"]:
            self.changes.append(f"{action} node {plan['node']}")
        header = f"Node {plan['node']}"
        self.diffs.append(diff_entry(header, plan["before"], plan["after"]))

    def apply(self, body: dict, before: dict | None) -> dict:
        after = self.client.apply(body, dry_run=self.check_mode)
        if differs(before, after):
            fields = changed_fields(strip_noise(before), strip_noise(after))
            verb = "create" if before is None else "update"
            self.changes.append(f"{verb} {describe(body)}: {', '.join(fields)}")
            self.diffs.append(diff_entry(describe(body), before, after))
        return after

    # waiting

    def wait(
        self, controller: dict, labelled: set[str], expected: int, placed: bool = True
    ) -> None:
        """Until the rollout is complete and, with ``placed``, the placement is right."""
        deadline = self.clock() + self.params["wait_timeout"]
        meta = controller["metadata"]
        while True:
            current = self.client.get(
                "apps/v1", controller["kind"], meta["name"], meta["namespace"]
            )
            problems = placement(self.pods(controller), labelled, expected)[1] if placed else []
            if rollout_done(current) and not problems:
                return
            if self.clock() >= deadline:
                raise IngressHAError(
                    f"{describe(controller)} did not settle within {self.params['wait_timeout']}s: "
                    + "; ".join(problems or ["rollout not complete"])
                )
            self.sleep(2)

    def move_pods(self, controller: dict, labelled: set[str], expected: int) -> None:
        """Evict, one at a time, the pods left on nodes that lost the label."""
        for pod in pods_to_move(self.pods(controller), labelled):
            if self.check_mode:
                self.changes.append(
                    f"move pod {pod['metadata']['name']} off {pod['spec']['nodeName']}"
                )
                continue
            try:
                self.client.create_subresource(pod, "eviction", eviction(pod))
            except K8sObjectError as exc:
                if exc.status != 404:  # already gone
                    raise
            self.changes.append(f"move pod {pod['metadata']['name']} off {pod['spec']['nodeName']}")
            self.wait(controller, labelled, expected, placed=False)

    def run(self) -> dict:
        p = self.params
        nodes = self.client.list("v1", "Node")
        controller = self.find_controller()
        replicas = p["replicas"]
        wanted = set(select_nodes(nodes, replicas, p["nodes"]))
        gate = version_gate(controller_container(controller).get("image", ""), GRAY_RELEASE_MINIMUM)
        plans = {}
        for node in nodes:
            plan = plan_node(node, node["metadata"]["name"] in wanted, p["prune"], p["dedicate"])
            if plan:
                plans[plan["node"]] = (plan, node)
        labelled = {n["metadata"]["name"] for n in nodes if has_ingress_label(n)}
        labelled = (labelled | wanted) - {
            name for name in plans if "unlabel" in plans[name][0]["actions"]
        }
        kept = sorted(labelled - wanted)
        expected = replicas if controller["kind"] == "Deployment" else len(labelled)
        body = controller_body(controller, replicas, len(labelled), p["dedicate"])
        pdb = pdb_manifest(controller, p["pdb_max_unavailable"]) if p["pdb"] else None

        # Everything is known and checked: change things, wanted nodes first so
        # the new nodeSelector finds them, nodes that lose the label last.
        for name in sorted(wanted & set(plans)):
            self.patch_node(*plans[name])
        controller_after = self.apply(body, controller)
        controller_changed = differs(controller, controller_after)
        if pdb:
            meta = pdb["metadata"]
            current_pdb = self.client.get(
                "policy/v1", "PodDisruptionBudget", meta["name"], meta["namespace"]
            )
            self.apply(pdb, current_pdb)
        for name in sorted(set(plans) - wanted):
            self.patch_node(*plans[name])

        problems: list[str] = []
        if self.check_mode or not p["wait"]:
            # A changed pod template moves the pods itself; otherwise report the evictions.
            if not controller_changed and controller["kind"] == "Deployment":
                self.move_pods(controller, labelled, expected)
            rows = placement(self.pods(controller), labelled, expected)[0]
        else:
            self.wait(controller_after, labelled, expected, placed=False)
            if controller["kind"] == "Deployment":
                self.move_pods(controller_after, labelled, expected)
            self.wait(controller_after, labelled, expected)
            rows, problems = placement(self.pods(controller), labelled, expected)
            if problems:
                raise IngressHAError("; ".join(problems))
        return {
            "changed": bool(self.changes),
            "changes": self.changes,
            "diff": self.diffs,
            "controller": {
                "kind": controller["kind"],
                "namespace": controller["metadata"]["namespace"],
                "name": controller["metadata"]["name"],
                "image": gate["image"],
                "replicas": expected,
            },
            "version": {
                "tag": gate["tag"],
                "ack_version": gate["version"],
                "gray_release_minimum": gate["minimum"],
                "gray_release_supported": gate["supported"],
                "reason": gate["reason"],
            },
            "nodes": {
                "selection": "inventory" if p["nodes"] else "automatic",
                "wanted": sorted(wanted),
                "labelled": sorted(labelled),
                "kept_without_prune": kept,
                "zones": {
                    n["metadata"]["name"]: zone_of(n)
                    for n in nodes
                    if n["metadata"]["name"] in labelled
                },
                "dedicated": p["dedicate"],
            },
            "pods": rows,
            "placement_problems": problems,
            "service": self.service_address(),
            "check_mode": self.check_mode,
        }


def markdown(report: dict) -> str:
    """The report for people."""
    ctl, ver, nodes, svc = (
        report["controller"],
        report["version"],
        report["nodes"],
        report["service"],
    )
    gray = {True: "yes", False: "no", None: "unknown"}[ver["gray_release_supported"]]
    lines = [
        "# Ingress high availability"
        + (" (check mode: nothing changed)" if report["check_mode"] else ""),
        "",
        f"- Controller: {ctl['kind']} {ctl['namespace']}/{ctl['name']}, {ctl['replicas']} replica(s)",
        f"- Image: `{ctl['image']}` (ACK version {ver['ack_version'] or 'unknown'})",
        f"- Gray-release annotations (need {ver['gray_release_minimum']}): {gray}: {ver['reason']}",
        f"- Ingress nodes ({nodes['selection']}): {', '.join(nodes['labelled']) or 'none'}"
        + (", dedicated (tainted)" if nodes["dedicated"] else ""),
    ]
    if nodes["kept_without_prune"]:
        lines.append(
            f"- Labelled but no longer wanted (prune is off): {', '.join(nodes['kept_without_prune'])}"
        )
    address = ", ".join(svc.get("addresses") or []) or (
        "not assigned" if svc["found"] else "no such Service"
    )
    lines += [
        f"- LB Service {svc['namespace']}/{svc['name']}: {address}",
        "",
        "| pod | node | zone | ready |",
        "|---|---|---|---|",
    ]
    for row in report["pods"]:
        zone = nodes["zones"].get(row["node"], "")
        lines.append(
            f"| {row['pod']} | {row['node'] or '-'} | {zone} | {'yes' if row['ready'] else 'no'} |"
        )
    lines += ["", "Changes:" if report["changes"] else "Changes: none"]
    lines += [f"- {c}" for c in report["changes"]]
    for problem in report["placement_problems"]:
        lines.append(f"- problem: {problem}")
    return "\n".join(lines) + "\n"


def converge(client, params: dict, check_mode: bool) -> dict:
    """Run the whole runbook; errors carry ``changes``, what was already done."""
    converger = Converger(client, params, check_mode)
    try:
        report = converger.run()
    except Exception as exc:
        exc.changes = list(converger.changes)
        raise
    report["markdown"] = markdown(report)
    return report
