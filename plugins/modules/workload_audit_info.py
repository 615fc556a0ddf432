#!/usr/bin/python
# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module ackops.runbooks.workload_audit_info: workload hygiene findings, live or from manifests."""

from __future__ import annotations

DOCUMENTATION = r"""
module: workload_audit_info
author: ack-runbooks contributors (@ackops)
version_added: "1.0.0"
short_description: Audit workloads for the ACK guide's hygiene rules, live or from manifests
description:
  - Reads Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs and Pods
    (with the PodDisruptionBudgets and HorizontalPodAutoscalers that bear on them)
    from the cluster, or every object in a directory of YAML/JSON manifests
    (multi-document files and C(List) objects included), and checks each workload.
  - "Checks: C(cpuRequestsMissing), C(memoryRequestsMissing), C(cpuLimitsMissing),
    C(memoryLimitsMissing), C(livenessProbeMissing) and C(readinessProbeMissing)
    (long-running containers), C(tagNotSpecified) (no tag or C(latest)),
    C(multipleProcesses) (sshd, supervisord, services started, processes
    backgrounded in a shell), C(restartPolicyMismatch), C(barePod),
    C(replicasBelowThree) (Deployments and StatefulSets; an HPA's minReplicas
    counts), and for workloads with more than one replica
    C(missingPodDisruptionBudget) and C(podSpreadMissing) (no pod anti-affinity
    or topology spread)."
  - Pods, ReplicaSets and Jobs owned by a controller are audited through their owner.
  - An object can opt out of checks with the annotation
    C(ackops.runbooks/exempt-checks) listing check ids, comma separated.
  - Returns findings (object, container, check id, severity, one-line fix), the
    results in the layout of Polaris' JSON audit and a Markdown table. The module
    never fails on findings; O(fail_on) computes RV(gate) so the caller can fail
    after saving the reports.
extends_documentation_fragment:
  - ackops.runbooks.attributes
  - ackops.runbooks.k8s_auth
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    details: Read-only, nothing to diff.
  idempotent:
    support: full
options:
  source:
    description: Audit the live cluster or the manifests in O(manifest_dir).
    type: str
    choices: [cluster, manifests]
    default: cluster
  manifest_dir:
    description:
      - Directory (searched recursively for C(.yaml), C(.yml), C(.json)) or single file of
        manifests. Required when O(source=manifests).
    type: path
  namespaces:
    description: Namespaces to audit in the cluster; all namespaces when empty.
    type: list
    elements: str
    default: []
  exclude_namespaces:
    description: Namespaces left out when O(namespaces) is empty.
    type: list
    elements: str
    default: [kube-system, kube-public, kube-node-lease]
  skip_checks:
    description: Check ids not to run.
    type: list
    elements: str
    default: []
  fail_on:
    description:
      - Severity at or above which findings fail the gate in RV(gate) (C(none) never fails).
    type: str
    choices: [none, warning, danger]
    default: none
seealso:
  - name: Polaris JSON audit output
    description: The layout RV(polaris) follows.
    link: https://polaris.docs.fairwinds.com/
"""

EXAMPLES = r"""
- name: Audit two namespaces of the live cluster
  ackops.runbooks.workload_audit_info:
    kubeconfig: "{{ k8s_kubeconfig }}"
    namespaces: [shop, payments]
  register: audit

- name: Audit the manifests of a repository in CI, failing on danger findings
  ackops.runbooks.workload_audit_info:
    source: manifests
    manifest_dir: "{{ playbook_dir }}/deploy"
    fail_on: danger
  register: audit
  failed_when: audit.gate.failed
"""

