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
    verdict,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError
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


# --- rendering charts and kustomizations: stand-in tools record how they were called --------

POD_YAML = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns}\nspec: {containers: []}\n"


def stand_in(bin_dir: Path, name: str, exit_code: int = 0, stderr: str = "") -> Path:
    """An executable that writes its arguments to <name>.args and prints one Pod."""
    import stat

    bin_dir.mkdir(exist_ok=True)
    tool = bin_dir / name
    tool.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{bin_dir}/{name}.args"\n'
        f"printf '{stderr}' >&2\n"
        f"printf '{POD_YAML if exit_code == 0 else ''}'\n"
        f"exit {exit_code}\n"
    )
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    return tool


def kustomization(tmp_path: Path) -> Path:
    overlay = tmp_path / "src" / "overlay"
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text("resources: []\n")
    return overlay


@pytest.mark.parametrize(
    ("tools", "argv", "label"),
    [
        ({"kustomize": "kustomize"}, ["build"], "kustomize render"),
        ({"kubectl": "kubectl"}, ["kustomize"], "kubectl render"),
        ({"kustomize": "kustomize", "kubectl": "kubectl"}, ["build"], "kustomize render"),
    ],
)
def test_a_kustomization_is_rendered_with_kustomize_else_kubectl(tmp_path, tools, argv, label):
    overlay = kustomization(tmp_path)
    bin_dir = tmp_path / "bin"
    found = {name: str(stand_in(bin_dir, name)) for name in tools}
    reader = workload_sources.ManifestReader(str(tmp_path / "src"), found_tools=found)
    objects = list(reader)
    assert [(o["kind"], s) for o, s in objects] == [("Pod", f"{overlay} ({label})#1")]
    used = label.split()[0]
    assert (bin_dir / f"{used}.args").read_text().split() == [*argv, str(overlay)]
    assert reader.files == 1
    assert reader.notes == []


def test_a_chart_is_rendered_with_helm_template_and_its_name(tmp_path):
    chart = tmp_path / "src" / "shop"
    chart.mkdir(parents=True)
    (chart / "Chart.yaml").write_text("name: shop\nversion: 1.0.0\n")
    bin_dir = tmp_path / "bin"
    helm = stand_in(bin_dir, "helm")
    reader = workload_sources.ManifestReader(str(tmp_path / "src"), found_tools={"helm": str(helm)})
    assert [s for _o, s in reader] == [f"{chart} (helm render)#1"]
    assert (bin_dir / "helm.args").read_text().split() == ["template", "shop", str(chart)]
    assert reader.files == 1


def test_a_failing_render_names_the_directory_the_command_and_its_last_line(tmp_path):
    overlay = kustomization(tmp_path)
    bin_dir = tmp_path / "bin"
    tool = stand_in(
        bin_dir,
        "kustomize",
        exit_code=3,
        stderr="warming up\\nstill warming\\nno such base: ../base",
    )
    with pytest.raises(InputError) as exc:
        list(
            workload_sources.ManifestReader(
                str(tmp_path / "src"), found_tools={"kustomize": str(tool)}
            )
        )
    assert str(exc.value) == (
        f"manifest_dir: '{overlay}' cannot be rendered: {tool} build exited 3: "
        "no such base: ../base"
    )
    silent = stand_in(bin_dir, "kubectl", exit_code=1)
    with pytest.raises(InputError) as exc:
        list(
            workload_sources.ManifestReader(
                str(tmp_path / "src"), found_tools={"kubectl": str(silent)}
            )
        )
    assert str(exc.value).endswith(f"cannot be rendered: {silent} kustomize exited 1: no output")


def test_cluster_info_of_empty_counts_is_zero():
    from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import ObjectClient
    from tests.unit.k8s_fake import FakeApi

    client = ObjectClient(FakeApi().api_client(), "test")
    assert workload_sources.cluster_info(client, "v1.37.0", {}) == {
        "Version": "v1.37.0",
        "Nodes": 0,
        "Pods": 0,
        "Namespaces": 0,
        "Controllers": 0,
    }
    assert workload_sources.cluster_info(client, "v", {"audited": 5})["Controllers"] == 5
    info = workload_sources.cluster_info(client, "v", {"audited": 5, "pods": 2})
    assert (info["Pods"], info["Controllers"]) == (2, 3)  # 5 audited, 2 of them bare pods


# --- the report texts, whole ---------------------------------------------------------------


