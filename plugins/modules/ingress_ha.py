#!/usr/bin/python
# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module ackops.runbooks.ingress_ha: dedicated, highly available ingress nodes."""

from __future__ import annotations

DOCUMENTATION = r"""
module: ingress_ha
author: ack-runbooks contributors (@ackops)
version_added: "1.0.0"
short_description: Spread the ingress controller over dedicated ingress nodes, one replica per node
description:
  - Implements section 3 of the ACK best-practice guide declaratively, through the Kubernetes API.
  - "Chooses the ingress nodes: the nodes named in O(nodes) (the inventory's C(ingress) group),
    or, when O(nodes) is empty, O(replicas) ready workers spread across C(topology.kubernetes.io/zone),
    preferring nodes already labelled. Masters (a C(node-role.kubernetes.io/control-plane) or
    C(node-role.kubernetes.io/master) label or taint) are never chosen."
  - Labels them C(node-role.kubernetes.io/ingress=true); with O(prune), removes the label from
    nodes no longer wanted. With O(dedicate), taints them C(node-role.kubernetes.io/ingress=true:NoSchedule)
    and gives the controller the matching toleration.
  - "Finds the controller as a Deployment or a DaemonSet and server-side applies, as field manager
    C(ackops-ingress-ha): the replicas (Deployment), the nodeSelector, a required pod anti-affinity on the
    controller's pod labels per C(kubernetes.io/hostname), and a C(policy/v1) PodDisruptionBudget.
    When there are exactly as many ingress nodes as replicas, the Deployment rolls one pod at a time
    (C(maxSurge: 0), C(maxUnavailable: 1)), since a surge pod would have no node to go to."
  - Waits for the rollout, evicts (honouring the PodDisruptionBudget, retrying its refusals) the pods
    left on nodes that lost the label one at a time, each after the previous one is gone and
    replaced, and fails unless every replica runs, ready, on a distinct labelled node.
  - Applies without force; fields owned by another field manager (a Helm chart, an add-on manager)
    are refused with the manager, the fields and what to change there, unless O(take_ownership).
  - Leaves the replicas to a HorizontalPodAutoscaler and reports its maxReplicas against the
    labelled nodes. For a DaemonSet creates no PodDisruptionBudget and reports the pods the
    DaemonSet controller deletes; with C(OnDelete) lists the pods to delete instead of waiting.
  - Adds a zone topology spread (ScheduleAnyway) and warns when all ingress nodes share one zone.
  - Reads the controller's version from its image tag the way ACK orders its tags (C(0.12.0-5),
    C(v1.2.1-aliyun.1), C(0.44.0.5-8e7c6dc-aliyun)) and reports whether the gray-release
    annotations (C(service-match), C(service-weight); controller 0.12.0-5 or newer) are supported.
  - Everything is read and checked before the first change; a refusal changes nothing.
extends_documentation_fragment:
  - ackops.runbooks.attributes
  - ackops.runbooks.k8s_auth
attributes:
  check_mode:
    support: full
    details: Every write is sent as a server-side dry run (C(dryRun=All)); the result and diff are the API server's.
  diff_mode:
    support: full
    details: Before/after of each changed Node (labels, taints), the controller and the PodDisruptionBudget,
      without resourceVersion, managedFields, status and other server-maintained fields.
options:
  namespace:
    description: Namespace of the controller and of the LB Service.
    type: str
    default: kube-system
  controller_name:
    description: Name of the controller's Deployment or DaemonSet.
    type: str
    default: nginx-ingress-controller
  controller_kind:
    description: Kind of the controller; V(auto) tries Deployment, then DaemonSet.
    type: str
    choices: [auto, Deployment, DaemonSet]
    default: auto
  service_name:
    description: The controller's LoadBalancer Service, whose address is reported.
    type: str
    default: nginx-ingress-lb
  replicas:
    description:
      - Replicas of a Deployment controller, one per ingress node; for automatic selection also
        the number of nodes chosen (for a DaemonSet too).
    type: int
    default: 2
  nodes:
    description:
      - The wanted ingress nodes, usually the inventory's C(ingress) group. Empty chooses automatically.
    type: list
    elements: dict
    default: []
    suboptions:
      host:
        description: Inventory hostname, for messages.
        type: str
        required: true
      node_name:
        description: Kubernetes node name (the host's C(k8s_node_name)); O(nodes[].host) when empty.
        type: str
      master:
        description: The host is in the inventory's masters group; such a host is refused.
        type: bool
        default: false
  automatic_selection:
    description:
      - With O(nodes) empty, choose O(replicas) ready, schedulable workers (skipping NotReady or
        cordoned nodes and nodes with a NoSchedule taint the controller does not tolerate).
      - Without it an empty O(nodes) is refused, never a silent switch to arbitrary workers.
    type: bool
    default: false
  take_ownership:
    description:
      - Server-side apply with force, taking the fields this module sets over from other field
        managers (a Helm release, an add-on manager, kubectl).
      - Off, a conflict refuses the run before any change and names the managers, their fields
        and the chart values or add-on settings to change instead.
    type: bool
    default: false
  prune:
    description:
      - Remove the ingress label from nodes that are no longer wanted, and the dedication taint
        this module added there.
    type: bool
    default: false
  dedicate:
    description:
      - Taint the ingress nodes NoSchedule (annotating them as tainted by this module), give the
        controller the matching toleration, and evict (safely, as for the controller) the other
        pods already there; DaemonSet and static pods are left and reported.
      - Off, removes only a taint this module added.
    type: bool
    default: false
  pdb:
    description: Manage a PodDisruptionBudget named like the controller.
    type: bool
    default: true
  pdb_max_unavailable:
    description: C(maxUnavailable) of the PodDisruptionBudget.
    type: int
    default: 1
  wait:
    description:
      - Wait for the rollout, evict the pods left on nodes without the label one at a time
        (each after its replacement is Ready), and verify the placement (never in check mode).
      - Off, nothing is evicted and nothing waited for; the pods still to move are in a warning
        and RV(placement_problems).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the rollout, for each eviction a PodDisruptionBudget refuses (retried
        with backoff), and again for each evicted pod to be gone and replaced.
    type: int
    default: 300
notes:
  - A nodeSelector does not evict running pods, so pods left on a node that loses the label are
    evicted one at a time through the Eviction API, which honours the PodDisruptionBudget.
seealso:
  - name: ACK ingress high availability
    description: The procedure this module automates.
    link: https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/deploy-ingress-controllers-in-high-reliability-mode
"""

