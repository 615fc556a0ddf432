"""kubeadm's rules: which certificates, what lifetime and key type, external CA/etcd,
a CA close to its expiry, backups that hold everything written, node identity."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import Changes
from ansible_collections.ackops.runbooks.plugins.module_utils.pki import files as pki_files
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.core import (
    PKIError,
    Roots,
    inventory,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.kubeadm_config import (
    cluster_settings,
    parse_duration,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.node_credentials import (
    node_csr,
    sign_csr,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.renew import renew_host
from tests.unit.kubeadm_pki_factory import (
    CLIENT,
    NODE,
    _pem_cert,
    _pem_key,
    _write,
    build_host,
    kubeconfig,
    make_ca,
    make_leaf,
)

NOW = dt.datetime.now(dt.UTC)


def roots(host) -> Roots:
    return Roots(**host.roots_kwargs)


def digest(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def renew(host, **kwargs) -> dict:
    return renew_host(roots(host), backup_dir=host.backup_dir, **kwargs)


def days_of(cert_path: str) -> float:
    with open(cert_path, "rb") as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    return (cert.not_valid_after_utc - NOW).total_seconds() / 86400


@pytest.fixture
def due_host(tmp_path):
    return build_host(tmp_path, leaf_days=10)


# --- item 3: only kubeadm's certificates ------------------------------------------------


def add_strays(host) -> dict[str, str]:
    """A due client cert without a key, signed by the cluster CA, and a due leaf of a foreign CA."""
    with open(f"{host.pki_dir}/ca.crt", "rb") as crt, open(f"{host.pki_dir}/ca.key", "rb") as key:
        from cryptography.hazmat.primitives import serialization

        ca_cert = x509.load_pem_x509_certificate(crt.read())
        ca_key = serialization.load_pem_private_key(key.read(), None)
    lonely, _ = make_leaf(ca_cert, ca_key, "backup-agent", None, CLIENT, [], days=5)
    _write(f"{host.pki_dir}/backup-agent.crt", _pem_cert(lonely))
    other_ca, other_key = make_ca("vendor-ca")
    foreign, foreign_key = make_leaf(other_ca, other_key, "webhook", None, CLIENT, [], days=3)
    _write(f"{host.pki_dir}/vendor/webhook.crt", _pem_cert(foreign))
    _write(f"{host.pki_dir}/vendor/webhook.key", _pem_key(foreign_key), 0o600)
    keyed, keyed_key = make_leaf(ca_cert, ca_key, "metrics-client", None, CLIENT, [], days=4)
    _write(f"{host.pki_dir}/metrics-client.crt", _pem_cert(keyed))
    _write(f"{host.pki_dir}/metrics-client.key", _pem_key(keyed_key), 0o600)
    paths = [
        f"{host.pki_dir}/backup-agent.crt",
        f"{host.pki_dir}/vendor/webhook.crt",
        f"{host.pki_dir}/vendor/webhook.key",
        f"{host.pki_dir}/metrics-client.crt",
        f"{host.pki_dir}/metrics-client.key",
    ]
    return {path: digest(path) for path in paths}


def test_stray_certificates_are_reported_and_left_byte_identical(due_host):
    before = add_strays(due_host)
    done = renew(due_host)
    renewed = {item["name"] for item in done["renewed"]}
    assert {"apiserver", "kubelet.conf", "admin.conf"} <= renewed
    skipped = {item["name"]: item["reason"] for item in done["not_renewed"]}
    for name in ("backup-agent", "vendor-webhook", "metrics-client"):
        assert name not in renewed
        assert skipped[name].startswith("not one of kubeadm's certificates")
    assert {path: digest(path) for path in before} == before
    assert not os.path.exists(f"{due_host.pki_dir}/backup-agent.key"), "no key written for it"


def test_extra_certificates_are_renewed_only_when_listed(due_host):
    before = add_strays(due_host)
    done = renew(due_host, extra_certificates=["metrics-client", "pki:backup-agent.crt"])
    renewed = {item["name"] for item in done["renewed"]}
    assert "metrics-client" in renewed
    assert (
        digest(f"{due_host.pki_dir}/metrics-client.crt")
        != before[f"{due_host.pki_dir}/metrics-client.crt"]
    )
    skipped = {item["name"]: item["reason"] for item in done["not_renewed"]}
    assert skipped["backup-agent"].startswith("no private key beside it")
    assert not os.path.exists(f"{due_host.pki_dir}/backup-agent.key")
    with pytest.raises(PKIError, match=r"extra_certificates: no certificate named nope"):
        renew(due_host, extra_certificates=["nope"])


def test_a_listed_leaf_of_a_foreign_ca_is_refused_before_any_change(due_host):
    add_strays(due_host)
    before = due_host.tree_hash()
    with pytest.raises(PKIError, match=r"vendor-webhook is not signed by any CA on this host"):
        renew(due_host, extra_certificates=[f"{due_host.pki_dir}/vendor/webhook.crt"])
    assert due_host.tree_hash() == before


# --- item 4: kubeadm's lifetime and key type --------------------------------------------

CLUSTER_CONFIGURATION = """\
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
certificateValidityPeriod: 4380h
caCertificateValidityPeriod: 87600h
encryptionAlgorithm: ECDSA-P256
etcd:
  local:
    dataDir: /var/lib/etcd
