"""renew-certs.yml against the lab: report, renewal (expiring and expired), refusals, HA."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.faults import lab_shape, message_with, record
from tests.integration.conftest import LAB, REPO, SlbPoller, assert_ok, changed_total, tree_hashes
from tests.integration.pki_checks import assert_keys_match, backups, utcnow

pytestmark = pytest.mark.lab

REPORT = REPO / "reports" / "renew-certs.json"
# What `kubeadm certs check-expiration` covers, by its names.
KUBEADM_NAMES = {
    "admin.conf", "apiserver", "apiserver-etcd-client", "apiserver-kubelet-client",
    "controller-manager.conf", "etcd-healthcheck-client", "etcd-peer", "etcd-server",
    "front-proxy-client", "scheduler.conf", "super-admin.conf",
}  # fmt: skip
LEAF_FILES = [
    "pki/apiserver.crt", "pki/apiserver-kubelet-client.crt", "pki/apiserver-etcd-client.crt",
    "pki/front-proxy-client.crt", "pki/etcd/server.crt", "pki/etcd/peer.crt",
    "pki/etcd/healthcheck-client.crt",
]  # fmt: skip


def host_etc(host: str) -> Path:
    return LAB.host(host).etc_kubernetes


def object_versions(lab) -> dict[str, str]:
    return lab.object_states("nodes,deploy,svc")


def api_serving(lab) -> bool:
    """Whether the API answers the lab's own long-lived credential (false when expired)."""
    return (
        lab.kubectl(
            "get", "--raw", "/readyz", check=False, kubeconfig=lab.lab_kubeconfig
        ).returncode
        == 0
    )


