"""renew-certs.yml with renew_certs_method=job on the ha lab, for real.

The Jobs' pods carry ackops.io/lab-run=host, so the lab's node agent
(lab/nodeagent.py) really runs them on their host (the host's root at /host,
as the pod spec says) instead of kwok pretending they completed: each master
Job's default command backs up and runs the host's kubeadm, then the runbook
restarts that master's control plane and gates on etcd and /readyz before the
next one. Checked from outside while the run goes: a client polling the API
through the SLB (no failed request), the Jobs and pods (placement, success
counts, nothing left behind), and the certificates the masters serve. Then a
master whose API server does not come back is rolled back from its Job's
backup and the next master is not touched.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time

import pytest

from tests.integration.conftest import LAB_CLI, SlbPoller, recap, tree_hashes

pytestmark = pytest.mark.lab

SELECTOR = "app.kubernetes.io/managed-by=ackops-runbooks"
NAMESPACE = "kube-system"


class Watch(threading.Thread):
    """`kubectl get <kind> --watch -o json` in the background; the objects it saw.

    Through the SLB, a watch ends when the API server serving it restarts (each
    master does during the renewal): it is started again at once (a new watch
    lists the current objects first), until stopped.
    """

    def __init__(self, lab, kind: str) -> None:
        super().__init__(daemon=True)
        self.argv = [
            str(lab.kubectl_bin), "--kubeconfig", str(lab.kubeconfig),
            "get", kind, "-n", NAMESPACE, "-l", SELECTOR, "--watch", "-o", "json",
        ]  # fmt: skip
        self.out: list[str] = []
        self.stopping = threading.Event()
        self.proc: subprocess.Popen | None = None
        self.start()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.proc = subprocess.Popen(
                self.argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
            )
            self.out.append(self.proc.communicate()[0])
            if not self.stopping.is_set():
                time.sleep(0.2)

    def stop(self) -> list[dict]:
        time.sleep(2)  # the last updates of the run
        self.stopping.set()
        if self.proc is not None:
            self.proc.terminate()
        self.join(timeout=30)
        objects = []
        decoder = json.JSONDecoder()
        for out in self.out:
            index = 0
            while index < len(out):
                if out[index].isspace():
                    index += 1
                    continue
                try:
                    obj, index = decoder.raw_decode(out, index)
                except json.JSONDecodeError:
                    break  # the object being written when the watch ended
                objects.append(obj)
        return objects


# The lab's opt-in: its node agent runs these pods on their host (lab/README.md).
JOB_METHOD = json.dumps(
    {"renew_certs_method": "job", "renew_certs_job_pod_annotations": {"ackops.io/lab-run": "host"}}
)


def watched_run(lab, *args):
    jobs, pods = Watch(lab, "jobs"), Watch(lab, "pods")
    time.sleep(1)
    try:
        # The lab's SLB takes a master out within 2 s (haproxy: inter 1s fall 2).
        proc = lab.playbook(
            "renew-certs.yml", "-e", JOB_METHOD, "-e", "renew_certs_lb_drain_seconds=4", *args
        )
    finally:
        seen_jobs, seen_pods = jobs.stop(), pods.stop()
    return proc, seen_jobs, seen_pods


def no_leftovers(lab) -> bool:
    """No Job or pod of the runbook left (pods go with background propagation: a moment)."""
    for _ in range(30):
        if leftovers(lab) == ([], []):
            return True
        time.sleep(2)
    return False


def leftovers(lab) -> tuple[list[str], list[str]]:
    jobs = lab.kubectl_json("get", "jobs", "-n", NAMESPACE, "-l", SELECTOR)["items"]
    pods = lab.kubectl_json("get", "pods", "-n", NAMESPACE, "-l", SELECTOR)["items"]
    return [j["metadata"]["name"] for j in jobs], [p["metadata"]["name"] for p in pods]


@pytest.fixture(scope="module")
def ha_lab(lab_handle):
    # Three masters behind the SLB, one worker (the worker Job's placement is
    # the same with one or many); leaves of 48 hours, all due under the
    # 30-day threshold.
    return lab_handle.up("ha", workers=1, cert_validity="48h")


def serials(lab) -> dict[str, int]:
    return {m.name: lab.served_certificate(m.ip).serial_number for m in lab.masters}


def test_job_method_in_check_mode_creates_nothing(ha_lab, tmp_path):
    proc, jobs, pods = watched_run(ha_lab, "--check", "-e", f"renew_certs_report_dir={tmp_path}")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert jobs == []
    assert pods == []
    assert "ackops-renew-certs-master-1 on" in proc.stdout


def test_job_method_on_the_ha_lab_renews_gated_without_a_failed_request(ha_lab, tmp_path, capsys):
    lab = ha_lab
    masters, workers = lab.masters, lab.workers
    before = serials(lab)
    poller = SlbPoller(lab.lab_kubeconfig, "https://10.250.0.1:6443/api/v1/namespaces/kube-system")
    poller.start()
    try:
        proc, jobs, pods = watched_run(lab, "-e", f"renew_certs_report_dir={tmp_path}")
    finally:
        poller.stopping.set()
        poller.join()
    with capsys.disabled():
        print(
            f"\nJob method through the SLB: {poller.probes} probes, {len(poller.failures)} failed"
        )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert poller.probes > 50
    assert poller.failures == []

    # Each master's Job ran for real: the host's kubeadm renewed, the master was
    # restarted and gated, and it serves the new certificate.
    after = serials(lab)
    for master in masters:
        assert after[master.name] != before[master.name], master.name
        served = lab.served_certificate(master.ip)
        on_disk = lab.ssh(
            master.name, "openssl x509 -noout -serial -in /etc/kubernetes/pki/apiserver.crt"
        ).stdout
        assert int(on_disk.strip().split("=", 1)[1], 16) == served.serial_number
    assert proc.stdout.count("Wait until the API server serves the renewed certificate") == len(
        masters
    )

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

    # Placement: each master Job's pod on its master, the worker pods one per
    # worker; every pod ran (the node agent reports an exit code, kwok would not).
    placed: dict[str, set[str]] = {}
    exit_codes = {}
    for pod in pods:
        node = pod["spec"].get("nodeName")
        if node:
            placed.setdefault(pod["metadata"]["labels"]["job-name"], set()).add(node)
        for status in pod.get("status", {}).get("containerStatuses") or []:
            if "terminated" in status.get("state", {}):
                exit_codes[pod["metadata"]["name"]] = status["state"]["terminated"]["exitCode"]
    for index, master in enumerate(masters, start=1):
        assert placed[f"ackops-renew-certs-master-{index}"] == {master.node_name}
    assert placed["ackops-renew-certs-workers"] == {w.node_name for w in workers}
    assert len(exit_codes) == len(masters) + len(workers)
    assert set(exit_codes.values()) == {0}

    # The master Jobs ran one after the other: each was created only after the
    # previous one had completed (and its master had been restarted and gated).
    created, completed = {}, {}
    for job in jobs:
        name = job["metadata"]["name"]
        created[name] = job["metadata"]["creationTimestamp"]
        if job.get("status", {}).get("completionTime"):
            completed[name] = job["status"]["completionTime"]
    for index in range(2, len(masters) + 1):
        previous = f"ackops-renew-certs-master-{index - 1}"
        assert created[f"ackops-renew-certs-master-{index}"] > completed[previous]

    # No key material went into any Job.
    for job in jobs:
        text = json.dumps(job["spec"]["template"]["spec"])
        assert "PRIVATE KEY" not in text
        assert "ca.key" not in text

    assert no_leftovers(lab)
    assert recap(proc.stdout)["localhost"]["failed"] == 0


def test_job_method_rolls_back_a_master_that_fails_and_stops(ha_lab, tmp_path):
    """The second master's API server does not come back after its Job: restored from
    the backup that Job made, healthy again, and the third master is not touched."""
    lab = ha_lab
    first, broken, untouched = lab.masters
    before = serials(lab)
    files_before = tree_hashes(lab)
    subprocess.run([str(LAB_CLI), "fault", broken.name, "kube-apiserver"], check=True)
    proc, jobs, _pods = watched_run(
        lab,
        "-e", "renew_certs_force=true",
        "-e", "renew_certs_health_timeout=30",
        "-e", f"renew_certs_report_dir={tmp_path}",
    )  # fmt: skip
    assert proc.returncode != 0
    out = proc.stdout
    assert f"{broken.name}: the renewal did not come back healthy" in out
    assert "Restored the backup /var/lib/ackops/pki-backups/pki-" in out
    assert "healthy again" in out
    # The first master was renewed, the broken one serves and holds its old files
    # again, and the third master's Job was never created.
    after = serials(lab)
    assert after[first.name] != before[first.name]
    assert after[broken.name] == before[broken.name]
    assert after[untouched.name] == before[untouched.name]
    hashes = tree_hashes(lab)
    for host in (broken, untouched):
        mine = {k: v for k, v in files_before.items() if f"ackl-{host.name}/kubernetes/" in k}
        mine = {k: v for k, v in mine.items() if "/manifests" not in k}
        assert mine
        assert {k: hashes.get(k) for k in mine} == mine, host.name
    assert {j["metadata"]["name"] for j in jobs} == {
        "ackops-renew-certs-master-1",
        "ackops-renew-certs-master-2",
    }
    assert no_leftovers(lab)
