#!/usr/bin/env python3
"""ingress-ha's node labelling and tainting on hundreds of kwok nodes versus a
kubernetes.core.k8s loop doing the same, same lab, same run; prints the ratio.

Each side gets its own ``--nodes`` (200) API-only Nodes, made by the bench the way the lab
makes its kwok nodes (kwok keeps them Ready), its own controller Deployment and Service in its
own namespace, and nothing else of the lab's is touched. The runbook (``ingress-ha.yml``, an
inventory whose ``ingress`` group names the nodes, ``ingress_ha_dedicate=true``) labels and
taints every node and places its controller; the loop patches the same label, taint and
annotation on each node (``state: patched``, one call per node) and applies the controller's
fields and PodDisruptionBudget the runbook ended with (server-side apply). Both are run twice:
the second run must change nothing. Then the end states are compared, node by node (labels,
taints, annotations) and the controller's placement fields and budget; a difference stops the
bench. No pass/fail on time.

The lab is shared: by default the bench takes the lab lock itself, once per side (a phase
makes that side's nodes, runs it, records what the API server holds and deletes what it made),
so it never leaves its nodes for someone else's automatic selection to find:

    .venv/bin/python bench/bench_ingress.py                 # 200 nodes a side, lock per phase
    flock /tmp/ackops-lab.lock .venv/bin/python bench/bench_ingress.py  # held for the whole run

The runbook's time is its whole playbook run (start-up, argument validation, reads, writes,
rollout wait, report); the loop's is its loop task only, as in bench_storage.py. Results go
to build/bench/ingress.json.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from k8s_loop import (
    REPO,
    Lab,
    apply,
    finish,
    ingress_markdown,
    kubectl,
    parse_args,
    run_loop,
    run_playbook,
    same_or_exit,
    wait_for,
)

from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.plan import (
    DEDICATED_TAINT,
    INGRESS_LABEL,
    INGRESS_VALUE,
    TAINT_ANNOTATION,
)

SIDE_LABEL = "bench.ackops.io/side"
CONTROLLER = "bench-ingress-controller"
SERVICE = "bench-ingress-lb"
POD_LABELS = {"app": "bench-ingress-controller"}
IMAGE = "registry-cn-hangzhou.ack.aliyuncs.com/acs/aliyun-ingress-controller:v1.2.1-aliyun.1"
ZONES = ("h", "i", "j")


def node_names(lab: Lab, side: str, count: int) -> list[str]:
    return [f"{lab.region}.i-bench{side[0]}{i:05d}" for i in range(count)]


def node(lab: Lab, side: str, name: str, index: int) -> dict:
    """An API-only node as the lab's kwok nodes are (kwok manages it by its annotation)."""
    zone = f"{lab.region}-{ZONES[index % len(ZONES)]}"
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                       "topology.kubernetes.io/zone": zone, SIDE_LABEL: side},
            "annotations": {"kwok.x-k8s.io/node": "fake"},
        },
        "spec": {"taints": []},
        "status": {"allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                   "capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"}},
    }  # fmt: skip


def controller(namespace: str) -> list[dict]:
    """The side's ingress controller (2 replicas, as ACK creates it) and its Service."""
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": CONTROLLER, "namespace": namespace},
         "spec": {"replicas": 2, "selector": {"matchLabels": POD_LABELS},
                  "template": {"metadata": {"labels": POD_LABELS},
                               "spec": {"containers": [{"name": "controller", "image": IMAGE}]}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": SERVICE, "namespace": namespace},
         "spec": {"selector": POD_LABELS, "ports": [{"name": "http", "port": 80}]}},
    ]  # fmt: skip


def ready(lab: Lab, side: str, count: int) -> bool:
    nodes = lab.get("nodes", "-l", f"{SIDE_LABEL}={side}")["items"]
    return len(nodes) == count and all(
        any(c["type"] == "Ready" and c["status"] == "True"
            for c in n.get("status", {}).get("conditions", []))
        and not n["spec"].get("taints")
        for n in nodes
    )  # fmt: skip


def set_up(lab: Lab, side: str, count: int) -> list[str]:
    """The side's namespace, controller and Ready nodes; what an earlier run left goes first."""
    tear_down(lab, side, wait=True)
    names = node_names(lab, side, count)
    apply(lab, controller(f"bench-{side}"))
    apply(lab, [node(lab, side, name, i) for i, name in enumerate(names)])
    # Before kwok reports it Ready, the node lifecycle controller taints a node not-ready.
    wait_for(f"{count} {side} nodes Ready and untainted", lambda: ready(lab, side, count))
    return names


def tear_down(lab: Lab, side: str, wait: bool) -> None:
    kubectl(lab, "delete", "namespace", f"bench-{side}", "--ignore-not-found",
            f"--wait={str(wait).lower()}", "--timeout=180s")  # fmt: skip
    kubectl(lab, "delete", "nodes", "-l", f"{SIDE_LABEL}={side}", f"--wait={str(wait).lower()}")