"""


def assert_ecdsa_half_year(host, done):
    assert done["settings"]["key_algorithm"] == "ECDSA-P256"
    assert done["settings"]["validity_hours"] == 4380
    for item in done["renewed"]:
        if item["kubeconfig"] is None:
            assert 182 <= days_of(item["path"]) <= 183, item["name"]
    rows = {row["name"]: row for row in inventory(roots(host)).to_list()}
    for name in ("apiserver", "etcd-peer", "admin.conf", "kubelet.conf", "front-proxy-client"):
        assert rows[name]["public_key"] == "EC-secp256r1", name
        assert rows[name]["key_matches"] is True
        assert 182 <= rows[name]["days_left"] <= 183


def test_cluster_configuration_sets_lifetime_and_key_type(due_host):
    done = renew(due_host, cluster_configuration=CLUSTER_CONFIGURATION)
    assert "ConfigMap" in done["settings"]["validity_source"]
    assert_ecdsa_half_year(due_host, done)


def test_kubeadm_config_file_on_the_host_sets_them_too(due_host):
    path = f"{due_host.kubeconfig_dir}/kubeadm-config.yaml"
    init = {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "InitConfiguration"}
    with open(path, "w") as handle:
        handle.write(yaml.safe_dump(init) + "---\n" + CLUSTER_CONFIGURATION)
    done = renew(due_host, kubeadm_config=path)
    assert done["settings"]["validity_source"] == f"certificateValidityPeriod ({path})"
    assert_ecdsa_half_year(due_host, done)


def test_role_variables_override_the_cluster_configuration(due_host):
    renew(
        due_host,
        cluster_configuration=CLUSTER_CONFIGURATION,
        validity_days=100,
        key_algorithm="RSA-3072",
    )
    assert 99.9 <= days_of(f"{due_host.pki_dir}/apiserver.crt") <= 100.1
    row = {r["name"]: r for r in inventory(roots(due_host)).to_list()}["apiserver"]
    assert row["public_key"] == "RSA-3072"


def test_the_whole_configmap_and_each_algorithm_name(due_host):
    configmap = {"kind": "ConfigMap", "data": {"ClusterConfiguration": CLUSTER_CONFIGURATION}}
    assert cluster_settings(configmap)["key_algorithm"] == "ECDSA-P256"
    assert parse_duration("8760h0m0s", "x", "f") == dt.timedelta(days=365)
    assert parse_duration("90m", "x", "f") == dt.timedelta(minutes=90)
    for bad in ("8760", "1y", "h"):
        with pytest.raises(PKIError, match="not a Go duration"):
            parse_duration(bad, "x", "certificateValidityPeriod")
    bad = CLUSTER_CONFIGURATION.replace("ECDSA-P256", "ECDSA-P521")
    with pytest.raises(PKIError, match=r"encryptionAlgorithm: encryptionAlgorithm must be one of"):
        renew(due_host, cluster_configuration=bad)
    with pytest.raises(PKIError, match=r"kubeadm_config: kubeadm config file not found"):
        renew(due_host, kubeadm_config="/nonexistent/kubeadm-config.yaml")


def test_a_cluster_lifetime_under_the_threshold_warns_renews_for_the_default_and_never_loops(
    due_host,
):
    """ClusterConfiguration 48h vs the 30-day threshold: what is due is renewed, for
    kubeadm's default 365 days (a warning says why), and the next run renews nothing."""
    short = CLUSTER_CONFIGURATION.replace("4380h", "48h")
    first = renew(due_host, cluster_configuration=short)
    assert first["renewed"]
    assert any("not longer than the 30-day threshold" in n for n in first["notices"])
    assert "365 days" in first["notices"][0]
    assert first["settings"]["validity"] == "365 days"
    for item in first["renewed"]:
        if item["path"].endswith(".crt"):
            assert 364 <= days_of(item["path"]) <= 366
    before = due_host.tree_hash()
    second = renew(due_host, cluster_configuration=short)
    assert second["renewed"] == []
    assert due_host.tree_hash() == before


