# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dedicated, highly available ingress nodes: the ``Converger`` that applies the plan.

Everything is read and checked before the first write. Then, in this order:
the nodes that must carry the label (so the new nodeSelector finds them), the
controller (server-side apply), its PodDisruptionBudget, the nodes that lose
the label. In check mode every write is a server-side dry run and nothing is
evicted or waited for. Waits poll through the injected clock and sleep.
"""

from __future__ import annotations

import time

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import Changes
from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.ack_version import (
    version_gate,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.plan import (
    CHART_VALUES,
    DEDICATED_TOLERATION,
    GRAY_RELEASE_MINIMUM,
    INGRESS_LABEL,
    INGRESS_VALUE,
    IngressHAError,
    changed_fields,
    controller_body,
    controller_container,
    find_hpa,
    foreign_dedication_taint,
    has_ingress_label,
    hpa_report,
    live_pods,
    matches,
    on_delete,
    other_budgets,
    other_selector,
    outdated_daemon_pods,
    owner_of,
    ownership_advice,
    pdb_manifest,
    placement,
    plan_node,
    pod_ready,
    pods_to_clear,
    pods_to_move,
    rollout_done,
    select_nodes,
    selector_labels,
    zone_warning,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.report import (
    markdown,
    result,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.errors import UnknownKindError
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import (
    K8sObjectError,
    apply_conflicts,
    describe,
    diff_entry,
    differs,
    field_owners,
    strip_noise,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.waits import poll_until

# Seconds between two looks at the rollout and the pods.
POLL_INTERVAL = 2


class Converger:
    """Read, check, then (dry-)apply the ingress HA state; collect the report.

    Every change (or, in check mode, change the server accepted as a dry run)
    is a line in ``changes`` and an entry in ``ledger`` (a ``Changes``), so a
    failure half-way still reports what was done.
    """

    def __init__(
        self,
        client,
        params: dict,
        check_mode: bool,
        sleep=time.sleep,
        clock=time.time,
        ledger: Changes | None = None,
    ):
        self.client = client
        self.params = params
        self.check_mode = check_mode
        self.sleep = sleep
        self.clock = clock
        self.ledger = ledger if ledger is not None else Changes()
        self.changes: list[str] = []
        self.diffs: list[dict] = []

    def note(self, action: str, target: str, line: str) -> None:
        self.changes.append(line)
        self.ledger.record(action, target, change=line, check_mode=self.check_mode)

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
        return self.client.list(
            "v1", "Pod", controller["metadata"]["namespace"], selector_labels(controller)
        )

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

    def hpa(self, controller: dict) -> dict | None:
        """The HPA scaling a Deployment controller (None for a DaemonSet, or none served)."""
        if controller["kind"] != "Deployment":
            return None
        try:
            hpas = self.client.list(
                "autoscaling/v2", "HorizontalPodAutoscaler", controller["metadata"]["namespace"]
            )
        except UnknownKindError:
            return None
        return find_hpa(hpas, controller)

    # writing (dry-run in check mode)

    def patch_node(self, plan: dict, node: dict, wanted: bool) -> None:
        """The node's labels and taints; re-read and re-planned if it changed meanwhile."""
        p = self.params
        planned: dict = {}

        def operations(current):
            fresh = plan_node(current, wanted, p["prune"], p["dedicate"])
            planned["plan"] = fresh
            return fresh["operations"] if fresh else None

        self.client.patch_retrying("v1", "Node", plan["node"], None, operations, self.check_mode)
        fresh = planned.get("plan")
        if not fresh:
            return
        for action in fresh["actions"]:
            self.note(action, f"Node {fresh['node']}", f"{action} node {fresh['node']}")
        self.diffs.append(diff_entry(f"Node {fresh['node']}", fresh["before"], fresh["after"]))

    def apply(self, body: dict, before: dict | None, owner: dict | None = None) -> dict:
        """Server-side apply without force unless ``take_ownership``; a conflict is refused.

        The refusal names the other field managers, the fields they own, and
        (Helm chart or managed add-on) what to change there instead.
        """
        try:
            after = self.client.apply(
                body, dry_run=self.check_mode, force=self.params["take_ownership"]
            )
        except K8sObjectError as exc:
            conflicts = apply_conflicts(exc)
            if not conflicts:
                raise
            owner = owner if owner is not None else owner_of(body, list(conflicts))
            if owner["type"] is None:
                owner = owner_of(body, list(conflicts))
            fields = [f for fs in conflicts.values() for f in fs]
            owned = "; ".join(
                f'field manager "{m}" owns {", ".join(fs)}' for m, fs in sorted(conflicts.items())
            )
            raise IngressHAError(
                # obj= puts the object first: the cause does not repeat it.
                "fields this runbook sets are owned by other field managers: "
                f"{owned}. Not changed: {ownership_advice(owner, fields)}. To take them over "
                "anyway set ingress_ha_take_ownership=true (module option take_ownership).",
                obj=describe(body),
                details={"conflicts": conflicts, "owner": owner},
            ) from exc
        if differs(before, after):
            fields = changed_fields(strip_noise(before), strip_noise(after))
            verb = "create" if before is None else "update"
            self.note(verb, describe(body), f"{verb} {describe(body)}: {', '.join(fields)}")
            self.diffs.append(diff_entry(describe(body), before, after))
        return after

    def preflight(self, body: dict, owner: dict) -> None:
        """A dry-run apply before the first write: a field-ownership conflict changes nothing."""
        saved = self.check_mode, list(self.changes), list(self.diffs), list(self.ledger)
        self.check_mode = True
        try:
            self.apply(body, None, owner)
        finally:
            self.check_mode, self.changes, self.diffs = saved[0], saved[1], saved[2]
            del self.ledger[len(saved[3]) :]

    # evicting and waiting

    def controller_state(self, controller: dict, labelled: set[str]) -> dict:
        """Where the controller's pods are now: ready on labelled nodes, left elsewhere."""
        pods = live_pods(self.pods(controller))
        return {
            "ready_on_labelled_nodes": sorted(
                p["metadata"]["name"]
                for p in pods
                if p["spec"].get("nodeName") in labelled and pod_ready(p)
            ),
            "on_unlabelled_nodes": sorted(
                f"{p['metadata']['name']} on {p['spec']['nodeName']}"
                for p in pods
                if p["spec"].get("nodeName") and p["spec"]["nodeName"] not in labelled
            ),
        }

    def evict_safely(
        self, pod: dict, controller: dict, labelled: set[str], ready_target: int, why: str
    ) -> bool:
        """Evict ``pod`` (429 retried with backoff), then wait until it is gone and
        ``ready_target`` controller pods are Ready on labelled nodes.

        False (nothing recorded) when the pod was already gone. On a refusal
        that outlasts ``wait_timeout`` or a replacement that never gets Ready,
        stops with what is where (``controller_state``) in the error.
        """
        meta, timeout = pod["metadata"], self.params["wait_timeout"]
        target = describe(pod)
        try:
            evicted = self.client.evict_retrying(pod, timeout, clock=self.clock, sleep=self.sleep)
        except K8sObjectError as exc:
            if exc.status != 429:
                raise
            state = self.controller_state(controller, labelled)
            raise IngressHAError(
                f"stopped: the eviction of {target} was refused for {timeout}s (a "
                f"PodDisruptionBudget allows no disruption: {exc}). Nothing is half-way: no "
                f"eviction is in flight; ready on labelled nodes: "
                f"{', '.join(state['ready_on_labelled_nodes']) or 'none'}; still to move: "
                f"{', '.join(state['on_unlabelled_nodes']) or 'none'}. Rerun once the budget "
                "allows a disruption.",
                obj=target,
                details={"status": 429, **state},
            ) from exc
        if not evicted:
            return False
        line = f"{why} pod {meta['name']} off {pod['spec']['nodeName']}"
        self.note("evict", target, line)

        def settled():
            current = self.client.get("v1", "Pod", meta["name"], meta["namespace"])
            gone = current is None or current["metadata"].get("uid") != meta.get("uid")
            state = self.controller_state(controller, labelled)
            return gone and len(state["ready_on_labelled_nodes"]) >= ready_target, (gone, state)

        done, (gone, state) = poll_until(settled, timeout, self.clock, self.sleep, POLL_INTERVAL)
        if not done:
            raise IngressHAError(
                f"stopped after evicting {target}: within {timeout}s "
                + ("it did not go away" if not gone else "")
                + ("; " if not gone else "")
                + f"{len(state['ready_on_labelled_nodes'])} of {ready_target} expected "
                "controller pods are Ready on labelled nodes; still to move: "
                f"{', '.join(state['on_unlabelled_nodes']) or 'none'}",
                obj=target,
                details=state,
            )
        return True

    def wait_ready_on(self, controller: dict, nodes: set[str]) -> None:
        """Until the controller has a Ready pod on each of ``nodes`` (a DaemonSet's new nodes)."""
        timeout = self.params["wait_timeout"]

        def settled():
            ready_nodes = {
                p["spec"].get("nodeName")
                for p in live_pods(self.pods(controller))
                if p["spec"].get("nodeName") in nodes and pod_ready(p)
            }
            return ready_nodes >= nodes, sorted(nodes - ready_nodes)

        done, missing = poll_until(settled, timeout, self.clock, self.sleep, POLL_INTERVAL)
        if not done:
            raise IngressHAError(
                f"stopped before unlabelling any node: within {timeout}s {describe(controller)} "
                f"has no Ready pod on {', '.join(missing)}; the old ingress nodes keep their "
                "label and their pods, so traffic is still served. Fix the new nodes and rerun.",
                obj=describe(controller),
                details={"not_ready_on": missing},
            )

    def wait(
        self, controller: dict, labelled: set[str], expected: int, placed: bool = True
    ) -> None:
        """Until the rollout is complete and, with ``placed``, the placement is right."""
        meta = controller["metadata"]

        def settled():
            current = self.client.get(
                "apps/v1", controller["kind"], meta["name"], meta["namespace"]
            )
            problems = placement(self.pods(controller), labelled, expected)[1] if placed else []
            return rollout_done(current) and not problems, problems

        done, problems = poll_until(
            settled, self.params["wait_timeout"], self.clock, self.sleep, POLL_INTERVAL
        )
        if not done:
            raise IngressHAError(
                f"{describe(controller)} did not settle within {self.params['wait_timeout']}s: "
                + "; ".join(problems or ["rollout not complete"])
            )

    def move_pods(self, controller: dict, labelled: set[str], expected: int) -> None:
        """Evict, one at a time, the pods left on nodes that lost the label.

        Before each next eviction the evicted pod is gone and one more pod is
        Ready on a labelled node, so at most one replica is ever down.
        """
        for pod in pods_to_move(self.pods(controller), labelled):
            ready = len(self.controller_state(controller, labelled)["ready_on_labelled_nodes"])
            self.evict_safely(pod, controller, labelled, min(expected, ready + 1), "move")

    def clear_nodes(self, controller: dict, wanted: set[str]) -> list[str]:
        """With dedication: evict the other pods on the ingress nodes (safely); what was left."""
        pods = self.client.list("v1", "Pod")
        evict, left = pods_to_clear(pods, wanted, selector_labels(controller))
        notes = [f"{describe(p)} on {p['spec']['nodeName']} left: {why}" for p, why in left]
        for pod in evict:
            if self.check_mode:
                # A change the real run makes: check mode must report it as one.
                self.note(
                    "evict",
                    describe(pod),
                    f"dedicate: evict pod {pod['metadata']['name']} off {pod['spec']['nodeName']}",
                )
                notes.append(
                    f"would evict {describe(pod)} from ingress node {pod['spec']['nodeName']}"
                )
                continue
            if not self.params["wait"]:
                notes.append(
                    f"not evicted (wait is off): {describe(pod)} from ingress node "
                    f"{pod['spec']['nodeName']}"
                )
                continue
            ready = len(self.controller_state(controller, wanted)["ready_on_labelled_nodes"])
            self.evict_safely(pod, controller, wanted, ready, "dedicate: evict")
        return notes

    def run(self) -> dict:
        p = self.params
        nodes = self.client.list("v1", "Node")
        controller = self.find_controller()
        kind = controller["kind"]
        deployment = kind == "Deployment"
        pod_spec = controller["spec"]["template"]["spec"]
        tolerations = list(pod_spec.get("tolerations") or [])
        hpa = self.hpa(controller)
        warnings: list[str] = []
        if deployment and not hpa:
            needed = p["replicas"]
        elif hpa:
            needed = (hpa.get("spec") or {}).get("minReplicas", 1)
        else:
            needed = p["replicas"] if not p["nodes"] else 1  # DaemonSet: one pod per node
        if p["dedicate"]:
            tolerations.append(dict(DEDICATED_TOLERATION))
        selector = other_selector(controller)
        wanted = set(
            select_nodes(nodes, needed, p["nodes"], p["automatic_selection"], tolerations, selector)
        )
        gate = version_gate(controller_container(controller).get("image", ""), GRAY_RELEASE_MINIMUM)
        plans = {}
        for node in nodes:
            name = node["metadata"]["name"]
            plan = plan_node(node, name in wanted, p["prune"], p["dedicate"])
            if plan:
                plans[name] = (plan, node)
            if not p["dedicate"] and foreign_dedication_taint(node):
                warnings.append(
                    f"node {name} keeps the taint {INGRESS_LABEL}={INGRESS_VALUE}:NoSchedule: "
                    "this runbook did not add it, so it does not remove it"
                )
        # Nodes labelled but outside the controller's other nodeSelector keys never host it.
        labelled = {
            n["metadata"]["name"] for n in nodes if has_ingress_label(n) and matches(n, selector)
        }
        labelled = (labelled | wanted) - {
            name for name in plans if "unlabel" in plans[name][0]["actions"]
        }
        replicas: int | None = p["replicas"] if deployment else None
        if hpa:
            # The HPA owns the count; keep the value only where this runbook owned it
            # before (dropping the field would reset it to 1 until the HPA reacts).
            ours = field_owners(controller).get(f"{self.client.field_manager} (Apply)", [])
            replicas = controller["spec"].get("replicas") if ".spec.replicas" in ours else None
        if deployment:
            expected = controller["spec"].get("replicas", 1) if hpa else p["replicas"]
        else:
            expected = len(labelled)
        managers = [m.split(" (")[0] for m in field_owners(controller)]
        owner = owner_of(controller, managers)
        body = controller_body(controller, replicas, len(labelled), p["dedicate"])
        pdb, pdb_note = None, None
        if p["pdb"] and not deployment:
            pdb_note = (
                "no PodDisruptionBudget for a DaemonSet: the disruption controller computes "
                "maxUnavailable only for pods of a scalable owner (Deployment, ReplicaSet, "
                "StatefulSet), and the DaemonSet controller deletes its pods without evicting"
            )
        elif p["pdb"]:
            others = other_budgets(
                self.client.list(
                    "policy/v1", "PodDisruptionBudget", controller["metadata"]["namespace"]
                ),
                controller,
            )
            if others:
                # The Eviction API refuses a pod two budgets cover: keep theirs, add none.
                pdb_note = (
                    f"not created: PodDisruptionBudget {', '.join(others)} already covers the "
                    "controller's pods, and the Eviction API refuses to evict a pod covered by "
                    "two budgets (set maxUnavailable there, e.g. the chart's "
                    "controller.maxUnavailable)"
                )
                warnings.append(pdb_note)
            else:
                pdb = pdb_manifest(controller, p["pdb_max_unavailable"])
        hpa_info = hpa_report(hpa, len(labelled)) if hpa else None
        if hpa_info:
            warnings += hpa_info["problems"]
        zone = zone_warning(nodes, labelled)
        if zone:
            warnings.append(zone)
        if owner["type"] and not p["take_ownership"]:
            warnings.append(
                f"{describe(controller)} is managed by "
                + ("Helm" if owner["type"] == "helm" else "an add-on manager")
                + ": "
                + ownership_advice(owner, list(CHART_VALUES))
            )

        # Field ownership first: a conflict must refuse before the first write.
        self.preflight(body, owner)
        current_pdb = None
        if pdb:
            meta = pdb["metadata"]
            current_pdb = self.client.get(
                "policy/v1", "PodDisruptionBudget", meta["name"], meta["namespace"]
            )
            self.preflight(pdb, {"type": None})

        # Everything is known and checked: change things, wanted nodes first so
        # the new nodeSelector finds them, nodes that lose the label last.
        for name in sorted(wanted & set(plans)):
            self.patch_node(plans[name][0], plans[name][1], True)
        controller_after = self.apply(body, controller, owner)
        controller_changed = differs(controller, controller_after)
        if pdb:
            self.apply(pdb, current_pdb)
        losing = sorted(set(plans) - wanted)
        if losing and not deployment and not self.check_mode and p["wait"]:
            # A DaemonSet's pods on nodes that lose the label are deleted at
            # once by its controller: first let the pods on the new nodes get
            # Ready, so the move never leaves the controller without replicas.
            self.wait_ready_on(controller_after, labelled)
        for name in losing:
            self.patch_node(plans[name][0], plans[name][1], False)

        left = pods_to_move(self.pods(controller), labelled)
        plan_lines = []
        for pod in left:
            where = f"pod {pod['metadata']['name']} on {pod['spec']['nodeName']}"
            if deployment:
                plan_lines.append(f"evict {where} (Eviction API, one at a time)")
            else:
                plan_lines.append(
                    f"the DaemonSet controller deletes {where} (a deletion, not an eviction: "
                    "no PodDisruptionBudget applies)"
                )
        if self.check_mode:
            for pod in left if deployment else []:
                if not controller_changed:
                    self.note(
                        "evict",
                        describe(pod),
                        f"move pod {pod['metadata']['name']} off {pod['spec']['nodeName']}",
                    )
        elif not p["wait"]:
            if deployment and left:
                warnings.append(
                    "wait is off: nothing was evicted (a safe eviction waits for each "
                    "replacement); still to move: "
                    + ", ".join(f"{q['metadata']['name']} on {q['spec']['nodeName']}" for q in left)
                )
        else:
            if not on_delete(controller_after):
                self.wait(controller_after, labelled, expected, placed=False)
            if deployment:
                self.move_pods(controller_after, labelled, expected)
        cleared = self.clear_nodes(controller_after, wanted) if p["dedicate"] else []
        if not self.check_mode and p["wait"]:
            self.wait(controller_after, labelled, expected)
        to_delete = []
        if on_delete(controller_after) and not self.check_mode:
            current = self.client.get(
                "apps/v1", kind, controller["metadata"]["name"], controller["metadata"]["namespace"]
            )
            to_delete = sorted(
                p_["metadata"]["name"]
                for p_ in outdated_daemon_pods(current, self.pods(controller))
            )
            if to_delete:
                warnings.append(
                    f"{describe(controller)} updates OnDelete: its pods keep the old template "
                    "until deleted; delete these one at a time, each after its replacement is "
                    f"Ready: {', '.join(to_delete)}"
                )
        rows, problems = placement(self.pods(controller), labelled, expected)
        if not self.check_mode and p["wait"] and problems:
            raise IngressHAError("; ".join(problems))
        report = result(
            params=p,
            controller=controller,
            gate=gate,
            expected=expected,
            nodes=nodes,
            wanted=wanted,
            labelled=labelled,
            rows=rows,
            problems=problems,
            service=self.service_address(),
            changes=self.changes,
            diffs=self.diffs,
            check_mode=self.check_mode,
        )
        report["warnings"] = warnings
        report["plan"] = plan_lines
        report["owner"] = owner
        report["hpa"] = hpa_info
        report["pdb"] = {
            "managed": bool(pdb),
            "reason": pdb_note or ("" if pdb else "pdb is off"),
        }
        report["dedication"] = cleared
        report["pods_to_delete"] = to_delete
        return report


def converge(client, params: dict, check_mode: bool, ledger: Changes | None = None) -> dict:
    """Run the whole runbook; what was changed is recorded in ``ledger`` as it happens."""
    report = Converger(client, params, check_mode, ledger=ledger).run()
    report["markdown"] = markdown(report)
    return report
