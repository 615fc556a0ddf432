"""The audit at Polaris/kube-score parity: security checks, custom workloads, API
versions, cross-object checks, configuration, rendering, SARIF and JUnit.

Expected findings are written out by hand from the manifests, never computed
from the audit's own tables.
"""

from __future__ import annotations

import copy
import json
import os
import stat
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import pytest
import yaml

from ansible_collections.ackops.runbooks.plugins.module_utils.audit import workload_sources
from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_audit import (
    Auditor,
    audit,
    findings,
    parse_config,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_report import (
    junit,
    sarif,
    score,
    verdict,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError

REPO = Path(__file__).resolve().parents[4]
FIXTURES = REPO / "tests" / "unit" / "fixtures" / "audit"
EXAMPLE_WEB = REPO / "examples" / "workloads" / "shop" / "web.yaml"


def found(objects, **options) -> list[tuple]:
    got = [
        (f["severity"], f["object"]["kind"], f["object"]["name"], f["container"], f["check"])
        for f in findings(audit([(o, "test") for o in objects], **options))
    ]
    return sorted(got, key=lambda t: tuple(x or "" for x in t))


def shop() -> list[dict]:
    return list(yaml.safe_load_all(EXAMPLE_WEB.read_text()))


def web_with(mutate) -> list[dict]:
    objects = shop()
    mutate(objects[0]["spec"]["template"]["spec"])
    return objects


def test_the_example_shop_passes_every_check():
    assert found(shop()) == []


def test_mixed_fixture_gives_what_polaris_and_kube_score_report():
    objects = [
        o for o, _ in workload_sources.load_manifest_dir(str(FIXTURES / "mixed-security.yaml"))
    ]
    expected = [
        ("danger", "Deployment", "risky", None, "hostNetworkSet"),
        ("danger", "Deployment", "risky", None, "hostPIDSet"),
        ("danger", "Deployment", "risky", None, "hostIPCSet"),
        ("danger", "Deployment", "risky", "init:prep", "tagNotSpecified"),
        ("danger", "Deployment", "risky", "app", "runAsPrivileged"),
        ("danger", "Deployment", "risky", "app", "runAsRootAllowed"),
        ("danger", "Deployment", "risky", "app", "privilegeEscalationAllowed"),
        ("danger", "Deployment", "risky", "app", "dangerousCapabilities"),
        ("warning", "Deployment", "risky", "app", "seccompProfileMissing"),
        ("warning", "Deployment", "risky", "app", "hostPortSet"),
    ]
    assert sorted(found(objects), key=str) == sorted(expected, key=str)


def _sc(**changes):
    def mutate(spec):
        spec["containers"][0]["securityContext"].update(changes)

    return mutate


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_sc(privileged=True), ["privilegeEscalationAllowed", "runAsPrivileged"]),
        (_sc(allowPrivilegeEscalation=True), ["privilegeEscalationAllowed"]),
        (_sc(readOnlyRootFilesystem=False), ["notReadOnlyRootFilesystem"]),
        (_sc(capabilities={"add": ["NET_RAW"], "drop": ["ALL"]}), ["dangerousCapabilities"]),
        (_sc(capabilities={"add": ["ALL"], "drop": ["ALL"]}), ["dangerousCapabilities"]),
        (
            _sc(capabilities={"add": ["CAP_SYS_ADMIN"]}),
            ["dangerousCapabilities", "insecureCapabilities"],
        ),
        (_sc(capabilities={"drop": ["NET_RAW"]}), ["insecureCapabilities"]),
        (_sc(runAsUser=0), ["runAsRootAllowed"]),
        (_sc(seccompProfile={"type": "Unconfined"}), ["seccompProfileMissing"]),
        (
            lambda s: s["securityContext"].update(runAsNonRoot=False, runAsUser=None),
            ["runAsRootAllowed"],
        ),
        (lambda s: s["securityContext"].pop("seccompProfile"), ["seccompProfileMissing"]),
        (lambda s: s.update(hostNetwork=True), ["hostNetworkSet"]),
        (lambda s: s.update(hostPID=True), ["hostPIDSet"]),
        (lambda s: s.update(hostIPC=True), ["hostIPCSet"]),
        (lambda s: s.update(volumes=[{"name": "r", "hostPath": {"path": "/"}}]), ["hostPathSet"]),
        (
            lambda s: s["containers"][0].update(
                image="nginx:latest", imagePullPolicy="IfNotPresent"
            ),
            ["pullPolicyNotAlways", "tagNotSpecified"],
        ),
        (
            lambda s: s["containers"][0].update(image="nginx:latest", imagePullPolicy="Always"),
            ["tagNotSpecified"],
        ),
    ],
)
def test_each_security_problem_alone(mutate, expected):
    assert sorted(check for *_, check in found(web_with(mutate))) == sorted(expected)


