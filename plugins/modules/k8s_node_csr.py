#!/usr/bin/python
# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module ackops.runbooks.k8s_node_csr: a worker's side of kubelet credential renewal."""

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_node_csr
author: ack-runbooks contributors (@ackops)
version_added: "0.1.0"
short_description: Make a kubelet key and CSR on a node, or install the certificate a master signed
description:
  - Workers hold no CA key. Their kubelet client credential is renewed in three steps; the CA key
    never leaves the master.
  - 1. On the worker, O(state=csr) decides whether the credential of C(kubelet.conf) expires within
    O(threshold_days) (or O(force)); if so it creates a new ECDSA P-256 key, kept 0600 in
    O(kubelet_pki_dir) as C(kubelet-client-ackops-pending.key), and returns a CSR for
    C(CN=system:node:<node_name>, O=system:nodes). A rerun reuses the pending key.
  - 2. On a master, M(ackops.runbooks.k8s_csr_sign) signs the CSR.
  - 3. On the worker, O(state=installed) checks the certificate (signed by a CA the node trusts,
    same node identity, matches the pending key), writes a new dated
    C(kubelet-client-<timestamp>.pem), swings the C(kubelet-client-current.pem) symlink onto it (or
    rewrites the embedded credential of C(kubelet.conf)) and removes the pending key. Installing
    the certificate already in place changes nothing.
  - The caller restarts the kubelet afterwards.
attributes:
  check_mode:
    details: O(state=csr) reports whether renewal is needed but creates no key and returns no CSR.
extends_documentation_fragment:
  - ackops.runbooks.attributes
  - ackops.runbooks.k8s_pki
options:
  state:
    description: V(csr) to make the key and CSR, V(installed) to install O(certificate).
    type: str
    choices: [csr, installed]
    default: csr
  node_name:
    description:
      - The Kubernetes node name. Default the name in the current kubelet client certificate.
      - Refused when the current certificate names another node.
    type: str
  threshold_days:
    description: With O(state=csr), renew when the credential expires within this many days.
    type: int
    default: 30
  force:
    description: With O(state=csr), renew whatever the expiry.
    type: bool
    default: false
  certificate:
    description: With O(state=installed), the PEM certificate returned by M(ackops.runbooks.k8s_csr_sign).
    type: str
"""

EXAMPLES = r"""
- name: Worker - make a key and CSR when the kubelet credential is due
  ackops.runbooks.k8s_node_csr:
    node_name: "{{ k8s_node_name | default(inventory_hostname) }}"
    threshold_days: 30
  register: node_csr

- name: Master - sign it
  ackops.runbooks.k8s_csr_sign:
    csr: "{{ node_csr.csr }}"
    # the identity comes from the inventory, never from what the node reports
    node_name: "{{ k8s_node_name | default(omit) }}"
    current_certificate: "{{ node_csr.current_certificate }}"
  delegate_to: "{{ groups['masters'][0] }}"
  register: node_cert
  when: node_csr.needed and node_csr.csr

- name: Worker - install the signed certificate
  ackops.runbooks.k8s_node_csr:
    state: installed
    certificate: "{{ node_cert.certificate }}"
  when: node_cert is not skipped
"""

RETURN = r"""
node_name:
  description: The node name used.
  returned: when state is csr
  type: str
  sample: cn-hangzhou.i-2ze0abc
needed:
  description: Whether the credential is due for renewal.
  returned: when state is csr
  type: bool
csr:
  description: The PEM CSR (public data only); null when not needed or in check mode.
  returned: when state is csr
  type: str
current:
  description: C(subject), C(serial), C(not_before), C(not_after) of the current credential.
  returned: when state is csr
  type: dict
reason:
  description:
    - Why a credential within the threshold is not renewed (its CA ends before a new one could
      end later, so rotate the CA); null otherwise.
  returned: when state is csr
  type: str
current_certificate:
  description:
    - The current kubelet client certificate, PEM (public data), for
      M(ackops.runbooks.k8s_csr_sign) to check the node's identity against; null when there is none.
  returned: when state is csr
  type: str
before:
  description: The credential before installing.
  returned: when state is installed
  type: dict
after:
  description: The credential installed.
  returned: when state is installed
  type: dict
error:
  description:
    - On failure, C(type) (V(pki), or V(internal) for a bug), C(host), C(object) (the file),
      C(field) (V(node_name) or V(certificate) when the input is refused), C(cause) and C(details).
  returned: failure
  type: dict
  sample: {type: pki, host: worker1, object: null, field: certificate, details: {},
           cause: "the certificate is for CN=system:node:w2,O=system:nodes, the kubelet is CN=system:node:w1,O=system:nodes"}
partial_changes:
  description:
    - On failure, what was written before it (C(action=write) for the pending key or the new
      credential, C(remove) for the pending key), in order.
  returned: failure
  type: list
  elements: dict
"""

from ansible_collections.ackops.runbooks.plugins.module_utils.pki.module import run_pki_module
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.node_credentials import (
    node_csr,
    node_install,
)

OPTIONS = {
    "state": {"type": "str", "choices": ["csr", "installed"], "default": "csr"},
    "node_name": {"type": "str"},
    "threshold_days": {"type": "int", "default": 30},
    "force": {"type": "bool", "default": False},
    "certificate": {"type": "str"},
}


def csr_or_install(module, roots, changes) -> dict:
    params = module.params
    if params["state"] == "csr":
        return node_csr(
            roots,
            node_name=params["node_name"],
            threshold_days=params["threshold_days"],
            force=params["force"],
            check=module.check_mode,
            changes=changes,
        )
    result = node_install(roots, params["certificate"], check=module.check_mode, changes=changes)
    if module._diff:
        result["diff"] = {"before": result["before"], "after": result["after"]}
    return result


def main():
    run_pki_module(OPTIONS, csr_or_install, required_if=[("state", "installed", ("certificate",))])


if __name__ == "__main__":
    main()