EXAMPLES = r"""
- name: Three replicas on the inventory's ingress nodes, pruning the others
  ackops.runbooks.ingress_ha:
    kubeconfig: "{{ k8s_kubeconfig }}"
    replicas: 3
    prune: true
    nodes:
      - {host: worker1, node_name: cn-hangzhou.i-bp1aaa}
      - {host: worker2, node_name: cn-hangzhou.i-bp1bbb}
      - {host: worker3, node_name: cn-hangzhou.i-bp1ccc}
  register: ingress

- name: Two dedicated ingress nodes chosen across zones, previewed
  ackops.runbooks.ingress_ha:
    replicas: 2
    dedicate: true
  check_mode: true
  diff: true
"""

RETURN = r"""
changes:
  description: What changed (or would change in check mode), one line each.
  returned: success
  type: list
  elements: str
  sample: ["label node cn-hangzhou.i-w1", "update Deployment kube-system/nginx-ingress-controller: spec.replicas"]
controller:
  description: The controller found.
  returned: success
  type: dict
  sample: {kind: Deployment, namespace: kube-system, name: nginx-ingress-controller, replicas: 3,
           image: "registry-cn-hangzhou.ack.aliyuncs.com/acs/aliyun-ingress-controller:v1.2.1-aliyun.1"}
version:
  description: The controller's version as ACK orders it, and whether gray-release annotations work.
  returned: success
  type: dict
  sample: {tag: v1.2.1-aliyun.1, ack_version: 1.2.1-1, gray_release_minimum: 0.12.0-5,
           gray_release_supported: true, reason: "v1.2.1-aliyun.1 (ACK 1.2.1-1) is at least 0.12.0-5 (ACK 0.12.0-5)"}
nodes:
  description: The ingress nodes wanted and labelled, how they were chosen, their zones.
  returned: success
  type: dict
  sample: {selection: inventory, wanted: [cn-hangzhou.i-w1], labelled: [cn-hangzhou.i-w1],
           kept_without_prune: [], zones: {cn-hangzhou.i-w1: cn-hangzhou-h}, dedicated: false}
pods:
  description: The controller's pods and the nodes they run on.
  returned: success
  type: list
  elements: dict
  sample: [{pod: nginx-ingress-controller-5d9c-abcde, node: cn-hangzhou.i-w1, ready: true}]
placement_problems:
  description:
    - What breaks "one ready replica per labelled node", read from the cluster in every mode
      (in check mode against the nodes as they would be labelled); with O(wait) a non-empty list fails.
  returned: success
  type: list
  elements: str
warnings:
  description: Zone, HPA, ownership, OnDelete and taint warnings (also shown as Ansible warnings).
  returned: success
  type: list
  elements: str
plan:
  description: How each pod left on a node without the label moves (eviction, or DaemonSet deletion).
  returned: success
  type: list
  elements: str
owner:
  description: Who deploys the controller (V(helm) with its release, V(addon), or none known).
  returned: success
  type: dict
  sample: {type: helm, release: ingress-nginx, release_namespace: kube-system}
hpa:
  description: The HorizontalPodAutoscaler on the controller and its bounds against the labelled nodes; null without.
  returned: success
  type: dict
  sample: {name: nginx-ingress-controller, min_replicas: 2, max_replicas: 5, labelled_nodes: 3, problems: ["..."]}
pdb:
  description: Whether a PodDisruptionBudget is managed, and why not.
  returned: success
  type: dict
  sample: {managed: false, reason: "no PodDisruptionBudget for a DaemonSet: ..."}
dedication:
  description: With O(dedicate), pods on the ingress nodes left (DaemonSet, static) or not evicted, and why.
  returned: success
  type: list
  elements: str
pods_to_delete:
  description: Pods of an C(OnDelete) DaemonSet still on an older template, to delete one at a time.
  returned: success
  type: list
  elements: str
service:
  description: The LB Service and its load-balancer addresses.
  returned: success
  type: dict
  sample: {name: nginx-ingress-lb, namespace: kube-system, found: true, type: LoadBalancer, addresses: [47.96.0.10]}
markdown:
  description: The report as Markdown.
  returned: success
  type: str
check_mode:
  description: Whether this was a check-mode run.
  returned: success
  type: bool
error:
  description:
    - What failed and where, the same keys in every module of the collection;
      C(error.object) names the Kubernetes object (C(Kind namespace/name)) when one is concerned.
  returned: failure
  type: dict
  sample: {type: kubernetes, host: null, object: Pod kube-system/nginx-ingress-controller-5d9c-abcde,
           field: null, cause: "POST eviction: 429 Cannot evict pod as it would violate the pod's disruption budget.",
           details: {status: 429, reason: TooManyRequests}}
partial_changes:
  description:
    - What was changed (or, in check mode, accepted as a dry run) before the failure, in order;
      C(change) is the line RV(changes) would have held.
  returned: failure
  type: list
  elements: dict
  sample: [{action: label, target: Node cn-hangzhou.i-w1, change: label node cn-hangzhou.i-w1, check_mode: false}]
"""

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError
from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.converge import converge
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.module import run_k8s_module

