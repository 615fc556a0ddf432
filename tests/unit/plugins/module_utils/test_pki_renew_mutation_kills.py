"""renew.py's decisions the first complete mutation run of it (session 6) found untested.

Expected values are written out by hand from kubeadm's layout (``kubeadm init phase
certs all`` / ``kubeconfig all``: a leaf is ``<name>.crt`` + ``<name>.key`` under
/etc/kubernetes/pki, the four control-plane kubeconfigs embed their credential, the
kubelet's client credential is the rotating ``kubelet-client-current.pem``), its
documented defaults (365 days, a 30-day window as the runbook's default) and x509
dates; none is read back from renew.py.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ansible_collections.ackops.runbooks.plugins.module_utils.pki import files as pki_files
from ansible_collections.ackops.runbooks.plugins.module_utils.pki import renew as renew_module
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.core import (
    PKIError,
    Roots,
    inventory,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.renew import (
    plan_renewal,
    renew,
    renew_host,
    write_targets,
)
from tests.unit.kubeadm_pki_factory import NOW, build_host

PKI_LEAVES = [
    "apiserver",
    "apiserver-kubelet-client",
    "front-proxy-client",
    "apiserver-etcd-client",
    "etcd/server",
    "etcd/peer",
    "etcd/healthcheck-client",
]
KUBECONFIGS = ["admin.conf", "super-admin.conf", "controller-manager.conf", "scheduler.conf"]
EXTERNAL_ETCD = (
    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
    "etcd:\n  external:\n    endpoints: [https://10.0.0.5:2379]\n"
)


def roots(host) -> Roots:
    return Roots(**host.roots_kwargs)


def rel(host, paths) -> list[str]:
    return sorted(os.path.relpath(path, host.root) for path in paths)


# --- write_targets: every file a renewal writes, for the backup --------------------


def test_write_targets_are_each_leaf_pair_each_kubeconfig_and_the_kubelet_pem(tmp_path):
    host = build_host(tmp_path)
    plan = plan_renewal(inventory(roots(host)), force=True, now=NOW)
    expected = [f"etc/kubernetes/pki/{leaf}.{ext}" for leaf in PKI_LEAVES for ext in ("crt", "key")]
    expected += [f"etc/kubernetes/{conf}" for conf in KUBECONFIGS]
    # kubelet.conf points at the rotating symlink: the pem (cert + key in one file) is written.
    expected += ["var/lib/kubelet/pki/kubelet-client-current.pem"]
    targets = write_targets(plan)
    assert rel(host, targets) == sorted(expected)
    assert len(targets) == len(set(targets)), "each file once"
    assert None not in targets


def test_a_leaf_whose_key_file_is_missing_still_has_its_key_path_backed_up(tmp_path):
    # A new key is written beside the certificate: <name>.key, which the backup must
    # note as absent (so a restore removes it).
    host = build_host(tmp_path)
    os.remove(f"{host.pki_dir}/front-proxy-client.key")
    plan = plan_renewal(inventory(roots(host)), force=True, names=["front-proxy-client"], now=NOW)
    assert [action.entry.name for action in plan.renew] == ["front-proxy-client"]
    assert rel(host, write_targets(plan)) == [
        "etc/kubernetes/pki/front-proxy-client.crt",
        "etc/kubernetes/pki/front-proxy-client.key",
    ]


# --- renew_host: its own arguments ---------------------------------------------------


def test_renew_host_decides_at_the_now_it_is_given(tmp_path):
    # Leaves valid 365 days from a day before NOW: at NOW + 340 days they end within 30.
    host = build_host(tmp_path)
    later = NOW + dt.timedelta(days=340)
    done = renew_host(roots(host), backup_dir=host.backup_dir, now=later, check=True)
    reasons = {item["name"]: item["reason"] for item in done["renewed"]}
    assert reasons["apiserver"] == "expires within 30 days"
    # and the renewal would start at that moment, for 365 days
    after = {item["name"]: item["after"] for item in done["renewed"]}["apiserver"]
    assert after["not_after"] == (later + dt.timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
    # at NOW nothing is due
    assert renew_host(roots(host), backup_dir=host.backup_dir, now=NOW)["renewed"] == []


def test_backups_are_kept_forever_unless_a_retention_is_set(tmp_path):
    host = build_host(tmp_path, leaf_days=10)
    old = pki_files.backup(roots(host), host.backup_dir, NOW - dt.timedelta(days=30))["path"]
    done = renew_host(roots(host), backup_dir=host.backup_dir, now=NOW)
    assert done["backup"]
    assert done["pruned"] == []
    assert os.path.isdir(old)
    assert sorted(os.listdir(host.backup_dir)) == sorted(
        [os.path.basename(old), os.path.basename(done["backup"])]
    )


@pytest.mark.parametrize("option", ["backup_keep", "backup_max_age_days"])
def test_a_negative_retention_is_refused_naming_its_option(tmp_path, option):
    host = build_host(tmp_path, leaf_days=10)
    with pytest.raises(PKIError) as caught:
        renew_host(roots(host), backup_dir=host.backup_dir, now=NOW, **{option: -1})
    assert caught.value.field == option
    assert caught.value.host == "master1"
    assert caught.value.cause == "must be 0 or more, got -1"
    assert not os.path.exists(host.backup_dir), "refused before anything is written"


def test_a_missing_kubeadm_config_file_names_the_host(tmp_path):
    host = build_host(tmp_path, leaf_days=10)
    missing = str(tmp_path / "kubeadm-config.yaml")
    with pytest.raises(PKIError) as caught:
        renew_host(roots(host), backup_dir=host.backup_dir, kubeadm_config=missing, now=NOW)
    assert (caught.value.host, caught.value.obj, caught.value.field) == (
        "master1",
        missing,
        "kubeadm_config",
    )


@pytest.mark.parametrize(
    ("validity_days", "text"), [(1, "1 day"), (2, "2 days"), (0.5, "0.5 days"), (365, "365 days")]
)
def test_the_lifetime_is_written_in_days_singular_for_one(tmp_path, validity_days, text):
    host = build_host(tmp_path, leaf_days=10)
    done = renew_host(
        roots(host),
        backup_dir=host.backup_dir,
        validity_days=validity_days,
        threshold_days=0,
        now=NOW,
        check=True,
    )
    assert done["settings"]["validity"] == text
    assert done["settings"]["validity_hours"] == validity_days * 24


# --- the lifetime against the threshold ----------------------------------------------


def test_without_any_lifetime_setting_it_is_kubeadms_default_year(tmp_path):
    host = build_host(tmp_path, leaf_days=10)
    done = renew_host(roots(host), backup_dir=host.backup_dir, now=NOW, check=True)
    assert done["settings"]["validity"] == "365 days"
    assert done["settings"]["validity_source"] == "default"
    assert done["notices"] == []


def test_a_threshold_beyond_the_default_year_is_no_conflict_to_report(tmp_path):
    # The conflict notice says "renewed for 365 days (kubeadm's default) instead": with
    # no lifetime configured there is nothing to fall back from, so no such notice.
    host = build_host(tmp_path, leaf_days=10)
    done = renew_host(
        roots(host), backup_dir=host.backup_dir, threshold_days=400, now=NOW, check=True
    )
    assert done["settings"]["validity_source"] == "default"
    assert done["notices"] == []


def test_a_lifetime_equal_to_the_threshold_is_refused(tmp_path):
    # A 30-day certificate is due the moment it is made under a 30-day window (the
    # window includes its limit): every run would renew it again.
    host = build_host(tmp_path, leaf_days=10)
    with pytest.raises(PKIError) as caught:
        renew_host(
            roots(host), backup_dir=host.backup_dir, validity_days=30, threshold_days=30, now=NOW
        )
    assert caught.value.field == "validity_days"
    assert "30 days from validity_days is not longer than the 30-day threshold" in str(
        caught.value.cause
    )
    # one day more is accepted
    done = renew_host(
        roots(host),
        backup_dir=host.backup_dir,
        validity_days=31,
        threshold_days=30,
        now=NOW,
        check=True,
    )
    assert done["settings"]["validity"] == "31 days"


def test_force_honours_an_explicit_short_lifetime(tmp_path):
    # validity_days under the threshold is refused unless forced: forced, the operator's
    # own lifetime is used as given, with no fallback and no conflict notice.
    host = build_host(tmp_path, leaf_days=10)
    done = renew_host(
        roots(host),
        backup_dir=host.backup_dir,
        validity_days=2,
        threshold_days=30,
        force=True,
        now=NOW,
        check=True,
    )
    assert done["settings"]["validity"] == "2 days"
    assert done["settings"]["validity_source"] == "validity_days"
    assert done["notices"] == []
    after = {item["name"]: item["after"] for item in done["renewed"]}["apiserver"]
    assert after["not_after"] == (NOW + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")


CLUSTER_48H = (
    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
    "certificateValidityPeriod: 48h\n"
)


def test_a_cluster_lifetime_under_the_threshold_is_explained_word_for_word(tmp_path):
    host = build_host(tmp_path, leaf_days=10)
    done = renew_host(
        roots(host),
        backup_dir=host.backup_dir,
        cluster_configuration=CLUSTER_48H,
        now=NOW,
        check=True,
    )
    source = "certificateValidityPeriod (ClusterConfiguration (kubeadm-config ConfigMap))"
    assert done["notices"] == [
        f"{source} is 2 days, not longer than the 30-day threshold: certificates are renewed "
        "for 365 days (kubeadm's default) instead, else every run would renew them again; "
        "set renew_certs_validity_days, or lower renew_certs_threshold_days below the "
        "cluster's lifetime, to choose"
    ]
    assert done["settings"]["validity"] == "365 days"
    assert (
        done["settings"]["validity_source"] == f"default (conflict: {source} under the threshold)"
    )


# --- renew_host hands its arguments to every step --------------------------------------


def stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_ca_check_and_the_backup_use_the_given_now(tmp_path):
    # The CAs start a day before NOW and last 400 days: they end on NOW + 399 days. At
    # NOW + 380 days that is within the 30-day window; at NOW it is not.
    host = build_host(tmp_path, leaf_days=10, ca_days=400)
    later = NOW + dt.timedelta(days=380)
    done = renew_host(roots(host), backup_dir=host.backup_dir, now=later)
    ca_end = stamp(NOW + dt.timedelta(days=399))
    assert f"CA ca ({host.pki_dir}/ca.crt) expires on {ca_end}, within the 30-day threshold" in (
        " ".join(done["notices"])
    )
    assert {ca["name"] for ca in done["cas"]} == {"ca", "front-proxy-ca", "etcd-ca"}
    # the backup is named after the moment of the run
    assert os.path.basename(done["backup"]).startswith(f"pki-{later:%Y%m%dT%H%M}")
    # renewed at that moment: a year from it, cut to the CA's end
    after = {item["name"]: item["after"] for item in done["renewed"]}["apiserver"]
    assert after["not_before"] <= stamp(later)
    assert after["not_after"] == ca_end


def test_with_external_etcd_the_etcd_ca_is_not_checked(tmp_path):
    # kubeadm with external etcd: the etcd certificates belong to the etcd cluster, so
    # the etcd CA here signs nothing this run renews.
    host = build_host(tmp_path, leaf_days=10)
    done = renew_host(
        roots(host),
        backup_dir=host.backup_dir,
        cluster_configuration=EXTERNAL_ETCD,
        now=NOW,
        check=True,
    )
    assert done["settings"]["external_etcd"] is True
    assert sorted(ca["name"] for ca in done["cas"]) == ["ca", "front-proxy-ca"]


def test_names_threshold_and_kubelet_reach_the_plan(tmp_path):
    host = build_host(tmp_path, leaf_days=45)  # every leaf ends on NOW + 44 days
    only = renew_host(
        roots(host),
        backup_dir=host.backup_dir,
        names=["apiserver"],
        force=True,
        now=NOW,
        check=True,
    )
    assert [item["name"] for item in only["renewed"]] == ["apiserver"]
    wide = renew_host(
        roots(host), backup_dir=host.backup_dir, threshold_days=60, now=NOW, check=True
    )
    reasons = {item["name"]: item["reason"] for item in wide["renewed"]}
    assert reasons["apiserver"] == "expires within 60 days"
    assert "kubelet.conf" in reasons
    no_kubelet = renew_host(
        roots(host),
        backup_dir=host.backup_dir,
        threshold_days=60,
        kubelet=False,
        now=NOW,
        check=True,
    )
    renewed = {item["name"] for item in no_kubelet["renewed"]}
    assert "apiserver" in renewed
    assert "kubelet.conf" not in renewed


def test_a_renewal_gaining_less_than_a_day_is_not_made(tmp_path):
    # A 1.5-day lifetime under a 1-day window: a leaf with 1 day left would gain only
    # 12 hours. The lifetime given reaches the plan (kubeadm's 365 days would gain a year).
    host = build_host(tmp_path, leaf_overrides={"apiserver": 2})  # ends on NOW + 1 day
    done = renew_host(
        roots(host),
        backup_dir=host.backup_dir,
        validity_days=1.5,
        threshold_days=1,
        now=NOW,
        check=True,
    )
    assert "apiserver" not in {item["name"] for item in done["renewed"]}
    assert "apiserver" in {item["name"] for item in done["not_renewed"]}


ECDSA_CLUSTER = (
    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
    "encryptionAlgorithm: ECDSA-P256\n"
)


def test_reuse_key_keeps_every_key_file_and_public_key(tmp_path):
    # reuse_key wins over the cluster's encryptionAlgorithm: the old RSA key stays.
    host = build_host(tmp_path, leaf_days=10)
    key_before = host.read("etc/kubernetes/pki/apiserver.key")

    def public(relative: str) -> bytes:
        cert = x509.load_pem_x509_certificate(host.read(relative))
        return cert.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    public_before = public("etc/kubernetes/pki/apiserver.crt")
    crt_before = host.read("etc/kubernetes/pki/apiserver.crt")
    done = renew_host(
        roots(host),
        backup_dir=host.backup_dir,
        reuse_key=True,
        cluster_configuration=ECDSA_CLUSTER,
        now=NOW,
    )
    item = {item["name"]: item for item in done["renewed"]}["apiserver"]
    assert item["key"] == "reused"
    assert host.read("etc/kubernetes/pki/apiserver.crt") != crt_before, "a new certificate"
    assert host.read("etc/kubernetes/pki/apiserver.key") == key_before
    assert public("etc/kubernetes/pki/apiserver.crt") == public_before
    assert done["settings"]["key_algorithm"] is None
    assert done["settings"]["key_algorithm_source"] == "reuse_key"


# --- backup retention ------------------------------------------------------------------


def old_backup(host, taken: dt.datetime) -> str:
    """An earlier run's backup directory, named pki-<UTC time of the run>."""
    os.makedirs(host.backup_dir, mode=0o700, exist_ok=True)
    path = os.path.join(host.backup_dir, f"pki-{taken:%Y%m%dT%H%M%S.%fZ}")
    os.mkdir(path, 0o700)
    return path


