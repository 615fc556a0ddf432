"""renew-certs.yml with renew_certs_method=job against the lab.

kwok completes the Jobs' pods on the lab (nothing runs in them), so this
checks what the runbook does with the API: the Jobs it creates, where their
pods are scheduled, that it waits for the success counts, and that it leaves
nothing behind. Jobs and pods are watched from outside while the run goes.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from tests.integration.conftest import recap

pytestmark = pytest.mark.lab

SELECTOR = "app.kubernetes.io/managed-by=ackops-runbooks"
NAMESPACE = "kube-system"


class Watch:
    """`kubectl get <kind> --watch -o json` in the background; the objects it saw."""

    def __init__(self, lab, kind: str) -> None:
        argv = [
            str(lab.kubectl_bin), "--kubeconfig", str(lab.kubeconfig),
            "get", kind, "-n", NAMESPACE, "-l", SELECTOR, "--watch", "-o", "json",
        ]  # fmt: skip
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)

    def stop(self) -> list[dict]:
        time.sleep(2)  # the last updates of the run
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=30)
        decoder, objects, index = json.JSONDecoder(), [], 0
        while index < len(out):
            if out[index].isspace():
                index += 1
                continue
            try:
                obj, index = decoder.raw_decode(out, index)
            except json.JSONDecodeError:
                break  # the object being written when the watch was stopped
            objects.append(obj)
        return objects


def watched_run(lab, *args):
    jobs, pods = Watch(lab, "jobs"), Watch(lab, "pods")
    time.sleep(1)
    try:
        proc = lab.playbook("renew-certs.yml", "-e", "renew_certs_method=job", *args)
    finally:
        seen_jobs, seen_pods = jobs.stop(), pods.stop()
    return proc, seen_jobs, seen_pods


def leftovers(lab) -> tuple[list[str], list[str]]:
    jobs = lab.kubectl_json("get", "jobs", "-n", NAMESPACE, "-l", SELECTOR)["items"]
    pods = lab.kubectl_json("get", "pods", "-n", NAMESPACE, "-l", SELECTOR)["items"]
    return [j["metadata"]["name"] for j in jobs], [p["metadata"]["name"] for p in pods]


def test_job_method_places_waits_and_cleans_up(lab, tmp_path):
    masters, workers = lab.masters, lab.workers
    proc, jobs, pods = watched_run(lab, "-e", f"renew_certs_report_dir={tmp_path}")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]

    # One Job per master, named in inventory order, plus one worker Job.
    names = {job["metadata"]["name"] for job in jobs}
    expected = {f"ackops-renew-certs-master-{i}" for i in range(1, len(masters) + 1)}
    assert names == expected | {"ackops-renew-certs-workers"}

    # Success counts reached: each master Job once, the worker Job once per worker.
    succeeded = {}
    for job in jobs:
        name = job["metadata"]["name"]
        succeeded[name] = max(succeeded.get(name, 0), job.get("status", {}).get("succeeded", 0))
    assert succeeded == {**dict.fromkeys(expected, 1), "ackops-renew-certs-workers": len(workers)}

    # Placement: each master Job's pod on its master, the worker pods one per worker.
    placed: dict[str, set[str]] = {}
    for pod in pods:
        node = pod["spec"].get("nodeName")
        if node:
            placed.setdefault(pod["metadata"]["labels"]["job-name"], set()).add(node)
    for index, master in enumerate(masters, start=1):
        assert placed[f"ackops-renew-certs-master-{index}"] == {master.node_name}
    worker_pods = {
        pod["metadata"]["name"]
        for pod in pods
        if pod["metadata"]["labels"]["job-name"] == "ackops-renew-certs-workers"
    }
    assert len(worker_pods) == len(workers)
    # Where each worker pod was bound, from the scheduler's events: they outlive
    # the pods, where a watch can miss the binding of a pod that completes and
    # is cleaned up within moments (seen once in CI).
    events = lab.kubectl_json(
        "get", "events", "-n", NAMESPACE, "--field-selector", "reason=Scheduled"
    )["items"]
    bound = {
        event["involvedObject"]["name"]: event["message"].rsplit(" to ", 1)[1]
        for event in events
        if event["involvedObject"]["name"] in worker_pods
    }
    assert set(bound) == worker_pods
    assert sorted(bound.values()) == sorted(w.node_name for w in workers)

    # No key material went into any Job.
    for job in jobs:
        text = json.dumps(job["spec"]["template"]["spec"])
        assert "PRIVATE KEY" not in text
        assert "ca.key" not in text

    # Nothing left behind (pods go with background propagation: give the GC a moment).
    for _ in range(30):
        left_jobs, left_pods = leftovers(lab)
        if not left_jobs and not left_pods:
            break
        time.sleep(2)
    assert (left_jobs, left_pods) == ([], [])
    assert recap(proc.stdout)["localhost"]["failed"] == 0


def test_job_method_in_check_mode_creates_nothing(lab, tmp_path):
    proc, jobs, pods = watched_run(lab, "--check", "-e", f"renew_certs_report_dir={tmp_path}")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert jobs == []
    assert pods == []
    assert "ackops-renew-certs-master-1 on" in proc.stdout
