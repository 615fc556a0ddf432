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
    GRAY_RELEASE_MINIMUM,
    IngressHAError,
    changed_fields,
    controller_body,
    controller_container,
    has_ingress_label,
    pdb_manifest,
    placement,
    plan_node,
    pods_to_move,
    rollout_done,
    select_nodes,
    selector_labels,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.report import (
    markdown,
    result,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import (
    describe,
    diff_entry,
    differs,
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

    # writing (dry-run in check mode)

    def patch_node(self, plan: dict, node: dict) -> None:
        self.client.json_patch(node, plan["operations"], dry_run=self.check_mode)
        for action in plan["actions"]:
            self.note(action, f"Node {plan['node']}", f"{action} node {plan['node']}")
        header = f"Node {plan['node']}"
        self.diffs.append(diff_entry(header, plan["before"], plan["after"]))

    def apply(self, body: dict, before: dict | None) -> dict:
        after = self.client.apply(body, dry_run=self.check_mode)
        if differs(before, after):
            fields = changed_fields(strip_noise(before), strip_noise(after))
            verb = "create" if before is None else "update"
            self.note(verb, describe(body), f"{verb} {describe(body)}: {', '.join(fields)}")
            self.diffs.append(diff_entry(describe(body), before, after))
        return after

    # waiting

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
        """Evict, one at a time, the pods left on nodes that lost the label."""
        for pod in pods_to_move(self.pods(controller), labelled):
            line = f"move pod {pod['metadata']['name']} off {pod['spec']['nodeName']}"
            target = describe(pod)
            if self.check_mode:
                self.note("evict", target, line)
                continue
            self.client.evict(pod)  # a pod already gone (404) is fine
            self.note("evict", target, line)
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
        return result(
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


def converge(client, params: dict, check_mode: bool, ledger: Changes | None = None) -> dict:
    """Run the whole runbook; what was changed is recorded in ``ledger`` as it happens."""
    report = Converger(client, params, check_mode, ledger=ledger).run()
    report["markdown"] = markdown(report)
    return report
