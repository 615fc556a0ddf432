#!/usr/bin/env python3
"""Release steps (deploy, canary weight change, the same change again, promote) with
release.yml versus a kubernetes.core.k8s loop applying the same objects, same lab, same run;
prints the ratio per step.

Each side gets ``--releases`` (10) applications in a namespace of its own (an old Deployment
of 2 replicas, its Service, an Ingress; ACK dialect: the service-match/service-weight
annotations). The runbook side runs each step as an operator or an AWX job does, one
``release.yml`` run per release. After each step the bench reads the objects of the runbook's
namespace, and the loop side applies those that the step changed, as they are now (its own
namespace; server-side apply; ``wait`` on Deployments, as the runbook waits for rollouts):
one playbook, one ``kubernetes.core.k8s`` call per object. Then both namespaces must hold the
same objects (without server-maintained fields and the namespace's name); a difference stops
the bench. So the loop is given the runbook's answer and measures only the writes, with no
reads, gates, arithmetic or report; the runbook's time is its whole playbook runs. No
pass/fail on time.

The lab is shared: the bench takes the lab lock itself, once per step (both sides of a step
in one phase), and deletes its namespaces in the last one; the namespaces are its own, so
nothing of the lab's is touched in between.

    .venv/bin/python bench/bench_release.py                    # lock per step
    flock /tmp/ackops-lab.lock .venv/bin/python bench/bench_release.py  # held for the whole run

Results go to build/bench/release.json.
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
    kubectl,
    parse_args,
    release_markdown,
    run_loop,
    run_playbook,
    same_or_exit,
    strip_server_fields,
    wait_for,
)

KINDS = "deployments,services,ingresses"
# (name, variables): the steps in order; the weight change is run twice (changed=0 the second).
STEPS = (
    ("deploy", {"release_step": "deploy"}),
    ("shift 20%", {"release_step": "shift", "release_weight": 20}),
    ("shift 20% again", {"release_step": "shift", "release_weight": 20}),
    ("promote", {"release_step": "promote"}),
)
# Kept by the API server or its controllers, not written by a release step.
SERVER_ANNOTATIONS = ("deployment.kubernetes.io/revision",)
SERVER_SPEC = ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy")


def app(namespace: str, name: str) -> list[dict]:
    labels = {"app": name, "version": "v1"}
    backend = {"service": {"name": f"{name}-v1", "port": {"number": 80}}}
    return [
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": f"{name}-v1", "namespace": namespace, "labels": {"app": name}},
         "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                      {"name": "web", "image": "registry.example.com/web:1.0",
                       "ports": [{"containerPort": 80}]}]}}}},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": f"{name}-v1", "namespace": namespace},
         "spec": {"selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": 80}]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
         "metadata": {"name": name, "namespace": namespace},
         "spec": {"ingressClassName": "nginx", "rules": [{"host": f"{name}.example.com", "http": {
             "paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}]}},
    ]  # fmt: skip


def release_vars(lab: Lab, namespace: str, name: str, scratch: Path) -> dict:
    return {
        "release_kubeconfig": lab.kubeconfig, "release_name": name,
        "release_namespace": namespace, "release_mode": "ingress", "release_dialect": "ack",
        "release_old_deployment": f"{name}-v1", "release_old_service": f"{name}-v1",
        "release_new_deployment": f"{name}-v2", "release_new_service": f"{name}-v2",
        "release_new_image": "registry.example.com/web:2.0",
        "release_new_labels": {"version": "v2"}, "release_ingress": name,
        "release_wait_timeout": 120, "release_report_dir": str(scratch),
    }  # fmt: skip


def objects(lab: Lab, namespace: str) -> dict[str, dict]:
    """The namespace's Deployments, Services and Ingresses by kind/name, as a release step
    writes them: no status, server fields or defaults the API server assigns."""
    held = {}
    for obj in lab.get(KINDS, "-n", namespace)["items"]:
        obj = strip_server_fields(obj)
        meta = obj["metadata"]
        annotations = {k: v for k, v in (meta.get("annotations") or {}).items()
                       if k not in SERVER_ANNOTATIONS}  # fmt: skip
        meta.pop("annotations", None)
        if annotations:
            meta["annotations"] = annotations
        if obj["kind"] == "Service":
            obj["spec"] = {k: v for k, v in obj["spec"].items() if k not in SERVER_SPEC}
        held[f"{obj['kind']}/{meta['name']}"] = obj
    return held


def comparable(held: dict[str, dict], namespace: str) -> dict[str, dict]:
    return json.loads(json.dumps(held).replace(f'"{namespace}"', '"<namespace>"'))


def in_namespace(obj: dict, namespace: str) -> dict:
    return {**obj, "metadata": {**obj["metadata"], "namespace": namespace}}


def set_up(lab: Lab, namespaces: list[str], releases: int) -> None:
    for namespace in namespaces:
        kubectl(lab, "delete", "namespace", namespace, "--ignore-not-found", "--timeout=180s")
    for namespace in namespaces:
        apply(lab, [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}])
        apply(lab, [obj for i in range(releases) for obj in app(namespace, f"app-{i:03d}")])

    def ready() -> bool:
        deployments = [lab.get("deployments", "-n", namespace)["items"] for namespace in namespaces]
        return all(
            len(items) == releases
            and all((d.get("status") or {}).get("readyReplicas") == 2 for d in items)
            for items in deployments
        )

    wait_for(f"{releases} old Deployments a side ready", ready)


def run_step(lab: Lab, step: dict, releases: int, scratch: Path) -> dict:
    """One release.yml run per release: their seconds summed, changes counted from the reports."""
    seconds, changes = 0.0, 0
    for i in range(releases):
        name = f"app-{i:03d}"
        extra = {**release_vars(lab, "bench-release-runbook", name, scratch), **step}
        elapsed, _ = run_playbook(REPO / "release.yml", lab.inventory, extra, scratch)
        report = json.loads((scratch / f"release-{step['release_step']}.json").read_text())
        seconds, changes = seconds + elapsed, changes + len(report.get("changes", []))
    return {"playbooks_s": round(seconds, 2), "changed": changes}


def loop_items(before: dict[str, dict], after: dict[str, dict]) -> list[dict]:
    """The objects the step changed, as the runbook left them, for the loop's namespace."""
    ssa = {"field_manager": "bench-loop", "force_conflicts": True}
    return [
        {"apply": True, "server_side_apply": ssa, "wait": obj["kind"] == "Deployment",
         "definition": in_namespace(obj, "bench-release-loop")}
        for key, obj in sorted(after.items(), key=lambda item: item[0].startswith("Ingress"))
        if before.get(key) != obj
    ]  # fmt: skip


