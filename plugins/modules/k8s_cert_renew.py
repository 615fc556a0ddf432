#!/usr/bin/python
# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module ackops.runbooks.k8s_cert_renew: renew a host's leaf certificates, kubeadm style."""

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_cert_renew
author: ack-runbooks contributors (@ackops)
version_added: "0.1.0"
short_description: Renew the leaf certificates of a Kubernetes control-plane host with its own CAs
description:
  - Re-issues every leaf certificate of the host that expires within O(threshold_days) (or all,
    with O(force)), each signed by the CA on the host that signed it, keeping its subject, SANs,
    key usages and other extensions; the serial is new and so is the key unless O(reuse_key).
  - Covers what C(kubeadm certs renew all) covers (C(apiserver), C(apiserver-kubelet-client),
    C(apiserver-etcd-client), C(front-proxy-client), C(etcd/server), C(etcd/peer),
    C(etcd/healthcheck-client) under O(pki_dir), the client credentials of C(admin.conf),
    C(super-admin.conf), C(controller-manager.conf), C(scheduler.conf)) plus the kubelet's client
    credential of C(kubelet.conf) (a new dated C(kubelet-client-<timestamp>.pem), the
    C(kubelet-client-current.pem) symlink swung onto it). A kubeconfig whose C(client-certificate)
    points at one of these files is the same certificate, renewed once.
  - Every other certificate under O(pki_dir) is reported in RV(not_renewed) with the reason and
    left byte-identical, unless listed in O(extra_certificates).
  - As kubeadm does, the leaves of a CA whose key is not on the host (external CA) and, with an
    external etcd (C(etcd.external) in the ClusterConfiguration, or no C(etcd/ca.crt)), the etcd
    certificates are skipped with a reason, not refused.
  - Lifetime and key type follow kubeadm 1.31+ (C(certificateValidityPeriod),
    C(encryptionAlgorithm) of the ClusterConfiguration given in O(cluster_configuration) or
    O(kubeadm_config)); O(validity_days) and O(key_algorithm) override them.
  - CAs are never renewed. The run stops before changing anything, naming host and file, when a
    CA that signs a leaf renewed here is expired or its key does not match it, or when a
    certificate or key cannot be parsed.
  - A CA that expires within O(threshold_days), or before a renewed certificate would, is named
    with its date in RV(notices) and as a warning; a leaf whose renewal could not end later than
    it does now (it is already cut to its CA's expiry) is not renewed again, so the next run
    reports no change.
  - Before the first write, the whole O(pki_dir), the kubeconfigs and O(kubelet_pki_dir) are copied
    to a timestamped directory under O(backup_dir) (see M(ackops.runbooks.k8s_cert_backup) to
    restore). Writes are atomic; keys are written 0600.
  - A failure after the backup (a full disk, a file that cannot be written, an unexpected error)
    still returns RV(partial_changes), the backup and every file written so far, in order, so a
    rescue can restore the backup.
  - Does not restart anything; the caller restarts the control-plane components (static pod
    manifests) and the kubelet, and checks the served certificates.
  - The CA private keys are read on the host and never returned; results and diffs hold
    subjects, serials and dates only.
attributes:
  check_mode:
    details: Runs every check, plans, and reports what would be renewed; writes nothing, makes no backup.
  idempotent:
    support: full
    details: Without O(force), renewed certificates are beyond the threshold on the next run.
extends_documentation_fragment:
  - ackops.runbooks.attributes
  - ackops.runbooks.k8s_pki
  - ackops.runbooks.k8s_pki.backup
options:
  threshold_days:
    description: Renew the leaves whose not_after is within this many days (expired ones included).
    type: int
    default: 30
  force:
    description: Renew every selected leaf whatever its expiry (as C(kubeadm certs renew all) does).
    type: bool
    default: false
  validity_days:
    description:
      - Validity of a renewed certificate in days, clamped to its CA's not_after.
      - Unset (or V(0)), the ClusterConfiguration's C(certificateValidityPeriod) (kubeadm 1.31+),
        else 365 days.
      - When given, must be longer than O(threshold_days) (else every run would renew again),
        unless O(force). A ClusterConfiguration lifetime not longer than O(threshold_days) is not
        refused; it is a notice, and renewals then last 365 days (kubeadm's default), so a run
        right after a renewal renews nothing.
    type: int
  key_algorithm:
    description:
      - Key type of the new keys, kubeadm's C(encryptionAlgorithm) names.
      - Unset, the ClusterConfiguration's C(encryptionAlgorithm), else the same type and size as
        each old key. Ignored with O(reuse_key).
    type: str
    choices: [RSA-2048, RSA-3072, RSA-4096, ECDSA-P256, ECDSA-P384]
  extra_certificates:
    description:
      - Certificates outside kubeadm's list to renew as well, by name (C(my-webhook)), id
        (C(pki:my-webhook.crt)), path below O(pki_dir) or absolute path.
      - A listed certificate must be signed by a CA on the host; one without a private key beside
        it is reported, never given a new key.
    type: list
    elements: str
    default: []
  cluster_configuration:
    description:
      - kubeadm's ClusterConfiguration, as the C(ClusterConfiguration) key of the
        C(kube-system/kubeadm-config) ConfigMap holds it (YAML text) or as a mapping.
      - Wins over O(kubeadm_config).
    type: raw
  kubeadm_config:
    description:
      - A kubeadm configuration file on the host (for example C(/etc/kubernetes/kubeadm-config.yaml))
        whose C(ClusterConfiguration) document is read when O(cluster_configuration) is not given.
      - It must exist when set.
    type: path
  backup_keep:
    description:
      - After a renewal, keep only this many C(pki-<timestamp>) backups in O(backup_dir), the one
        just made included (V(0) = no limit). The backup just made is never removed.
    type: int
    default: 0
  backup_max_age_days:
    description:
      - After a renewal, remove C(pki-<timestamp>) backups older than this many days (V(0) = no
        limit). The backup just made is never removed.
    type: int
    default: 0
  reuse_key:
    description: Keep each certificate's private key instead of generating a new one of the same type.
    type: bool
    default: false
  certificates:
    description:
      - Only these certificates, by name (C(apiserver), C(etcd-peer), C(admin.conf), C(kubelet.conf)),
        id (C(pki:apiserver.crt)), path below O(pki_dir) or absolute path, as
        O(extra_certificates). A name that matches no certificate of the host is refused.
        Default all leaves.
    type: list
    elements: str
    default: []
  kubelet:
    description: Also renew the kubelet client credential of C(kubelet.conf).
    type: bool
    default: true
  backup:
    description: Back up before the first write. Turning it off is for tests only.
    type: bool
    default: true
seealso:
  - module: ackops.runbooks.k8s_cert_info
  - module: ackops.runbooks.k8s_cert_backup
  - module: ackops.runbooks.k8s_csr_sign
"""

EXAMPLES = r"""
- name: Pre-flight on every master (all checks, nothing written)
  ackops.runbooks.k8s_cert_renew:
    threshold_days: 30
  check_mode: true
  register: renew_plan

- name: Renew what expires within 30 days, keys new, one year
  ackops.runbooks.k8s_cert_renew:
    threshold_days: 30
    validity_days: 365
  register: renewed

- name: Renew everything now, keeping the keys, etcd certificates only
  ackops.runbooks.k8s_cert_renew:
    force: true
    reuse_key: true
    certificates: [etcd-server, etcd-peer, etcd-healthcheck-client, apiserver-etcd-client]
"""

RETURN = r"""
host:
  description: The host's name.
  returned: always
  type: str
renewed:
  description: One entry per certificate renewed (or, in check mode, that would be).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The certificate's id, as in M(ackops.runbooks.k8s_cert_info).
      type: str
    name:
      description: kubeadm's name.
      type: str
    path:
      description: Certificate file, or the kubeconfig for an embedded one.
      type: str
    ca:
      description: The CA that signed the renewal.
      type: str
    reason:
      description: C(expired), C(expires within N days) or C(forced).
      type: str
    key:
      description: C(new) or C(reused).
      type: str
    before:
      description: C(subject), C(serial), C(not_before), C(not_after) before.
      type: dict
    after:
      description: The same after (C(serial) is C((new)) in check mode).
      type: dict
    clamped:
      description: Whether not_after was cut to the CA's not_after.
      type: bool
  sample:
    - id: "pki:apiserver.crt"
      name: apiserver
      ca: ca
      reason: expires within 30 days
      key: new
      before: {subject: CN=kube-apiserver, serial: 1F0A, not_after: "2026-12-01T00:00:00Z"}
      after: {subject: CN=kube-apiserver, serial: 7C3B, not_after: "2027-11-28T00:00:00Z"}
      clamped: false
not_renewed:
  description:
    - The certificates left alone, each with C(id), C(name) and C(reason).
    - Not called C(skipped), which Ansible would take for the task having been skipped.
  returned: always
  type: list
  elements: dict
cas:
  description: The CAs checked in pre-flight (C(name), C(path), C(not_after), C(externally_managed)).
  returned: always
  type: list
  elements: dict
notices:
  description:
    - CAs that expire within O(threshold_days) or before a renewed certificate would, with their
      date, and anything left undone that is not a failure (old backups not pruned).
    - Each is also an Ansible warning (Ansible keeps C(warnings) for itself, hence the name).
  returned: always
  type: list
  elements: str
  sample: ["CA ca (/etc/kubernetes/pki/ca.crt) expires on 2026-12-24T10:00:00Z, before renewed
    certificates would (2027-12-04T10:00:00Z): they are cut to the CA's expiry; rotate the CA"]
settings:
  description:
    - The rules applied and where they came from, C(validity) (C(182.5 days)), C(validity_hours),
      C(validity_source) (C(validity_days), C(certificateValidityPeriod (<where>)) or
      C(default)), C(key_algorithm) (null = like the old key), C(key_algorithm_source),
      C(external_etcd).
  returned: always
  type: dict
pruned:
  description: Old backups removed by O(backup_keep) and O(backup_max_age_days).
  returned: always
  type: list
  elements: str
backup:
  description: Path of the backup made before the first write; null when nothing was written.
  returned: always
  type: str
  sample: /var/lib/ackops/pki-backups/pki-20261128T153535.123456Z
error:
  description:
    - On failure, C(type) (V(pki), or V(internal) for a bug), C(host), C(object) (the certificate,
      key or kubeconfig), C(field) (the option at fault, if any), C(cause) and C(details) (for a
      system error, C(errno)).
  returned: failure
  type: dict
  sample: {type: pki, host: master1, object: /etc/kubernetes/pki/apiserver.crt, field: null,
           cause: "cannot write (No space left on device)", details: {errno: ENOSPC}}
partial_changes:
  description:
    - On failure, what was changed before it, in order; C(changed) is true when it is not empty.
    - The backup taken (C(action=backup), C(target) its path, to restore with
      M(ackops.runbooks.k8s_cert_backup)), then every file written (C(action=write)), the kubelet
      symlink with C(link_to). Empty when the run stopped before the backup.
  returned: failure
  type: list
  elements: dict
  sample:
    - {action: backup, target: /var/lib/ackops/pki-backups/pki-20261128T153535.123456Z}
    - {action: write, target: /etc/kubernetes/pki/apiserver.key}
    - {action: write, target: /etc/kubernetes/pki/apiserver.crt}
"""

from ansible_collections.ackops.runbooks.plugins.module_utils.pki.files import (
    DEFAULT_BACKUP_DIR,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.issue import KEY_ALGORITHMS
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.module import run_pki_module
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.renew import renew_host

OPTIONS = {
    "threshold_days": {"type": "int", "default": 30},
    "force": {"type": "bool", "default": False},
    "validity_days": {"type": "int"},
    "key_algorithm": {"type": "str", "choices": list(KEY_ALGORITHMS)},
    "extra_certificates": {"type": "list", "elements": "str", "default": []},
    "cluster_configuration": {"type": "raw"},
    "kubeadm_config": {"type": "path"},
    "backup_keep": {"type": "int", "default": 0},
    "backup_max_age_days": {"type": "int", "default": 0},
    "reuse_key": {"type": "bool", "default": False},
    "certificates": {"type": "list", "elements": "str", "default": []},
    "kubelet": {"type": "bool", "default": True},
    "backup": {"type": "bool", "default": True},
    "backup_dir": {"type": "path", "default": DEFAULT_BACKUP_DIR},
}


def diff_of(renewed: list[dict]) -> dict:
    fields = ("subject", "serial", "not_after")
    return {
        "before": {item["id"]: {k: item["before"][k] for k in fields} for item in renewed},
        "after": {item["id"]: {k: item["after"][k] for k in fields} for item in renewed},
    }


def renew_certificates(module, roots, changes) -> dict:
    params = module.params
    done = renew_host(
        roots,
        threshold_days=params["threshold_days"],
        force=params["force"],
        names=params["certificates"],
        kubelet=params["kubelet"],
        validity_days=params["validity_days"],
        reuse_key=params["reuse_key"],
        key_algorithm=params["key_algorithm"],
        extra_certificates=params["extra_certificates"],
        cluster_configuration=params["cluster_configuration"],
        kubeadm_config=params["kubeadm_config"],
        make_backup=params["backup"],
        backup_dir=params["backup_dir"],
        backup_keep=params["backup_keep"],
        backup_max_age_days=params["backup_max_age_days"],
        check=module.check_mode,
        changes=changes,
    )
    renewed = done["renewed"]
    for notice in done["notices"]:
        module.warn(notice)
    result = {
        "changed": any(item["before"]["serial"] != item["after"]["serial"] for item in renewed),
        "host": roots.host,
        **done,
    }
    if module._diff:
        result["diff"] = diff_of(renewed)
    return result


def main():
    run_pki_module(OPTIONS, renew_certificates)


if __name__ == "__main__":
    main()
