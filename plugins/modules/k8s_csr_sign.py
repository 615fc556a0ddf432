#!/usr/bin/python
# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module ackops.runbooks.k8s_csr_sign: a master signs a node's CSR with the cluster CA."""

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_csr_sign
author: ack-runbooks contributors (@ackops)
version_added: "0.1.0"
short_description: Sign a node's kubelet CSR on a master with the cluster CA
description:
  - Runs on a master (where C(ca.key) is) and signs a CSR made by M(ackops.runbooks.k8s_node_csr)
    on a worker, so the CA private key never leaves the master.
  - The identity is decided here, from the controller's data, never from the CSR or what the node
    says about itself - O(node_name) (the inventory's C(k8s_node_name)) or, without it, the name
    in the node's O(current_certificate), which must be signed by this CA. When both are given and
    differ, signing is refused, so root on one node cannot obtain C(system:node:<another node>).
  - The CSR's subject must be exactly C(CN=system:node:<node_name>, O=system:nodes) (what the
    Node authorizer expects); anything else is refused. Usages come from O(usages), not from the
    CSR; key usage is digital signature (plus key encipherment for RSA keys), never a CA.
  - Refuses, naming the file, when the CA is expired, its key is missing or does not match it.
  - Returns only the signed certificate and its identity and dates; signing writes nothing on the
    master, so C(changed) is always false and check mode signs as well.
attributes:
  check_mode:
    details: Signing writes nothing, so check mode returns the certificate too.
  diff_mode:
    support: none
    details: Nothing on the host changes.
extends_documentation_fragment:
  - ackops.runbooks.attributes
options:
  csr:
    description: The PEM CSR from M(ackops.runbooks.k8s_node_csr).
    type: str
    required: true
  node_name:
    description:
      - The node the certificate is for, as the inventory names it (C(k8s_node_name)); the identity
        is C(system:node:<node_name>).
      - Required unless O(current_certificate) is given.
    type: str
  current_certificate:
    description:
      - The node's current kubelet client certificate (PEM, public), as
        M(ackops.runbooks.k8s_node_csr) returns it. It must be signed by this CA; its
        C(system:node:) name is the identity when O(node_name) is not given, and must equal
        O(node_name) when it is.
    type: str
  usages:
    description: Extended key usages to grant.
    type: list
    elements: str
    choices: [client_auth, server_auth]
    default: [client_auth]
  sans:
    description: DNS names and IP addresses to include (for a serving certificate).
    type: list
    elements: str
    default: []
  validity_days:
    description:
      - Validity of the certificate in days, clamped to the CA's not_after.
      - Unset (or V(0)), the ClusterConfiguration's C(certificateValidityPeriod) (from
        O(cluster_configuration) or O(kubeadm_config)), else 365 days; 365 days too when that
        lifetime is not longer than O(threshold_days) (as M(ackops.runbooks.k8s_cert_renew) does).
    type: int
  threshold_days:
    description: The run's renewal threshold; a ClusterConfiguration lifetime not longer than it is not used.
    type: int
    default: 30
  cluster_configuration:
    description: kubeadm's ClusterConfiguration (the C(kubeadm-config) ConfigMap's YAML text or a mapping).
    type: raw
  kubeadm_config:
    description: A kubeadm configuration file on the master, read when O(cluster_configuration) is not given.
    type: path
  pki_dir:
    description: The master's PKI directory holding C(ca.crt) and C(ca.key).
    type: path
    default: /etc/kubernetes/pki
requirements:
  - cryptography >= 38 on the master (Debian 12 ships 38)
"""

EXAMPLES = r"""
- name: Sign a worker's kubelet CSR on the first master
  ackops.runbooks.k8s_csr_sign:
    csr: "{{ node_csr.csr }}"
    node_name: "{{ node_csr.node_name }}"
    validity_days: 365
  delegate_to: "{{ groups['masters'][0] }}"
  register: node_cert
"""

RETURN = r"""
certificate:
  description: The signed certificate, PEM (public data).
  returned: success
  type: str
subject:
  description: RFC 4514 subject.
  returned: success
  type: str
  sample: CN=system:node:cn-hangzhou.i-2ze0abc,O=system:nodes
serial:
  description: Serial number, upper-case hex.
  returned: success
  type: str
not_before:
  description: UTC.
  returned: success
  type: str
not_after:
  description: UTC.
  returned: success
  type: str
clamped:
  description: Whether not_after was cut to the CA's not_after.
  returned: success
  type: bool
node_name:
  description: The node name signed for (from O(node_name) or the checked O(current_certificate)).
  returned: success
  type: str
error:
  description:
    - On failure, C(type) (V(pki), or V(internal) for a bug), C(host), C(object) (the CA file),
      C(field) (V(csr), V(usages), V(node_name) or V(current_certificate) when the input is refused), C(cause) and C(details).
  returned: failure
  type: dict
  sample: {type: pki, host: master1, object: null, field: csr, details: {},
           cause: "the CSR asks for CN=admin,O=system:masters, not CN=system:node:w1,O=system:nodes; refusing to sign"}
partial_changes:
  description: On failure, always empty (signing writes nothing).
  returned: failure
  type: list
  elements: dict
"""

import socket

from ansible_collections.ackops.runbooks.plugins.module_utils.pki.core import DEFAULT_PKI_DIR
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.kubeadm_config import (
    cluster_settings,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.module import run_pki_module
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.node_credentials import (
    sign_csr,
)

OPTIONS = {
    "csr": {"type": "str", "required": True},
    "node_name": {"type": "str"},
    "current_certificate": {"type": "str"},
    "usages": {
        "type": "list",
        "elements": "str",
        "choices": ["client_auth", "server_auth"],
        "default": ["client_auth"],
    },
    "sans": {"type": "list", "elements": "str", "default": []},
    "validity_days": {"type": "int"},
    "threshold_days": {"type": "int", "default": 30},
    "cluster_configuration": {"type": "raw"},
    "kubeadm_config": {"type": "path"},
    "pki_dir": {"type": "path", "default": DEFAULT_PKI_DIR},
}


def sign(module, _roots, _changes) -> dict:
    params = module.params
    host = socket.gethostname()
    validity = params["validity_days"]
    if not validity:
        config = cluster_settings(params["cluster_configuration"], params["kubeadm_config"], host)
        validity = config["validity"] or 365
        # A lifetime under the threshold would leave the credential due on every run.
        if (
            config["validity"]
            and config["validity"].total_seconds() <= params["threshold_days"] * 86400
        ):
            validity = 365
    signed = sign_csr(
        params["csr"],
        params["node_name"],
        current_certificate=params["current_certificate"],
        pki_dir=params["pki_dir"],
        usages=tuple(params["usages"]),
        sans=params["sans"],
        validity_days=validity,
        host=host,
    )
    return {"changed": False, **signed}


def main():
    run_pki_module(
        OPTIONS,
        sign,
        with_roots=False,
        required_one_of=[("node_name", "current_certificate")],
    )


if __name__ == "__main__":
    main()