def test_an_explicit_lifetime_not_longer_than_the_threshold_is_refused(due_host):
    before = due_host.tree_hash()
    with pytest.raises(PKIError, match=r"validity_days: a lifetime of 2 days from validity_days"):
        renew(due_host, validity_days=2)
    assert due_host.tree_hash() == before


def test_external_etcd_is_skipped_with_a_reason(due_host):
    external = CLUSTER_CONFIGURATION.replace(
        "  local:\n    dataDir: /var/lib/etcd\n",
        "  external:\n    endpoints: [https://10.0.0.5:2379]\n",
    )
    etcd_files = {
        path: digest(path)
        for path in (
            f"{due_host.pki_dir}/apiserver-etcd-client.crt",
            f"{due_host.pki_dir}/etcd/server.crt",
        )
    }
    done = renew(due_host, cluster_configuration=external)
    skipped = {item["name"]: item["reason"] for item in done["not_renewed"]}
    for name in ("apiserver-etcd-client", "etcd-server", "etcd-peer", "etcd-healthcheck-client"):
        assert skipped[name].startswith("external etcd"), name
    assert {path: digest(path) for path in etcd_files} == etcd_files
    assert "apiserver" in {item["name"] for item in done["renewed"]}


def test_no_local_etcd_ca_is_external_etcd(due_host):
    os.unlink(f"{due_host.pki_dir}/etcd/ca.crt")
    os.unlink(f"{due_host.pki_dir}/etcd/ca.key")
    done = renew(due_host)
    assert done["settings"]["external_etcd"] is True
    skipped = {item["name"]: item["reason"] for item in done["not_renewed"]}
    assert skipped["apiserver-etcd-client"].startswith("external etcd")


def test_an_external_ca_does_not_stop_the_run(due_host):
    os.unlink(f"{due_host.pki_dir}/front-proxy-ca.key")
    done = renew(due_host)
    skipped = {item["name"]: item["reason"] for item in done["not_renewed"]}
    assert skipped["front-proxy-client"].startswith("external CA: front-proxy-ca has no key")
    cas = {ca["name"]: ca for ca in done["cas"]}
    assert cas["front-proxy-ca"]["externally_managed"] is True


# --- item 5: a CA close to its own expiry -----------------------------------------------