def one_finding(severity="warning", check="replicasBelowThree", message="m|1\nsecond line"):
    return {
        "object": {"kind": "Deployment", "namespace": "shop", "name": "web", "source": "a.yaml#1"},
        "container": None,
        "check": check,
        "severity": severity,
        "category": "Reliability",
        "message": message,
        "fix": "set spec.replicas | 3",
    }


def test_console_text_whole():
    from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_report import (
        console,
    )

    found = [one_finding("danger", "barePod", "d1"), one_finding(message="w1"),
             one_finding(message="w2")]  # fmt: skip
    counts = {"audited": 3, "skipped": 2, "skipped_by_reason": {"not a workload (ConfigMap)": 2}}
    assert console(found, counts, ["a note"], 67, limit=2) == (
        "Workload audit\n"
        "3 finding(s): 1 danger, 2 warning. Score 67.\n"
        "Audited 3 workload(s); skipped 2 object(s):\n"
        "- 2 not a workload (ConfigMap)\n"
        "Note: a note\n"
        "By check: barePod 1, replicasBelowThree 2\n"
        "[danger] d1\n"
        "[warning] w1\n"
        "... and 1 more finding(s) in the report files.\n"
    )
    # Exactly the limit: nothing left to count; no counts, no score: their lines are left out.
    assert console(found[:2], limit=2) == (
        "Workload audit\n"
        "2 finding(s): 1 danger, 1 warning.\n"
        "By check: barePod 1, replicasBelowThree 1\n"
        "[danger] d1\n"
        "[warning] w1\n"
    )
    assert console([], {"audited": 0}) == (
        "Workload audit\n0 finding(s): 0 danger, 0 warning.\n"
        "Audited 0 workload(s); skipped 0 object(s).\n"
    )


def test_markdown_cells_escape_bars_and_newlines():
    from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_report import (
        markdown,
    )

    text = markdown([one_finding()], counts={"audited": 1}, points=90)
    assert text == (
        "# Workload audit\n\n"
        "1 finding(s): 0 danger, 1 warning. Score 90.\n"
        "Audited 1 workload(s); skipped 0 object(s).\n\n"
        "| Severity | Namespace | Object | Container | Check | Finding | Fix |\n"
        "|---|---|---|---|---|---|---|\n"
        "| warning | shop | Deployment/web | - | replicasBelowThree | m\\|1 second line | "
        "set spec.replicas \\| 3 |\n"
    )


def test_verdict_whole():
    found = [one_finding("danger", "barePod", "d1"), one_finding(message="w1")]
    got = verdict(found, "danger", 50, 40, {"audited": 2})
    assert got == {
        "fail_on": "danger",
        "min_score": 50,
        "score": 40,
        "failed": True,
        "reasons": ["1 finding(s) at or above danger", "score 40 is below the minimum 50"],
        "findings": 1,
        "messages": ["d1"],
    }
    empty = verdict([], "none", 0, 100, {"audited": 0})
    assert empty["reasons"] == ["no workload was audited (the input holds no object)"]
    skipped = {"audited": 0, "skipped_by_reason": {"not a workload (ConfigMap)": 2, "Node": 1}}
    assert verdict([], "none", 0, 100, skipped)["reasons"] == [
        "no workload was audited (2 not a workload (ConfigMap); 1 Node)"
    ]
    for bad in (True, 1.5, "80", -1, 101):
        with pytest.raises(InputError):
            verdict([], "none", bad, 100, {"audited": 1})
    assert verdict([], "none", 100, 100, {"audited": 1})["failed"] is False
    assert verdict([], "none", 0, 0, {"audited": 1})["failed"] is False


def test_junit_attributes_by_hand():
    from xml.etree import ElementTree

    from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_report import (
        junit,
    )

    def result(check, success, container=None, source="deploy/web.yaml#1", name="web"):
        return {
            "object": {"kind": "Deployment", "namespace": "shop", "name": name, "source": source},
            "container": container,
            "check": check,
            "success": success,
            "details": "1 replica(s)" if not success else "",
        }

    results = [
        result("replicasBelowThree", False),
        result("cpuRequestsMissing", True, container="app"),
        result("barePod", True, source="cluster", name="api"),
    ]
    text = junit(results)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')
    root = ElementTree.fromstring(text.split("\n", 1)[1])
    assert (root.tag, root.get("name"), root.get("tests"), root.get("failures"),
            root.get("errors")) == ("testsuites", "audit-workloads", "3", "1", "0")  # fmt: skip
    api, web = root.findall("testsuite")  # sorted by namespace, kind, name
    assert api.attrib == {"name": "Deployment shop/api", "tests": "1", "failures": "0",
                          "errors": "0", "skipped": "0"}  # fmt: skip
    assert web.attrib == {"name": "Deployment shop/web", "tests": "2", "failures": "1",
                          "errors": "0", "skipped": "0", "file": "deploy/web.yaml#1"}  # fmt: skip
    cases = web.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("shop.Deployment.web", "replicasBelowThree"),
        ("shop.Deployment.web", "cpuRequestsMissing[app]"),
    ]
    failure = cases[0].find("failure")
    assert failure.get("type") == "warning"
    assert failure.get("message").startswith("deploy/web.yaml#1: Deployment shop/web")
    assert failure.text == failure.get("message") + (
        "\nFix: set spec.replicas (or the HPA minReplicas) to 3 or more"
    )
    assert cases[1].find("failure") is None