def cert_file(host: str, rel: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((host_etc(host) / rel).read_bytes())


def embedded_cert(host: str, conf: str) -> x509.Certificate:
    import base64

    config = yaml.safe_load((host_etc(host) / conf).read_text())
    data = config["users"][0]["user"]["client-certificate-data"]
    return x509.load_pem_x509_certificate(base64.b64decode(data))


def kubelet_cert(host: str) -> x509.Certificate:
    link = LAB.host(host).var_lib_kubelet / "pki" / "kubelet-client-current.pem"
    target = link.parent / Path(link.readlink()).name
    return x509.load_pem_x509_certificate(target.read_bytes())


def days_left(cert: x509.Certificate) -> float:
    return (cert.not_valid_after_utc - dt.datetime.now(dt.UTC)).total_seconds() / 86400


def all_leaves(lab) -> dict[str, x509.Certificate]:
    out = {}
    for host in lab.hosts:
        out[f"{host.name}:kubelet.conf"] = kubelet_cert(host.name)
        if host.role != "master":
            continue
        for rel in LEAF_FILES:
            out[f"{host.name}:{rel}"] = cert_file(host.name, rel)
        for conf in ("admin.conf", "super-admin.conf", "controller-manager.conf", "scheduler.conf"):
            out[f"{host.name}:{conf}"] = embedded_cert(host.name, conf)
    return out


# --------------------------------------------------------------------------- report


def test_report_matches_kubeadm_check_expiration(lab):
    proc = lab.playbook("renew-certs.yml", "-e", "renew_certs_action=report")
    assert_ok(proc, "report")
    assert changed_total(proc) == 0
    report = json.loads(REPORT.read_text())
    master = lab.masters[0]
    kubeadm = json.loads(
        lab.ssh(
            master.name,
            "kubeadm certs check-expiration --config /etc/kubernetes/kubeadm-config.yaml -o json",
        ).stdout
    )
    ours = {
        row["name"]: row
        for row in report["certificates"]
        if row["host"] == master.name and row["name"] in KUBEADM_NAMES
    }
    theirs = {c["name"]: c for c in kubeadm["certificates"]}
    assert set(theirs) == KUBEADM_NAMES
    assert set(ours) == set(theirs)
    for name, cert in theirs.items():
        expires = dt.datetime.fromisoformat(cert["expirationDate"].replace("Z", "+00:00"))
        mine = dt.datetime.fromisoformat(ours[name]["not_after"].replace("Z", "+00:00"))
        assert abs((mine - expires).total_seconds()) < 1, name
    for ca in kubeadm["certificateAuthorities"]:
        row = next(
            r
            for r in report["certificates"]
            if r["host"] == master.name and r["name"] == ca["name"]
        )
        assert row["kind"] == "ca"
    # Beyond kubeadm: every host's kubelet credential, and the rows sorted by expiry.
    for host in lab.hosts:
        assert any(
            r["host"] == host.name and r["name"] == "kubelet.conf" for r in report["certificates"]
        ), host.name
    expiries = [r["not_after"] for r in report["certificates"]]
    assert expiries == sorted(expiries)
    assert (REPO / "reports" / "renew-certs.md").read_text().count("| lab-") >= len(ours)


def test_report_can_fail_a_scheduled_run(lab_handle):
    lab = lab_handle.up("small", cert_validity="72h")
    proc = lab.playbook(
        "renew-certs.yml",
        "-e", "renew_certs_action=report",
        "-e", "renew_certs_fail_on_critical=true",
    )  # fmt: skip
    assert proc.returncode != 0
    assert "critical certificates" in proc.stdout


# --------------------------------------------------------------------------- renewal


def renew_and_verify(lab, extra: tuple[str, ...] = ()):
    """Check mode changes nothing; the renewal renews everything; a second run is a no-op."""
    before_files = tree_hashes(lab)
    before_objects = object_versions(lab) if api_serving(lab) else None
    before_serials = {
        m.name: lab.served_certificate(m.ip).serial_number
        for m in lab.masters
        if _served(lab, m.ip)
    }
    check = lab.playbook("renew-certs.yml", "--check", "--diff", *extra)
    assert_ok(check, "check mode")
    assert tree_hashes(lab) == before_files, "check mode changed a file"
    if before_objects is not None:
        assert object_versions(lab) == before_objects, "check mode changed an object"
    assert "PRIVATE KEY" not in check.stdout

    run = lab.playbook("renew-certs.yml", "--diff", *extra)
    assert_ok(run, "renewal")
    assert "PRIVATE KEY" not in run.stdout
    for name, cert in all_leaves(lab).items():
        assert 360 < days_left(cert) <= 365, f"{name} valid {days_left(cert):.1f} days"
    for master in lab.masters:
        served = lab.served_certificate(master.ip)
        assert served.serial_number == cert_file(master.name, "pki/apiserver.crt").serial_number
        assert served.serial_number != before_serials.get(master.name)
    # kubectl with the renewed admin.conf works, from the master and from the controller.
    out = lab.ssh(
        lab.masters[0].name, "kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o name"
    ).stdout
    assert len(out.split()) == len(lab.hosts)
    for host in lab.hosts:
        who = lab.ssh(
            host.name,
            "kubectl --kubeconfig /etc/kubernetes/kubelet.conf auth whoami "
            "-o jsonpath='{.status.userInfo.username}'",
        ).stdout
        assert who.strip() == f"system:node:{host.node_name}"
    nodes = lab.kubectl_json("get", "nodes", kubeconfig=lab.lab_kubeconfig)["items"]
    for node in nodes:
        ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
        assert ready["status"] == "True", node["metadata"]["name"]

    again = lab.playbook("renew-certs.yml", *extra)
    assert_ok(again, "second run")
    assert changed_total(again) == 0, again.stdout[-3000:]
    return run


def _served(lab, ip) -> bool:
    try:
        lab.served_certificate(ip)
        return True
    except OSError:
        return False


def test_renews_an_expired_cluster_over_ssh_without_ca_key_material_in_verbose_output(lab_handle):
    """The recovery path (every leaf expired, the API refusing its own admin) at -vvv.

    -vvv prints every module's arguments and results: the CA keys the renewal signs with
    must not be among them. (The nightly path, leaves about to expire on a serving
    cluster, is renewed by test_ha_renewal_without_a_failed_request_then_rollback, the
    kubeadm-rules and CA-expiry tests in test_renew_pki_rules.py and Molecule's renew_certs.)
    """
    lab = lab_handle.up("small", expired=True)
    assert lab.kubectl("get", "nodes", check=False).returncode != 0, "the API should refuse admin"
    keys = []
    for name in ("pki/ca.key", "pki/etcd/ca.key", "pki/front-proxy-ca.key"):
        text = (host_etc(lab.masters[0].name) / name).read_text()
        body = [line for line in text.splitlines() if line and not line.startswith("-----")]
        keys += [line for line in body if len(line) > 20]
    assert len(keys) >= 3 * 3, "the CA keys were not read"
    fetched = REPO / "reports" / "admin.conf"
    run = renew_and_verify(lab, ("-vvv", "-e", f"renew_certs_fetch_admin_conf={fetched}"))
    # The diff shows subjects, serials and expiry, before and after.
    assert re.search(r"serial", run.stdout)
    output = run.stdout + run.stderr
    assert "PRIVATE KEY" not in output
    leaked = [line for line in keys if line in output]
    assert not leaked, f"{len(leaked)} lines of CA key material in the -vvv output"
    assert fetched.stat().st_mode & 0o777 == 0o600
    assert lab.kubectl("get", "nodes", kubeconfig=fetched).returncode == 0
    fetched.unlink()


# --------------------------------------------------------------------------- refusals


@pytest.fixture(scope="module")
def refusal_lab(lab_handle):
    """One lab for the refusals: each refused run changes nothing, and each test puts back
    the file it broke, so the next one starts from the same certificates."""
    return lab_handle.up("small", cert_validity="48h")


def refused(lab, break_it, expect: str, *extra: str, broken: tuple[Path, ...] = ()):
    saved = {path: path.read_bytes() for path in broken}
    try:
        break_it()
        before = tree_hashes(lab)
        proc = lab.playbook("renew-certs.yml", *extra)
        assert proc.returncode != 0, "the run should have been refused"
        assert re.search(expect, proc.stdout + proc.stderr), proc.stdout[-4000:]
        assert tree_hashes(lab) == before, "a refused run changed files"
    finally:
        for path, data in saved.items():
            path.write_bytes(data)
    return proc


def test_refuses_a_wrong_ca_key(refusal_lab):
    lab = refusal_lab
    master = lab.masters[0].name
    key = ec.generate_private_key(ec.SECP256R1())

    def break_it():
        path = host_etc(master) / "pki" / "ca.key"
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )

    refused(
        lab,
        break_it,
        rf"{master}.*ca\.key|ca\.key.*{master}|does not match",
        broken=(host_etc(master) / "pki" / "ca.key",),
    )


