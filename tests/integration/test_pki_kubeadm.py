"""The inventory against a PKI written by the real kubeadm, compared with its check-expiration.

kubeadm writes certificates and kubeconfigs into any directory, but
``kubeadm certs check-expiration`` reads the kubeconfigs from the fixed
``/etc/kubernetes``; ``--rootfs`` (a chroot, so root only) points that at the
temp tree. It runs with the integration tests: they start after `lab up`, which
builds the kubeadm the lab's status names, and as root, which `--rootfs` needs.
Nothing here skips: a missing kubeadm fails the test.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.pki.core import Roots, inventory
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.renew import (
    plan_renewal,
    renew,
)
from tests.integration.conftest import LAB

pytestmark = pytest.mark.lab


def kubeadm_path() -> Path:
    # Where the lab's build put it (honours ACKOPS_LAB_CACHE / XDG_CACHE_HOME).
    path = Path(LAB.status()["kubeadm"])
    assert os.access(path, os.X_OK), f"{path} is not built: run `lab/lab up` first"
    return path


CONFIG = """\
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 192.168.50.10
  bindPort: 6443
nodeRegistration:
  name: master1
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: {version}
certificatesDir: {cert_dir}
controlPlaneEndpoint: 192.168.50.10:6443
certificateValidityPeriod: 240h0m0s
"""


def kubeadm(*args: str) -> str:
    done = subprocess.run(
        [str(kubeadm_path()), *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def kubeadm_host(tmp_path_factory, lab_handle):
    root = tmp_path_factory.mktemp("kubeadm-root")
    etc = root / "etc/kubernetes"
    etc.mkdir(parents=True)
    version = kubeadm("version", "-o", "short").strip()
    config = root / "init.yaml"
    config.write_text(CONFIG.format(version=version, cert_dir=etc / "pki"))
    (root / "check.yaml").write_text(CONFIG.format(version=version, cert_dir="/etc/kubernetes/pki"))
    kubeadm("init", "phase", "certs", "all", "--config", str(config))
    kubeadm(
        "init", "phase", "kubeconfig", "all", "--config", str(config), "--kubeconfig-dir", str(etc)
    )
    return root


def check_expiration(root: Path) -> dict:
    out = kubeadm(
        "certs", "check-expiration", "--rootfs", str(root), "--config", "/check.yaml", "-o", "json"
    )
    return json.loads(out)


def ours(root: Path) -> dict[str, dict]:
    etc = root / "etc/kubernetes"
    roots = Roots(
        pki_dir=str(etc / "pki"),
        kubeconfig_dir=str(etc),
        kubelet_pki_dir=str(root / "var/lib/kubelet/pki"),
        host="master1",
    )
    return {row["name"]: row for row in inventory(roots).to_list()}, roots


def assert_agrees(root: Path) -> None:
    theirs = check_expiration(root)
    rows, _ = ours(root)
    listed = [c for c in theirs["certificates"] if not c.get("missing")]
    assert len(listed) == 11
    for item in listed:
        row = rows[item["name"]]
        assert row["not_after"] == item["expirationDate"], item["name"]
        assert row["chains_to"] == item["caName"], item["name"]
        assert row["externally_managed"] == item["externallyManaged"], item["name"]
    for item in theirs["certificateAuthorities"]:
        row = rows[item["name"]]
        assert row["kind"] == "ca"
        assert row["not_after"] == item["expirationDate"], item["name"]


def test_inventory_matches_kubeadm_check_expiration(kubeadm_host):
    assert_agrees(kubeadm_host)
    rows, _ = ours(kubeadm_host)
    # and lists what kubeadm leaves out: kubelet.conf (embedded before TLS bootstrap)
    assert rows["kubelet.conf"]["storage"] == "embedded"
    assert rows["kubelet.conf"]["days_left"] in (9, 10)


def test_kubeadm_reads_our_renewal(kubeadm_host):
    _, roots = ours(kubeadm_host)
    inv = inventory(roots)
    done = renew(inv, plan_renewal(inv, threshold_days=30), validity_days=100)
    assert len(done) == 12  # kubeadm's eleven plus kubelet.conf
    assert_agrees(kubeadm_host)
    rows, _ = ours(kubeadm_host)
    assert rows["apiserver"]["days_left"] == 99
