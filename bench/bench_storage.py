#!/usr/bin/env python3
"""500 static disk PV/PVC pairs on the lab: provision-storage (one module call, batches)
versus a kubernetes.core.k8s loop over the same objects, same lab, same run; prints the ratio.

The objects are the runbook's own plan (build_plan), so both sides apply exactly the same
manifests. Each side gets its own namespace and disk ids, so neither finds the other's
objects; both are deleted at the end. Not part of the test suite; run under the lab lock:

    flock /tmp/ackops-lab.lock .venv/bin/python bench/bench_storage.py [--pairs 500]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "collections"))

from ansible_collections.ackops.runbooks.plugins.module_utils.storage.plan import (  # noqa: E402
    build_plan,
)

VENV = REPO / ".venv" / "bin"


def status() -> dict:
    out = subprocess.run(
        [str(REPO / "lab" / "lab"), "status", "--json"], text=True, capture_output=True, check=True
    )
    return json.loads(out.stdout)


def volumes(prefix: str, namespace: str, pairs: int, zone: str) -> list[dict]:
    return [
        {"name": f"{prefix}-{i:04d}", "namespace": namespace, "type": "disk",
         "disk_id": f"d-bp1{prefix}{i:011d}", "zone": zone, "size": "20Gi", "category": "cloud_essd"}
        for i in range(pairs)
    ]  # fmt: skip


def playbook(path: Path, inventory: str, extra: dict) -> float:
    vars_file = path.with_suffix(".vars.json")
    vars_file.write_text(json.dumps(extra))
    env = dict(os.environ, PATH=f"{VENV}:{os.environ['PATH']}", ACKOPS_REPORT_DIR=str(path.parent))
    start = time.monotonic()
    proc = subprocess.run(
        [str(VENV / "ansible-playbook"), "-i", inventory, str(path), "-e", f"@{vars_file}"],
        cwd=REPO, text=True, capture_output=True, env=env,
    )  # fmt: skip
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"{path.name} failed:\n{proc.stdout[-3000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=500)
    args = parser.parse_args()
    lab = status()
    inventory, kubeconfig = lab["inventory"], lab["kubeconfig"]
    region = lab["hosts"][0]["node_name"].split(".", 1)[0]
    zones = sorted({h["zone"] for h in lab["hosts"]})
    kubectl = [lab["kubectl"], "--kubeconfig", kubeconfig]
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        # The runbook.
        runbook_vars = {
            "provision_storage_region": region,
            "provision_storage_zones": zones,
            "provision_storage_volumes": volumes("bencha", "bench-runbook", args.pairs, zones[0]),
            "provision_storage_wait": False,
        }
        runbook = playbook(REPO / "provision-storage.yml", inventory, runbook_vars)
        # The loop, over the same plan's objects in another namespace.
        plan = build_plan(
            {"region": region, "zones": zones, "driver": "csi",
             "volumes": volumes("benchb", "bench-loop", args.pairs, zones[0])}
        )  # fmt: skip
        objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench-loop"}}]
        objects += plan["objects"]
        loop_play = tmpdir / "loop.yml"
        loop_play.write_text(
            "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n"
            "    - kubernetes.core.k8s:\n        kubeconfig: '{{ kubeconfig }}'\n"
            "        state: present\n        apply: true\n        definition: '{{ item }}'\n"
            "      loop: '{{ objects }}'\n      loop_control: {label: '{{ item.metadata.name }}'}\n"
        )
        loop = playbook(loop_play, inventory, {"objects": objects, "kubeconfig": kubeconfig})
    print(f"{args.pairs} PV/PVC pairs ({2 * args.pairs} objects)")
    print(f"  provision-storage (one module call): {runbook:7.1f}s")
    print(f"  kubernetes.core.k8s loop:            {loop:7.1f}s")
    print(f"  ratio loop / runbook: {loop / runbook:.1f}x")
    subprocess.run(
        [*kubectl, "delete", "namespace", "bench-runbook", "bench-loop", "--wait=true"],
        capture_output=True,
    )
    pvs = json.loads(
        subprocess.run([*kubectl, "get", "pv", "-o", "json"], capture_output=True, text=True).stdout
    )
    names = [
        p["metadata"]["name"]
        for p in pvs["items"]
        if p["metadata"]["name"].startswith(("d-bp1bencha", "d-bp1benchb"))
    ]
    for start in range(0, len(names), 100):
        subprocess.run(
            [*kubectl, "delete", "pv", "--wait=false", *names[start : start + 100]],
            capture_output=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
