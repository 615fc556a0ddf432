"""renew-certs under faults the other lab tests do not make: a worker's sshd killed
mid-run, the master's API server killed mid-run, a kubeconfig corrupted between the report
and the renewal, the backup file system full, the network to a worker cut during a report,
and the controller's run killed and started again. Each test records its row of the fault
matrix (tests/faults.py, docs/reliability.md) after its own assertions.

One small lab for the module (1 master, 3 workers, leaves of 48 hours): the faults are
the same on the ha lab's workers and controller, and a renewal here takes seconds. Each
test puts back what it broke; the renewals use renew_certs_force, so the order of the
tests does not matter. make integration runs the sshd, kubeconfig and network faults
(about 3 minutes); the others (about a minute each) run with `make faults`, or whenever
ACKOPS_FAULTS is set.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import threading

import pytest

from tests.faults import failures, lab_shape, matrix_only, message_with, record
from tests.integration.conftest import (
    REPO,
    Watched,
    assert_ok,
    changed_total,
    flat,
    recap,
    tree_hashes,
    wait_until,
)
from tests.integration.pki_checks import BACKUP_DIR, assert_keys_match, backups, utcnow
from tests.integration.test_renew_certs import all_leaves, days_left

pytestmark = pytest.mark.lab

LOCK = "/var/lib/ackops/locks/renew-certs.lock"
FORCE = ("-e", "renew_certs_force=true")
REPORT = ("-e", "renew_certs_action=report")
# How long a report may take when a host's network is gone mid-task: ansible.cfg's SSH
# keepalives give up on it after about 30-40 s (without them the run waits for good).
GIVE_UP_SECONDS = 100


@pytest.fixture(scope="module")
def flab(lab_handle):
    lab = lab_handle.up("small", cert_validity="48h", workers=3)
    yield lab
    lab.dirty = True  # renewed certificates: the next module brings up its own


# ---- breaking a lab host from the machine (names as lab/ackolab/state.py makes them)


def netns(host) -> str:
    return f"ackl-{host.name}"


def veth(host) -> str:
    """The machine's end of the host's link to the lab bridge."""
    name = f"acklv{host.ip.rsplit('.', 1)[1]}"
    shown = subprocess.run(["ip", "-o", "link", "show", name], text=True, capture_output=True)
    assert shown.returncode == 0, shown.stderr
    assert "master acklbr0" in shown.stdout, shown.stdout
    return name


def link(name: str, state: str) -> None:
    subprocess.run(["ip", "link", "set", name, state], check=True, capture_output=True)


def host_processes(host) -> dict[int, list[str]]:
    """pid -> argv of every process in the host's network namespace."""
    pids = subprocess.run(
        ["ip", "netns", "pids", netns(host)], text=True, capture_output=True, check=True
    ).stdout.split()
    out = {}
    for pid in map(int, pids):
        try:
            argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")  # noqa: SIM115
        except OSError:
            continue  # gone meanwhile
        out[pid] = [part.decode(errors="replace") for part in argv if part]
    return out


def port_open(ip: str, port: int = 22) -> bool:
    try:
        with socket.create_connection((ip, port), timeout=2):
            return True
    except OSError:
        return False


class SshdDown:
    """Every sshd process of one host killed (the listener and the sessions of Ansible's
    connections), and kept down: the host's init, which restarts its sshd as a service
    manager would, is stopped meanwhile and resumed by ``restore``."""

    def __init__(self, host) -> None:
        self.host = host
        processes = host_processes(host)
        inits = [
            pid for pid, argv in processes.items()
            if any(a.endswith("hostinit.py") for a in argv) and host.name in argv
        ]  # fmt: skip
        assert len(inits) == 1, processes
        self.init = inits[0]
        os.kill(self.init, signal.SIGSTOP)
        self.killed = [pid for pid, argv in processes.items() if argv and argv[0].endswith("sshd")]
        self.killed += [
            pid for pid, argv in processes.items() if argv and argv[0].startswith("sshd:")
        ]
        for pid in self.killed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        assert self.killed, processes

    def restore(self) -> None:
        os.kill(self.init, signal.SIGCONT)
        wait_until(lambda: port_open(self.host.ip), 30, f"sshd of {self.host.name} again")


def assert_renewed_and_served(lab, master) -> None:
    """Every leaf renewed for a year, and the master serves the API certificate on disk."""
    on_disk = lab.ssh(
        master.name, "openssl x509 -noout -serial -in /etc/kubernetes/pki/apiserver.crt"
    ).stdout
    assert int(on_disk.strip().split("=", 1)[1], 16) == (
        lab.served_certificate(master.ip).serial_number
    )
    for name, cert in all_leaves(lab).items():
        assert days_left(cert) > 360, f"{name} valid {days_left(cert):.1f} days"