def test_init_and_ephemeral_containers_are_checked_like_containers():
    def mutate(spec):
        init = copy.deepcopy(spec["containers"][0])
        init.update(name="init", image="busybox")
        for probe in ("livenessProbe", "readinessProbe"):
            init.pop(probe)
        spec["initContainers"] = [init]
        spec["ephemeralContainers"] = [
            {"name": "debug", "image": "busybox:1.36", "securityContext": {"privileged": True}}
        ]

    got = [(c, check) for *_, c, check in found(web_with(mutate))]
    assert sorted(got) == sorted(
        [
            ("init:init", "tagNotSpecified"),
            ("ephemeral:debug", "runAsPrivileged"),
            ("ephemeral:debug", "privilegeEscalationAllowed"),
            # the pod's runAsNonRoot and seccomp profile apply to it too
            ("ephemeral:debug", "notReadOnlyRootFilesystem"),
            ("ephemeral:debug", "insecureCapabilities"),
        ]
    )


def _custom(api_version, kind, **spec):
    base = shop()[0]
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": kind.lower(), "namespace": "shop"},
        "spec": {**base["spec"], **spec},
    }


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        ("argoproj.io/v1alpha1", "Rollout"),
        ("apps.kruise.io/v1alpha1", "CloneSet"),
        ("apps.kruise.io/v1beta1", "StatefulSet"),
    ],
)
def test_custom_workloads_are_audited_through_their_template(api_version, kind):
    good = _custom(api_version, kind)
    pdb = {**shop()[1], "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}}}
    assert found([good, pdb, shop()[3]]) == []
    bad = _custom(api_version, kind, replicas=1)
    bad["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True
    assert found([bad, shop()[3]]) == [
        ("danger", kind, kind.lower(), "web", "privilegeEscalationAllowed"),
        ("danger", kind, kind.lower(), "web", "runAsPrivileged"),
        ("warning", kind, kind.lower(), None, "replicasBelowThree"),
    ]


def test_unknown_kinds_are_counted_as_skipped_with_why():
    auditor = Auditor()
    auditor.add({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}, "t")
    auditor.add(
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {}},
        "t",
    )
    rollout = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "r"},
               "spec": {"workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}}  # fmt: skip
    auditor.add(rollout, "t")
    counts = auditor.finish()["counts"]
    assert counts["audited"] == 0
    assert counts["skipped_by_reason"] == {
        "not a workload (ConfigMap)": 1,
        "custom kind without a pod template (Widget.example.com)": 1,
        "custom kind without a pod template (Rollout.argoproj.io)": 1,
    }


@pytest.mark.parametrize(
    ("api_version", "kind", "target", "expected"),
    [
        ("extensions/v1beta1", "Deployment", "1.37", "removedApiVersion"),
        ("extensions/v1beta1", "Deployment", "1.15", "deprecatedApiVersion"),
        ("apps/v1beta2", "DaemonSet", "v1.37.2", "removedApiVersion"),
        ("batch/v1beta1", "CronJob", "1.24", "deprecatedApiVersion"),
        ("batch/v1beta1", "CronJob", "1.25", "removedApiVersion"),
        ("policy/v1beta1", "PodDisruptionBudget", "1.37", "removedApiVersion"),
        ("autoscaling/v2beta2", "HorizontalPodAutoscaler", "1.26", "removedApiVersion"),
        ("v1", "Endpoints", "1.37", "deprecatedApiVersion"),
        ("v1", "Endpoints", "1.32", None),
        ("apps/v1", "Deployment", "1.37", None),
    ],
)
def test_deprecated_and_removed_api_versions_for_the_target(api_version, kind, target, expected):
    obj = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x", "namespace": "shop"}}
    checks = {check for *_, check in found([obj], target_version=target)}
    api_checks = checks & {"removedApiVersion", "deprecatedApiVersion"}
    assert api_checks == ({expected} if expected else set())


def test_a_target_version_that_is_not_one_is_refused():
    with pytest.raises(InputError, match="target_version: 'latest' is not a Kubernetes version"):
        audit([], target_version="latest")


def test_service_selector_that_matches_no_workload():
    objects = shop()
    objects[2]["spec"]["selector"] = {"app": "wbe"}
    assert found(objects) == [("warning", "Service", "web", None, "serviceTargetsNothing")]
    external = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db", "namespace": "shop"},
                "spec": {"type": "ExternalName", "externalName": "db.example.com"}}  # fmt: skip
    assert found([*shop(), external]) == []


def test_workload_without_network_policy():
    objects = shop()[:3]
    assert found(objects) == [("warning", "Deployment", "web", None, "missingNetworkPolicy")]