def end_state(lab: Lab, side: str, names: list[str]) -> dict:
    """What the API server holds of the side: each node's labels, taints and annotations (its
    own name and side written alike), the controller's placement fields and the budget."""
    nodes = {n["metadata"]["name"]: n for n in lab.get("nodes", "-l", f"{SIDE_LABEL}={side}")["items"]}  # fmt: skip
    state = {}
    for index, name in enumerate(names):
        meta, spec = nodes[name]["metadata"], nodes[name]["spec"]
        text = json.dumps([meta.get("labels", {}), spec.get("taints", []),
                           meta.get("annotations", {})], sort_keys=True)  # fmt: skip
        state[f"node {index}"] = json.loads(text.replace(name, "<node>").replace(side, "<side>"))
    deployment = lab.get("deployment", "-n", f"bench-{side}", CONTROLLER)
    pod_spec = deployment["spec"]["template"]["spec"]
    state["controller"] = {
        "replicas": deployment["spec"]["replicas"],
        "strategy": deployment["spec"].get("strategy"),
        **{key: pod_spec.get(key) for key in
           ("nodeSelector", "affinity", "tolerations", "topologySpreadConstraints")},
    }  # fmt: skip
    budget = lab.get("pdb", "-n", f"bench-{side}", CONTROLLER)
    state["budget"] = budget.get("spec")
    return state


def run_runbook(lab: Lab, names: list[str], scratch: Path) -> dict:
    """ingress-ha.yml with an inventory whose ingress group is ``names``: seconds, changes."""
    inventory = scratch / "ingress-inventory.json"
    inventory.write_text(json.dumps({"ingress": {"hosts": {
        f"bench-ingress-{i:05d}": {"k8s_node_name": name} for i, name in enumerate(names)}}}))  # fmt: skip
    seconds, _ = run_playbook(REPO / "ingress-ha.yml", str(inventory), {
        "ingress_ha_kubeconfig": lab.kubeconfig, "ingress_ha_namespace": "bench-runbook",
        "ingress_ha_controller_name": CONTROLLER, "ingress_ha_service_name": SERVICE,
        "ingress_ha_replicas": 2, "ingress_ha_dedicate": True,
        "ingress_ha_report_dir": str(scratch),
    }, scratch)  # fmt: skip
    report = json.loads((scratch / "ingress-ha.json").read_text())
    return {"playbook_s": round(seconds, 2), "changed": len(report.get("changes", []))}


def loop_objects(names: list[str], runbook_state: dict) -> list[dict]:
    """One patch per node (the label, the taint, the annotation saying the runbook's taint is
    ours), then the controller's fields and the budget as the runbook left them."""
    patches = [
        {"state": "patched", "definition": {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {INGRESS_LABEL: INGRESS_VALUE},
                         "annotations": {TAINT_ANNOTATION: "true"}},
            "spec": {"taints": [DEDICATED_TAINT]}}}
        for name in names
    ]  # fmt: skip
    wanted = runbook_state["controller"]
    template = {key: wanted[key] for key in
                ("nodeSelector", "affinity", "tolerations", "topologySpreadConstraints")
                if wanted[key] is not None}  # fmt: skip
    ssa = {"field_manager": "bench-loop", "force_conflicts": True}
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": CONTROLLER, "namespace": "bench-loop"},
        "spec": {"replicas": wanted["replicas"], "strategy": wanted["strategy"],
                 "selector": {"matchLabels": POD_LABELS},
                 "template": {"metadata": {"labels": POD_LABELS},
                              "spec": {"containers": [{"name": "controller", "image": IMAGE}],
                                       **template}}},
    }  # fmt: skip
    budget = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
              "metadata": {"name": CONTROLLER, "namespace": "bench-loop"},
              "spec": runbook_state["budget"]}  # fmt: skip
    return [*patches,
            {"apply": True, "server_side_apply": ssa, "wait": True, "definition": deployment},
            {"apply": True, "server_side_apply": ssa, "definition": budget}]  # fmt: skip


def main() -> int:
    args, lab = parse_args(__doc__, "nodes", 200, "kwok nodes per side")
    results: dict = {"nodes": args.nodes}
    with tempfile.TemporaryDirectory(prefix="bench-ingress-") as tmp:
        scratch = Path(tmp)
        with lab.phase():
            lab.load()
            names = set_up(lab, "runbook", args.nodes)
            try:
                results["runbook"] = run_runbook(lab, names, scratch)
                results["runbook_again"] = run_runbook(lab, names, scratch)
                runbook_state = end_state(lab, "runbook", names)
            finally:
                tear_down(lab, "runbook", wait=False)
        with lab.phase():
            lab.load()
            names = set_up(lab, "loop", args.nodes)
            try:
                objects = loop_objects(names, runbook_state)
                results["loop"] = run_loop(lab, objects, scratch, "loop")
                results["loop_again"] = run_loop(lab, objects, scratch, "loop-again")
                loop_state = end_state(lab, "loop", names)
            finally:
                tear_down(lab, "loop", wait=False)
    same_or_exit(f"{args.nodes} nodes", runbook_state, loop_state)
    results["ratio"] = round(results["loop"]["loop_task_s"] / results["runbook"]["playbook_s"], 2)
    results["ratio_again"] = round(
        results["loop_again"]["loop_task_s"] / results["runbook_again"]["playbook_s"], 2
    )
    return finish("ingress", results, ingress_markdown)


if __name__ == "__main__":
    sys.exit(main())
