"""Inventory, renewal, backup/restore and node signing on a kubeadm-shaped host."""

from __future__ import annotations

import json
import os
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import Changes
from ansible_collections.ackops.runbooks.plugins.module_utils.pki import files as pki_files
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.core import (
    PKIError,
    Roots,
    inventory,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.node_credentials import (
    node_csr,
    node_install,
    sign_csr,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.renew import (
    plan_renewal,
    preflight,
    renew,
    renew_host,
)
from tests.unit.kubeadm_pki_factory import CAS, LEAVES, NODE, build_host

KUBEADM_LEAVES = set(LEAVES) | {
    "admin.conf",
    "super-admin.conf",
    "controller-manager.conf",
    "scheduler.conf",
}
RENEWABLE = KUBEADM_LEAVES | {"kubelet.conf"}


def roots(host) -> Roots:
    return Roots(**host.roots_kwargs)


def rows(host) -> dict[str, dict]:
    return {row["name"]: row for row in inventory(roots(host)).to_list()}


def csr_key(pem: str) -> bytes:
    public = x509.load_pem_x509_csr(pem.encode()).public_key()
    return public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def run(host, **kwargs):
    """The renew module's sequence: inventory, pre-flight, plan, backup, renew."""
    check = kwargs.pop("check", False)
    validity = kwargs.pop("validity_days", 365)
    reuse = kwargs.pop("reuse_key", False)
    inv = inventory(roots(host))
    preflight(inv)
    plan = plan_renewal(inv, **kwargs)
    if plan.renew and not check:
        pki_files.backup(inv.roots, host.backup_dir)
    return renew(inv, plan, validity_days=validity, reuse_key=reuse, check=check)


@pytest.fixture
def host(tmp_path):
    return build_host(tmp_path)


@pytest.fixture
def due_host(tmp_path):
    return build_host(tmp_path, leaf_days=10)


# --- inventory ------------------------------------------------------------------------


def test_inventory_finds_every_certificate_with_kubeadm_names(host):
    found = rows(host)
    assert set(found) == KUBEADM_LEAVES | set(CAS) | {"kubelet.conf", "kubelet-pki/kubelet.crt"}
    assert all(not name.startswith("sa") for name in found)


@pytest.mark.parametrize(
    ("name", "kind", "storage", "chains_to"),
    [
        ("ca", "ca", "file", "ca"),
        ("etcd-ca", "ca", "file", "etcd-ca"),
        ("front-proxy-ca", "ca", "file", "front-proxy-ca"),
        ("apiserver", "leaf", "file", "ca"),
        ("apiserver-etcd-client", "leaf", "file", "etcd-ca"),
        ("etcd-peer", "leaf", "file", "etcd-ca"),
        ("front-proxy-client", "leaf", "file", "front-proxy-ca"),
        ("admin.conf", "leaf", "embedded", "ca"),
        ("kubelet.conf", "leaf", "file", "ca"),
        ("kubelet-pki/kubelet.crt", "leaf", "file", None),
    ],
)
def test_inventory_fields(host, name, kind, storage, chains_to):
    row = rows(host)[name]
    assert (row["kind"], row["storage"], row["chains_to"]) == (kind, storage, chains_to)
    assert row["key_matches"] is True
    assert row["externally_managed"] is False
    # The factory issues from a day ago: leaves for 365 days, CAs for 3650.
    assert row["days_left"] in {"leaf": (363, 364), "ca": (3647, 3648)}[kind]
    assert int(row["serial"], 16) > 0
    assert row["not_after"].endswith("Z")


def test_inventory_subject_sans_usages(host):
    found = rows(host)
    api = found["apiserver"]
    assert api["subject"] == "CN=kube-apiserver"
    assert "DNS:kubernetes.default.svc" in api["sans"]
    assert "IP:10.96.0.1" in api["sans"]
    assert api["key_usages"] == ["digital_signature", "key_encipherment"]
    assert api["extended_key_usages"] == ["server_auth"]
    assert found["etcd-server"]["extended_key_usages"] == ["server_auth", "client_auth"]
    assert "IP:::1" in found["etcd-server"]["sans"]
    admin = found["admin.conf"]
    assert admin["subject"] == "CN=kubernetes-admin,O=kubeadm:cluster-admins"
    assert admin["user"] == "kubernetes-admin"
    assert admin["kubeconfig"].endswith("/etc/kubernetes/admin.conf")
    assert found["ca"]["key_usages"] == ["digital_signature", "key_encipherment", "key_cert_sign"]


def test_inventory_follows_the_kubelet_symlink(host):
    kubelet = rows(host)["kubelet.conf"]
    assert kubelet["path"].endswith("/kubelet-client-current.pem")
    assert kubelet["real_path"].endswith("/kubelet-client-2024-01-01-00-00-00.pem")
    assert kubelet["source"] == "bundle"
    assert kubelet["subject"] == f"CN=system:node:{NODE},O=system:nodes"
    assert kubelet["public_key"] == "EC-secp256r1"


def test_inventory_ids_are_unique_and_stable(host):
    before = [row["id"] for row in inventory(roots(host)).to_list()]
    assert len(before) == len(set(before))
    run(host, force=True)
    assert [row["id"] for row in inventory(roots(host)).to_list()] == before


def test_inventory_reports_a_key_mismatch(host):
    other = host.read("etc/kubernetes/pki/apiserver-kubelet-client.key")
    with open(f"{host.pki_dir}/apiserver.key", "wb") as handle:
        handle.write(other)
    summary = inventory(roots(host)).summary()
    assert summary["key_mismatches"] == ["pki:apiserver.crt"]


def test_inventory_missing_ca_key_is_externally_managed(host):
    os.unlink(f"{host.pki_dir}/front-proxy-ca.key")
    found = rows(host)
    assert found["front-proxy-client"]["externally_managed"] is True
    assert found["front-proxy-ca"]["externally_managed"] is True
    assert found["apiserver"]["externally_managed"] is False


def test_inventory_of_a_custom_layout(tmp_path):
    host = build_host(tmp_path)
    custom = tmp_path / "ssl"
    os.rename(host.pki_dir, custom)
    inv = inventory(
        Roots(
            pki_dir=str(custom),
            kubeconfig_dir=host.kubeconfig_dir,
            kubeconfigs=("admin.conf",),
            kubelet_pki_dir=str(tmp_path / "none"),
        )
    )
    names = {entry.name for entry in inv.entries}
    assert "apiserver" in names
    assert "admin.conf" in names
    assert "kubelet.conf" not in names


def test_corrupt_certificate_names_the_file(host):
    path = f"{host.pki_dir}/etcd/peer.crt"
    with open(path, "w") as handle:
        handle.write("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    with pytest.raises(PKIError, match=r"master1: .*/etc/kubernetes/pki/etcd/peer\.crt"):
        inventory(roots(host))


def test_no_private_key_in_inventory(host):
    assert "PRIVATE KEY" not in json.dumps(inventory(roots(host)).to_list())


# --- renewal --------------------------------------------------------------------------


def test_renewal_keeps_subject_sans_usages_with_new_serial_and_key(due_host):
    before = rows(due_host)
    results = run(due_host)
    after = rows(due_host)
    assert {item["name"] for item in results} == RENEWABLE
    for name in RENEWABLE:
        old, new = before[name], after[name]
        for field in (
            "subject",
            "issuer",
            "sans",
            "key_usages",
            "extended_key_usages",
            "chains_to",
            "public_key",
        ):
            assert old[field] == new[field], (name, field)
        assert new["serial"] != old["serial"]
        assert new["key_matches"] is True
        assert new["days_left"] >= 364
    assert after["ca"]["serial"] == before["ca"]["serial"]
    assert after["kubelet-pki/kubelet.crt"]["serial"] == before["kubelet-pki/kubelet.crt"]["serial"]


def test_renewal_makes_new_keys_by_default_and_can_reuse(due_host):
    key_before = due_host.read("etc/kubernetes/pki/apiserver.key")
    run(due_host, names=["apiserver"], force=True)
    key_after = due_host.read("etc/kubernetes/pki/apiserver.key")
    assert key_after != key_before
    assert os.stat(f"{due_host.pki_dir}/apiserver.key").st_mode & 0o777 == 0o600
    run(due_host, names=["apiserver"], force=True, reuse_key=True)
    assert due_host.read("etc/kubernetes/pki/apiserver.key") == key_after


def test_renewal_is_clamped_to_the_ca_expiry(tmp_path):
    host = build_host(tmp_path, ca_days=100, leaf_days=10)
    results = {item["name"]: item for item in run(host, validity_days=365)}
    ca_not_after = rows(host)["ca"]["not_after"]
    assert results["apiserver"]["clamped"] is True
    assert results["apiserver"]["after"]["not_after"] == ca_not_after
    assert rows(host)["admin.conf"]["not_after"] == ca_not_after


def test_threshold_selects_only_what_is_due(tmp_path):
    host = build_host(tmp_path, leaf_overrides={"apiserver": 5, "admin.conf": 20})
    assert {item["name"] for item in run(host, threshold_days=30)} == {"apiserver", "admin.conf"}


def test_force_renews_everything(host):
    assert {item["name"] for item in run(host, force=True)} == RENEWABLE


def test_check_mode_writes_nothing(due_host):
    digest = due_host.tree_hash()
    results = run(due_host, check=True)
    assert {item["name"] for item in results} == RENEWABLE
    assert all(item["after"]["serial"] == "(new)" for item in results)
    assert due_host.tree_hash() == digest
    assert not os.path.exists(due_host.backup_dir)


def test_second_run_changes_nothing(due_host):
    assert run(due_host)
    digest = due_host.tree_hash()
    assert run(due_host) == []
    assert due_host.tree_hash() == digest


def test_expired_leaves_are_renewed(tmp_path):
    host = build_host(tmp_path, leaf_days=-1)  # not_after a day ago
    assert all(rows(host)[name]["expired"] for name in RENEWABLE)
    results = run(host)
    assert {item["reason"] for item in results} == {"expired"}
    assert not any(rows(host)[name]["expired"] for name in RENEWABLE)


def test_kubelet_credential_is_rotated_through_the_symlink(due_host):
    link = f"{due_host.kubelet_pki_dir}/kubelet-client-current.pem"
    old_target = os.readlink(link)
    conf_before = due_host.read("etc/kubernetes/kubelet.conf")
    run(due_host, names=["kubelet.conf"])
    new_target = os.readlink(link)
    assert new_target != old_target
    assert os.path.isabs(new_target)
    assert os.path.basename(new_target).startswith("kubelet-client-")
    assert os.stat(new_target).st_mode & 0o777 == 0o600
    assert os.path.exists(old_target)
    assert due_host.read("etc/kubernetes/kubelet.conf") == conf_before


def test_kubeconfig_rewrite_touches_only_the_credential(due_host):
    before = due_host.read("etc/kubernetes/admin.conf").decode().splitlines()
    run(due_host, names=["admin.conf"])
    after = due_host.read("etc/kubernetes/admin.conf").decode().splitlines()
    changed = [old for old, new in zip(before, after, strict=True) if old != new]
    assert len(changed) == 2
    assert all("client-certificate-data" in line or "client-key-data" in line for line in changed)
    assert os.stat(f"{due_host.kubeconfig_dir}/admin.conf").st_mode & 0o777 == 0o600


def test_unknown_certificate_name_is_refused(host):
    with pytest.raises(PKIError, match="no certificate named nope"):
        run(host, names=["nope"])


def test_kubelet_can_be_left_out(due_host):
    names = {item["name"] for item in run(due_host, kubelet=False, check=True)}
    assert names == KUBEADM_LEAVES


def test_results_and_diffs_hold_no_key_material(due_host):
    results = run(due_host)
    text = json.dumps(results)
    assert "PRIVATE KEY" not in text
    assert "BEGIN" not in text


# --- refusals ---------------------------------------------------------------------------


def test_wrong_ca_key_is_refused_before_any_change(due_host):
    other = due_host.read("etc/kubernetes/pki/front-proxy-ca.key")
    with open(f"{due_host.pki_dir}/ca.key", "wb") as handle:
        handle.write(other)
    digest = due_host.tree_hash()
    with pytest.raises(
        PKIError, match=r"master1: CA key .*/pki/ca\.key does not match CA certificate"
    ):
        run(due_host)
    assert due_host.tree_hash() == digest


def test_negative_threshold_is_refused_before_any_change(due_host):
    digest = due_host.tree_hash()
    with pytest.raises(PKIError, match=r"threshold_days: must be 0 or more days, got -1"):
        run(due_host, threshold_days=-1)
    assert due_host.tree_hash() == digest


def test_missing_ca_key_is_an_external_ca_skipped_with_a_report_line(due_host):
    # kubeadm's external CA mode: the leaves of a CA without its key here are
    # skipped with the reason, the others renewed (before: the whole run refused).
    os.unlink(f"{due_host.pki_dir}/etcd/ca.key")
    inv = inventory(roots(due_host))
    plan = plan_renewal(inv)
    skipped = {item["name"]: item["reason"] for item in plan.skip}
    for name in ("etcd-server", "etcd-peer", "etcd-healthcheck-client", "apiserver-etcd-client"):
        assert re.search(
            r"external CA: etcd-ca has no key on this host .*etcd/ca\.key", skipped[name]
        )
    assert {action.entry.name for action in plan.renew} == RENEWABLE - {
        "etcd-server", "etcd-peer", "etcd-healthcheck-client", "apiserver-etcd-client"
    }  # fmt: skip
    assert [ca["externally_managed"] for ca in preflight(inv) if ca["name"] == "etcd-ca"] == [True]


def test_a_ca_key_that_does_not_match_stays_a_refusal(due_host):
    with open(f"{due_host.pki_dir}/front-proxy-ca.key", "wb") as handle:
        handle.write(due_host.read("etc/kubernetes/pki/ca.key"))
    digest = due_host.tree_hash()
    with pytest.raises(PKIError, match=r"front-proxy-ca\.key does not match"):
        run(due_host)
    assert due_host.tree_hash() == digest


def test_expired_ca_is_refused(tmp_path):
    host = build_host(tmp_path, ca_days=0.5, leaf_days=10)  # CA ended 12 hours ago
    digest = host.tree_hash()
    with pytest.raises(PKIError, match=r"master1: CA certificate .*/pki/ca\.crt expired on"):
        run(host)
    assert host.tree_hash() == digest


def test_a_leaf_whose_ca_is_not_on_the_host_is_skipped_unless_listed_explicitly(host):
    os.unlink(f"{host.pki_dir}/front-proxy-ca.crt")
    skipped = {
        i["name"]: i["reason"] for i in plan_renewal(inventory(roots(host)), force=True).skip
    }
    assert "a CA not on this host (external CA)" in skipped["front-proxy-client"]
    with pytest.raises(
        PKIError, match=r"front-proxy-client\.crt: front-proxy-client is not signed"
    ):
        run(host, force=True, extra=["front-proxy-client"])


def test_reuse_key_without_a_key_is_refused(due_host):
    os.unlink(f"{due_host.pki_dir}/apiserver.key")
    with pytest.raises(PKIError, match=r"apiserver\.crt: reuse_key is set but no private key"):
        run(due_host, names=["apiserver"], reuse_key=True)


# --- backup and restore ----------------------------------------------------------------


def test_backup_and_restore_round_trip(due_host):
    digest = due_host.tree_hash()
    made = pki_files.backup(roots(due_host), due_host.backup_dir)
    assert os.stat(made["path"]).st_mode & 0o777 == 0o700
    assert "PRIVATE KEY" not in json.dumps(made["manifest"])
    run(due_host, force=True)
    assert due_host.tree_hash() != digest
    changed = pki_files.restore(made["path"], check=True)
    assert any(path.endswith("kubelet-client-current.pem") for path in changed)
    assert due_host.tree_hash() != digest
    pki_files.restore(made["path"])
    assert due_host.tree_hash() == digest
    assert pki_files.restore(made["path"]) == []


def test_restore_of_a_missing_backup_names_it(tmp_path):
    with pytest.raises(PKIError, match=r"nowhere/manifest\.json: not a readable backup"):
        pki_files.restore(str(tmp_path / "nowhere"), "master1")


def test_a_system_error_becomes_a_pki_error_naming_host_file_and_cause(tmp_path):
    target = str(tmp_path / "gone" / "apiserver.crt")
    with pytest.raises(PKIError) as info:
        pki_files.write_atomic(target, b"data", 0o644, "master1")
    error = info.value
    assert str(error) == f"master1: {target}: cannot write (No such file or directory)"
    assert (error.host, error.obj, error.details["errno"]) == ("master1", target, "ENOENT")
    assert isinstance(error.__cause__, FileNotFoundError)
    with pytest.raises(PKIError, match=r"master1: .*/gone/link: cannot point the link at x"):
        pki_files.symlink_atomic(str(tmp_path / "gone" / "link"), "x", "master1")
    with pytest.raises(PKIError, match=r"master1: .*/gone: cannot remove \(No such file"):
        pki_files.remove(str(tmp_path / "gone"), "master1")


def test_changes_record_every_write_backup_and_removal_in_order(due_host, tmp_path):
    changes = Changes()
    made = pki_files.backup(roots(due_host), due_host.backup_dir, changes=changes)
    link = str(tmp_path / "current.pem")
    pki_files.write_atomic(str(tmp_path / "one"), b"1", 0o600, "master1", changes)
    pki_files.symlink_atomic(link, "one", "master1", changes)
    pki_files.remove(link, "master1", changes)
    assert changes == [
        {"action": "backup", "target": made["path"]},
        {"action": "write", "target": str(tmp_path / "one")},
        {"action": "write", "target": link, "link_to": "one"},
        {"action": "remove", "target": link},
    ]


def test_renewal_records_the_backup_then_each_file_it_writes(due_host):
    changes = Changes()
    done = renew_host(roots(due_host), force=True, backup_dir=due_host.backup_dir, changes=changes)
    assert changes[0] == {"action": "backup", "target": done["backup"]}
    written = [change["target"] for change in changes[1:]]
    assert all(change["action"] == "write" for change in changes[1:])
    assert f"{due_host.pki_dir}/apiserver.key" in written
    assert f"{due_host.pki_dir}/apiserver.crt" in written
    assert f"{due_host.kubeconfig_dir}/admin.conf" in written
    link = f"{due_host.kubelet_pki_dir}/kubelet-client-current.pem"
    swung = next(i for i, change in enumerate(changes) if change["target"] == link)
    dated = os.path.join(due_host.kubelet_pki_dir, os.path.basename(changes[swung]["link_to"]))
    assert changes[swung - 1]["target"] == dated, "the dated file is written before the link"
    assert len(written) == len(set(written))


# --- workers: the master signs ---------------------------------------------------------


def test_node_csr_sign_install(tmp_path):
    master = build_host(tmp_path / "m")
    worker = build_host(tmp_path / "w", leaf_days=10)
    # a worker shares the cluster CA, without its key
    for name in ("ca.crt",):
        with open(f"{worker.pki_dir}/{name}", "wb") as handle:
            handle.write(master.read(f"etc/kubernetes/pki/{name}"))
    os.unlink(f"{worker.pki_dir}/ca.key")
    wroots = roots(worker)
    request = node_csr(wroots, threshold_days=30)
    assert request["needed"] is True
    assert request["node_name"] == NODE
    assert request["csr"].startswith("-----BEGIN CERTIFICATE REQUEST-----")
    again = node_csr(wroots, threshold_days=30)["csr"]  # the pending key is reused
    assert csr_key(again) == csr_key(request["csr"])
    signed = sign_csr(request["csr"], NODE, pki_dir=master.pki_dir, host="master1")
    assert signed["subject"] == f"CN=system:node:{NODE},O=system:nodes"
    cert = x509.load_pem_x509_certificate(signed["certificate"].encode())
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert "PRIVATE KEY" not in json.dumps([request, signed])
    digest = worker.tree_hash()
    assert node_install(wroots, signed["certificate"], check=True)["changed"] is True
    assert worker.tree_hash() == digest
    installed = node_install(wroots, signed["certificate"])
    assert installed["changed"] is True
    assert installed["after"]["serial"] == signed["serial"]
    kubelet = rows(worker)["kubelet.conf"]
    assert kubelet["serial"] == signed["serial"]
    assert kubelet["key_matches"] is True
    assert node_install(wroots, signed["certificate"])["changed"] is False
    assert node_csr(wroots, threshold_days=30)["needed"] is False


def test_sign_refuses_another_identity(host):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"system:node:{NODE}"),
        ]
    )
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    csr = csr.public_bytes(serialization.Encoding.PEM)
    with pytest.raises(PKIError, match=r"O=system:masters.*refusing to sign"):
        sign_csr(csr, NODE, pki_dir=host.pki_dir, host="master1")


def test_sign_refuses_without_the_ca_key(host):
    request = node_csr(roots(host), force=True)
    os.unlink(f"{host.pki_dir}/ca.key")
    with pytest.raises(PKIError, match=r"CA key .*/pki/ca\.key is missing"):
        sign_csr(request["csr"], NODE, pki_dir=host.pki_dir, host="master1")


def test_install_refuses_a_certificate_without_the_pending_key(tmp_path):
    master = build_host(tmp_path / "m")
    request = node_csr(roots(master), force=True)
    signed = sign_csr(request["csr"], NODE, pki_dir=master.pki_dir)
    os.unlink(f"{master.kubelet_pki_dir}/kubelet-client-ackops-pending.key")
    with pytest.raises(PKIError, match="no pending key matching this certificate"):
        node_install(roots(master), signed["certificate"])
