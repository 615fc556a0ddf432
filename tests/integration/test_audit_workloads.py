"""audit-workloads.yml against the lab: seeded good and bad workloads, exact findings.

The test makes its own namespace, applies one well-kept Deployment (with its
PodDisruptionBudget) and four workloads that each break known rules, audits
only that namespace, and compares the failed checks in the Polaris-layout
report with the list below. Then: a second run changes nothing, check mode
changes nothing, and the CI gate fails on danger findings. The namespace is
deleted afterwards whatever happened.
"""

from __future__ import annotations

import json
import uuid

import pytest
import yaml

from tests.integration.conftest import recap
from tests.unit.manifests import assert_valid_manifests

pytestmark = pytest.mark.lab

GOOD_CONTAINER = {
    "name": "app",
    "image": "registry.cn-hangzhou.aliyuncs.com/shop/web:1.4.2",
    "resources": {
        "requests": {"cpu": "100m", "memory": "64Mi"},
        "limits": {"cpu": "200m", "memory": "128Mi"},
    },
    "livenessProbe": {"tcpSocket": {"port": 8080}},
    "readinessProbe": {"tcpSocket": {"port": 8080}},
    "securityContext": {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    },
}


def workload(kind: str, name: str, ns: str, replicas: int, container: dict, spread: bool) -> dict:
    labels = {"app": name}
    pod_spec: dict = {"containers": [container]}
    if spread:
        pod_spec["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": labels},
            }
        ]
    obj = {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }
    if kind == "StatefulSet":
        obj["spec"]["serviceName"] = name
    return obj


def seeded(ns: str) -> list[dict]:
    job_container = {k: v for k, v in GOOD_CONTAINER.items() if not k.endswith("Probe")}
    return [
        # Well kept: nothing to report.
        workload("Deployment", "web", ns, 3, GOOD_CONTAINER, spread=True),
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "web", "namespace": ns},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}},
        },
        # Default deny: every workload here is selected by a NetworkPolicy.
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny", "namespace": ns},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
        },
        # A Service whose selector matches no pod.
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "ghost", "namespace": ns},
            "spec": {"selector": {"app": "gone"}, "ports": [{"port": 80}]},
        },
        # One replica of latest with no resources, no probes, no securityContext.
        workload(
            "Deployment", "lonely", ns, 1, {"name": "app", "image": "nginx:latest"}, spread=False
        ),
        # Three replicas, no PDB, nothing spreading them.
        workload("StatefulSet", "db", ns, 3, GOOD_CONTAINER, spread=False),
        # A bare Pod.
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "debug", "namespace": ns},
            "spec": {"restartPolicy": "Never", "containers": [{**job_container, "name": "shell"}]},
        },
        # A Job whose container starts sshd in the background.
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "migrate", "namespace": ns},
            "spec": {
                "template": {
                    "spec": {
                        "restartPolicy": "OnFailure",
                        "containers": [
                            {
                                **job_container,
                                "name": "migrate",
                                "command": ["sh", "-c", "/usr/sbin/sshd & exec ./migrate"],
                            }
                        ],
                    }
                }
            },
        },
    ]


EXPECTED = {
    ("Deployment", "lonely", None, "replicasBelowThree"),
    *(
        ("Deployment", "lonely", "app", check)
        for check in (
            "cpuRequestsMissing",
            "memoryRequestsMissing",
            "cpuLimitsMissing",
            "memoryLimitsMissing",
            "livenessProbeMissing",
            "readinessProbeMissing",
            "tagNotSpecified",
            "runAsRootAllowed",
            "privilegeEscalationAllowed",
            "notReadOnlyRootFilesystem",
            "insecureCapabilities",
            "seccompProfileMissing",
        )
    ),
    ("Service", "ghost", None, "serviceTargetsNothing"),
    ("StatefulSet", "db", None, "missingPodDisruptionBudget"),
    ("StatefulSet", "db", None, "podSpreadMissing"),
    ("Pod", "debug", None, "barePod"),
    ("Job", "migrate", "migrate", "multipleProcesses"),
}


def failed_checks(polaris: dict) -> set[tuple]:
    failed = set()
    for result in polaris["Results"]:
        where = (result["Kind"], result["Name"])
        pod = result["PodResult"]
        for check in [*result["Results"].values(), *pod["Results"].values()]:
            if not check["Success"]:
                failed.add((*where, None, check["ID"]))
        for container in pod["ContainerResults"]:
            for check in container["Results"].values():
                if not check["Success"]:
                    failed.add((*where, container["Name"], check["ID"]))
    return failed


@pytest.fixture
def audit_namespace(lab):
    ns = f"audit-{uuid.uuid4().hex[:8]}"
    lab.kubectl("create", "namespace", ns)
    try:
        yield ns
    finally:
        lab.kubectl("delete", "namespace", ns, "--wait=false", check=False)


def test_audit_reports_exactly_the_seeded_findings(lab, audit_namespace, tmp_path):
    objects = seeded(audit_namespace)
    assert_valid_manifests(objects)
    lab.kubectl("apply", "-f", "-", input="\n---\n".join(json.dumps(o) for o in objects))
    lab.kubectl("-n", audit_namespace, "rollout", "status", "deployment/web", "--timeout=120s")

    args = (
        "-e",
        json.dumps(
            {
                "audit_workloads_namespaces": [audit_namespace],
                "audit_workloads_report_dir": str(tmp_path),
            }
        ),
    )
    first = lab.playbook("audit-workloads.yml", *args)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    report = json.loads((tmp_path / "audit-workloads.json").read_text())
    assert report["SourceType"] == "Cluster"
    assert {r["Namespace"] for r in report["Results"]} == {audit_namespace}
    assert failed_checks(report) == EXPECTED
    markdown = (tmp_path / "audit-workloads.md").read_text()
    assert f"{len(EXPECTED)} finding(s)" in markdown

    again = lab.playbook("audit-workloads.yml", *args)
    assert recap(again.stdout)["localhost"]["changed"] == 0
    checked = lab.playbook("audit-workloads.yml", "--check", *args)
    assert recap(checked.stdout)["localhost"]["changed"] == 0

    gated = lab.playbook("audit-workloads.yml", *args, "-e", "audit_workloads_fail_on=danger")
    assert gated.returncode == 2
    assert "finding(s) at or above danger" in gated.stdout


def test_unreachable_api_fails_naming_the_server(lab, tmp_path):
    config = yaml.safe_load(lab.kubeconfig.read_text())
    for cluster in config["clusters"]:
        cluster["cluster"]["server"] = "https://127.0.0.1:1"  # nothing listens there
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    result = lab.playbook(
        "audit-workloads.yml",
        "-e",
        json.dumps(
            {
                "audit_workloads_kubeconfig": str(kubeconfig),
                "audit_workloads_report_dir": str(tmp_path),
            }
        ),
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stdout
    assert "cannot reach the Kubernetes API server" in result.stdout
