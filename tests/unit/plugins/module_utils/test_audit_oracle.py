"""The audit's fix texts and Score against expectations written by hand (issue 18).

Nothing here reads the implementation's tables (CHECKS) or its score formula to build
an expected value: each fix is held to the Kubernetes field or action an operator must
be told, written out below, and each Score is counted by hand from Polaris' definition
(the percentage of check results that passed, 100 when nothing was checked).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.audit import workload_sources
from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_audit import (
    CHECKS,
    audit,
    findings,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_report import (
    polaris,
    score,
)
from tests.unit.plugins.module_utils.test_workload_audit import NETPOL, PDB, deployment

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "workloads"

# What the fix of each check must tell the operator to do, by the Kubernetes field (or
# object) involved: written from the Kubernetes API, not from the implementation.
FIX_NAMES = {
    "cpuRequestsMissing": "resources.requests.cpu",
    "memoryRequestsMissing": "resources.requests.memory",
    "cpuLimitsMissing": "resources.limits.cpu",
    "memoryLimitsMissing": "resources.limits.memory",
    "livenessProbeMissing": "livenessProbe",
    "readinessProbeMissing": "readinessProbe",
    "tagNotSpecified": "tag",
    "pullPolicyNotAlways": "imagePullPolicy: Always",
    "multipleProcesses": "one process per container",
    "runAsPrivileged": "securityContext.privileged",
    "runAsRootAllowed": "runAsNonRoot: true",
    "privilegeEscalationAllowed": "allowPrivilegeEscalation: false",
    "notReadOnlyRootFilesystem": "readOnlyRootFilesystem: true",
    "dangerousCapabilities": "capabilities.add",
    "insecureCapabilities": "capabilities.drop: [ALL]",
    "seccompProfileMissing": "seccompProfile.type: RuntimeDefault",
    "hostNetworkSet": "hostNetwork",
    "hostPIDSet": "hostPID",
    "hostIPCSet": "hostIPC",
    "hostPortSet": "hostPort",
    "hostPathSet": "hostPath",
    "missingNetworkPolicy": "NetworkPolicy",
    "restartPolicyMismatch": "OnFailure or Never for Jobs",
    "podSpreadMissing": "topologySpreadConstraints",
    "barePod": "Deployment",
    "replicasBelowThree": "3 or more",
    "missingPodDisruptionBudget": "PodDisruptionBudget",
    "serviceTargetsNothing": "spec.selector",
    "deprecatedApiVersion": "replacement apiVersion",
    "removedApiVersion": "replacement apiVersion",
    "invalidObject": "field",
    "unknownExemption": "ackops.runbooks/exempt-checks",
}


def test_every_check_has_a_fix_naming_what_to_set():
    # A new check must be added to FIX_NAMES by hand, with what its fix must name.
    assert set(CHECKS) == set(FIX_NAMES)
    for check_id, name in FIX_NAMES.items():
        assert name in CHECKS[check_id].fix, check_id


def fixture_findings():
    return findings(audit(workload_sources.load_manifest_dir(str(FIXTURES))))


def test_every_finding_of_the_fixture_says_what_to_set():
    found = fixture_findings()
    assert len(found) == 26  # the hand-written list in test_workload_sources_and_report
    for finding in found:
        assert FIX_NAMES[finding["check"]] in finding["fix"], finding


def test_the_untagged_image_finding_carries_its_whole_fix():
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx"
    (finding,) = findings(audit([(obj, "w.yaml#1"), (PDB, "w.yaml#2"), (NETPOL, "np.yaml#1")]))
    assert finding["check"] == "tagNotSpecified"
    assert finding["fix"] == "pin the image to a version tag or digest (never latest)"


@pytest.mark.parametrize(
    ("changes", "check", "fix"),
    [
        (
            {"hostNetwork": True},
            "hostNetworkSet",
            "remove hostNetwork; expose the port through a Service",
        ),
        ({"hostPID": True}, "hostPIDSet", "remove hostPID"),
        ({"hostIPC": True}, "hostIPCSet", "remove hostIPC"),
        (
            {"volumes": [{"name": "h", "hostPath": {"path": "/var/run"}}]},
            "hostPathSet",
            "use a PersistentVolumeClaim, a ConfigMap or an emptyDir instead of hostPath",
        ),
    ],
)
def test_pod_level_fixes_word_for_word(changes, check, fix):
    obj = deployment(**changes)
    got = {f["check"]: f["fix"] for f in findings(audit([(obj, "t"), (PDB, "t"), (NETPOL, "t")]))}
    assert got == {check: fix}


# --- Score: counted by hand --------------------------------------------------------------


def results(passed: int, failed: int) -> list[dict]:
    return [{"success": True}] * passed + [{"success": False}] * failed


@pytest.mark.parametrize(
    ("passed", "failed", "expected"),
    [
        (0, 0, 100),  # nothing checked: nothing failed
        (1, 0, 100),
        (0, 1, 0),
        (3, 1, 75),
        (2, 1, 67),  # 66.7 rounds up
        (1, 2, 33),  # 33.3 rounds down
        (99, 1, 99),
        (199, 1, 100),  # 99.5: Python rounds half to even
    ],
)
def test_score_is_the_percentage_of_results_that_passed(passed, failed, expected):
    assert score(results(passed, failed)) == expected


def test_a_well_kept_deployment_scores_by_hand_counted_results():
    # One container with a pinned image: 16 container checks (no pull-policy check
    # for a pinned tag) + hostNetwork/PID/IPC/Path + restartPolicy + spread +
    # NetworkPolicy (7 pod checks) + replicas + PodDisruptionBudget = 25 results.
    alone = polaris(audit([(deployment(), "t")]), "Path", "x")
    # No PDB and no NetworkPolicy: 23 of 25 pass.
    assert json.loads(json.dumps(alone))["Score"] == 92
    covered = polaris(audit([(deployment(), "t"), (PDB, "t"), (NETPOL, "t")]), "Path", "x")
    assert covered["Score"] == 100
    one = polaris(audit([(deployment(replicas=1), "t"), (PDB, "t"), (NETPOL, "t")]), "Path", "x")
    # One replica: replicasBelowThree fails, and spread/PDB are not asked of a
    # single pod (23 results): 22 of 23 pass, 95.65 -> 96.
    assert one["Score"] == 96


def test_the_fixture_directory_scores_63():
    # web (Deployment, pinned image): 16 container + 7 pod + replicas + PDB = 25
    # debug (bare Pod, untagged busybox, restartPolicy Never): 17 container checks
    #   (the pull policy too) minus liveness/readiness (a run-once pod) = 15, plus
    #   host x4, restartPolicy, NetworkPolicy, barePod = 22
    # legacy (StatefulSet, 1 replica, centos:7): 16 container + host x4 + restartPolicy
    #   + NetworkPolicy + replicas = 23
    # 70 results, 26 failed (the 26 hand-listed findings): 44/70 = 62.9 -> 63.
    report = polaris(
        audit(workload_sources.load_manifest_dir(str(FIXTURES))), "Path", str(FIXTURES)
    )
    assert report["Score"] == 63