def test_backup_keep_alone_prunes_by_count(tmp_path):
    host = build_host(tmp_path, leaf_days=10)
    older = [old_backup(host, NOW - dt.timedelta(days=d)) for d in (3, 2)]
    done = renew_host(roots(host), backup_dir=host.backup_dir, backup_keep=2, now=NOW)
    # keep 2: the new one and the newest older one
    assert done["pruned"] == [older[0]]
    assert sorted(os.listdir(host.backup_dir)) == sorted(
        [os.path.basename(older[1]), os.path.basename(done["backup"])]
    )


def test_backup_max_age_alone_prunes_by_age_from_the_given_now(tmp_path):
    host = build_host(tmp_path, leaf_days=10)
    later = NOW + dt.timedelta(days=340)
    recent = old_backup(host, later - dt.timedelta(days=5))
    aged = old_backup(host, NOW - dt.timedelta(days=10))  # 350 days before `later`
    done = renew_host(roots(host), backup_dir=host.backup_dir, backup_max_age_days=300, now=later)
    assert done["pruned"] == [aged]
    assert os.path.isdir(recent)
    assert os.path.isdir(done["backup"])


@pytest.mark.parametrize("how", [{"check": True}, {"make_backup": False}])
def test_nothing_is_pruned_when_no_backup_was_taken(tmp_path, how):
    host = build_host(tmp_path, leaf_days=10)
    older = [old_backup(host, NOW - dt.timedelta(days=d)) for d in (30, 20)]
    done = renew_host(
        roots(host),
        backup_dir=host.backup_dir,
        backup_keep=1,
        backup_max_age_days=1,
        now=NOW,
        **how,
    )
    assert done["backup"] is None
    assert done["pruned"] == []
    assert all(os.path.isdir(path) for path in older)