FIELD_MANAGER = "ackops-ingress-ha"

OPTIONS = {
    "namespace": {"type": "str", "default": "kube-system"},
    "controller_name": {"type": "str", "default": "nginx-ingress-controller"},
    "controller_kind": {
        "type": "str",
        "choices": ["auto", "Deployment", "DaemonSet"],
        "default": "auto",
    },
    "service_name": {"type": "str", "default": "nginx-ingress-lb"},
    "replicas": {"type": "int", "default": 2},
    "nodes": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "host": {"type": "str", "required": True},
            "node_name": {"type": "str"},
            "master": {"type": "bool", "default": False},
        },
    },
    "automatic_selection": {"type": "bool", "default": False},
    "take_ownership": {"type": "bool", "default": False},
    "prune": {"type": "bool", "default": False},
    "dedicate": {"type": "bool", "default": False},
    "pdb": {"type": "bool", "default": True},
    "pdb_max_unavailable": {"type": "int", "default": 1},
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "int", "default": 300},
}


def place_controller(module, connect, changes) -> dict:
    if module.params["replicas"] < 1:
        raise InputError("replicas", module.params["replicas"], "must be at least 1")
    # Each change is recorded in ``changes`` as it is made, so a failure
    # (e.g. a rollout that never settles) still reports it in partial_changes.
    result = converge(connect(), module.params, module.check_mode, ledger=changes)
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    return result


def main():
    run_k8s_module(OPTIONS, place_controller, FIELD_MANAGER)


if __name__ == "__main__":
    main()