def kubelet_days(lab) -> dict[str, float]:
    return {
        name.split(":")[0]: days_left(cert)
        for name, cert in all_leaves(lab).items()
        if name.endswith(":kubelet.conf")
    }


def report_hosts(path) -> set[str]:
    return {row["host"] for row in json.loads(path.read_text())["certificates"]}


# ---- the faults


def test_a_worker_failing_and_a_worker_lost_mid_renewal_do_not_stop_the_others(flab, tmp_path):
    """Three workers, one per batch (renew_certs_worker_batch=1). The first one's renewal
    fails (its backup directory cannot be made) and the second stops answering once the masters'
    play started (its sshd killed): each is alone in its batch, which used to end the whole
    playbook. The third is renewed, the report after the renewal lists both with what
    happened, the run fails naming both; with both fixed, the next run renews them and
    every certificate matches its key."""
    lab = flab
    failing, victim, last = lab.workers
    since = utcnow()
    # Its backups cannot be written (a path under /dev/null): it fails before any change.
    broken = tmp_path / "broken-backup-dir.yml"
    broken.write_text(
        json.dumps({"workers": {"hosts": {failing.name: {
            "renew_certs_backup_dir": "/dev/null/ackops-backups"}}}})
    )  # fmt: skip
    run = Watched(lab, *FORCE, "-e", "renew_certs_worker_batch=1", "-i", str(broken))
    down = None
    try:
        run.wait_for(r"^PLAY \[Renew the masters", 300)
        down = SshdDown(victim)
        code, out, _ = run.finish(600)
    finally:
        run.stop()
        if down:
            down.restore()
    assert code != 0, out[-4000:]
    reported = [f for f in failures(out) if f[0] == victim.name]
    assert reported, out[-6000:]
    assert reported[0][1] == "UNREACHABLE", reported
    counters = recap(out)
    # Neither worker counts as failed or unreachable for Ansible (that is what ended the
    # playbook); the run's verdict on the controller fails, naming both.
    for host in (lab.masters[0].name, failing.name, victim.name, last.name):
        assert (counters[host]["failed"], counters[host]["unreachable"]) == (0, 0), host
    assert counters["localhost"]["failed"] == 1
    verdict = message_with(out, f"{failing.name} the kubelet credential was not renewed", 3000)
    assert "Nothing was changed on this node" in verdict, verdict
    assert f"{victim.name} stopped answering over SSH while making its key and CSR" in verdict
    assert "Its credential was not changed" in verdict
    days = kubelet_days(lab)
    assert days[lab.masters[0].name] > 360
    assert days[last.name] > 360, "the worker after the failed batches was not renewed"
    assert days[failing.name] < 3
    assert days[victim.name] < 3
    # The report after the renewal was written, the lost worker under "Not reachable".
    after = json.loads((REPO / "reports" / "renew-certs.json").read_text())
    assert after["unreachable"] == [victim.name], after["unreachable"]
    assert set(after["not_renewed"]) == {failing.name, victim.name}
    assert after["not_renewed"][victim.name]["state"] == "lost"
    assert after["not_renewed"][failing.name]["state"] == "failed"
    assert victim.name not in report_hosts(REPO / "reports" / "renew-certs.json")
    assert not backups(lab, failing.name, since)
    assert not backups(lab, victim.name, since)

    again = lab.playbook("renew-certs.yml")
    assert_ok(again, "the run after both workers were mended")
    days = kubelet_days(lab)
    assert days[failing.name] > 360
    assert days[victim.name] > 360
    pairs = assert_keys_match(lab)
    made = {h.name: backups(lab, h.name, since) for h in lab.hosts}
    assert all(made.values()), {h: len(b) for h, b in made.items()}
    record(
        "worker-sshd-killed", "renew-certs",
        f"{victim.name}: UNREACHABLE ({reported[0][2][:120]}), recorded as lost; "
        f"{failing.name}'s renewal failed before any change; each alone in its batch. "
        f"{last.name} after them renewed, the report after the renewal written (both under "
        f"'Workers not renewed by this run'), the run failed (exit {code}): \"{verdict[:700]}\" "
        f"The next run renewed them ({pairs} certificate/key pairs read afterwards).",
        True, True, True, None, lab=lab_shape(lab),
    )  # fmt: skip