def test_a_backup_that_cannot_be_pruned_is_a_notice_not_a_failure(tmp_path):
    host = build_host(tmp_path, leaf_days=10)
    os.makedirs(host.backup_dir, mode=0o700)
    # a FILE with a backup's name: removing it as a backup directory fails
    stuck = os.path.join(host.backup_dir, f"pki-{NOW - dt.timedelta(days=9):%Y%m%dT%H%M%S.%fZ}")
    with open(stuck, "w") as handle:
        handle.write("not a directory")
    done = renew_host(roots(host), backup_dir=host.backup_dir, backup_keep=1, now=NOW)
    assert done["renewed"]
    assert done["backup"]
    notices = [n for n in done["notices"] if isinstance(n, str) and n.startswith("old backups")]
    assert len(notices) == 1
    assert notices[0].startswith("old backups not pruned: ")
    assert stuck in notices[0]
    assert None not in done["notices"]


def test_validity_hours_keep_their_fraction(tmp_path):
    host = build_host(tmp_path, leaf_days=10)
    config = (
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
        "certificateValidityPeriod: 8760h30m\n"
    )
    done = renew_host(
        roots(host), backup_dir=host.backup_dir, cluster_configuration=config, now=NOW, check=True
    )
    assert done["settings"]["validity_hours"] == 8760.5
    assert done["settings"]["validity"] == "365.021 days"


