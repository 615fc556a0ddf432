"""Workload checks on plain dicts: every check fails on its bad case and passes on the good one."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_audit import (
    audit,
    findings,
    process_signs,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError
from tests.unit.manifests import assert_valid_manifest

CONTAINER = {
    "name": "app",
    "image": "registry.cn-hangzhou.aliyuncs.com/shop/web:1.4.2",
    "resources": {
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"cpu": "1", "memory": "512Mi"},
    },
    "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
    "securityContext": {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    },
}
# Default deny for the namespace: every workload in it is selected by a NetworkPolicy.
NETPOL = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "default-deny", "namespace": "shop"},
    "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
}
SPREAD = [
    {
        "maxSkew": 1,
        "topologyKey": "kubernetes.io/hostname",
        "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": {"app": "web"}},
    }
]


def deployment(kind="Deployment", replicas=3, **spec_changes):
    pod_spec = {"containers": [copy.deepcopy(CONTAINER)], "topologySpreadConstraints": SPREAD}
    pod_spec.update(spec_changes)
    obj = {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec},
        },
    }
    if kind == "StatefulSet":
        obj["spec"]["serviceName"] = "web"
    return obj


PDB = {
    "apiVersion": "policy/v1",
    "kind": "PodDisruptionBudget",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}},
}


def job(restart_policy="OnFailure"):
    container = {k: v for k, v in CONTAINER.items() if not k.endswith("Probe")}
    spec = {"containers": [container]}
    if restart_policy:
        spec["restartPolicy"] = restart_policy
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate", "namespace": "shop"},
        "spec": {"template": {"spec": spec}},
    }


def checks_failed(*objects, skip=()):
    objects = [*objects, NETPOL]
    return sorted(
        (f["check"], f["container"]) for f in findings(audit([(o, "test") for o in objects], skip))
    )


def test_good_workloads_pass_every_check():
    good = [deployment(), PDB, deployment("StatefulSet"), job()]
    for obj in good:
        assert_valid_manifest(obj)
    assert checks_failed(*good) == []


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda c: c["resources"]["requests"].pop("cpu"), "cpuRequestsMissing"),
        (lambda c: c["resources"]["requests"].pop("memory"), "memoryRequestsMissing"),
        (lambda c: c["resources"]["limits"].pop("cpu"), "cpuLimitsMissing"),
        (lambda c: c["resources"]["limits"].pop("memory"), "memoryLimitsMissing"),
        (lambda c: c.pop("livenessProbe"), "livenessProbeMissing"),
        (lambda c: c.pop("readinessProbe"), "readinessProbeMissing"),
        (lambda c: c.update(image="nginx"), "tagNotSpecified"),
        (lambda c: c.update(image="nginx:latest"), "tagNotSpecified"),
        (lambda c: c.update(image="registry:5000/team/nginx"), "tagNotSpecified"),
        (lambda c: c.update(command=["/usr/bin/supervisord", "-n"]), "multipleProcesses"),
    ],
)
def test_each_container_check_fails_alone(mutate, expected):
    obj = deployment()
    mutate(obj["spec"]["template"]["spec"]["containers"][0])
    assert_valid_manifest(obj)
    assert checks_failed(obj, PDB) == [(expected, "app")]


def test_registry_port_and_digest_are_not_mistaken_for_missing_tags():
    obj = deployment()
    container = obj["spec"]["template"]["spec"]["containers"][0]
    container["image"] = "registry:5000/team/nginx:1.27"
    assert checks_failed(obj, PDB) == []
    container["image"] = "nginx@sha256:" + "a" * 64
    assert checks_failed(obj, PDB) == []


@pytest.mark.parametrize(
    ("command", "sign"),
    [
        (["sh", "-c", "/usr/sbin/sshd && exec nginx -g 'daemon off;'"], "starts sshd"),
        (["/bin/bash", "-c", "crond; exec java -jar app.jar"], "starts crond"),
        (
            ["sh", "-c", "service nginx start && tail -f /var/log/nginx/access.log"],
            "starts a service ('service nginx start')",
        ),
        (["sh", "-c", "redis-server & exec node server.js"], "backgrounds a process with '&'"),
        (["sh", "-c", "nohup worker.sh > /dev/null 2>&1 && exec app"], "uses nohup"),
    ],
)
def test_signs_of_several_processes(command, sign):
    assert sign in process_signs({"command": command})


@pytest.mark.parametrize(
    "command",
    [
        ["nginx", "-g", "daemon off;"],
        ["sh", "-c", "exec java -jar app.jar 2>&1 | tee /proc/1/fd/1"],
        ["sh", "-c", "test -f /cfg && exec app --url 'http://x/?a=1&b=2'"],
        ["python", "-m", "gunicorn", "app:api"],
    ],
)
def test_one_process_commands_are_not_flagged(command):
    assert process_signs({"command": command}) == []


def test_bare_pod_is_flagged_and_probes_follow_its_restart_policy():
    container = {k: v for k, v in CONTAINER.items() if not k.endswith("Probe")}
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "debug", "namespace": "shop"},
        "spec": {"containers": [container]},
    }
    assert_valid_manifest(pod)
    assert checks_failed(pod) == [
        ("barePod", None),
        ("livenessProbeMissing", "app"),
        ("readinessProbeMissing", "app"),
    ]
    pod["spec"]["restartPolicy"] = "Never"  # runs to completion: probes do not apply
    assert checks_failed(pod) == [("barePod", None)]


def test_owned_pods_replica_sets_and_jobs_are_audited_through_their_owner():
    owned = {
        "ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "web-1",
                "uid": "u",
                "controller": True,
            }
        ]
    }
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-1-x", "namespace": "shop", **owned},
        "spec": {"containers": [{"name": "app", "image": "nginx"}]},
    }
    assert checks_failed(pod) == []


@pytest.mark.parametrize(
    ("replicas", "expected"),
    [
        (1, [("replicasBelowThree", None)]),  # one replica: nothing to spread or protect with a PDB
        (2, [("replicasBelowThree", None)]),
        (3, []),
    ],
)
def test_replicas_below_three(replicas, expected):
    assert checks_failed(deployment(replicas=replicas), PDB) == expected


def test_hpa_min_replicas_counts_as_replicas():
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 3,
            "maxReplicas": 10,
        },
    }
    assert_valid_manifest(hpa)
    assert checks_failed(deployment(replicas=1), PDB, hpa) == []


def test_missing_pod_disruption_budget():
    assert checks_failed(deployment()) == [("missingPodDisruptionBudget", None)]
    other_namespace = copy.deepcopy(PDB)
    other_namespace["metadata"]["namespace"] = "other"
    assert checks_failed(deployment(), other_namespace) == [("missingPodDisruptionBudget", None)]
    by_expression = copy.deepcopy(PDB)
    by_expression["spec"]["selector"] = {
        "matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]
    }
    assert checks_failed(deployment(), by_expression) == []


def test_missing_spread_and_anti_affinity_counts_as_spread():
    obj = deployment(topologySpreadConstraints=[])
    assert checks_failed(obj, PDB) == [("podSpreadMissing", None)]
    anti = {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "topologyKey": "kubernetes.io/hostname",
                        "labelSelector": {"matchLabels": {"app": "web"}},
                    },
                }
            ]
        }
    }
    obj = deployment(topologySpreadConstraints=[], affinity=anti)
    assert_valid_manifest(obj)
    assert checks_failed(obj, PDB) == []


@pytest.mark.parametrize(
    ("obj", "bad"),
    [
        (deployment(restartPolicy="OnFailure"), True),
        (deployment(restartPolicy="Always"), False),
        (job("Always"), True),
        (job(None), True),
        (job("Never"), False),
    ],
)
def test_restart_policy_must_suit_the_kind(obj, bad):
    assert (("restartPolicyMismatch", None) in checks_failed(obj, PDB)) is bad


def test_cronjob_template_is_audited():
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "report", "namespace": "shop"},
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": job("Always")["spec"]}},
    }
    assert_valid_manifest(cron)
    assert checks_failed(cron) == [("restartPolicyMismatch", None)]


def test_exemptions_by_annotation_and_by_option():
    obj = deployment(replicas=1)
    obj["metadata"]["annotations"] = {"ackops.runbooks/exempt-checks": "replicasBelowThree"}
    assert checks_failed(obj) == []
    assert checks_failed(deployment(replicas=1), skip=["replicasBelowThree"]) == []


def test_unknown_skip_check_names_the_value():
    with pytest.raises(InputError) as exc:
        audit([], ["tagNotSpecifed"])
    assert str(exc.value).startswith("skip_checks: ['tagNotSpecifed'] names unknown check(s)")


def test_a_finding_names_object_container_check_severity_and_fix():
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx"
    (finding,) = findings(
        audit([(obj, "deploy/web.yaml#1"), (PDB, "deploy/web.yaml#2"), (NETPOL, "np.yaml#1")])
    )
    assert finding == {
        "object": {
            "kind": "Deployment",
            "namespace": "shop",
            "name": "web",
            "source": "deploy/web.yaml#1",
        },
        "container": "app",
        "check": "tagNotSpecified",
        "severity": "danger",
        "category": "Reliability",
        "message": "deploy/web.yaml#1: Deployment shop/web container app: "
        "Image has no tag or uses latest "
        "(image 'nginx')",
        "fix": "pin the image to a version tag or digest (never latest)",
    }


def test_findings_are_sorted_most_severe_first():
    obj = deployment(replicas=1)
    obj["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx"
    severities = [f["severity"] for f in findings(audit([(obj, "t")]))]
    assert severities == sorted(severities, key=lambda s: s != "danger")
