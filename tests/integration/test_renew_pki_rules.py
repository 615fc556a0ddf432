"""renew-certs on the lab by kubeadm's rules: its certificates only, its lifetime and key
type from the ClusterConfiguration, a CA close to its expiry, a disk that fills mid-write."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.faults import lab_shape, message_with, record
from tests.integration.conftest import wait_until
from tests.integration.pki_checks import assert_keys_match
from tests.integration.test_renew_certs import (
    all_leaves,
    assert_ok,
    changed_total,
    days_left,
    host_etc,
)

pytestmark = pytest.mark.lab

KUBEADM_CONFIG = "/etc/kubernetes/kubeadm-config.yaml"


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _leaf(subject_cn: str, issuer: x509.Certificate, issuer_key, days: float, public_key):
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)]))
        .issuer_name(issuer.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(issuer_key, hashes.SHA256())
    )


def add_strays(master: str) -> dict:
    """A due client certificate of the cluster CA without a key, and a due leaf of another CA."""
    pki = host_etc(master) / "pki"
    ca = x509.load_pem_x509_certificate((pki / "ca.crt").read_bytes())
    ca_key = serialization.load_pem_private_key((pki / "ca.key").read_bytes(), None)
    lonely_key = ec.generate_private_key(ec.SECP256R1())
    lonely = _leaf("backup-agent", ca, ca_key, 2, lonely_key.public_key())
    (pki / "backup-agent.crt").write_bytes(lonely.public_bytes(serialization.Encoding.PEM))
    vendor_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    vendor = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vendor-ca")]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vendor-ca")]))
        .public_key(vendor_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
        .not_valid_after(dt.datetime.now(dt.UTC) + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(vendor_key, hashes.SHA256())
    )
    hook_key = ec.generate_private_key(ec.SECP256R1())
    hook = _leaf("webhook", vendor, vendor_key, 1, hook_key.public_key())
    (pki / "vendor").mkdir(exist_ok=True)
    (pki / "vendor" / "webhook.crt").write_bytes(hook.public_bytes(serialization.Encoding.PEM))
    (pki / "vendor" / "webhook.key").write_bytes(
        hook_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    (pki / "vendor" / "webhook.key").chmod(0o600)
    paths = [
        pki / "backup-agent.crt",
        pki / "vendor" / "webhook.crt",
        pki / "vendor" / "webhook.key",
    ]
    return {str(path): sha(path) for path in paths}


def set_cluster_configuration(master: str, **fields) -> None:
    path = host_etc(master) / "kubeadm-config.yaml"
    docs = list(yaml.safe_load_all(path.read_text()))
    for doc in docs:
        if doc.get("kind") == "ClusterConfiguration":
            doc.update(fields)
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))


def test_kubeadm_rules_on_the_lab(lab_handle):
    """Stray certificates untouched; 4380h + ECDSA-P256 from the ClusterConfiguration; changed=0 after."""
    lab = lab_handle.up("small", cert_validity="48h")
    lab.dirty = True
    master = lab.masters[0].name
    strays = add_strays(master)
    set_cluster_configuration(
        master, certificateValidityPeriod="4380h", encryptionAlgorithm="ECDSA-P256"
    )
    extra = ("-e", f"renew_certs_kubeadm_config={KUBEADM_CONFIG}")

    run = lab.playbook("renew-certs.yml", "--diff", *extra)
    assert_ok(run, "renewal by the ClusterConfiguration")
    assert "PRIVATE KEY" not in run.stdout
    for name, cert in all_leaves(lab).items():
        assert 182 <= days_left(cert) <= 183, f"{name} valid {days_left(cert):.1f} days"
        if ":kubelet.conf" not in name:  # the node's key is made on the node (EC P-256 anyway)
            assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey), name
            assert cert.public_key().curve.name == "secp256r1", name
    assert {path: sha(Path(path)) for path in strays} == strays
    assert not (host_etc(master) / "pki" / "backup-agent.key").exists()
    served = lab.served_certificate(lab.masters[0].ip)
    assert isinstance(served.public_key(), ec.EllipticCurvePublicKey)

    again = lab.playbook("renew-certs.yml", *extra)
    assert_ok(again, "second run")
    assert changed_total(again) == 0, again.stdout[-3000:]


def test_a_ca_expiring_in_20_days_warns_and_the_second_run_changes_nothing(lab_handle):
    lab = lab_handle.up("small", cert_validity="48h", ca_validity="480h")
    lab.dirty = True
    run = lab.playbook("renew-certs.yml")
    assert_ok(run, "renewal under a CA that ends in 20 days")
    ca = x509.load_pem_x509_certificate(
        (host_etc(lab.masters[0].name) / "pki" / "ca.crt").read_bytes()
    )
    ca_end = ca.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    output = run.stdout + run.stderr  # Ansible prints warnings on stderr
    assert f"expires on {ca_end}" in output, output[-4000:]
    assert "rotate the CA" in output
    for name, cert in all_leaves(lab).items():
        assert 19 <= days_left(cert) <= 20.1, f"{name} valid {days_left(cert):.1f} days"

    again = lab.playbook("renew-certs.yml")
    assert_ok(again, "second run")
    assert changed_total(again) == 0, again.stdout[-4000:]
    assert f"expires on {ca_end}" in again.stdout + again.stderr, "warned until the CA is rotated"


FULL_ETCD_PKI = """
set -e
d=/etc/kubernetes/pki/etcd
t=$(mktemp -d)
cp -a "$d/." "$t/"
n=$(ls -A "$d" | wc -l)
mount -t tmpfs -o size=$((n * 4))k,mode=0755 ackops-test-full "$d"
cp -a "$t/." "$d/"
rm -rf "$t"
df -k "$d" | tail -1
"""


def assert_ready_through_slb(lab, master, within: float) -> None:
    """/readyz answers 200 through the SLB within `within` seconds; otherwise fail with what
    the master itself answers (its verbose /readyz), to tell a master down from an SLB lag."""
    try:
        wait_until(lab.healthy, within, "/readyz through the SLB")
    except AssertionError as exc:
        through = lab.kubectl("get", "--raw", "/readyz", check=False)
        direct = lab.kubectl(
            "--server", f"https://{master.ip}:6443", "get", "--raw", "/readyz?verbose", check=False
        )
        raise AssertionError(
            f"{exc}: {through.stderr.strip()}; {master.name} itself: rc={direct.returncode} "
            f"{direct.stdout[-2000:]} {direct.stderr[-500:]}"
        ) from None


def test_disk_full_during_the_write_is_rolled_back(lab_handle):
    """pki/etcd on a full tmpfs: the renewal fails after its first writes, the backup is
    restored, the master serves its old certificates, and the message says so."""
    lab = lab_handle.up("small", cert_validity="48h")
    lab.dirty = True
    master = lab.masters[0]
    pki = host_etc(master.name) / "pki"
    before = {p.name: sha(p) for p in sorted(pki.glob("*.crt")) + sorted(pki.glob("*.key"))}
    served_before = lab.served_certificate(master.ip).serial_number
    lab.ssh(master.name, FULL_ETCD_PKI)
    try:
        run = lab.playbook("renew-certs.yml")
    finally:
        lab.ssh(master.name, "umount /etc/kubernetes/pki/etcd", check=False)
    assert run.returncode != 0, run.stdout[-4000:]
    assert "No space left on device" in run.stdout, run.stdout[-6000:]
    assert "Restored the backup" in run.stdout, run.stdout[-6000:]
    assert "Nothing was changed" not in run.stdout
    # The files written before the disk filled are back, and served again.
    assert {p.name: sha(p) for p in sorted(pki.glob("*.crt")) + sorted(pki.glob("*.key"))} == before
    assert lab.served_certificate(master.ip).serial_number == served_before
    # The rollback proved the master itself ready (/readyz, its served certificate) before
    # saying so; the SLB in front of it needs two passing checks a second apart to send it
    # clients again, so it is given a bounded while to do that.
    assert "and restarted the control plane: healthy again" in run.stdout, run.stdout[-6000:]
    assert_ready_through_slb(lab, master, within=30)
    assert_keys_match(lab)
    # Backups: the runbook restored one, and the files are those from before.
    record(
        "pki-disk-full", "renew-certs", message_with(run.stdout, "Restored the backup"),
        None, True, True, None, lab=lab_shape(lab),
    )  # fmt: skip