def test_typos_in_the_exemption_annotation_are_reported():
    objects = shop()
    objects[0]["metadata"]["annotations"] = {
        "ackops.runbooks/exempt-checks": "hostNetworkSet, seccompProfileMising",
        "ackops.runbooks/exempt-check": "x",
    }
    got = [(f["check"], f["message"]) for f in findings(audit([(o, "t") for o in objects]))]
    assert [c for c, _ in got] == ["unknownExemption", "unknownExemption"]
    assert "did you mean seccompProfileMissing?" in got[0][1] + got[1][1]
    assert (
        "annotation ackops.runbooks/exempt-check is not ackops.runbooks/exempt-checks"
        in got[0][1] + got[1][1]
    )


def test_a_run_that_audited_nothing_fails_the_gate():
    auditor = Auditor()
    auditor.add({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}, "t")
    done = auditor.finish()
    gate = verdict([], "none", 0, score(done["results"]), done["counts"])
    assert gate["failed"] is True
    assert gate["reasons"] == ["no workload was audited (1 not a workload (ConfigMap))"]


def test_minimum_score_gate_beside_the_severity_gate():
    counts = {"audited": 1}
    finding = {"severity": "warning", "message": "m"}
    assert verdict([finding], "danger", 80, 79, counts)["reasons"] == [
        "score 79 is below the minimum 80"
    ]
    assert verdict([finding], "danger", 80, 80, counts)["failed"] is False
    assert verdict([finding], "warning", 0, 100, counts)["reasons"] == [
        "1 finding(s) at or above warning"
    ]
    with pytest.raises(InputError, match="min_score: 101 must be a whole number from 0 to 100"):
        verdict([], "none", 101, 100, counts)


def test_config_sets_severities_and_exemptions_and_warns_on_unknown_ids():
    config = parse_config(
        {
            "checks": {
                "missingNetworkPolicy": "danger",
                "podSpreadMissing": "ignore",
                "hostNetwrkSet": "danger",
            },
            "exemptions": [
                {"checks": ["hostNetworkSet"], "namespaces": ["kube-*"], "names": ["cni-*"]},
                {"checks": ["*"], "annotations": {"example.com/audit": "off"}},
                {"checks": ["tagNotSpecifed"], "kinds": ["Job"]},
            ],
        },
        "audit.yaml",
    )
    assert config.warnings == [
        "audit.yaml: checks.hostNetwrkSet: unknown check id (ignored); did you mean hostNetworkSet?",
        "audit.yaml: exemptions[2].checks: 'tagNotSpecifed' is not a check id; did you mean tagNotSpecified?",
    ]
    objects = shop()[:3]  # no NetworkPolicy
    objects[0]["spec"]["template"]["spec"]["hostNetwork"] = True
    got = findings(audit([(o, "t") for o in objects], config=config), config.severities)
    assert [(f["check"], f["severity"]) for f in got] == [
        ("hostNetworkSet", "danger"),
        ("missingNetworkPolicy", "danger"),
    ]
    cni = copy.deepcopy(objects[0])
    cni["metadata"].update(name="cni-agent", namespace="kube-system")
    off = copy.deepcopy(objects[0])
    off["metadata"]["annotations"] = {"example.com/audit": "off"}
    got = findings(audit([(cni, "t"), (off, "t")], config=config))
    # cni-agent keeps the checks not exempted (its namespace has neither a PDB
    # nor a NetworkPolicy); the annotated copy is exempt from everything.
    assert sorted((f["object"]["name"], f["check"]) for f in got) == [
        ("cni-agent", "missingNetworkPolicy"),
        ("cni-agent", "missingPodDisruptionBudget"),
    ]


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ([], "audit.yaml"),
        ({"check": {}}, "audit.yaml: check"),
        ({"checks": {"barePod": "critical"}}, "audit.yaml: checks.barePod"),
        ({"exemptions": {"checks": []}}, "audit.yaml: exemptions"),
        ({"exemptions": [{"namespace": ["a"]}]}, "audit.yaml: exemptions[0].namespace"),
        ({"exemptions": [{"names": [1]}]}, "audit.yaml: exemptions[0].names"),
    ],
)
def test_bad_config_names_the_file_and_field(config, field):
    with pytest.raises(InputError) as exc:
        parse_config(config, "audit.yaml")
    assert exc.value.field == field