def test_refuses_a_corrupt_certificate(refusal_lab):
    lab = refusal_lab
    master = lab.masters[0].name

    def break_it():
        (host_etc(master) / "pki" / "front-proxy-client.crt").write_text(
            "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n"
        )

    refused(
        lab,
        break_it,
        r"front-proxy-client\.crt",
        broken=(host_etc(master) / "pki" / "front-proxy-client.crt",),
    )


def test_refuses_an_expired_ca(refusal_lab):
    lab = refusal_lab
    master = lab.masters[0].name

    def break_it():
        path = host_etc(master) / "pki" / "front-proxy-ca.crt"
        ca = x509.load_pem_x509_certificate(path.read_bytes())
        key = serialization.load_pem_private_key(
            (host_etc(master) / "pki" / "front-proxy-ca.key").read_bytes(), None
        )
        end = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        builder = (
            x509.CertificateBuilder()
            .subject_name(ca.subject)
            .issuer_name(ca.subject)
            .public_key(ca.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(end - dt.timedelta(days=3650))
            .not_valid_after(end)
        )
        for ext in ca.extensions:
            builder = builder.add_extension(ext.value, ext.critical)
        path.write_bytes(
            builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
        )

    refused(
        lab,
        break_it,
        r"front-proxy-ca\.crt.*expired|expired.*front-proxy-ca",
        broken=(host_etc(master) / "pki" / "front-proxy-ca.crt",),
    )


def test_refuses_when_a_master_is_unreachable(refusal_lab, tmp_path):
    lab = refusal_lab
    extra = tmp_path / "ghost.yml"
    # A second master that does not answer (a lab address nothing listens on).
    extra.write_text(
        yaml.safe_dump(
            {
                "masters": {
                    "hosts": {
                        "lab-master-9": {
                            "ansible_host": "10.250.0.19",
                            "ansible_ssh_common_args": "-o ConnectTimeout=3",
                        }
                    }
                }
            }
        )
    )
    refused(lab, lambda: None, r"lab-master-9", "-i", str(extra))


# --------------------------------------------------------------------------- HA


def test_ha_renewal_without_a_failed_request_then_rollback(lab_handle, capsys):
    lab = lab_handle.up("ha", cert_validity="48h")
    since = utcnow()
    poller = SlbPoller(lab.lab_kubeconfig, "https://10.250.0.1:6443/api/v1/namespaces/kube-system")
    poller.start()
    try:
        renew_and_verify(lab)
    finally:
        poller.stopping.set()
        poller.join()
    with capsys.disabled():
        print(
            f"\nHA renewal through the SLB: {poller.probes} probes, {len(poller.failures)} failed"
        )
    assert poller.probes > 50
    assert poller.failures == []
    assert_keys_match(lab)
    assert all(backups(lab, host.name, since) for host in lab.hosts)
    record(
        "ha-restarts", "renew-certs",
        "The renewal succeeded (exit 0): every leaf renewed, each master serving its new "
        "certificate after its restart, one at a time; a second run changed nothing.",
        True, True, True, len(poller.failures), probes=poller.probes, lab=lab_shape(lab),
    )  # fmt: skip

    # A master that does not come back after its restart is rolled back, and the
    # masters after it are not touched.
    broken, untouched = lab.masters[1], lab.masters[2]
    served_before = {m.name: lab.served_certificate(m.ip).serial_number for m in lab.masters}
    files_before = tree_hashes(lab)
    lab_cmd = [str(REPO / "lab" / "lab"), "fault", broken.name, "kube-apiserver"]
    import subprocess

    subprocess.run(lab_cmd, check=True, capture_output=True)
    poller = SlbPoller(lab.lab_kubeconfig, "https://10.250.0.1:6443/api/v1/namespaces/kube-system")
    poller.start()
    try:
        proc = lab.playbook(
            "renew-certs.yml", "-e", "renew_certs_force=true", "-e", "renew_certs_health_timeout=30"
        )
    finally:
        poller.stopping.set()
        poller.join()
    with capsys.disabled():
        print(
            f"\nHA rollback through the SLB: {poller.probes} probes, "
            f"{len(poller.failures)} failed {poller.failures[:3]}"
        )
    assert proc.returncode != 0
    assert f"{broken.name}: the renewal did not come back healthy" in proc.stdout
    assert "Restored the backup" in proc.stdout
    assert "healthy again" in proc.stdout
    # The broken master serves its old certificate again; the next master was not touched.
    assert lab.served_certificate(broken.ip).serial_number == served_before[broken.name]
    assert lab.served_certificate(untouched.ip).serial_number == served_before[untouched.name]
    untouched_files = {k: v for k, v in files_before.items() if f"ackl-{untouched.name}/" in k}
    assert {k: v for k, v in tree_hashes(lab).items() if k in untouched_files} == untouched_files
    assert (
        lab.served_certificate(lab.masters[0].ip).serial_number
        != served_before[lab.masters[0].name]
    )
    assert_keys_match(lab)
    # Measured, not asserted: the SLB's failed probes while a master failed and was rolled back.
    record(
        "apiserver-fails-ssh", "renew-certs",
        message_with(proc.stdout, f"{broken.name}: the renewal did not come back healthy"),
        None, True, True, len(poller.failures), probes=poller.probes, lab=lab_shape(lab),
    )  # fmt: skip