@matrix_only
def test_a_masters_api_server_killed_mid_renewal(flab):
    """SIGKILL to the master's API server once the run waits for it to serve the renewed
    certificate: the host's kubelet (the lab's init) starts it again, the run rides it out
    and ends renewed, and a second run changes nothing."""
    lab = flab
    master = lab.masters[0]
    since = utcnow()
    run = Watched(lab, *FORCE)
    try:
        run.wait_for(r"^TASK \[.*Wait until the API server serves the renewed certificate", 300)
        killed = lab.component_pids(master.name)["kube-apiserver"]
        os.kill(killed, signal.SIGKILL)
        code, out, _ = run.finish(420)
    finally:
        run.stop()
    assert code == 0, out[-6000:]
    assert lab.component_pids(master.name).get("kube-apiserver") not in (None, killed)
    assert_renewed_and_served(lab, master)
    again = lab.playbook("renew-certs.yml")
    assert_ok(again, "the second run")
    assert changed_total(again) == 0, again.stdout[-4000:]
    pairs = assert_keys_match(lab)
    assert all(backups(lab, h.name, since) for h in lab.hosts)
    record(
        "apiserver-killed", "renew-certs",
        f"The run succeeded (exit 0) with {master.name}'s API server killed (pid {killed}) "
        f"during its health wait: started again, the renewed certificate served; a second run "
        f"changed nothing ({pairs} certificate/key pairs match).",
        True, True, True, None, lab=lab_shape(lab),
    )  # fmt: skip