def test_a_ca_expiring_soon_warns_and_is_not_renewed_again_every_run(tmp_path):
    # CA made a day ago for 21 days: it ends in 20 days; the leaves end in 10.
    host = build_host(tmp_path, ca_days=21, leaf_days=10)
    first = renew(host)
    assert first["renewed"], "the leaves gain 10 days: renewed once"
    assert all(item["clamped"] for item in first["renewed"])
    ca_end = {ca["name"]: ca["not_after"] for ca in first["cas"]}
    assert any(
        f"CA ca ({host.pki_dir}/ca.crt) expires on {ca_end['ca']}, within the 30-day threshold"
        in warning
        for warning in first["notices"]
    )
    second = renew(host)
    assert second["renewed"] == []
    assert second["backup"] is None
    reasons = {item["name"]: item["reason"] for item in second["not_renewed"]}
    assert f"its CA ca expires on {ca_end['ca']}" in reasons["apiserver"]
    assert "rotate the CA" in reasons["apiserver"]
    assert second["notices"], "the warning stays until the CA is rotated"
    forced = renew(host, force=True)
    assert forced["renewed"], "force still renews"


def test_a_ca_ending_before_the_lifetime_is_named_with_its_date(tmp_path):
    host = build_host(tmp_path, ca_days=101, leaf_days=10)
    done = renew(host)
    warning = next(w for w in done["notices"] if w.startswith("CA ca "))
    assert "before renewed certificates would" in warning
    assert "rotate the CA" in warning
    assert renew(host)["renewed"] == []


# --- item 7: backups --------------------------------------------------------------------


def test_a_symlinked_etcd_directory_is_backed_up_as_content_and_restored(due_host, tmp_path):
    real = str(tmp_path / "data" / "etcd-pki")
    os.makedirs(os.path.dirname(real))
    os.rename(f"{due_host.pki_dir}/etcd", real)
    os.symlink(real, f"{due_host.pki_dir}/etcd")
    before = {name: digest(f"{real}/{name}") for name in sorted(os.listdir(real))}
    changes = Changes()
    done = renew(due_host, changes=changes)
    copy = os.path.join(done["backup"], "pki", "etcd")
    assert os.path.isdir(copy)
    assert not os.path.islink(copy)
    assert {name: digest(f"{copy}/{name}") for name in sorted(os.listdir(copy))} == before
    assert os.path.islink(f"{due_host.pki_dir}/etcd"), "the renewal wrote through the link"
    assert digest(f"{real}/server.crt") != before["server.crt"]
    pki_files.restore(done["backup"], "master1")
    assert os.path.islink(f"{due_host.pki_dir}/etcd")
    assert {name: digest(f"{real}/{name}") for name in sorted(os.listdir(real))} == before


def test_backups_are_0700_and_0600_and_restore_the_original_modes(due_host):
    digest_before = due_host.tree_hash()
    made = pki_files.backup(roots(due_host), due_host.backup_dir)
    for current, _dirs, files in os.walk(made["path"]):
        assert stat.S_IMODE(os.stat(current).st_mode) == 0o700, current
        for name in files:
            full = os.path.join(current, name)
            if not os.path.islink(full):
                assert stat.S_IMODE(os.stat(full).st_mode) == 0o600, full
    tree = next(t for t in made["manifest"]["trees"] if t["label"] == "pki")
    assert tree["modes"]["apiserver.crt"] == 0o644
    renew(due_host, force=True)
    pki_files.restore(made["path"], "master1")
    assert due_host.tree_hash() == digest_before
    assert stat.S_IMODE(os.stat(f"{due_host.pki_dir}/apiserver.crt").st_mode) == 0o644


