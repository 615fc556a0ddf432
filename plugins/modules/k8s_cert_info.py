#!/usr/bin/python
# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module ackops.runbooks.k8s_cert_info: every certificate of a host in one call."""

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_cert_info
author: ack-runbooks contributors (@ackops)
version_added: "0.1.0"
short_description: Find and parse every Kubernetes certificate on a host in one call
description:
  - Reads the kubeadm PKI directory (with C(etcd/) and the front-proxy pair), the client
    certificates embedded in or referenced by the kubeconfigs (C(admin.conf), C(super-admin.conf),
    C(controller-manager.conf), C(scheduler.conf), C(kubelet.conf)) and the kubelet's
    certificates, and returns one entry per certificate.
  - Names match C(kubeadm certs check-expiration) (C(apiserver), C(etcd-peer), C(admin.conf), CAs
    C(ca), C(etcd-ca), C(front-proxy-ca)); the kubelet's client credential is named
    C(kubelet.conf), its other certificates C(kubelet-pki/<file>).
  - Private keys are read only to check that they match their certificate; no key material is
    returned.
  - Fails, naming the file, when a certificate, key or kubeconfig cannot be parsed.
attributes:
  check_mode:
    details: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    details: Read-only, nothing to diff.
extends_documentation_fragment:
  - ackops.runbooks.attributes
  - ackops.runbooks.k8s_pki
options: {}
seealso:
  - module: ackops.runbooks.k8s_cert_renew
  - plugin: ackops.runbooks.cert_report
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Read every certificate on the host
  ackops.runbooks.k8s_cert_info:
  register: k8s_certs

- name: A non-kubeadm layout
  ackops.runbooks.k8s_cert_info:
    pki_dir: /etc/kubernetes/ssl
    kubeconfig_dir: /etc/kubernetes
    kubeconfigs: [admin.conf, kubelet.conf]
    kubelet_pki_dir: /var/lib/kubelet/pki
  register: k8s_certs
"""

RETURN = r"""
host:
  description: The host's name (its hostname), also used by the report filter.
  returned: always
  type: str
  sample: master1
certificates:
  description: One entry per certificate.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Stable identifier on the host (survives renewal).
      type: str
      sample: "pki:etcd/server.crt"
    name:
      description: kubeadm's name (C(apiserver), C(admin.conf), C(etcd-ca)) or C(kubelet-pki/<file>).
      type: str
      sample: etcd-server
    kind:
      description: C(ca) or C(leaf).
      type: str
    storage:
      description: C(file) or C(embedded) (base64 in a kubeconfig).
      type: str
    source:
      description: C(file) (C(.crt) with C(.key) beside it), C(bundle) (cert and key in one PEM) or C(embedded).
      type: str
    path:
      description: The certificate file, or the kubeconfig for an embedded one.
      type: str
    real_path:
      description: The certificate's path with symlinks resolved (null for embedded).
      type: str
    kubeconfig:
      description: The kubeconfig the credential belongs to, if any.
      type: str
    user:
      description: The kubeconfig user the credential belongs to, if any.
      type: str
    subject:
      description: RFC 4514 subject.
      type: str
      sample: CN=kube-apiserver
    issuer:
      description: RFC 4514 issuer.
      type: str
    sans:
      description: Subject alternative names, C(DNS:...), C(IP:...).
      type: list
      elements: str
    key_usages:
      description: Key usages, for example C(digital_signature), C(key_encipherment).
      type: list
      elements: str
    extended_key_usages:
      description: Extended key usages, for example C(server_auth), C(client_auth).
      type: list
      elements: str
    serial:
      description: Serial number, upper-case hex.
      type: str
    not_before:
      description: UTC, C(YYYY-MM-DDTHH:MM:SSZ).
      type: str
    not_after:
      description: UTC, C(YYYY-MM-DDTHH:MM:SSZ).
      type: str
    days_left:
      description: Whole days until not_after (negative when expired).
      type: int
    expired:
      description: Whether not_after has passed.
      type: bool
    residual_time:
      description: kubeadm's RESIDUAL TIME column (C(364d), C(9y), C(<invalid>)).
      type: str
    expires:
      description: kubeadm's EXPIRES column (C(Aug 19, 2026 09:03 UTC)).
      type: str
    key_matches:
      description: Whether its private key matches it; null when no key is on the host.
      type: bool
    chains_to:
      description: The name of the CA on this host that verifies it (C(ca), C(etcd-ca), C(front-proxy-ca)), or null.
      type: str
    externally_managed:
      description: Its CA's key (for a CA, its own key) is not on this host, as kubeadm reports it.
      type: bool
    public_key:
      description: Key algorithm and size, for example C(RSA-2048), C(EC-secp256r1).
      type: str
    fingerprint_sha256:
      description: SHA-256 fingerprint of the certificate.
      type: str
summary:
  description: Counts, the soonest expiry, key mismatches and unchained leaves.
  returned: always
  type: dict
  sample:
    host: master1
    total: 16
    cas: 3
    leaves: 13
    expired: 0
    key_mismatches: []
    unchained: ["kubelet:kubelet.crt"]
    soonest: {id: "pki:apiserver.crt", name: apiserver, not_after: "2026-11-28T09:03:00Z", days_left: 364}
error:
  description:
    - On failure, C(type) (V(pki), or V(internal) for a bug), C(host), C(object) (the file that
      cannot be read or parsed), C(field), C(cause) and C(details).
  returned: failure
  type: dict
  sample: {type: pki, host: master1, object: /etc/kubernetes/pki/etcd/peer.crt, field: null,
           cause: "no PEM certificate found (corrupt or not a certificate)", details: {}}
partial_changes:
  description: On failure, always empty (the module only reads).
  returned: failure
  type: list
  elements: dict
"""

from ansible_collections.ackops.runbooks.plugins.module_utils.pki.core import (
    inventory,
    utcnow,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.module import run_pki_module


def read_inventory(module, roots, changes) -> dict:
    inv = inventory(roots)
    now = utcnow()
    return {
        "changed": False,
        "host": roots.host,
        "certificates": inv.to_list(now),
        "summary": inv.summary(now),
    }


def main():
    run_pki_module({}, read_inventory)


if __name__ == "__main__":
    main()
