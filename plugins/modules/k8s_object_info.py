#!/usr/bin/python
# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module ackops.runbooks.k8s_object_info: read objects of one kind through the API server."""

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_object_info
author: ack-runbooks contributors (@ackops)
version_added: "1.0.0"
short_description: Read Kubernetes objects of one kind, by name or by label
description:
  - Reads one object (O(name)) or lists the objects of O(kind) (in O(namespace), or across all
    namespaces for a namespaced kind without one), optionally by O(label_selectors), through the
    collection's Kubernetes access layer (every page of a long list).
  - An object that does not exist is not an error; RV(resources) is then empty.
  - Secrets are returned with their C(data) and C(stringData) values redacted.
extends_documentation_fragment:
  - ackops.runbooks.attributes
  - ackops.runbooks.k8s_auth
attributes:
  check_mode:
    support: full
    details: Reads only; the same in check mode.
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  api_version:
    description: The kind's apiVersion (C(v1), C(batch/v1), C(apps/v1), ...).
    type: str
    default: v1
  kind:
    description: The kind, as the API server names it (C(Node), C(ConfigMap), ...).
    type: str
    required: true
  name:
    description: One object's name; all of them when omitted.
    type: str
  namespace:
    description: The namespace of a namespaced kind; all namespaces for a list when omitted.
    type: str
  label_selectors:
    description: Label selectors (C(key=value), C(key!=value), C(key), C(!key)), all of which must hold.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Read the nodes and their taints
  ackops.runbooks.k8s_object_info:
    kubeconfig: "{{ k8s_kubeconfig | default(omit) }}"
    kind: Node
  register: nodes

- name: Read kube-system/kubeadm-config (resources is empty when it does not exist)
  ackops.runbooks.k8s_object_info:
    kind: ConfigMap
    namespace: kube-system
    name: kubeadm-config
  register: kubeadm_config
"""

RETURN = r"""
resources:
  description: The objects found, each with its apiVersion and kind.
  returned: success
  type: list
  elements: dict
  sample: [{apiVersion: v1, kind: Node, metadata: {name: cn-hangzhou.i-m1, labels: {}}, spec: {}, status: {}}]
"""

from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.diff import redact_secret
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.module import run_k8s_module

OPTIONS = {
    "api_version": {"type": "str", "default": "v1"},
    "kind": {"type": "str", "required": True},
    "name": {"type": "str"},
    "namespace": {"type": "str"},
    "label_selectors": {"type": "list", "elements": "str", "default": []},
}


def read(module, connect, changes) -> dict:
    params = module.params
    client = connect()
    if params["name"]:
        found = client.get(
            params["api_version"], params["kind"], params["name"], params["namespace"]
        )
        resources = [found] if found is not None else []
    else:
        resources = client.list(
            params["api_version"],
            params["kind"],
            params["namespace"],
            label_selector=",".join(params["label_selectors"]) or None,
        )
    return {"changed": False, "resources": [redact_secret(obj) for obj in resources]}


def main():
    run_k8s_module(OPTIONS, read, "ackops-object-info")


if __name__ == "__main__":
    main()