def test_a_certificate_a_kubeconfig_references_outside_pki_is_in_the_backup(due_host, tmp_path):
    with (
        open(f"{due_host.pki_dir}/ca.crt", "rb") as crt,
        open(f"{due_host.pki_dir}/ca.key", "rb") as key,
    ):
        from cryptography.hazmat.primitives import serialization

        ca_cert = x509.load_pem_x509_certificate(crt.read())
        ca_key = serialization.load_pem_private_key(key.read(), None)
    cert, key = make_leaf(
        ca_cert, ca_key, "kubernetes-admin", "kubeadm:cluster-admins", CLIENT, [], days=5
    )
    outside = str(tmp_path / "certs")
    _write(f"{outside}/admin.crt", _pem_cert(cert))
    _write(f"{outside}/admin.key", _pem_key(key), 0o600)
    _write(
        f"{due_host.kubeconfig_dir}/admin.conf",
        kubeconfig(
            ca_cert,
            "kubernetes-admin",
            cert_path=f"{outside}/admin.crt",
            key_path=f"{outside}/admin.key",
        ),
        0o600,
    )
    before = {name: digest(f"{outside}/{name}") for name in ("admin.crt", "admin.key")}
    done = renew(due_host)
    assert "admin.conf" in {item["name"] for item in done["renewed"]}
    with open(os.path.join(done["backup"], "manifest.json")) as handle:
        manifest = json.load(handle)
    saved = {item["path"]: item["copy"] for item in manifest["files"]}
    for name in ("admin.crt", "admin.key"):
        copy = saved[f"{outside}/{name}"]
        assert digest(os.path.join(done["backup"], copy)) == before[name]
        assert digest(f"{outside}/{name}") != before[name]
    pki_files.restore(done["backup"], "master1")
    assert {name: digest(f"{outside}/{name}") for name in before} == before


def test_backups_are_pruned_by_count_and_age_never_the_new_one(due_host):
    os.makedirs(due_host.backup_dir, mode=0o700)
    old_names = []
    for days_ago in (400, 200, 100, 50, 3, 2, 1):
        stamp = (NOW - dt.timedelta(days=days_ago)).strftime("%Y%m%dT%H%M%S.%fZ")
        os.mkdir(os.path.join(due_host.backup_dir, f"pki-{stamp}"), 0o700)
        old_names.append(f"pki-{stamp}")
    os.mkdir(os.path.join(due_host.backup_dir, "keep-me"))
    done = renew(due_host, backup_keep=4, backup_max_age_days=180)
    left = sorted(os.listdir(due_host.backup_dir))
    assert os.path.basename(done["backup"]) in left
    assert "keep-me" in left
    assert [name for name in left if name.startswith("pki-")] == sorted(
        [*old_names[-3:], os.path.basename(done["backup"])]
    )
    assert len(done["pruned"]) == 4
    # age alone: everything old goes, the new one stays whatever its age limit
    made = pki_files.backup(roots(due_host), due_host.backup_dir, NOW + dt.timedelta(days=1000))
    pruned = pki_files.prune_backups(
        due_host.backup_dir, 0, 1, made["path"], NOW + dt.timedelta(days=1000)
    )
    assert [n for n in os.listdir(due_host.backup_dir) if n.startswith("pki-")] == [
        os.path.basename(made["path"])
    ]
    assert len(pruned) == 4
    with pytest.raises(PKIError, match=r"backup_keep: must be 0 or more, got -1"):
        renew(due_host, backup_keep=-1)


# --- item 10: a kubeconfig that references a file under pki/ ----------------------------