@pytest.mark.parametrize(
    ("kwargs", "algorithm", "source"),
    [
        ({"key_algorithm": "ECDSA-P384"}, "ECDSA-P384", "key_algorithm"),
        (
            {"key_algorithm": "ECDSA-P384", "cluster_configuration": ECDSA_CLUSTER},
            "ECDSA-P384",
            "key_algorithm",
        ),
        (
            {"cluster_configuration": ECDSA_CLUSTER},
            "ECDSA-P256",
            "encryptionAlgorithm (ClusterConfiguration (kubeadm-config ConfigMap))",
        ),
        ({}, None, "same as the old key"),
        ({"reuse_key": True}, None, "reuse_key"),
    ],
)
def test_where_the_key_type_comes_from(tmp_path, kwargs, algorithm, source):
    host = build_host(tmp_path, leaf_days=10)
    done = renew_host(roots(host), backup_dir=host.backup_dir, now=NOW, check=True, **kwargs)
    assert done["settings"]["key_algorithm"] == algorithm
    assert done["settings"]["key_algorithm_source"] == source


# --- renew() on its own: its defaults, its result rows, its re-read ----------------------


def test_renew_by_default_writes_a_new_key_for_a_year(tmp_path):
    # kubeadm's default: a new key, one year (365 days) from now, written to disk.
    host = build_host(tmp_path, leaf_days=10)
    inv = inventory(roots(host))
    plan = plan_renewal(inv, names=["front-proxy-client"], force=True, now=NOW)
    key_before = host.read("etc/kubernetes/pki/front-proxy-client.key")
    crt_before = host.read("etc/kubernetes/pki/front-proxy-client.crt")
    (row,) = renew(inv, plan, now=NOW)
    assert row["key"] == "new"
    assert row["after"]["not_after"] == stamp(NOW + dt.timedelta(days=365))
    assert host.read("etc/kubernetes/pki/front-proxy-client.key") != key_before
    written = x509.load_pem_x509_certificate(host.read("etc/kubernetes/pki/front-proxy-client.crt"))
    assert host.read("etc/kubernetes/pki/front-proxy-client.crt") != crt_before
    assert written.not_valid_after_utc == NOW + dt.timedelta(days=365)
    assert row["after"]["serial"] != row["before"]["serial"]


