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
    (with the PodDisruptionBudgets, HorizontalPodAutoscalers, Services and
    NetworkPolicies that bear on them) from the cluster, or every object in a
    directory of YAML/JSON manifests (multi-document files and C(List) objects
    included; Helm charts and Kustomize directories rendered when C(helm) or
    C(kustomize) is on PATH, and named in RV(notes) when not), and checks each workload.
  - Custom workloads with a pod template (Argo Rollouts, OpenKruise CloneSets and
    Advanced StatefulSets, any kind with C(spec.template.spec.containers)) are
    audited through their template; other objects are counted in RV(counts) as
    skipped, with the reason.
  - "Checks: resources (C(cpuRequestsMissing), C(memoryRequestsMissing),
    C(cpuLimitsMissing), C(memoryLimitsMissing)), probes (C(livenessProbeMissing),
    C(readinessProbeMissing)), images (C(tagNotSpecified), C(pullPolicyNotAlways)),
    C(multipleProcesses), security (C(runAsPrivileged), C(runAsRootAllowed),
    C(privilegeEscalationAllowed), C(notReadOnlyRootFilesystem),
    C(dangerousCapabilities), C(insecureCapabilities), C(seccompProfileMissing),
    C(hostNetworkSet), C(hostPIDSet), C(hostIPCSet), C(hostPortSet), C(hostPathSet),
    C(missingNetworkPolicy)), reliability (C(restartPolicyMismatch), C(barePod),
    C(replicasBelowThree), C(missingPodDisruptionBudget), C(podSpreadMissing),
    C(serviceTargetsNothing)), API versions for O(target_version)
    (C(deprecatedApiVersion), C(removedApiVersion)), and C(invalidObject) for a
    malformed object (the field and its problem; never exempt) and
    C(unknownExemption) for an exemption naming no check."
  - Init and ephemeral containers are checked like containers (named C(init:NAME)
    and C(ephemeral:NAME)); probes apply to long-running app containers only.
  - Pods, ReplicaSets and Jobs owned by a controller are audited through their owner.
  - An object can opt out of checks with the annotation
    C(ackops.runbooks/exempt-checks) listing check ids, comma separated.
  - Returns findings (object, container, check id, severity, one-line fix), the
    results in the layout of Polaris' JSON audit, Markdown, SARIF 2.1.0 and JUnit
    XML texts and a console summary. The module never fails on findings; RV(gate)
    says whether the run fails the gate (severity O(fail_on), O(min_score), or no
    workload audited) so the caller can fail after saving the reports.
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
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
    details: Makes a relative O(manifest_dir) or O(config_file) absolute on the controller.
options:
  source:
    description: Audit the live cluster or the manifests in O(manifest_dir).
    type: str
    choices: [cluster, manifests]
    default: cluster
  manifest_dir:
    description:
      - Directory (searched recursively) or single file of manifests. Required when
        O(source=manifests). Relative to the directory ansible-playbook runs in.
    type: path
  include:
    description: File name patterns (fnmatch, on the name or the path below O(manifest_dir)) read.
    type: list
    elements: str
    default: ["*.yaml", "*.yml", "*.json"]
  exclude:
    description: File or directory patterns (fnmatch, as O(include)) left out.
    type: list
    elements: str
    default: []
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
    description: Check ids not to run (C(invalidObject) always runs).
    type: list
    elements: str
    default: []
    choices: [barePod, cpuLimitsMissing, cpuRequestsMissing, dangerousCapabilities,
              deprecatedApiVersion, hostIPCSet, hostNetworkSet, hostPIDSet, hostPathSet,
              hostPortSet, insecureCapabilities, livenessProbeMissing,
              memoryLimitsMissing, memoryRequestsMissing, missingNetworkPolicy,
              missingPodDisruptionBudget, multipleProcesses, notReadOnlyRootFilesystem,
              podSpreadMissing, privilegeEscalationAllowed, pullPolicyNotAlways,
              readinessProbeMissing, removedApiVersion, replicasBelowThree,
              restartPolicyMismatch, runAsPrivileged, runAsRootAllowed,
              seccompProfileMissing, serviceTargetsNothing, tagNotSpecified,
              unknownExemption]
  config_file:
    description:
      - YAML file with C(checks) (check id to C(danger), C(warning) or C(ignore)) and
        C(exemptions) (a list of rules with C(checks), C(namespaces), C(names),
        C(kinds) (fnmatch patterns) and C(annotations) (key to value, C(*) for any)).
        See docs/audit-workloads.md. Unknown check ids are warnings.
    type: path
  target_version:
    description: Kubernetes version the manifests are meant for (deprecated and removed APIs).
    type: str
    default: "1.37"
  fail_on:
    description:
      - Severity at or above which findings fail the gate in RV(gate) (C(none) never fails on findings).
    type: str
    choices: [none, warning, danger]
    default: none
  min_score:
    description: The gate fails when the score (percentage of passed checks) is below this.
    type: int
    default: 0
  console_findings:
    description: Findings listed in full in RV(report_console); the rest are counted.
    type: int
    default: 20
  display_root:
    description:
      - Manifest files under this directory are named relative to it in findings,
        notes and SARIF (repository-relative paths for code-scanning UIs).
      - On the local connection the action plugin sets it to the directory
        ansible-playbook runs in, unless given.
    type: path
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
    min_score: 80
    score: 74
    failed: true
    reasons: ["1 finding(s) at or above danger", "score 74 is below the minimum 80"]
    findings: 1
    messages: ["Deployment shop/web container app: Image has no tag or uses latest (image 'nginx')"]
