"""The fault tests' certificate/key check (tests/integration/pki_checks.py) on a kubeadm-shaped
host built offline: every kind of pair is found, and a pair that does not match is named."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.integration.pki_checks import mismatched_pairs, pairs
from tests.unit.kubeadm_pki_factory import build_host

DATED = "kubelet-client-2024-01-01-00-00-00.pem"


@dataclass
class FakeHost:
    name: str
    etc_kubernetes: Path
    var_lib_kubelet: Path


class FakeLab:
    def __init__(self, *hosts):
        self.hosts = list(hosts)


def lab_host(tmp_path) -> FakeHost:
    """The factory's host, with its kubelet paths as the host sees them (as on the lab)."""
    built = build_host(tmp_path)
    host = FakeHost("lab-master-1", Path(built.kubeconfig_dir), Path(built.kubelet_pki_dir).parent)
    current = host.var_lib_kubelet / "pki" / "kubelet-client-current.pem"
    current.unlink()
    current.symlink_to(f"/var/lib/kubelet/pki/{DATED}")
    conf = host.etc_kubernetes / "kubelet.conf"
    config = yaml.safe_load(conf.read_text())
    for key in ("client-certificate", "client-key"):
        config["users"][0]["user"][key] = "/var/lib/kubelet/pki/kubelet-client-current.pem"
    conf.write_text(yaml.safe_dump(config))
    return host


def test_every_kind_of_pair_is_read_and_matches(tmp_path):
    host = lab_host(tmp_path)
    names = [name for name, _, _ in pairs(host)]
    assert "pki/apiserver.crt" in names
    assert "pki/etcd/peer.crt" in names
    for conf in ("admin.conf", "controller-manager.conf", "scheduler.conf", "kubelet.conf"):
        assert any(n.startswith(f"{conf} user ") for n in names), conf
    assert f"pki/{DATED}" in names
    assert mismatched_pairs(FakeLab(host)) == (len(names), [])


def test_a_key_that_is_not_the_certificates_is_named(tmp_path):
    host = lab_host(tmp_path)
    pki = host.etc_kubernetes / "pki"
    (pki / "apiserver.key").write_bytes((pki / "front-proxy-client.key").read_bytes())
    conf = host.etc_kubernetes / "scheduler.conf"
    config = yaml.safe_load(conf.read_text())
    other = (pki / "apiserver-etcd-client.key").read_bytes()
    config["users"][0]["user"]["client-key-data"] = base64.b64encode(other).decode()
    conf.write_text(yaml.safe_dump(config))
    dated = host.var_lib_kubelet / "pki" / DATED
    text = dated.read_bytes()
    cert_end = text.index(b"-----END CERTIFICATE-----") + len(b"-----END CERTIFICATE-----\n")
    dated.write_bytes(text[:cert_end] + other)
    os.chmod(dated, 0o600)
    kubelet_user = yaml.safe_load((host.etc_kubernetes / "kubelet.conf").read_text())["users"][0]
    _, bad = mismatched_pairs(FakeLab(host))
    assert bad == [
        "lab-master-1: pki/apiserver.crt: the certificate is not the key's",
        f"lab-master-1: kubelet.conf user {kubelet_user['name']}: the certificate is not the key's",
        "lab-master-1: scheduler.conf user system:kube-scheduler: the certificate is not the key's",
        f"lab-master-1: pki/{DATED}: the certificate is not the key's",
        "lab-master-1: pki/kubelet-client-current.pem: the certificate is not the key's",
    ]  # fmt: skip


def test_a_truncated_file_is_reported_not_raised(tmp_path):
    host = lab_host(tmp_path)
    key = host.etc_kubernetes / "pki" / "apiserver.key"
    key.write_bytes(key.read_bytes()[:40])
    _, bad = mismatched_pairs(FakeLab(host))
    assert len(bad) == 1
    assert bad[0].startswith("lab-master-1: pki/apiserver.crt: unreadable")
