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
import contextlib
import fcntl
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
SIDE_LABEL = "bench.ackops.io/side"
LOOP_PLAY = """\
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - ansible.builtin.set_fact: {bench_start: "{{ now(utc=true).timestamp() }}"}
    - kubernetes.core.k8s:
        kubeconfig: "{{ kubeconfig }}"
        state: present
        apply: true
        definition: "{{ item }}"
      loop: "{{ objects }}"
      loop_control: {label: "{{ item.metadata.name }}"}
    - ansible.builtin.copy:
        dest: "{{ elapsed_file }}"
        content: "{{ now(utc=true).timestamp() | float - bench_start | float }}"
        mode: "0644"
"""


class Lab:
    """The lab as `lab status --json` describes it, and the optional per-phase lock."""

    def __init__(self, lock: str | None):
        self.lock_path = lock

    def load(self) -> None:
        """Read inside a phase: another user may be bringing the lab up or down."""
        out = subprocess.run(
            [str(REPO / "lab" / "lab"), "status", "--json"], text=True, capture_output=True
        )
        lab = json.loads(out.stdout or "{}")
        if not lab.get("up"):
            sys.exit("the lab is not up (lab/lab up)")
        self.inventory, self.kubeconfig = lab["inventory"], lab["kubeconfig"]
        self.region = lab["hosts"][0]["node_name"].split(".", 1)[0]
        self.zones = sorted({h["zone"] for h in lab["hosts"]})
        self.kubectl = [lab["kubectl"], "--kubeconfig", self.kubeconfig]

    @contextlib.contextmanager
    def phase(self):
        if not self.lock_path:
            yield
            return
        with open(self.lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def get(self, *args: str) -> dict:
        out = subprocess.run([*self.kubectl, "get", *args, "-o", "json"], text=True,
                             capture_output=True)  # fmt: skip
        return json.loads(out.stdout) if out.returncode == 0 else {"items": []}

    def count(self, side: str) -> tuple[int, int]:
        selector = f"{SIDE_LABEL}={side}"
        pvs = self.get("pv", "-l", selector)["items"]
        pvcs = self.get("pvc", "-A", "-l", selector)["items"]
        return len(pvs), len(pvcs)

    def ensure_namespace(self, name: str) -> None:
        manifest = json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        subprocess.run([*self.kubectl, "apply", "-f", "-"], input=manifest, text=True,
                       capture_output=True, check=True)  # fmt: skip

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


def playbook(path: Path, lab: Lab, extra: dict, scratch: Path) -> float:
    """One ansible-playbook run; its variables and reports go to ``scratch``, never the checkout."""
    vars_file = scratch / f"{path.stem}.vars.json"
    vars_file.write_text(json.dumps(extra))
    env = dict(os.environ, PATH=f"{VENV}:{os.environ['PATH']}", ACKOPS_REPORT_DIR=str(scratch))
    start = time.monotonic()
    proc = subprocess.run(
        [str(VENV / "ansible-playbook"), "-i", lab.inventory, str(path), "-e", f"@{vars_file}"],
        cwd=REPO, text=True, capture_output=True, env=env,
    )  # fmt: skip
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        failed = [line for line in proc.stdout.splitlines() if '"msg"' in line or "msg:" in line]
        sys.exit(f"{path.name} failed:\n{proc.stdout[-2000:]}\n" + "\n".join(failed[-5:]))
    return elapsed


def check(lab: Lab, side: str, expected: int) -> None:
    pvs, pvcs = lab.count(side)
    if (pvs, pvcs) != (expected, expected):
        sys.exit(f"{side}: the API server holds {pvs} PVs and {pvcs} PVCs, expected {expected}")


def run_runbook(lab: Lab, pairs: int, tmpdir: Path) -> float:
    """The runbook: every pair in one playbook run (one module call, batches)."""
    return playbook(
        REPO / "provision-storage.yml",
        lab,
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
    )


def run_loop(lab: Lab, first: int, last: int, tmpdir: Path) -> float:
    """The loop over the same plan's objects (its own namespace, ids and label): its task's time."""
    plan = build_plan(
        {"region": lab.region, "zones": lab.zones, "driver": "csi",
         "volumes": volumes("loop", "bench-loop", first, last, lab.zones[0])}
    )  # fmt: skip
    elapsed_file = tmpdir / f"loop-{first}.elapsed"
    lab.ensure_namespace("bench-loop")
    playbook(tmpdir / "loop.yml", lab, {
        "objects": plan["objects"], "kubeconfig": lab.kubeconfig,
        "elapsed_file": str(elapsed_file),
    }, tmpdir)  # fmt: skip
    pvs, pvcs = lab.count("loop")
    if min(pvs, pvcs) < last - first:
        sys.exit(f"loop: {pvs} PVs and {pvcs} PVCs after pairs {first}-{last - 1}")
    return float(elapsed_file.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=500)
    parser.add_argument("--chunk", type=int, default=125, help="loop pairs per phase (--lock)")
    parser.add_argument("--lock", help="take this lock per phase instead of being run under it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        lab = Lab(args.lock)
        chunk = args.chunk if args.lock else args.pairs
        firsts = list(range(0, args.pairs, chunk))
        (tmpdir / "loop.yml").write_text(LOOP_PLAY)
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
                loop += run_loop(lab, first, last, tmpdir)
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
