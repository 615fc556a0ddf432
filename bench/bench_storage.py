#!/usr/bin/env python3
"""500 static disk PV/PVC pairs on the lab: provision-storage (one module call, batches)
versus a kubernetes.core.k8s loop over the same objects, same lab, same run; prints the ratio.

The objects are the runbook's own plan (build_plan), so both sides apply exactly the same
manifests. Each side gets its own namespace, disk ids and label, so neither finds the
other's objects; after each side the bench counts what the API server holds and stops
when a pair is missing. Both sides' objects are deleted at the end. Not part of the test
suite. The lab is shared:

    flock /tmp/ackops-lab.lock .venv/bin/python bench/bench_storage.py --pairs 100

holds the lab for the whole run (about 1 s per object on the loop side). For 500 pairs
the loop takes longer than anyone should hold the lab, so give the bench the lock and it
takes it per phase instead, releasing it in between:

    .venv/bin/python bench/bench_storage.py --lock /tmp/ackops-lab.lock   # 500 pairs

Then the loop runs as ``--chunk`` (125) pairs per playbook run, one phase each; the first
phase also runs the runbook, the last one also deletes everything. The loop's time is the
sum of its chunks' loop tasks, the runbook's is its whole playbook run (start-up, argument
validation, plan, apply, report), so start-up counts against the runbook only.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from k8s_loop import REPO, Lab, apply, run_loop, run_playbook

from ansible_collections.ackops.runbooks.plugins.module_utils.storage.plan import (
    build_plan,
)

SIDE_LABEL = "bench.ackops.io/side"


class StorageLab(Lab):
    """The lab, with what this bench counts and removes: its PVs and PVCs."""

    def count(self, side: str) -> tuple[int, int]:
        selector = f"{SIDE_LABEL}={side}"
        pvs = self.get("pv", "-l", selector)["items"]
        pvcs = self.get("pvc", "-A", "-l", selector)["items"]
        return len(pvs), len(pvcs)

    def ensure_namespace(self, name: str) -> None:
        apply(self, [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}])

    def cleanup(self, namespaces: list[str], wait: bool) -> None:
        """The namespaces (and their claims), then every PV either side made. Before a run,
        wait: objects sent to a namespace still terminating from the last run are refused,
        and a PV applied while it is still being deleted goes a moment later."""
        subprocess.run([*self.kubectl, "delete", "namespace", "--ignore-not-found",
                        f"--wait={str(wait).lower()}", "--timeout=300s", *namespaces],
                       capture_output=True)  # fmt: skip
        subprocess.run([*self.kubectl, "delete", "pv", "-l", SIDE_LABEL,
                        f"--wait={str(wait).lower()}", "--timeout=300s"],
                       capture_output=True)  # fmt: skip


def volumes(side: str, namespace: str, first: int, last: int, zone: str) -> list[dict]:
    return [
        {"name": f"{side}-{i:04d}", "namespace": namespace, "type": "disk",
         "disk_id": f"d-bp1{side}{i:011d}", "zone": zone, "size": "20Gi",
         "category": "cloud_essd", "labels": {SIDE_LABEL: side}}
        for i in range(first, last)
    ]  # fmt: skip


def check(lab: Lab, side: str, expected: int) -> None:
    pvs, pvcs = lab.count(side)
    if (pvs, pvcs) != (expected, expected):
        sys.exit(f"{side}: the API server holds {pvs} PVs and {pvcs} PVCs, expected {expected}")


def run_runbook(lab: Lab, pairs: int, tmpdir: Path) -> float:
    """The runbook: every pair in one playbook run (one module call, batches)."""
    return run_playbook(
        REPO / "provision-storage.yml",
        lab.inventory,
        {
            "provision_storage_region": lab.region,
            "provision_storage_zones": lab.zones,
            "provision_storage_volumes": volumes(
                "runbook", "bench-runbook", 0, pairs, lab.zones[0]
            ),
            "provision_storage_wait": False,
            "provision_storage_report_dir": str(tmpdir),
        },
        tmpdir,
    )[0]


def loop_chunk(lab: Lab, first: int, last: int, tmpdir: Path) -> float:
    """The loop over the same plan's objects (its own namespace, ids and label): its task's time."""
    plan = build_plan(
        {"region": lab.region, "zones": lab.zones, "driver": "csi",
         "volumes": volumes("loop", "bench-loop", first, last, lab.zones[0])}
    )  # fmt: skip
    lab.ensure_namespace("bench-loop")
    items = [{"apply": True, "definition": obj} for obj in plan["objects"]]
    seconds = run_loop(lab, items, tmpdir, f"loop-{first}")["loop_task_s"]
    pvs, pvcs = lab.count("loop")
    if min(pvs, pvcs) < last - first:
        sys.exit(f"loop: {pvs} PVs and {pvcs} PVCs after pairs {first}-{last - 1}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=500)
    parser.add_argument("--chunk", type=int, default=125, help="loop pairs per phase (--lock)")
    parser.add_argument("--lock", help="take this lock per phase instead of being run under it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        lab = StorageLab(args.lock)
        chunk = args.chunk if args.lock else args.pairs
        firsts = list(range(0, args.pairs, chunk))
        runbook, loop = 0.0, 0.0
        # Phases, each under the lock when --lock is given: the runbook with the loop's first
        # chunk, then the other chunks, the last one also checking and deleting everything.
        for first in firsts:
            last = min(first + chunk, args.pairs)
            with lab.phase():
                if first == 0:
                    lab.load()
                    lab.cleanup(["bench-runbook", "bench-loop"], wait=True)
                    runbook = run_runbook(lab, args.pairs, tmpdir)
                    check(lab, "runbook", args.pairs)
                loop += loop_chunk(lab, first, last, tmpdir)
                if last == args.pairs:
                    if len(firsts) == 1:
                        check(lab, "loop", args.pairs)
                    lab.cleanup(["bench-runbook", "bench-loop"], wait=False)
    print(f"{args.pairs} PV/PVC pairs ({2 * args.pairs} objects), lab {lab.region}")
    print(f"  provision-storage (one module call, whole playbook): {runbook:7.1f}s")
    print(f"  kubernetes.core.k8s loop ({len(firsts)} run(s), loop task only): {loop:7.1f}s")
    print(f"  ratio loop / runbook: {loop / runbook:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
