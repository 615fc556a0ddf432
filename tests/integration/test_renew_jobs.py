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

import datetime as dt
import json
import re
import subprocess
import threading
import time

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ansible_collections.ackops.runbooks.plugins.module_utils.common.durations import go_duration
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.core import (
    KUBEADM_LEAF_FILES as LEAVES,  # what kubeadm certs renew all renews under pki/
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.renew_jobs import (
    MASTER_BACKUP_SCRIPT,
)
from tests.integration.conftest import LAB_CLI, SlbPoller, recap, tree_hashes

pytestmark = pytest.mark.lab

SELECTOR = "app.kubernetes.io/managed-by=ackops-runbooks"
# The master Jobs' ClusterConfiguration ConfigMaps (not other runbooks' objects).
CONFIG_SELECTOR = "ackops.io/renew-certs"
NAMESPACE = "kube-system"


class Watch(threading.Thread):
    """`kubectl get <kind> --watch -o json` in the background; the objects it saw.

    Through the SLB, a watch ends when the API server serving it restarts (each
    master does during the renewal): it is started again at once (a new watch
    lists the current objects first), until stopped.
    """

    def __init__(self, lab, kind: str, selector: str = SELECTOR) -> None:
        super().__init__(daemon=True)
        self.argv = [
            str(lab.kubectl_bin), "--kubeconfig", str(lab.kubeconfig),
            "get", kind, "-n", NAMESPACE, "-l", selector, "--watch", "-o", "json",
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


def watched_run(lab, *args, config_maps: list | None = None):
    """The run with the Jobs and pods it made; the ConfigMaps too into ``config_maps``."""
    jobs, pods = Watch(lab, "jobs"), Watch(lab, "pods")
    maps = Watch(lab, "configmaps", CONFIG_SELECTOR) if config_maps is not None else None
    time.sleep(1)
    try:
        # The lab's SLB takes a master out within 2 s (haproxy: inter 1s fall 2).
        # Results as JSON: one line per message, whatever its length (the YAML
        # format folds long messages, and the assertions look for phrases).
        proc = lab.playbook(
            "renew-certs.yml", "-e", JOB_METHOD, "-e", "renew_certs_lb_drain_seconds=4", *args,
            env={"ANSIBLE_CALLBACK_RESULT_FORMAT": "json"},
        )  # fmt: skip
    finally:
        seen_jobs, seen_pods = jobs.stop(), pods.stop()
        if maps is not None:
            config_maps.extend(maps.stop())
    return proc, seen_jobs, seen_pods


def no_leftovers(lab) -> bool:
    """No Job, pod or ConfigMap of the runbook left (pods go with background propagation)."""
    for _ in range(30):
        if leftovers(lab) == ([], [], []):
            return True
        time.sleep(2)
    return False


def leftovers(lab) -> tuple[list[str], ...]:
    jobs = lab.kubectl_json("get", "jobs", "-n", NAMESPACE, "-l", SELECTOR)["items"]
    pods = lab.kubectl_json("get", "pods", "-n", NAMESPACE, "-l", SELECTOR)["items"]
    maps = lab.kubectl_json("get", "configmaps", "-n", NAMESPACE, "-l", CONFIG_SELECTOR)["items"]
    return tuple([item["metadata"]["name"] for item in items] for items in (jobs, pods, maps))


def cluster_configuration(lab) -> dict:
    """The lab's ClusterConfiguration, as kube-system/kubeadm-config holds it."""
    config_map = lab.kubectl_json("get", "configmap", "-n", NAMESPACE, "kubeadm-config")
    return yaml.safe_load(config_map["data"]["ClusterConfiguration"])


def leaf(master, rel: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((master.etc_kubernetes / "pki" / rel).read_bytes())


def key_type(cert: x509.Certificate) -> str:
    """kubeadm's encryptionAlgorithm name of the certificate's key."""
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA-{key.key_size}"
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return f"ECDSA-P{key.curve.key_size}"


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
    # kubeadm in each Job renews by the cluster's ClusterConfiguration. The lab's
    # lifetime (48h) is under the default 30-day threshold, where the runbook's
    # rule renews for 365 days instead (both methods: docs/renew-certs.md); with
    # a threshold below it the cluster's lifetime is followed, and force renews
    # leaves not yet within that threshold.
    config = cluster_configuration(lab)
    period = dt.timedelta(seconds=float(go_duration(config["certificateValidityPeriod"])))
    algorithm = config.get("encryptionAlgorithm") or "RSA-2048"
    config_maps: list[dict] = []
    poller = SlbPoller(lab.lab_kubeconfig, "https://10.250.0.1:6443/api/v1/namespaces/kube-system")
    poller.start()
    started = dt.datetime.now(dt.UTC)
    try:
        proc, jobs, pods = watched_run(
            lab,
            "-e", f"renew_certs_report_dir={tmp_path}",
            "-e", f"renew_certs_threshold_days={max(0, period.days - 1)}",
            "-e", "renew_certs_force=true",
            config_maps=config_maps,
        )  # fmt: skip
    finally:
        poller.stopping.set()
        poller.join()
    finished = dt.datetime.now(dt.UTC)
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

    # kubeadm renewed by the cluster's ClusterConfiguration, not its defaults:
    # every leaf lasts certificateValidityPeriod, with encryptionAlgorithm's keys.
    assert proc.stdout.count("kubeadm certs renew all --config with the cluster's") == len(masters)
    for master in masters:
        for rel in LEAVES:
            cert = leaf(master, rel)
            not_after = cert.not_valid_after_utc
            assert started + period - dt.timedelta(minutes=1) <= not_after <= finished + period, (
                master.name, rel, not_after, period,
            )  # fmt: skip
            assert key_type(cert) == algorithm, (master.name, rel)
    # Through one ConfigMap per master Job, mounted into its pod, holding the
    # ClusterConfiguration alone, stripped of the components' flags and
    # environment (which may carry credentials), certificatesDir the backed-up one.
    master_jobs = {f"ackops-renew-certs-master-{i}" for i in range(1, len(masters) + 1)}
    assert {cm["metadata"]["name"] for cm in config_maps} == {
        f"{name}-kubeadm-config" for name in master_jobs
    }
    for config_map in config_maps:
        assert set(config_map["data"]) == {"ClusterConfiguration"}
        document = yaml.safe_load(config_map["data"]["ClusterConfiguration"])
        assert document["kind"] == "ClusterConfiguration"
        assert document["certificateValidityPeriod"] == config["certificateValidityPeriod"]
        assert document["certificatesDir"] == "/etc/kubernetes/pki"
        assert not {"apiServer", "controllerManager", "scheduler", "networking"} & set(document)
    for pod in pods:
        if pod["metadata"]["labels"]["job-name"] in master_jobs:
            volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
            assert volumes["kubeadm-config"]["configMap"]["name"] == (
                pod["metadata"]["labels"]["job-name"] + "-kubeadm-config"
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


def command_fails(lab, tmp_path, command: list[str]):
    """A run whose master Jobs run ``command``; what it changed on the masters."""
    first, *others = lab.masters
    before, files_before = serials(lab), tree_hashes(lab)
    proc, jobs, _pods = watched_run(
        lab,
        "-e", json.dumps({"renew_certs_job_master_command": command}),
        "-e", "renew_certs_force=true",
        "-e", f"renew_certs_report_dir={tmp_path}",
    )  # fmt: skip
    out = proc.stdout
    (tmp_path / "run.out").write_text(out)  # kept by pytest, for a failure's reader
    assert proc.returncode != 0, out[-3000:]
    # The run names the host, the Job and the end of its output.
    assert f"{first.name}: the renewal did not come back healthy" in out
    assert "Job kube-system/ackops-renew-certs-master-1 succeeded 0 of 1 times (failed 1)" in out
    assert f"on {first.node_name} exited" in out
    # No master serves another certificate, every master's files are
    # byte-identical (the first restored, the others never touched), and no
    # other master's Job was created.
    assert serials(lab) == before
    hashes = tree_hashes(lab)
    for host in (first, *others):
        mine = {k: v for k, v in files_before.items() if f"ackl-{host.name}/kubernetes/" in k}
        mine = {k: v for k, v in mine.items() if "/manifests" not in k}
        assert mine
        assert {k: hashes.get(k) for k in mine} == mine, host.name
    assert {j["metadata"]["name"] for j in jobs} == {"ackops-renew-certs-master-1"}
    assert no_leftovers(lab)
    return out


def test_job_method_a_master_command_that_fails_is_rolled_back_or_changed_nothing(ha_lab, tmp_path):
    """The master Job's own command fails (not the gate after it): once after its
    backup and a half-written certificate, once before any backup."""
    lab = ha_lab
    # The built-in backup, then a certificate half written (a full disk), then the failure.
    half_way = MASTER_BACKUP_SCRIPT + (
        ': > "$pki/apiserver.crt"\necho "lab: writing apiserver.crt failed half-way" >&2\nexit 3\n'
    )
    out = command_fails(lab, tmp_path / "a", ["chroot", "/host", "/bin/sh", "-c", half_way])
    assert "exited 3" in out
    assert "lab: writing apiserver.crt failed half-way" in out
    restored = re.search(
        r"Restored the backup /var/lib/ackops/pki-backups/pki-\S+ \(\d+ files put back or "
        r"removed: ([^)]*)\) and restarted the control plane: healthy again",
        out,
    )
    assert restored, out[-3000:]
    assert "apiserver.crt" in restored.group(1).split(", ")

    out = command_fails(
        lab, tmp_path / "b", ["/bin/sh", "-c", "echo 'lab: no kubeadm on this host' >&2; exit 4"]
    )
    assert "exited 4" in out
    assert "lab: no kubeadm on this host" in out
    assert "(the Job stopped before it was made): nothing was renewed there" in out
    assert "Restored the backup" not in out


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
    # The fault matrix's row (tests/faults.py): the backup is the one restored above.
    from tests.faults import lab_shape, message_with, record

    record(
        "apiserver-fails-job", "renew-certs",
        message_with(out, f"{broken.name}: the renewal did not come back healthy"),
        None, None, True, None, lab=lab_shape(lab),
    )  # fmt: skip