RETURN = r"""
findings:
  description: Failed checks, most severe first.
  returned: success
  type: list
  elements: dict
  contains:
    object:
      description: kind, namespace, name and source (C(cluster) or file and document).
      type: dict
    container:
      description: Container name, null for object-level checks.
      type: str
    check:
      description: Check id.
      type: str
    severity:
      description: C(danger) or C(warning).
      type: str
    category:
      description: Polaris category (C(Reliability), C(Efficiency)).
      type: str
    message:
      description: What is wrong, naming the object and container.
      type: str
    fix:
      description: One line saying how to fix it.
      type: str
  sample:
    - object: {kind: Deployment, namespace: shop, name: web, source: cluster}
      container: app
      check: tagNotSpecified
      severity: danger
      category: Reliability
      message: "Deployment shop/web container app: Image has no tag or uses latest (image 'nginx')"
      fix: pin the image to a version tag or digest (never latest)
summary:
  description: Counts of findings, in total, by severity and by check.
  returned: success
  type: dict
  sample: {total: 3, danger: 1, warning: 2, by_check: {tagNotSpecified: 1, replicasBelowThree: 2}}
gate:
  description: The O(fail_on) verdict.
  returned: success
  type: dict
  sample:
    fail_on: danger
    failed: true
    findings: 1
    messages: ["Deployment shop/web container app: Image has no tag or uses latest (image 'nginx')"]
polaris:
  description: Every check result (passed too) in Polaris' JSON audit layout (version 1.0).
  returned: success
  type: dict
  sample:
    PolarisOutputVersion: "1.0"
    SourceType: Cluster
    SourceName: https://192.168.0.10:6443
    Score: 87
    Results:
      - Name: web
        Namespace: shop
        Kind: Deployment
        Results: {replicasBelowThree: {ID: replicasBelowThree, Success: false,
                  Severity: warning, Category: Reliability, Message: Fewer than 3 replicas,
                  Details: [1 replica(s)]}}
        PodResult: {Name: web, Results: {}, ContainerResults: []}
report_markdown:
  description: The findings as a Markdown table.
  returned: success
  type: str
objects_audited:
  description: Number of workloads audited.
  returned: success
  type: int
error:
  description:
    - What failed and where, the same keys in every module of the collection. For a bad
      O(manifest_dir), C(error.field) is C(manifest_dir) and C(error.object) the file
      and document; for a live audit, C(error.object) names the kind listed.
  returned: failure
  type: dict
  sample: {type: input, host: null, object: null, field: manifest_dir,
           cause: "'deploy/web.yaml' is not valid YAML at line 3, column 1: ...", details: {}}
partial_changes:
  description: Always empty; the module is read-only.
  returned: failure
  type: list
  elements: dict
  sample: []
"""


from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_audit import (
    audit,
    findings,
    is_audited,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_report import (
    gate,
    markdown,
    polaris,
    summary,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_sources import (
    SYSTEM_NAMESPACES,
    cluster_info,
    load_manifest_dir,
    read_cluster,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.module import run_k8s_module

# Read-only: the field manager is never used for a write.
FIELD_MANAGER = "ackops-workload-audit"


OPTIONS = {
    "source": {"type": "str", "choices": ["cluster", "manifests"], "default": "cluster"},
    "manifest_dir": {"type": "path"},
    "namespaces": {"type": "list", "elements": "str", "default": []},
    "exclude_namespaces": {
        "type": "list",
        "elements": "str",
        "default": list(SYSTEM_NAMESPACES),
    },
    "skip_checks": {"type": "list", "elements": "str", "default": []},
    "fail_on": {"type": "str", "choices": ["none", "warning", "danger"], "default": "none"},
}


def read_live(params: dict, connect) -> tuple[list, str, dict]:
    """Objects, source name and ClusterInfo from the API server."""
    client = connect()
    objects = read_cluster(client, params["namespaces"], params["exclude_namespaces"])
    return objects, client.server, cluster_info(client, connect.version, objects)


def main():
    run_k8s_module(
        OPTIONS,
        lambda module, connect, _changes: audit_result(module.params, connect),
        FIELD_MANAGER,
        required_if=[("source", "manifests", ["manifest_dir"])],
    )


def audit_result(params: dict, connect) -> dict:
    """Read, audit and gate; read-only, so nothing is ever recorded as changed."""
    if params["source"] == "manifests":
        objects = load_manifest_dir(params["manifest_dir"])
        source_type, source_name, info = "Path", params["manifest_dir"], {}
    else:
        objects, source_name, info = read_live(params, connect)
        source_type = "Cluster"
    results = audit(objects, params["skip_checks"])
    found = findings(results)
    failing = gate(found, params["fail_on"])
    return {
        "changed": False,
        "findings": found,
        "summary": summary(found),
        "gate": {
            "fail_on": params["fail_on"],
            "failed": bool(failing),
            "findings": len(failing),
            "messages": [f["message"] for f in failing],
        },
        "polaris": polaris(results, source_type, source_name, info),
        "report_markdown": markdown(found),
        "objects_audited": sum(1 for obj, _source in objects if is_audited(obj)),
    }


if __name__ == "__main__":
    main()