def test_a_kubeconfig_corrupted_after_the_report(flab):
    """The renewal reads every file again: a kubeconfig cut in half after a clean report
    is refused, naming the host and the file, and nothing is changed; with the file put
    back, the renewal runs."""
    lab = flab
    master = lab.masters[0]
    assert_ok(lab.playbook("renew-certs.yml", *REPORT), "the report")
    conf = master.etc_kubernetes / "controller-manager.conf"
    saved = conf.read_bytes()
    try:
        conf.write_bytes(saved[: len(saved) // 2])  # a write cut short
        before = tree_hashes(lab)
        run = lab.playbook("renew-certs.yml", *FORCE)
        after = tree_hashes(lab)
        lock_left = lab.ssh(master.name, f"test -e {LOCK}", check=False).returncode == 0
    finally:
        conf.write_bytes(saved)
    assert run.returncode != 0, run.stdout[-4000:]
    failed = failures(run.stdout)
    assert failed, run.stdout[-4000:]
    host, _, message = failed[0]
    assert host == master.name, failed
    assert "controller-manager.conf" in message, message
    assert after == before, "a refused run changed files"
    assert not lock_left

    again = lab.playbook("renew-certs.yml")
    assert_ok(again, "the renewal once the file is back")
    assert_keys_match(lab)
    record(
        "kubeconfig-corrupted", "renew-certs",
        message if message.startswith(host) else f"{host}: {message}",
        True, True, None, None, lab=lab_shape(lab),
    )  # fmt: skip


FULL_BACKUPS = f"""
set -e
mkdir -p {BACKUP_DIR}
mount -t tmpfs -o size=64k,mode=0700 ackops-test-full {BACKUP_DIR}
dd if=/dev/zero of={BACKUP_DIR}/filler bs=4k 2>/dev/null || true
df -k {BACKUP_DIR} | tail -1
"""


@matrix_only
def test_a_full_backup_file_system_refuses_the_renewal(flab):
    """No complete backup, no renewal: the master's backup fails on a full file system,
    nothing is written, the lock is released, and a run with space renews."""
    lab = flab
    master = lab.masters[0]
    served = lab.served_certificate(master.ip).serial_number
    before = tree_hashes(lab)
    lab.ssh(master.name, FULL_BACKUPS)
    try:
        run = lab.playbook("renew-certs.yml", *FORCE)
        after = tree_hashes(lab)
    finally:
        lab.ssh(master.name, f"umount {BACKUP_DIR}", check=False)
    out = flat(run.stdout)
    assert run.returncode != 0, run.stdout[-4000:]
    assert "No space left on device" in out, run.stdout[-6000:]
    assert "Nothing was changed on this host" in out, run.stdout[-6000:]
    assert after == before, "files changed although no backup could be made"
    assert lab.served_certificate(master.ip).serial_number == served
    assert lab.ssh(master.name, f"test -e {LOCK}", check=False).returncode != 0
    message = [m for host, _, m in failures(run.stdout) if host == master.name][-1]

    since = utcnow()
    again = lab.playbook("renew-certs.yml", *FORCE)
    assert_ok(again, "the renewal with space for its backup")
    assert lab.served_certificate(master.ip).serial_number != served
    assert_keys_match(lab)
    assert all(backups(lab, h.name, since) for h in lab.hosts)
    record("backup-fs-full", "renew-certs", message, True, True, True, None, lab=lab_shape(lab))


def test_the_network_to_a_worker_cut_during_a_report(flab, tmp_path):
    """The worker's link goes down while its certificate read is in flight: the report run
    gives up on it in bounded time, names it, and reports the others."""
    lab = flab
    victim = lab.workers[-1]
    link_name = veth(victim)
    # A hold point: the worker's read blocks on this FIFO, so the cut lands while its SSH
    # session is open and its task in flight (the read alone takes milliseconds).
    hold = Hold(victim.etc_kubernetes / "pki" / "zz-fault-hold.crt")
    report_dir = tmp_path / "reports"
    run = Watched(lab, *REPORT, "-e", f"renew_certs_report_dir={report_dir}")
    cut = False
    try:
        assert hold.reached.wait(120), f"the read never reached the FIFO:\n{run.output[-4000:]}"
        link(link_name, "down")
        cut = True
        code, out, took = run.finish(GIVE_UP_SECONDS + 60)
    finally:
        run.stop()
        if cut:
            link(link_name, "up")
        hold.release()
    assert code != 0, out[-4000:]
    reported = [f for f in failures(out) if f[0] == victim.name]
    assert reported, out[-6000:]
    assert reported[0][1] == "UNREACHABLE", reported
    assert took < GIVE_UP_SECONDS, f"the report took {took:.0f} s to give up on {victim.name}"
    others = {h.name for h in lab.hosts} - {victim.name}
    assert report_hosts(report_dir / "renew-certs.json") == others
    assert json.loads((report_dir / "renew-certs.json").read_text())["unreachable"] == [victim.name]
    wait_until(lambda: port_open(victim.ip), 30, f"{victim.name} reachable again")

    again = lab.playbook("renew-certs.yml", *REPORT, "-e", f"renew_certs_report_dir={report_dir}")
    assert_ok(again, "the report with the link back")
    assert report_hosts(report_dir / "renew-certs.json") == {h.name for h in lab.hosts}
    record(
        "network-cut-report", "renew-certs",
        f"{victim.name}: UNREACHABLE after {took:.0f} s ({reported[0][2][:200]}); "
        f"the others reported, the run failed (exit {code}).",
        True, None, None, None, lab=lab_shape(lab),
    )  # fmt: skip


class Hold:
    """A FIFO among a host's certificates: a read of it blocks until ``release``.
    ``reached`` is set once a reader has opened it."""

    def __init__(self, path) -> None:
        self.path = path
        os.mkfifo(path)
        self.reached = threading.Event()
        self.fd: int | None = None
        self.writer = threading.Thread(target=self.open, daemon=True)
        self.writer.start()

    def open(self) -> None:
        self.fd = os.open(self.path, os.O_WRONLY)  # returns when a reader opens it
        self.reached.set()

    def release(self) -> None:
        if not self.reached.is_set():  # no reader came: be the reader, to end the writer
            os.close(os.open(self.path, os.O_RDONLY | os.O_NONBLOCK))
            self.writer.join(timeout=10)
        if self.fd is not None:
            os.close(self.fd)  # the reader sees an empty file
        self.path.unlink(missing_ok=True)


@matrix_only
def test_the_controllers_run_killed_and_started_again(flab):
    """ansible-playbook SIGKILLed right after the master's certificates were written. Started
    again, the run is refused on the lock the killed run left, naming it; with the lock
    removed, as the message says, it finishes the restart and converges."""
    lab = flab
    master = lab.masters[0]
    since = utcnow()
    run = Watched(lab, *FORCE)
    try:
        start = run.wait_for(r"^TASK \[.*Renew the due leaf certificates", 300)
        run.wait_for(rf"^changed: \[{re.escape(master.name)}\]", 120, after=start)
        run.kill()
    finally:
        run.stop()
    written = backups(lab, master.name, since)
    assert written, "the killed run's backup is not there"

    again = lab.playbook("renew-certs.yml")
    assert again.returncode != 0, again.stdout[-4000:]
    refused = flat(again.stdout)
    assert "another run holds it" in refused, refused[-4000:]
    assert f"remove {LOCK}" in refused, refused[-4000:]
    lab.ssh(master.name, f"rm -f {LOCK}")

    final = lab.playbook("renew-certs.yml")
    assert_ok(final, "the run after the lock was removed")
    out = flat(final.stdout)
    finished = next(
        (text for text in ("started before", "a restart was interrupted") if text in out), None
    )
    assert finished, final.stdout[-6000:]
    assert_renewed_and_served(lab, master)
    pairs = assert_keys_match(lab)
    assert lab.ssh(master.name, f"test -e {LOCK}", check=False).returncode != 0
    record(
        "controller-killed", "renew-certs",
        f"Started again: {message_with(again.stdout, 'another run holds it')} With the lock "
        f"removed, the next run found the control plane {finished} and converged (the killed "
        f"run's backup {written[0]['path']} complete; {pairs} certificate/key pairs match).",
        True, True, True, None, lab=lab_shape(lab),
    )  # fmt: skip