counts:
  description: Workloads audited, objects skipped and why, and the target version.
  returned: success
  type: dict
  sample: {audited: 3, skipped: 2, target_version: "1.37",
           skipped_by_reason: {"not a workload (ConfigMap)": 1,
                               "owned by a controller (Pod: audited through its owner)": 1}}
notes:
  description: What the audit could not do (charts not rendered) and configuration warnings.
  returned: success
  type: list
  elements: str
score:
  description: Percentage of check results that passed (Polaris' score).
  returned: success
  type: int
report_console:
  description: Counts, findings by check and the first O(console_findings) findings.
  returned: success
  type: str
report_sarif:
  description: The findings as a SARIF 2.1.0 log (JSON text).
  returned: success
  type: str
report_junit:
  description: Every check result as JUnit XML (one test suite per object).
  returned: success
  type: str
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
  description: Number of workloads audited (the C(audited) count of RV(counts)).
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
    CHECKS,
    DEFAULT_TARGET_VERSION,
    AuditConfig,
    Auditor,
    findings,
    parse_config,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_report import (
    FAIL_ON_CHOICES,
    console,
    junit,
    markdown,
    polaris,
    sarif,
    score,
    summary,
    verdict,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_sources import (
    DEFAULT_INCLUDE,
    SYSTEM_NAMESPACES,
    ManifestReader,
    cluster_info,
    read_cluster,
    yaml_loader,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.module import run_k8s_module

# Read-only: the field manager is never used for a write.
FIELD_MANAGER = "ackops-workload-audit"


OPTIONS = {
    "source": {"type": "str", "choices": ["cluster", "manifests"], "default": "cluster"},
    "manifest_dir": {"type": "path"},
    "include": {"type": "list", "elements": "str", "default": list(DEFAULT_INCLUDE)},
    "exclude": {"type": "list", "elements": "str", "default": []},
    "namespaces": {"type": "list", "elements": "str", "default": []},
    "exclude_namespaces": {
        "type": "list",
        "elements": "str",
        "default": list(SYSTEM_NAMESPACES),
    },
    "skip_checks": {
        "type": "list",
        "elements": "str",
        "default": [],
        "choices": sorted(set(CHECKS) - {"invalidObject"}),
    },
    "config_file": {"type": "path"},
    "target_version": {"type": "str", "default": DEFAULT_TARGET_VERSION},
    "fail_on": {"type": "str", "choices": list(FAIL_ON_CHOICES), "default": "none"},
    "min_score": {"type": "int", "default": 0},
    "console_findings": {"type": "int", "default": 20},
    "display_root": {"type": "path"},
}


def load_config(path: str | None) -> AuditConfig:
    """The configuration file (YAML), checked; unknown check ids become warnings."""
    if not path:
        return AuditConfig.empty()
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=yaml_loader())  # noqa: S506 - a safe loader
    except OSError as exc:
        raise InputError("config_file", path, f"cannot be read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError("config_file", path, f"is not valid YAML{where}") from None
    return parse_config(data, path)


def main():
    run_k8s_module(
        OPTIONS,
        lambda module, connect, _changes: audit_result(module.params, connect, module.warn),
        FIELD_MANAGER,
        required_if=[("source", "manifests", ["manifest_dir"])],
    )


def audit_result(params: dict, connect, warn=None) -> dict:
    """Read, audit and gate; read-only, so nothing is ever recorded as changed."""
    config = load_config(params.get("config_file"))
    auditor = Auditor(params["skip_checks"], config, params["target_version"])
    notes: list[str] = []
    info: dict = {}
    if params["source"] == "manifests":
        reader = ManifestReader(
            params["manifest_dir"],
            include=params["include"],
            exclude=params["exclude"],
            display_root=params.get("display_root"),
        )
        for obj, source in reader:
            auditor.add(obj, source)
        notes += reader.notes
        source_type, source_name = "Path", params["manifest_dir"]
    else:
        client = connect()
        pods, namespaces = 0, set()
        for obj, source in read_cluster(client, params["namespaces"], params["exclude_namespaces"]):
            before = auditor.audited
            auditor.add(obj, source)
            if auditor.audited > before:
                namespaces.add((obj.get("metadata") or {}).get("namespace"))
                pods += obj.get("kind") == "Pod"
        source_type, source_name = "Cluster", client.server
        info = cluster_info(
            client,
            connect.version,
            {"audited": auditor.audited, "pods": pods, "namespaces": namespaces},
        )
    done = auditor.finish()
    results, counts = done["results"], done["counts"]
    warnings = list(config.warnings)
    for warning in warnings:
        if warn:
            warn(warning)
    notes += warnings
    severities = {c: s for c, s in config.severities.items() if s != "ignore"}
    found = findings(results, severities)
    points = score(results)
    counts = {**counts, "target_version": params["target_version"]}
    gate = verdict(found, params["fail_on"], params["min_score"], points, counts)
    stats = summary(found)
    return {
        "changed": False,
        "findings": found,
        "summary": stats,
        "counts": counts,
        "notes": notes,
        "score": points,
        "gate": gate,
        "polaris": polaris(results, source_type, source_name, info, counts, notes),
        "report_markdown": markdown(found, counts=counts, notes=notes, points=points),
        "report_console": console(
            found, counts, notes, points, limit=max(0, params["console_findings"])
        ),
        "report_sarif": sarif(found, severities),
        "report_junit": junit(results, severities),
        "objects_audited": counts["audited"],
    }


if __name__ == "__main__":
    main()
