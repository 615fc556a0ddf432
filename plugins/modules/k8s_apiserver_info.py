#!/usr/bin/python
# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait until a control-plane host is healthy and serves what it should."""

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_apiserver_info
short_description: Wait until an API server serves the expected certificate, is ready and authenticates a credential
version_added: 0.1.0
author: ack-runbooks contributors (@ackops)
description:
  - Runs on a Kubernetes host and retries, until every requested check passes or O(timeout)
    runs out, a fresh TLS connection to the API server (by default the local one, found from
    the kube-apiserver static pod manifest). The served certificate must be the one in
    O(serving_cert), C(/readyz) must answer 200, and with O(whoami) the client credential of
    O(kubeconfig) must authenticate (a SelfSubjectReview), optionally as O(expect_user).
  - With O(etcd), the local etcd member must also report itself healthy, checked with the
    etcd healthcheck client certificate as kubeadm's probes do.
  - Uses only the Python standard library's TLS client, so it works while the cluster's
    other credentials are expired. Client keys embedded in a kubeconfig are staged in a
    private temporary directory and removed; nothing secret is returned.
  - Read-only; the task fails with the last error when the checks do not pass in time.
options:
  server:
    description:
      - API server URL. Default the local API server (advertise address and secure port of
        the kube-apiserver manifest), or the kubeconfig's server with O(use_kubeconfig_server).
    type: str
  use_kubeconfig_server:
    description: Talk to the server named in O(kubeconfig) (for a worker, the load balancer).
    type: bool
    default: false
  kubeconfig:
    description: Kubeconfig whose client credential is presented (embedded or by file).
    type: path
    default: /etc/kubernetes/admin.conf
  ca_file:
    description: CA bundle to verify the server with. Default the kubeconfig's CA.
    type: path
  serving_cert:
    description: Certificate file the server must present (compared by serial). Empty to skip.
    type: path
  whoami:
    description: Check that the credential authenticates, and return the user and groups.
    type: bool
    default: false
  expect_user:
    description: With O(whoami), the user name the credential must authenticate as.
    type: str
  etcd:
    description: Also require the local etcd member to be healthy.
    type: bool
    default: false
  etcd_url:
    description: Client URL of the local etcd member.
    type: str
    default: https://127.0.0.1:2379
  etcd_pki_dir:
    description: Directory with the etcd CA and the healthcheck client certificate and key.
    type: path
    default: /etc/kubernetes/pki/etcd
  timeout:
    description: Seconds to keep retrying.
    type: int
    default: 180
  delay:
    description: Seconds between attempts.
    type: int
    default: 2
extends_documentation_fragment:
  - ackops.runbooks.attributes
attributes:
  check_mode:
    details: Read-only; runs the same checks in check mode.
  diff_mode:
    support: none
  idempotent:
    support: full
seealso:
  - module: ackops.runbooks.k8s_cert_renew
"""

EXAMPLES = r"""
- name: Wait until this master serves its renewed certificate and etcd is healthy
  ackops.runbooks.k8s_apiserver_info:
    serving_cert: /etc/kubernetes/pki/apiserver.crt
    etcd: true
    timeout: 180

- name: The node's renewed kubelet credential authenticates as the node
  ackops.runbooks.k8s_apiserver_info:
    kubeconfig: /etc/kubernetes/kubelet.conf
    use_kubeconfig_server: true
    whoami: true
    expect_user: "system:node:{{ k8s_node_name }}"
"""

RETURN = r"""
server:
  description: The API server URL checked.
  returned: always
  type: str
  sample: https://10.250.0.11:6443
healthy:
  description: Whether every check passed.
  returned: always
  type: bool
checks:
  description: What the last attempt saw.
  returned: always
  type: dict
  sample:
    served_serial: 5F3A91C2
    expected_serial: 5F3A91C2
    readyz: 200
    user: system:node:cn-hangzhou.i-bp1abc
    groups: [system:nodes, system:authenticated]
    etcd: healthy
attempts:
  description: Number of attempts made.
  returned: always
  type: int
elapsed:
  description: Seconds spent.
  returned: always
  type: float
last_error:
  description: Why the last failed attempt failed (empty when healthy).
  returned: always
  type: str
error:
  description:
    - On failure, C(type) (V(check), or V(internal) for a bug), C(host), C(object) (the server
      URL, or the kubeconfig or certificate file that cannot be read), C(field), C(cause) and
      C(details).
    - When the checks do not pass in time, C(details) holds what a success returns (C(server),
      C(healthy), C(checks), C(attempts), C(elapsed), C(last_error)).
  returned: failure
  type: dict
  sample:
    type: check
    host: master1
    object: https://10.250.0.11:6443
    field: null
    cause: "not healthy after 180.2s (90 attempts): [Errno 111] Connection refused"
    details: {server: "https://10.250.0.11:6443", healthy: false, checks: {}, attempts: 90,
              elapsed: 180.2, last_error: "[Errno 111] Connection refused"}
partial_changes:
  description: On failure, always empty (the module only reads).
  returned: failure
  type: list
  elements: dict
"""

import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import run_module
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.apiserver_check import (
    require_healthy,
)

ARGSPEC = {
    "server": {"type": "str"},
    "use_kubeconfig_server": {"type": "bool", "default": False},
    "kubeconfig": {"type": "path", "default": "/etc/kubernetes/admin.conf"},
    "ca_file": {"type": "path"},
    "serving_cert": {"type": "path"},
    "whoami": {"type": "bool", "default": False},
    "expect_user": {"type": "str"},
    "etcd": {"type": "bool", "default": False},
    "etcd_url": {"type": "str", "default": "https://127.0.0.1:2379"},
    "etcd_pki_dir": {"type": "path", "default": "/etc/kubernetes/pki/etcd"},
    "timeout": {"type": "int", "default": 180},
    "delay": {"type": "int", "default": 2},
}


def main():
    module = AnsibleModule(argument_spec=ARGSPEC, supports_check_mode=True)
    host = socket.gethostname()
    run_module(
        module,
        lambda _changes: {"changed": False, **require_healthy(module.params, host)},
        host=host,
    )


if __name__ == "__main__":
    main()