def test_include_and_exclude_patterns(tmp_path):
    (tmp_path / "vendor").mkdir()
    for name in ("a.yaml", "b.yml", "vendor/c.yaml", "d.json.tmpl", "e.yaml"):
        (tmp_path / name).write_text(EXAMPLE_WEB.read_text() if "json" not in name else "{}")

    def names(**options):
        reader = workload_sources.ManifestReader(str(tmp_path), **options)
        return sorted({s.split("#")[0].replace(f"{tmp_path}/", "") for _o, s in reader})

    assert names() == ["a.yaml", "b.yml", "e.yaml", "vendor/c.yaml"]
    assert names(exclude=["vendor", "e.*"]) == ["a.yaml", "b.yml"]
    assert names(include=["*.yaml"], exclude=["vendor/*"]) == ["a.yaml", "e.yaml"]


def _chart(tmp_path: Path) -> Path:
    chart = tmp_path / "charts" / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (chart / "templates" / "deploy.yaml").write_text("replicas: {{ .Values.replicas }}\n")
    kustom = tmp_path / "overlay"
    kustom.mkdir()
    (kustom / "kustomization.yaml").write_text("resources: [../plain.yaml]\n")
    (tmp_path / "plain.yaml").write_text(EXAMPLE_WEB.read_text())
    return chart


def test_charts_and_kustomizations_without_their_tools_are_named_not_misread(tmp_path):
    chart = _chart(tmp_path)
    reader = workload_sources.ManifestReader(str(tmp_path), found_tools={})
    objects = list(reader)
    assert {o["kind"] for o, _ in objects} == {
        "Deployment",
        "PodDisruptionBudget",
        "Service",
        "NetworkPolicy",
    }
    assert reader.notes == [
        f"Helm chart {chart} not rendered: helm is not installed (not on PATH); its objects were not audited",
        f"Kustomize directory {tmp_path / 'overlay'} not rendered: kustomize (or kubectl) is not installed "
        "(not on PATH); its objects were not audited",
    ]


def test_tools_are_detected_on_path_and_used_to_render(tmp_path, monkeypatch):
    chart = _chart(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helm = bin_dir / "helm"
    # A stand-in helm: prints the example manifests as `helm template` would.
    helm.write_text(f"#!/bin/sh\ncat '{EXAMPLE_WEB}'\n")
    helm.chmod(helm.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    found_tools = workload_sources.tools()
    assert found_tools["helm"] == str(helm)
    reader = workload_sources.ManifestReader(
        str(tmp_path), found_tools={"helm": found_tools["helm"]}
    )
    sources = [s for _o, s in reader]
    assert f"{chart} (helm render)#1" in sources
    assert len(reader.notes) == 1
    assert "Kustomize" in reader.notes[0]


def test_the_c_loader_is_used_when_pyyaml_has_it():
    loader = workload_sources.yaml_loader()
    assert loader is (getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader)
    assert workload_sources.yaml_loader(prefer_c=False) is yaml.SafeLoader


def test_sarif_validates_against_the_official_2_1_0_schema():
    schema = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())
    objects = workload_sources.load_manifest_dir(str(FIXTURES / "mixed-security.yaml"))
    results = audit(objects)
    log = json.loads(sarif(findings(results)))
    jsonschema.validate(log, schema)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    assert len(run["results"]) == 10
    levels = sorted(r["level"] for r in run["results"])
    assert levels == ["error"] * 8 + ["warning"] * 2
    uri = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith("file:///")
    assert uri.endswith("mixed-security.yaml")
    # An empty log is valid too.
    jsonschema.validate(json.loads(sarif([])), schema)


def test_junit_xml_parses_with_one_case_per_check_result():
    objects = workload_sources.load_manifest_dir(str(FIXTURES / "mixed-security.yaml"))
    results = audit(objects)
    root = ElementTree.fromstring(junit(results))
    assert root.tag == "testsuites"
    assert int(root.get("tests")) == len(results)
    assert int(root.get("failures")) == 10
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "Deployment sec/risky"
    failed = sorted(
        c.get("name") for c in suite.findall("testcase") if c.find("failure") is not None
    )
    assert "tagNotSpecified[init:prep]" in failed
    assert "hostNetworkSet" in failed


def test_files_under_the_display_root_are_named_relative_to_it():
    reader = workload_sources.ManifestReader(
        str(REPO / "examples" / "workloads"), display_root=str(REPO)
    )
    sources = {s.split("#")[0] for _o, s in reader}
    assert sources == {"examples/workloads/shop/web.yaml", "examples/workloads/legacy/legacy.yaml"}
    results = audit(workload_sources.ManifestReader(str(REPO / "examples"), display_root=str(REPO)))
    log = json.loads(sarif(findings(results)))
    jsonschema.validate(log, json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text()))
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert uris == {"examples/workloads/legacy/legacy.yaml"}
    # Outside the display root: the path as given.
    outside = workload_sources.ManifestReader(str(EXAMPLE_WEB), display_root="/nonexistent/x")
    assert {s.split("#")[0] for _o, s in outside} == {str(EXAMPLE_WEB)}