def test_a_kubeconfig_referencing_a_pki_file_is_one_certificate_renewed_once(due_host):
    with open(f"{due_host.pki_dir}/ca.crt", "rb") as handle:
        ca_cert = x509.load_pem_x509_certificate(handle.read())
    client = f"{due_host.pki_dir}/apiserver-kubelet-client"
    _write(
        f"{due_host.kubeconfig_dir}/admin.conf",
        kubeconfig(
            ca_cert, "kubernetes-admin", cert_path=f"{client}.crt", key_path=f"{client}.key"
        ),
        0o600,
    )
    inv = inventory(roots(due_host))
    listed = [entry for entry in inv.entries if os.path.realpath(entry.path) == f"{client}.crt"]
    assert len(listed) == 1
    assert listed[0].referenced_by == ["admin.conf#user=kubernetes-admin"]
    changes = Changes()
    done = renew(due_host, changes=changes)
    written = [change["target"] for change in changes if change["action"] == "write"]
    assert written.count(f"{client}.crt") == 1
    assert len(written) == len(set(written))
    assert [item["name"] for item in done["renewed"]].count("apiserver-kubelet-client") == 1


# --- item 9: node identity from the controller ------------------------------------------


def test_signing_takes_the_identity_from_the_inventory_or_the_current_certificate(tmp_path):
    master = build_host(tmp_path / "m")
    worker = build_host(tmp_path / "w", leaf_days=10)
    with open(f"{worker.pki_dir}/ca.crt", "wb") as handle:
        handle.write(master.read("etc/kubernetes/pki/ca.crt"))
    request = node_csr(roots(worker))
    # The worker's current certificate is from its own CA, not the master's: refused.
    with pytest.raises(PKIError, match=r"current_certificate: .* not signed by this cluster's CA"):
        sign_csr(
            request["csr"],
            current_certificate=request["current_certificate"],
            pki_dir=master.pki_dir,
        )
    # With the master's own host as "worker" the current certificate is the CA's.
    request = node_csr(roots(master), force=True)
    signed = sign_csr(
        request["csr"], current_certificate=request["current_certificate"], pki_dir=master.pki_dir
    )
    assert signed["node_name"] == NODE
    with pytest.raises(PKIError, match=r"node_name: the inventory names this node other-node"):
        sign_csr(
            request["csr"],
            "other-node",
            current_certificate=request["current_certificate"],
            pki_dir=master.pki_dir,
        )
    with pytest.raises(PKIError, match=r"node_name: no node name to sign for"):
        sign_csr(request["csr"], pki_dir=master.pki_dir)


def test_a_node_cannot_obtain_another_nodes_identity(tmp_path):
    master = build_host(tmp_path / "m")
    request = node_csr(roots(master), force=True)
    # Root on the node forges its result: a CSR and a name for another node.
    forged_key = ec.generate_private_key(ec.SECP256R1())
    from cryptography.hazmat.primitives import hashes, serialization

    from ansible_collections.ackops.runbooks.plugins.module_utils.pki.node_credentials import (
        node_subject,
    )

    forged = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(node_subject("lab-master-1"))
        .sign(forged_key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )
    with pytest.raises(PKIError, match=r"csr: the CSR asks for CN=system:node:lab-master-1"):
        sign_csr(
            forged, NODE, current_certificate=request["current_certificate"], pki_dir=master.pki_dir
        )
    with pytest.raises(PKIError, match=r"csr: the CSR asks for CN=system:node:lab-master-1"):
        sign_csr(forged, current_certificate=request["current_certificate"], pki_dir=master.pki_dir)
    with pytest.raises(PKIError, match=r"node_name: node_name is other-node but the kubelet"):
        node_csr(roots(master), node_name="other-node", force=True)


def test_a_node_credential_cut_to_its_ca_is_not_renewed_again(tmp_path):
    host = build_host(tmp_path, ca_days=21, leaf_days=10)
    request = node_csr(roots(host))
    assert request["needed"] is True
    signed = sign_csr(request["csr"], NODE, pki_dir=host.pki_dir)
    assert signed["clamped"] is True
    from ansible_collections.ackops.runbooks.plugins.module_utils.pki.node_credentials import (
        node_install,
    )

    node_install(roots(host), signed["certificate"])
    again = node_csr(roots(host))
    assert again["needed"] is False
    assert again["reason"].startswith("its CA ca expires on ")
    assert node_csr(roots(host), force=True)["needed"] is True
