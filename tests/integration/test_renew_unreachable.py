"""One worker that does not answer must not stop the report or the renewal of
the others: it is listed as unreachable and the run ends failed, naming it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import yaml
from cryptography import x509

from tests.faults import lab_shape, message_with, record
from tests.integration.conftest import REPO, flat
from tests.integration.pki_checks import assert_keys_match, backups, utcnow

pytestmark = pytest.mark.lab

REPORT = REPO / "reports" / "renew-certs.json"


def ghost_worker(tmp_path):
    """A worker at a lab address nothing listens on."""
    extra = tmp_path / "ghost.yml"
    host = {
        "ansible_host": "10.250.0.109",
        "ansible_ssh_common_args": "-o ConnectTimeout=3",
        "k8s_node_name": "cn-hangzhou.i-ghost",
    }
    extra.write_text(yaml.safe_dump({"workers": {"hosts": {"lab-worker-9": host}}}))
    return extra


def kubelet_days_left(lab, host) -> float:
    pem = lab.ssh(host.name, "cat /var/lib/kubelet/pki/kubelet-client-current.pem").stdout
    cert = x509.load_pem_x509_certificate(pem.encode())
    return (cert.not_valid_after_utc - dt.datetime.now(dt.UTC)).total_seconds() / 86400


def test_report_lists_an_unreachable_worker_and_covers_the_others(lab_handle, tmp_path):
    lab = lab_handle.up("small")
    run = lab.playbook(
        "renew-certs.yml", "-i", str(ghost_worker(tmp_path)), "-e", "renew_certs_action=report"
    )
    assert run.returncode != 0, run.stdout[-3000:]
    out = flat(run.stdout)
    assert "lab-worker-9 could not be reached over SSH: their certificates were not read." in out
    report = json.loads(REPORT.read_text())
    assert report["unreachable"] == ["lab-worker-9"]
    hosts = {row["host"] for row in report["certificates"]}
    assert hosts == {h.name for h in lab.hosts}
    assert "## Not reachable" in (REPO / "reports" / "renew-certs.md").read_text()
    record(
        "worker-unreachable-report", "renew-certs",
        message_with(run.stdout, "lab-worker-9 could not be reached over SSH"),
        None, None, None, None, lab=lab_shape(lab),
    )  # fmt: skip


def test_renewal_goes_on_without_an_unreachable_worker(lab_handle, tmp_path):
    lab = lab_handle.up("small", cert_validity="48h")
    since = utcnow()
    run = lab.playbook("renew-certs.yml", "-i", str(ghost_worker(tmp_path)))
    assert run.returncode != 0, run.stdout[-3000:]
    assert "could not be reached over SSH: their certificates were not read or renewed" in flat(
        run.stdout
    )
    for host in lab.hosts:
        assert kubelet_days_left(lab, host) > 300, f"{host.name} was not renewed"
    assert json.loads(REPORT.read_text())["unreachable"] == ["lab-worker-9"]
    assert_keys_match(lab)
    assert all(backups(lab, host.name, since) for host in lab.hosts)
    record(
        "worker-unreachable-renewal", "renew-certs",
        message_with(run.stdout, "could not be reached over SSH: their certificates were not read or"),
        None, True, True, None, lab=lab_shape(lab),
    )  # fmt: skip