# --- exemption rules: glob matching on namespace, name, kind; annotations -----------------

REF = {"kind": "DaemonSet", "namespace": "kube-system", "name": "cni-agent", "source": "t"}


@pytest.mark.parametrize(
    ("rule", "annotations", "matches"),
    [
        ({}, {}, True),  # no condition: every object
        ({"namespaces": ["kube-*"]}, {}, True),
        ({"namespaces": ["default", "kube-*"]}, {}, True),
        ({"namespaces": ["default"]}, {}, False),
        ({"names": ["cni-*"]}, {}, True),
        ({"names": ["CNI-*"]}, {}, False),  # case matters
        ({"kinds": ["Deployment"]}, {}, False),
        ({"kinds": ["DaemonSet"], "names": ["other"]}, {}, False),  # every condition must hold
        ({"namespaces": ["kube-*"], "names": ["cni-*"], "kinds": ["Daemon*"]}, {}, True),
        ({"annotations": {"audit": "off"}}, {"audit": "off"}, True),
        ({"annotations": {"audit": "off"}}, {"audit": "on"}, False),
        ({"annotations": {"audit": "*"}}, {"audit": "anything"}, True),
        ({"annotations": {"audit": "*"}}, {}, False),  # '*' still needs the key
        ({"annotations": {"a": "1", "b": "2"}}, {"a": "1"}, False),
    ],
)
def test_exemption_rules_by_hand(rule, annotations, matches):
    from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_audit import (
        _rule_matches,
    )

    assert _rule_matches(rule, REF, annotations) is matches


def test_parse_config_normalises_rules():
    from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_audit import (
        parse_config,
    )

    config = parse_config(
        {
            "checks": {"barePod": "warning"},
            "exemptions": [
                {"checks": "hostNetworkSet", "namespaces": "kube-*", "names": ["a", "b"],
                 "kinds": "DaemonSet", "annotations": {"x": 1}},
                {"checks": ["*"]},
                {},
            ],
        }
    )  # fmt: skip
    assert config.severities == {"barePod": "warning"}
    assert config.exemptions == [
        {
            "checks": ["hostNetworkSet"],
            "namespaces": ["kube-*"],
            "names": ["a", "b"],
            "kinds": ["DaemonSet"],
            "annotations": {"x": "1"},
        },
        {"checks": ["*"], "annotations": {}},
        {"annotations": {}},
    ]
    assert config.warnings == []
    with pytest.raises(InputError) as exc:
        parse_config({"exemptions": [{"kinds": [1]}]}, "audit.yaml")
    assert str(exc.value) == (
        "audit.yaml: exemptions[0].kinds: [1] must be a string or a list of strings"
    )
    with pytest.raises(InputError) as exc:
        parse_config({"exemptions": [{"namespaces": 5}]})
    assert str(exc.value).startswith("config: exemptions[0].namespaces: ")


def test_two_charts_count_as_two_rendered_files_and_a_failing_helm_names_the_field(tmp_path):
    for name in ("a", "b"):
        chart = tmp_path / "src" / name
        chart.mkdir(parents=True)
        (chart / "Chart.yaml").write_text(f"name: {name}\nversion: 1.0.0\n")
    helm = stand_in(tmp_path / "bin", "helm")
    reader = workload_sources.ManifestReader(str(tmp_path / "src"), found_tools={"helm": str(helm)})
    assert len(list(reader)) == 2
    assert reader.files == 2
    broken = stand_in(tmp_path / "bin2", "helm", exit_code=1, stderr="Error: bad chart")
    with pytest.raises(InputError) as exc:
        list(
            workload_sources.ManifestReader(
                str(tmp_path / "src"),
                "audit_workloads_manifest_dir",
                found_tools={"helm": str(broken)},
            )
        )
    assert str(exc.value).startswith("audit_workloads_manifest_dir: ")
    assert str(exc.value).endswith(
        f"cannot be rendered: {broken} template exited 1: Error: bad chart"
    )