def test_renew_rows_name_the_kubeconfig_user_and_the_signing_ca(tmp_path):
    host = build_host(tmp_path, leaf_days=10)
    inv = inventory(roots(host))
    plan = plan_renewal(inv, names=["admin.conf", "etcd-server"], force=True, now=NOW)
    rows = {row["name"]: row for row in renew(inv, plan, check=True, now=NOW)}
    assert (rows["admin.conf"]["user"], rows["admin.conf"]["ca"]) == ("kubernetes-admin", "ca")
    assert rows["admin.conf"]["kubeconfig"] == f"{host.kubeconfig_dir}/admin.conf"
    assert (rows["etcd-server"]["user"], rows["etcd-server"]["ca"]) == (None, "etcd-ca")
    assert rows["etcd-server"]["kubeconfig"] is None


def test_reuse_key_without_its_key_names_the_host_and_file(tmp_path):
    host = build_host(tmp_path, leaf_days=10)
    os.remove(f"{host.pki_dir}/apiserver.key")
    inv = inventory(roots(host))
    plan = plan_renewal(inv, names=["apiserver"], force=True, now=NOW)
    with pytest.raises(PKIError) as caught:
        renew(inv, plan, reuse_key=True, now=NOW)
    assert caught.value.host == "master1"
    assert caught.value.obj == f"{host.pki_dir}/apiserver.crt"


@pytest.mark.parametrize("what", ["nothing written", "file gone"])
def test_a_write_that_does_not_show_on_disk_is_refused(tmp_path, monkeypatch, what):
    # The re-read after writing is the check that the renewal really happened: a writer
    # that silently writes nothing (or loses the file) must not pass as a renewal.
    host = build_host(tmp_path, leaf_days=10)
    inv = inventory(roots(host))
    plan = plan_renewal(inv, names=["front-proxy-client"], force=True, now=NOW)
    target = f"{host.pki_dir}/front-proxy-client.crt"

    def silent(entry, *_args):
        if what == "file gone":
            os.remove(entry.path)

    monkeypatch.setattr(renew_module, "write_credential", silent)
    with pytest.raises(PKIError) as caught:
        renew(inv, plan, now=NOW)
    assert caught.value.cause == "re-reading it after the write does not show the new certificate"
    assert (caught.value.host, caught.value.obj) == ("master1", target)


def test_check_mode_predicts_the_whole_new_validity(tmp_path):
    # Same subject, a serial not known yet, from now less kubeadm's 5-minute backdate
    # (clock skew), for the lifetime asked.
    host = build_host(tmp_path, leaf_days=10)
    inv = inventory(roots(host))
    plan = plan_renewal(inv, names=["apiserver"], force=True, now=NOW)
    (row,) = renew(inv, plan, check=True, validity_days=100, now=NOW)
    assert row["after"] == {
        "subject": "CN=kube-apiserver",
        "serial": "(new)",
        "not_before": stamp(NOW - dt.timedelta(minutes=5)),
        "not_after": stamp(NOW + dt.timedelta(days=100)),
    }
    assert row["clamped"] is False


def swap_in_other_key(path: str, other: str) -> None:
    with open(other, "rb") as src, open(path, "wb") as dst:
        dst.write(src.read())


