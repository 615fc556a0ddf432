"""k8s_cert_renew's new options through the module itself: kubeadm's rules, warnings, retention."""

from __future__ import annotations

import json
import os

import pytest
from ansible.module_utils import _internal as module_internal
from ansible.module_utils import basic
from ansible.module_utils.common import warnings as module_warnings

from ansible_collections.ackops.runbooks.plugins.modules import k8s_cert_renew
from tests.unit.kubeadm_pki_factory import build_host

CLUSTER_CONFIGURATION = (
    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
    "certificateValidityPeriod: 4380h\nencryptionAlgorithm: ECDSA-P384\n"
)


@pytest.fixture
def call(monkeypatch, capsys):
    def run(**args) -> dict:
        payload = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()
        monkeypatch.setattr(basic, "_ANSIBLE_ARGS", payload)
        monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy")
        # The module runs in this process, where an earlier test may have loaded
        # controller code: ansible then sends module.warn() to its Display
        # instead of the result. Run it as on a managed host, with no warnings yet.
        monkeypatch.setattr(module_internal, "is_controller", False)
        monkeypatch.setattr(module_warnings, "_global_warnings", {})
        with pytest.raises(SystemExit):
            k8s_cert_renew.main()
        return json.loads(capsys.readouterr().out)

    return run


def roots(host) -> dict:
    return {
        "pki_dir": host.pki_dir,
        "kubeconfig_dir": host.kubeconfig_dir,
        "kubelet_pki_dir": host.kubelet_pki_dir,
        "backup_dir": host.backup_dir,
    }


def test_check_mode_predicts_kubeadm_s_lifetime_and_warns_of_the_ca(tmp_path, call):
    host = build_host(tmp_path, leaf_days=10, ca_days=101)
    before = host.tree_hash()
    result = call(
        _ansible_check_mode=True, cluster_configuration=CLUSTER_CONFIGURATION, **roots(host)
    )
    assert host.tree_hash() == before
    assert result["changed"] is True
    assert result["settings"]["validity_hours"] == 4380
    assert result["settings"]["key_algorithm"] == "ECDSA-P384"
    assert all(item["clamped"] for item in result["renewed"]), "the CA ends in 100 days"
    assert any("before renewed certificates would" in w for w in result["notices"])
    # ... and as Ansible warnings (strings or, in newer ansible-core, dicts with the message)
    assert "before renewed certificates would" in json.dumps(result.get("warnings"))
    assert not os.path.exists(host.backup_dir)


def test_a_bad_algorithm_and_negative_retention_are_refused_naming_the_field(tmp_path, call):
    host = build_host(tmp_path, leaf_days=10)
    result = call(backup_keep=-2, **roots(host))
    assert result["failed"] is True
    assert result["error"]["field"] == "backup_keep"
    assert result["partial_changes"] == []
    bad = CLUSTER_CONFIGURATION.replace("ECDSA-P384", "DSA-1024")
    result = call(cluster_configuration=bad, **roots(host))
    assert result["error"]["field"] == "encryptionAlgorithm"
    assert "DSA-1024" in result["msg"]