def main() -> int:
    args, lab = parse_args(__doc__, "releases", 10, "applications per side")
    namespaces = ["bench-release-runbook", "bench-release-loop"]
    results: dict = {"releases": args.releases, "steps": {}}
    with tempfile.TemporaryDirectory(prefix="bench-release-") as tmp:
        scratch = Path(tmp)
        with lab.phase():
            lab.load()
            set_up(lab, namespaces, args.releases)
            # What the loop applies after a step is what changed since the last one.
            seen = objects(lab, namespaces[0])
        last: set[str] = set()
        for index, (name, step) in enumerate(STEPS):
            with lab.phase():
                lab.load()
                runbook = run_step(lab, step, args.releases, scratch)
                now = objects(lab, namespaces[0])
                items = loop_items(seen, now)
                # The second weight change: the loop applies what the first one wrote again.
                if not items:
                    items = loop_items({}, {k: v for k, v in now.items() if k in last})
                loop = run_loop(lab, items, scratch, f"step-{index}")
                held = objects(lab, namespaces[1])
                if comparable(now, namespaces[0]) != comparable(held, namespaces[1]):
                    kubectl(lab, "delete", "namespace", *namespaces, "--wait=false", check=False)
                    same_or_exit(f"after {name}", comparable(now, namespaces[0]),
                                 comparable(held, namespaces[1]))  # fmt: skip
                last = {key for key in now if seen.get(key) != now[key]} or last
                seen = now
                results["steps"][name] = {
                    "runbook": runbook, "loop": loop, "objects": len(items),
                    "ratio": round(loop["loop_task_s"] / runbook["playbooks_s"], 3),
                }  # fmt: skip
                if index == len(STEPS) - 1:
                    kubectl(lab, "delete", "namespace", *namespaces, "--wait=false", check=False)
    return finish("release", results, release_markdown)


if __name__ == "__main__":
    sys.exit(main())
