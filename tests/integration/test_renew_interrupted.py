"""renew-certs.yml finishes what an interrupted run left behind (issue: a run that
died after writing, or with the manifests aside, must not end green).

Judged with ps, ss-like port probes and the served API, not with the project's
own control-plane module.
"""

from __future__ import annotations

import json

import pytest

from tests.faults import lab_shape, message_with, record
from tests.integration.conftest import (
    CONTROL_PLANE as COMPONENTS,
)
from tests.integration.conftest import (
    REPO,
    assert_ok,
    changed_total,
    flat,
    wait_until,
)
from tests.integration.pki_checks import assert_keys_match, backups, utcnow

pytestmark = pytest.mark.lab

REPORT = REPO / "reports" / "renew-certs.json"


def test_a_run_that_died_after_writing_is_restarted_by_the_next(lab_handle):
    lab = lab_handle.up("small", cert_validity="48h")
    since = utcnow()
    master = lab.masters[0].name
    before = lab.component_pids(master)
    assert set(before) == set(COMPONENTS), before
    # The renewal module alone: what a run that died right after the write leaves.
    died = lab.ansible(master, "ackops.runbooks.k8s_cert_renew", "threshold_days=30")
    assert died.returncode == 0, died.stdout[-3000:]
    assert lab.component_pids(master) == before, "the write alone must not restart anything"

    run = lab.playbook("renew-certs.yml")
    assert_ok(run, "the next run")
    assert "started before" in flat(run.stdout)
    assert "This run restarts the control plane" in flat(run.stdout)
    after = lab.component_pids(master)
    assert set(after) == set(COMPONENTS)
    for name in COMPONENTS:
        assert after[name] != before[name], f"{name} was not restarted"
    report = json.loads(REPORT.read_text())
    assert any("started before" in line for line in report["unfinished"][master])
    assert "Left unfinished by an earlier run" in (REPO / "reports" / "renew-certs.md").read_text()

    again = lab.playbook("renew-certs.yml")
    assert_ok(again, "third run")
    assert changed_total(again) == 0, again.stdout[-3000:]
    assert lab.component_pids(master) == after
    assert json.loads(REPORT.read_text())["unfinished"] == {}
    assert_keys_match(lab)
    assert backups(lab, master, since), "no backup of the write"
    record(
        "died-after-write", "renew-certs", message_with(run.stdout, "started before"),
        True, True, True, None, lab=lab_shape(lab),
    )  # fmt: skip


def test_manifests_left_aside_are_put_back_and_checked(lab_handle):
    lab = lab_handle.up("small")
    master = lab.masters[0].name
    # What a run killed in the middle of restart_control_plane.yml leaves.
    lab.ssh(
        master,
        "mkdir -m 0700 /etc/kubernetes/manifests.ackops-restart && "
        "mv /etc/kubernetes/manifests/*.yaml /etc/kubernetes/manifests.ackops-restart/",
    )
    wait_until(lambda: not lab.component_pids(master), 120, "the kubelet to stop the control plane")

    run = lab.playbook("renew-certs.yml")
    assert_ok(run, "the next run")
    assert "a restart was interrupted" in flat(run.stdout)
    assert (
        lab.ssh(master, "ls /etc/kubernetes/manifests.ackops-restart", check=False).returncode != 0
    )
    assert set(lab.component_pids(master)) == set(COMPONENTS)
    assert lab.kubectl("get", "--raw", "/readyz", kubeconfig=lab.lab_kubeconfig).returncode == 0
    report = json.loads(REPORT.read_text())
    assert any("a restart was interrupted" in line for line in report["unfinished"][master])
    assert_keys_match(lab)
    record(
        "manifests-aside", "renew-certs", message_with(run.stdout, "a restart was interrupted"),
        True, True, None, None, lab=lab_shape(lab),
    )  # fmt: skip


def test_check_mode_reports_an_unfinished_run_and_changes_nothing(lab_handle):
    lab = lab_handle.up("small")
    master = lab.masters[0].name
    before = lab.component_pids(master)
    lab.ssh(master, "touch /etc/kubernetes/scheduler.conf")
    run = lab.playbook("renew-certs.yml", "--check")
    assert_ok(run, "check mode")
    assert "kube-scheduler (pid" in flat(run.stdout)
    assert "A run without --check restarts the control plane" in flat(run.stdout)
    assert lab.component_pids(master) == before


def test_a_second_run_on_a_locked_master_is_refused(lab_handle):
    lab = lab_handle.up("small", cert_validity="48h")
    master = lab.masters[0].name
    lock = "/var/lib/ackops/locks/renew-certs.lock"
    holder = '{"owner": "ops-1 2026-12-04T03:00:00Z #1", "since": "2026-12-04T03:00:00Z", "expires": "2099-01-01T00:00:00Z"}'
    lab.ssh(master, f"mkdir -p -m 0700 /var/lib/ackops/locks && echo '{holder}' > {lock}")
    before = lab.ssh(master, "sha256sum /etc/kubernetes/pki/*.crt /etc/kubernetes/*.conf").stdout
    try:
        run = lab.playbook("renew-certs.yml")
        assert run.returncode != 0, run.stdout[-3000:]
        assert "another run holds it: ops-1 2026-12-04T03:00:00Z #1" in flat(run.stdout)
        assert f"remove {lock}" in flat(run.stdout)
        after = lab.ssh(master, "sha256sum /etc/kubernetes/pki/*.crt /etc/kubernetes/*.conf").stdout
        assert after == before
        # The refused run neither took nor removed the other run's lock.
        assert lab.ssh(master, f"cat {lock}").stdout.strip() == holder
    finally:
        lab.ssh(master, f"rm -f {lock}")
    # That a renewal releases its own lock is proven by every test that renews twice on
    # one lab (a lock left behind refuses the second run), so none is run again here.
    assert_keys_match(lab)
    record(
        "lock-held", "renew-certs", message_with(run.stdout, "another run holds it"),
        None, True, None, None, lab=lab_shape(lab),
    )  # fmt: skip