@pytest.mark.parametrize("broken", ["ca key replaced", "key unreadable", "target is a directory"])
def test_failures_while_renewing_name_the_host(tmp_path, broken):
    # Things that change between the plan and the write: each refusal names the host.
    host = build_host(tmp_path, leaf_days=10)
    inv = inventory(roots(host))
    plan = plan_renewal(inv, names=["apiserver"], force=True, now=NOW)
    kwargs = {}
    if broken == "ca key replaced":  # the CA certificate no longer matches its key
        swap_in_other_key(f"{host.pki_dir}/ca.key", f"{host.pki_dir}/front-proxy-ca.key")
    elif broken == "key unreadable":  # the key to reuse is not a key any more
        with open(f"{host.pki_dir}/apiserver.key", "w") as handle:
            handle.write("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
        kwargs["reuse_key"] = True
    else:  # the certificate's place is taken by a directory: the write fails
        os.remove(f"{host.pki_dir}/apiserver.crt")
        os.makedirs(f"{host.pki_dir}/apiserver.crt/occupied")
    with pytest.raises(PKIError) as caught:
        renew(inv, plan, now=NOW, **kwargs)
    assert caught.value.host == "master1"


def test_an_extra_certificate_makes_its_ca_checked_even_with_external_etcd(tmp_path):
    # etcd-server listed explicitly is renewed although etcd is external, so its CA is
    # checked before anything changes; without the listing the etcd CA is not needed.
    host = build_host(tmp_path, leaf_days=10)
    done = renew_host(
        roots(host),
        backup_dir=host.backup_dir,
        cluster_configuration=EXTERNAL_ETCD,
        extra_certificates=["etcd-server"],
        now=NOW,
        check=True,
    )
    assert sorted(ca["name"] for ca in done["cas"]) == ["ca", "etcd-ca", "front-proxy-ca"]
    assert "etcd-server" in {item["name"] for item in done["renewed"]}


def test_preflight_reports_each_needed_ca_with_its_key_here(tmp_path):
    # The CAs last 3650 days from a day before NOW. A CA that signs nothing renewed
    # here (a vendor's, sorted first) is neither checked nor reported.
    from tests.unit.kubeadm_pki_factory import _pem_cert, _pem_key, _write, make_ca

    host = build_host(tmp_path, leaf_days=10)
    vendor, vendor_key = make_ca("a-vendor-ca")
    _write(f"{host.pki_dir}/a-vendor-ca.crt", _pem_cert(vendor))
    _write(f"{host.pki_dir}/a-vendor-ca.key", _pem_key(vendor_key), 0o600)
    done = renew_host(roots(host), backup_dir=host.backup_dir, now=NOW, check=True)
    ca_end = stamp(NOW + dt.timedelta(days=3649))
    assert sorted(done["cas"], key=lambda ca: ca["name"]) == [
        {
            "name": name,
            "path": f"{host.pki_dir}/{relative}.crt",
            "not_after": ca_end,
            "externally_managed": False,
            "warning": None,
        }
        for name, relative in (
            ("ca", "ca"),
            ("etcd-ca", "etcd/ca"),
            ("front-proxy-ca", "front-proxy-ca"),
        )
    ]


def test_a_ca_key_that_does_not_match_is_refused_even_when_nothing_is_due(tmp_path):
    host = build_host(tmp_path)  # every leaf a year from expiry: nothing due
    swap_in_other_key(f"{host.pki_dir}/front-proxy-ca.key", f"{host.pki_dir}/ca.key")
    before = host.tree_hash()
    with pytest.raises(PKIError) as caught:
        renew_host(roots(host), backup_dir=host.backup_dir, now=NOW)
    assert caught.value.host == "master1"
    assert "front-proxy-ca" in str(caught.value)
    assert host.tree_hash() == before


# --- names, extra certificates, defaults of plan_renewal --------------------------------


def add_keyed_stray(host) -> None:
    """metrics-client.crt + .key under pki/, signed by the cluster CA, due in 4 days."""
    from tests.unit.kubeadm_pki_factory import CLIENT, _pem_cert, _pem_key, _write, make_leaf

    ca_cert = x509.load_pem_x509_certificate(host.read("etc/kubernetes/pki/ca.crt"))
    ca_key = serialization.load_pem_private_key(host.read("etc/kubernetes/pki/ca.key"), None)
    cert, key = make_leaf(ca_cert, ca_key, "metrics-client", None, CLIENT, [], days=5)
    _write(f"{host.pki_dir}/metrics-client.crt", _pem_cert(cert))
    _write(f"{host.pki_dir}/metrics-client.key", _pem_key(key), 0o600)


def test_an_extra_certificate_by_its_path_below_pki_dir_is_renewed(tmp_path):
    host = build_host(tmp_path)
    add_keyed_stray(host)
    plan = plan_renewal(inventory(roots(host)), extra=["metrics-client.crt"], now=NOW)
    assert [action.entry.name for action in plan.renew] == ["metrics-client"]


@pytest.mark.parametrize("option", ["names", "extra"])
def test_a_kubeconfig_file_is_not_a_certificate_name(tmp_path, option):
    host = build_host(tmp_path, leaf_days=10)
    admin = f"{host.kubeconfig_dir}/admin.conf"
    with pytest.raises(PKIError) as caught:
        plan_renewal(inventory(roots(host)), now=NOW, **{option: [admin]})
    assert caught.value.cause == f"no certificate named {admin} on this host"
    assert caught.value.field == {"names": "certificates", "extra": "extra_certificates"}[option]
    assert caught.value.host == "master1"


def test_an_unknown_certificate_is_refused_naming_the_option(tmp_path):
    host = build_host(tmp_path, leaf_days=10)
    with pytest.raises(PKIError) as caught:
        plan_renewal(inventory(roots(host)), names=["apiserver", "apiservr"], now=NOW)
    assert (caught.value.cause, caught.value.field, caught.value.host) == (
        "no certificate named apiservr on this host",
        "certificates",
        "master1",
    )


def test_a_negative_threshold_names_the_host(tmp_path):
    host = build_host(tmp_path, leaf_days=10)
    with pytest.raises(PKIError) as caught:
        plan_renewal(inventory(roots(host)), threshold_days=-1, now=NOW)
    assert (caught.value.field, caught.value.host) == ("threshold_days", "master1")


def test_plan_renewal_defaults_to_a_30_day_window(tmp_path):
    # apiserver ends on NOW + 31 days (32 from a day before NOW), front-proxy-client on
    # NOW + 30 days: only the second is within 30 days.
    host = build_host(tmp_path, leaf_overrides={"apiserver": 32, "front-proxy-client": 31})
    plan = plan_renewal(inventory(roots(host)), now=NOW)
    renewed = {action.entry.name: action.reason for action in plan.renew}
    assert renewed == {"front-proxy-client": "expires within 30 days"}


def test_plan_renewal_defaults_to_a_year_of_validity(tmp_path):
    # A 365-day window: a leaf ending on NOW + 364.5 days is due, but a 365-day renewal
    # would push it out by only 12 hours (less than a day): not renewed. With a year
    # and a day it would be.
    host = build_host(tmp_path, leaf_overrides={"apiserver": 365.5})
    plan = plan_renewal(inventory(roots(host)), threshold_days=365, now=NOW)
    assert "apiserver" not in {action.entry.name for action in plan.renew}
    plan = plan_renewal(inventory(roots(host)), threshold_days=365, validity_days=366, now=NOW)
    assert "apiserver" in {action.entry.name for action in plan.renew}


def test_a_renewal_cut_by_its_lifetime_is_not_blamed_on_the_ca(tmp_path):
    # The CAs last 3650 days; a leaf ending on NOW + 364.5 days would end on NOW + 365 when
    # renewed for a year: half a day later, so it is skipped, and the reason is the
    # lifetime, not the CA (which is far from its end: no "rotate the CA").
    host = build_host(tmp_path, leaf_overrides={"apiserver": 365.5})
    plan = plan_renewal(inventory(roots(host)), threshold_days=365, now=NOW)
    reasons = {row["name"]: row["reason"] for row in plan.skip}
    assert reasons["apiserver"] == (
        f"a renewal now, for the configured lifetime, would end on "
        f"{stamp(NOW + dt.timedelta(days=365))}: not a day later than it does "
        f"({stamp(NOW + dt.timedelta(days=364.5))})"
    )


# --- pre-flight's CA warnings at their boundaries ---------------------------------------


def test_a_ca_ending_exactly_at_the_threshold_is_within_it(tmp_path):
    # CAs of 31 days from a day before NOW end on NOW + 30 days: the window's own limit,
    # which the window includes (as it does for leaves).
    host = build_host(tmp_path, leaf_days=10, ca_days=31)
    done = renew_host(roots(host), backup_dir=host.backup_dir, now=NOW, check=True)
    ca_end = stamp(NOW + dt.timedelta(days=30))
    assert (
        f"CA ca ({host.pki_dir}/ca.crt) expires on {ca_end}, within the 30-day threshold: "
        "certificates it signs cannot outlive it; rotate the CA (docs/renew-certs.md, "
        "'A CA close to its own expiry')"
    ) in done["notices"]


def test_a_ca_ending_before_renewed_certificates_would_is_named_with_both_dates(tmp_path):
    # CAs end on NOW + 99 days; renewed for 100 days, leaves would end on NOW + 100.
    host = build_host(tmp_path, leaf_days=10, ca_days=100)
    done = renew_host(
        roots(host), backup_dir=host.backup_dir, validity_days=100, now=NOW, check=True
    )
    assert (
        f"CA ca ({host.pki_dir}/ca.crt) expires on {stamp(NOW + dt.timedelta(days=99))}, before "
        f"renewed certificates would ({stamp(NOW + dt.timedelta(days=100))}): they are cut to "
        "the CA's expiry; rotate the CA (docs/renew-certs.md, 'A CA close to its own expiry')"
    ) in done["notices"]


def test_a_ca_ending_exactly_when_renewed_certificates_would_is_no_warning(tmp_path):
    # CAs end on NOW + 100 days, renewed leaves too: nothing is cut, nothing to warn of.
    host = build_host(tmp_path, leaf_days=10, ca_days=101)
    done = renew_host(
        roots(host), backup_dir=host.backup_dir, validity_days=100, now=NOW, check=True
    )
    assert done["notices"] == []
    assert all(item["clamped"] is False for item in done["renewed"])


# --- plan_renewal's rows and boundaries --------------------------------------------------


def test_skip_rows_carry_id_name_and_reason(tmp_path):
    host = build_host(tmp_path, leaf_days=10)
    plan = plan_renewal(
        inventory(roots(host)), names=["apiserver", "kubelet.conf"], kubelet=False, now=NOW
    )
    rows = {row["name"]: row for row in plan.skip}
    assert rows["ca"] == {
        "id": "pki:ca.crt",
        "name": "ca",
        "reason": "CA: never renewed, only reported",
    }
    assert rows["front-proxy-client"] == {
        "id": "pki:front-proxy-client.crt",
        "name": "front-proxy-client",
        "reason": "not selected",
    }
    assert rows["kubelet.conf"]["reason"] == "kubelet credential excluded (kubelet: false)"
    assert [action.entry.name for action in plan.renew] == ["apiserver"]


def test_a_leaf_of_a_ca_without_its_key_here_is_skipped_naming_the_key_file(tmp_path):
    host = build_host(tmp_path, leaf_days=10)
    os.remove(f"{host.pki_dir}/front-proxy-ca.key")
    plan = plan_renewal(inventory(roots(host)), now=NOW)
    reasons = {row["name"]: row["reason"] for row in plan.skip}
    assert reasons["front-proxy-client"] == (
        f"external CA: front-proxy-ca has no key on this host ({host.pki_dir}/front-proxy-ca.key); "
        "renew it where that CA's key is"
    )


def test_plan_renewal_refuses_a_mismatched_ca_key_naming_the_host(tmp_path):
    host = build_host(tmp_path, leaf_days=10)
    swap_in_other_key(f"{host.pki_dir}/front-proxy-ca.key", f"{host.pki_dir}/ca.key")
    with pytest.raises(PKIError) as caught:
        plan_renewal(inventory(roots(host)), names=["front-proxy-client"], now=NOW)
    assert caught.value.host == "master1"


def test_a_renewal_gaining_exactly_a_day_is_made(tmp_path):
    # Leaves end on NOW + 9 days, the CAs on NOW + 10 days: cut to the CA, a renewal
    # gains exactly one day, which is enough.
    host = build_host(tmp_path, leaf_days=10, ca_days=11)
    plan = plan_renewal(inventory(roots(host)), now=NOW)
    reasons = {action.entry.name: action.reason for action in plan.renew}
    assert reasons.get("apiserver") == "expires within 30 days"


def test_a_leaf_ending_now_is_renewed_even_for_less_than_a_day(tmp_path):
    # Its CA ends in 12 hours: the renewal gains only that, but the leaf ends now.
    host = build_host(tmp_path, leaf_overrides={"apiserver": 0}, ca_days=1.5)
    plan = plan_renewal(inventory(roots(host)), now=NOW)
    assert "apiserver" in {action.entry.name for action in plan.renew}


def test_the_kubelet_serving_certificate_is_left_to_the_kubelet(tmp_path):
    host = build_host(tmp_path, leaf_days=10)
    plan = plan_renewal(inventory(roots(host)), force=True, now=NOW)
    reasons = {row["id"]: row["reason"] for row in plan.skip}
    assert reasons["kubelet:kubelet.crt"] == (
        "kubelet-managed (serving certificate, rotated or regenerated by the kubelet)"
    )


def test_a_ca_known_only_from_a_kubeconfig_cannot_sign_here(tmp_path):
    # Without pki/ca.crt the cluster CA is only the certificate-authority-data embedded
    # in the kubeconfigs: externally managed, whatever file sits beside the kubeconfig.
    from ansible_collections.ackops.runbooks.plugins.module_utils.pki.renew import check_ca

    host = build_host(tmp_path, leaf_days=10)
    swap_in_other_key(f"{host.kubeconfig_dir}/admin.key", f"{host.pki_dir}/ca.key")
    os.remove(f"{host.pki_dir}/ca.crt")
    os.remove(f"{host.pki_dir}/ca.key")
    (embedded,) = [ca for ca in inventory(roots(host)).cas() if ca.source == "embedded"]
    with pytest.raises(PKIError) as caught:
        check_ca(embedded, "master1", NOW)
    assert caught.value.cause.startswith(
        f"CA of {host.kubeconfig_dir}/admin.conf exists only embedded"
    )
    assert caught.value.host == "master1"
    plan = plan_renewal(inventory(roots(host)), now=NOW)
    reasons = {row["name"]: row["reason"] for row in plan.skip}
    assert reasons["apiserver"].startswith("external CA: ")


# --- certificates given by path select what the name check accepts --------------------------


@pytest.mark.parametrize(
    "given",
    [
        "{pki}/front-proxy-client.crt",  # the path, as inventory reports it
        "front-proxy-client.crt",  # the path below pki_dir
        "front-proxy-client",  # kubeadm's name
    ],
)
def test_a_certificate_named_by_its_path_is_selected(tmp_path, given):
    # Accepted by the name check, a path must select its certificate: before, it passed the
    # check and then selected nothing, so the run renewed nothing and reported green.
    host = build_host(tmp_path, leaf_days=10)
    plan = plan_renewal(
        inventory(roots(host)), names=[given.format(pki=host.pki_dir)], force=True, now=NOW
    )
    assert [action.entry.name for action in plan.renew] == ["front-proxy-client"]
    reasons = {row["name"]: row["reason"] for row in plan.skip}
    assert "front-proxy-client" not in reasons
    assert reasons["apiserver"] == reasons["admin.conf"] == "not selected"


def test_a_path_that_names_no_certificate_is_refused(tmp_path):
    host = build_host(tmp_path, leaf_days=10)
    with pytest.raises(PKIError) as caught:
        plan_renewal(
            inventory(roots(host)), names=[f"{host.pki_dir}/nope.crt"], force=True, now=NOW
        )
    assert caught.value.field == "certificates"
    assert caught.value.cause == f"no certificate named {host.pki_dir}/nope.crt on this host"