def test_objects_read_from_the_cluster_say_so():
    from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import ObjectClient
    from tests.unit.k8s_fake import FakeApi

    fake = FakeApi()
    fake.add(
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w", "namespace": "n"}}
    )
    client = ObjectClient(fake.api_client(), "test")
    assert [
        (o["apiVersion"], o["kind"], source) for o, source in workload_sources.read_cluster(client)
    ] == [("apps/v1", "Deployment", "cluster")]


@pytest.mark.parametrize(
    ("replicas", "failed"),
    [
        # One replica: nothing to spread and nothing a budget could protect.
        (1, {"replicasBelowThree"}),
        # Two: the budget and the spread are asked for, and both are missing here.
        (2, {"replicasBelowThree", "missingPodDisruptionBudget", "podSpreadMissing"}),
        (3, {"missingPodDisruptionBudget", "podSpreadMissing"}),
    ],
)
def test_pdb_and_spread_are_asked_from_two_replicas_on(replicas, failed):
    obj = deployment(replicas=replicas, topologySpreadConstraints=[])
    got = audit([(obj, "t"), (NETPOL, "t")])
    assert {r["check"] for r in got if not r["success"]} == failed
    asked = {r["check"] for r in got}
    assert ("missingPodDisruptionBudget" in asked) is (replicas > 1)


def test_report_details_by_hand():
    from xml.etree import ElementTree

    from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_audit import (
        parse_config,
    )
    from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_report import (
        junit,
        markdown,
    )

    # An unknown check id before a known one: the known one still counts.
    config = parse_config({"checks": {"hostNetwrkSet": "danger", "barePod": "warning"}})
    assert config.severities == {"barePod": "warning"}
    # No counts given: 0 audited, 0 skipped; notes are listed; an empty list says so.
    assert markdown([], counts={}, notes=["n1"]) == (
        "# Workload audit\n\n0 finding(s): 0 danger, 0 warning.\n"
        "Audited 0 workload(s); skipped 0 object(s).\nNote: n1\n\nNo findings.\n"
    )
    # A cluster-scoped object has no namespace: an empty cell, not "None".
    row = markdown([{**one_finding(), "object": {**one_finding()["object"], "namespace": None}}])
    assert "| warning |  | Deployment/web | - |" in row
    # Polaris messages: the success text for a pass, details only for a failure.
    report = polaris(audit([(deployment(replicas=1), "t"), (PDB, "t"), (NETPOL, "t")]), "Path", "x")
    (entry,) = report["Results"]
    assert entry["Results"]["replicasBelowThree"]["Details"] == ["1 replica(s)"]
    (box,) = entry["PodResult"]["ContainerResults"]
    assert box["Results"]["tagNotSpecified"]["Message"] == "Image has a pinned tag"
    assert box["Results"]["tagNotSpecified"]["Details"] == []
    # JUnit: failures summed over every suite; severities overridden by the configuration.
    results = audit([(deployment(replicas=1), "a.yaml#1"), (deployment(replicas=2), "b.yaml#1")])
    root = ElementTree.fromstring(
        junit(results, {"replicasBelowThree": "danger"}).split("\n", 1)[1]
    )
    failed = sum(int(s.get("failures")) for s in root.findall("testsuite"))
    assert root.get("failures") == str(failed)
    # 1 replica: replicasBelowThree, missingNetworkPolicy; 2: those and the missing budget.
    assert failed == 5
    types = {f.get("type") for f in root.iter("failure") if "Fewer than 3" in f.get("message")}
    assert types == {"danger"}


def test_files_read_are_counted_and_every_rendering_tool_is_found_on_path(tmp_path, monkeypatch):
    src = tmp_path / "src"
    (src / "nested" / "deeper").mkdir(parents=True)
    for path in (src / "a.yaml", src / "nested" / "b.yml", src / "nested" / "deeper" / "c.json"):
        path.write_text('{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}\n')
    (src / "notes.txt").write_text("not a manifest\n")
    reader = workload_sources.ManifestReader(str(src), found_tools={})
    assert len(list(reader)) == 3
    assert reader.files == 3
    single = workload_sources.ManifestReader(str(src / "a.yaml"), found_tools={})
    assert len(list(single)) == 1
    assert single.files == 1
    bin_dir = tmp_path / "bin"
    found = {name: str(stand_in(bin_dir, name)) for name in ("helm", "kustomize", "kubectl")}
    monkeypatch.setenv("PATH", str(bin_dir))
    assert workload_sources.tools() == found
