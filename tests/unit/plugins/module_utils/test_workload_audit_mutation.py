"""workload_audit.py's decisions its first complete mutation run (session 6) found untested.

Expected values are written by hand from the Kubernetes API reference (policy/v1
PodDisruptionBudgetSpec.selector: "A null selector will match no pods, while an empty
({}) selector will select all pods within the namespace"), the audit's documented
inputs (check ids, the exemption annotation, the configuration file) and Python's repr
of the values involved; none is read back from the module's tables.
"""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_audit import (
    audit,
    findings,
    parse_config,
)
from tests.unit.plugins.module_utils.test_audit_oracle import FIX_NAMES
from tests.unit.plugins.module_utils.test_workload_audit import (
    CONTAINER,
    NETPOL,
    PDB,
    deployment,
    job,
)


def found(objects, source="t"):
    return findings(audit([(obj, source) for obj in objects]))


def checks_of(objects, source="t"):
    return sorted(f["check"] for f in found(objects, source))


# --- PodDisruptionBudget selectors (policy/v1) ---------------------------------------


def test_a_pdb_without_a_selector_protects_no_pod():
    no_selector = copy.deepcopy(PDB)
    del no_selector["spec"]["selector"]
    assert "missingPodDisruptionBudget" in checks_of([deployment(), NETPOL, no_selector])


def test_a_pdb_with_an_empty_selector_protects_every_pod_of_its_namespace():
    everything = copy.deepcopy(PDB)
    everything["spec"]["selector"] = {}
    assert "missingPodDisruptionBudget" not in checks_of([deployment(), NETPOL, everything])
    # ... of its own namespace only
    elsewhere = copy.deepcopy(everything)
    elsewhere["metadata"]["namespace"] = "other"
    assert "missingPodDisruptionBudget" in checks_of([deployment(), NETPOL, elsewhere])


# --- malformed fields: each named by its full path, its value described ----------------


def invalid_details(objects) -> list[str]:
    return sorted(
        r["details"]
        for r in audit([(obj, "t") for obj in objects])
        if r["check"] == "invalidObject" and not r["success"]
    )


C0 = "spec.template.spec.containers[0]"


def with_container(**fields):
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0].update(fields)
    return obj


@pytest.mark.parametrize(
    ("fields", "details"),
    [
        ({"resources": "x"}, f"{C0}.resources is a string ('x'), expected a mapping"),
        (
            {"resources": {"limits": 5}},
            f"{C0}.resources.limits is a number (5), expected a mapping",
        ),
        ({"command": "run"}, f"{C0}.command is a string ('run'), expected a list"),
        ({"args": "--fast"}, f"{C0}.args is a string ('--fast'), expected a list"),
        (
            {"ports": {"containerPort": 80}},
            f"{C0}.ports is a mapping ({{'containerPort': 80}}), expected a list",
        ),
        ({"image": 5}, f"{C0}.image is a number (5), expected a string"),
        ({"imagePullPolicy": True}, f"{C0}.imagePullPolicy is a boolean (True), expected a string"),
        ({"securityContext": []}, f"{C0}.securityContext is a list ([]), expected a mapping"),
    ],
)
def test_a_malformed_container_field_is_named_by_its_path(fields, details):
    assert details in invalid_details([with_container(**fields), NETPOL, PDB])


def test_a_value_of_another_type_is_described_by_its_type_name():
    # YAML turns 2024-01-01 into a date: neither a string nor a number.
    obj = deployment()
    obj["metadata"]["name"] = dt.date(2024, 1, 1)
    assert invalid_details([obj]) == [
        "metadata.name is date (datetime.date(2024, 1, 1)), expected a string"
    ]
    obj["metadata"]["name"] = 1.5
    assert invalid_details([obj]) == ["metadata.name is a number (1.5), expected a string"]


def test_a_long_value_is_cut_after_40_characters():
    # repr(["a" * 36]) is 40 characters: shown whole; longer, its first 40 and "...".
    obj = deployment()
    obj["metadata"]["name"] = ["a" * 36]
    assert invalid_details([obj]) == [
        f"metadata.name is a list (['{'a' * 36}']), expected a string"
    ]
    obj["metadata"]["name"] = ["a" * 37]
    assert invalid_details([obj]) == [
        f"metadata.name is a list (['{'a' * 37}'...), expected a string"
    ]
    obj["metadata"]["name"] = ["a" * 38]
    assert invalid_details([obj]) == [
        f"metadata.name is a list (['{'a' * 38}...), expected a string"
    ]


def test_a_pdb_whose_spec_is_not_a_mapping_is_named():
    bad = copy.deepcopy(PDB)
    bad["spec"] = ["maxUnavailable", 1]
    assert invalid_details([bad]) == ["spec is a list (['maxUnavailable', 1]), expected a mapping"]


def hpa(**spec):
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": spec,
    }


def test_a_malformed_scale_target_is_named():
    details = invalid_details([hpa(scaleTargetRef={"kind": 5, "name": ["web"]}, maxReplicas=3)])
    assert details == [
        "spec.scaleTargetRef.kind is a number (5), expected a string",
        "spec.scaleTargetRef.name is a list (['web']), expected a string",
    ]


def test_an_hpa_without_min_replicas_counts_as_one():
    # autoscaling/v2: minReplicas defaults to 1. A one-replica Deployment under such an
    # HPA stays at one replica: too few, and no PDB/spread check (they need two or more).
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    results = audit(
        [
            (deployment(replicas=1), "t"),
            (NETPOL, "t"),
            (hpa(scaleTargetRef=target, maxReplicas=5), "t"),
        ]
    )
    by_check = {r["check"]: r for r in results if r["object"]["kind"] == "Deployment"}
    assert by_check["replicasBelowThree"]["details"] == "1 replica(s)"
    assert "missingPodDisruptionBudget" not in by_check
    assert "podSpreadMissing" not in by_check


def service(selector, **spec):
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"selector": selector, **spec},
    }


def test_a_service_selector_value_that_is_not_a_string_is_named():
    assert invalid_details([service({"app": 5})]) == [
        "spec.selector.app is a number (5), expected a string"
    ]


def test_an_external_name_service_selects_nothing_and_is_not_checked():
    # type ExternalName is a DNS alias: its selector is not used.
    alias = service({"app": "gone"}, type="ExternalName", externalName="db.example.com")
    assert "serviceTargetsNothing" not in checks_of([alias])
    assert "serviceTargetsNothing" in checks_of([service({"app": "gone"})])


def test_a_service_without_spec_is_not_a_failure():
    bare = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x", "namespace": "shop"}}
    assert found([bare]) == []


def test_a_network_policy_without_pod_selector_selects_its_whole_namespace():
    # NetworkPolicySpec.podSelector: empty (and an omitted one is empty) selects all pods.
    open_policy = copy.deepcopy(NETPOL)
    del open_policy["spec"]["podSelector"]
    assert "missingNetworkPolicy" not in checks_of([deployment(), PDB, open_policy])


def test_skipped_objects_are_counted_per_reason():
    from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_audit import (
        Auditor,
    )

    auditor = Auditor()
    for name in ("a", "b", "c"):
        auditor.add({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})
    counts = auditor.finish()["counts"]
    assert counts["skipped"] == 3
    assert counts["skipped_by_reason"] == {"not a workload (ConfigMap)": 3}


# --- images ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "pinned"),
    [
        ("registry.example.com/shop/web:1.4.2", True),
        ("registry.example.com:5000/shop/web:1.4.2", True),
        ("registry.example.com:5000/shop/web", False),
        ("web:latest", False),
        ("web:", False),
        ("web", False),
        ("web@sha256:" + "a" * 64, True),
    ],
)
def test_image_references_pinned_or_not(image, pinned):
    checks = checks_of([with_container(image=image), NETPOL, PDB])
    assert ("tagNotSpecified" not in checks) is pinned


def test_a_container_without_image_says_so():
    obj = deployment()
    del obj["spec"]["template"]["spec"]["containers"][0]["image"]
    results = [r for r in audit([(obj, "t")]) if r["check"] == "tagNotSpecified"]
    assert [r["details"] for r in results] == ["no image"]


# --- findings' wording -------------------------------------------------------------------


def test_a_finding_names_its_source_unless_read_from_the_cluster():
    obj = with_container(imagePullPolicy="Always", image="web:latest")
    messages = {
        source: [
            f["message"]
            for f in found([obj, NETPOL, PDB], source)
            if f["check"] == "tagNotSpecified"
        ]
        for source in ("cluster", "", "apps/web.yaml#1")
    }
    assert messages["cluster"] == [
        "Deployment shop/web container app: Image has no tag or uses latest (image 'web:latest')"
    ]
    assert messages[""] == messages["cluster"]
    assert messages["apps/web.yaml#1"] == [
        "apps/web.yaml#1: Deployment shop/web container app: Image has no tag or uses latest "
        "(image 'web:latest')"
    ]


def test_a_finding_without_details_has_no_parentheses():
    obj = deployment()
    del obj["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"]
    (finding,) = [
        f for f in found([obj, NETPOL, PDB], "cluster") if f["check"] == "cpuRequestsMissing"
    ]
    assert finding["message"].startswith("Deployment shop/web container app: ")
    assert not finding["message"].endswith(")")
    assert "XX" not in finding["message"]


# --- configuration warnings ---------------------------------------------------------------


def test_an_unknown_check_in_the_configuration_suggests_the_closest_or_lists_all():
    config = parse_config(
        {"checks": {"cpuRequestMissing": "warning", "zzz": "ignore"}}, "audit.yml"
    )
    assert config.warnings == [
        "audit.yml: checks.cpuRequestMissing: unknown check id (ignored); "
        "did you mean cpuRequestsMissing?",
        f"audit.yml: checks.zzz: unknown check id (ignored); known: {', '.join(sorted(FIX_NAMES))}",
    ]


# --- running as root: the container's securityContext over the pod's ------------------


def root_result(container_sc: dict, pod_sc: dict | None = None) -> dict:
    obj = deployment()
    pod = obj["spec"]["template"]["spec"]
    pod["containers"][0]["securityContext"] = container_sc
    if pod_sc is not None:
        pod["securityContext"] = pod_sc
    (result,) = [r for r in audit([(obj, "t")]) if r["check"] == "runAsRootAllowed"]
    return result


@pytest.mark.parametrize(
    ("container_sc", "pod_sc", "ok", "details"),
    [
        # nothing set: the image's user, root unless it says otherwise
        ({}, None, False, ""),
        ({}, {"runAsNonRoot": True}, True, ""),  # inherited from the pod
        ({}, {"runAsUser": 1}, True, ""),  # uid 1 is not root
        ({}, {"runAsUser": 0}, False, "runAsUser: 0"),
        ({"runAsUser": 1000}, {"runAsUser": 0}, True, ""),  # the container's uid wins
        ({"runAsUser": 0}, {"runAsNonRoot": True}, False, "runAsUser: 0"),
        ({"runAsNonRoot": False}, {"runAsNonRoot": True}, False, ""),  # container wins
        ({"runAsNonRoot": True}, {"runAsNonRoot": False}, True, ""),
    ],
)
def test_run_as_root_follows_the_container_then_the_pod(container_sc, pod_sc, ok, details):
    result = root_result(container_sc, pod_sc)
    assert (result["success"], result["details"]) == (ok, details)


def test_malformed_run_as_fields_are_named_at_each_level():
    obj = deployment()
    pod = obj["spec"]["template"]["spec"]
    pod["containers"][0]["securityContext"] = {
        "runAsNonRoot": "yes",
        "allowPrivilegeEscalation": "no",
    }
    pod["securityContext"] = {"runAsNonRoot": "yes", "runAsUser": "1000"}
    assert invalid_details([obj]) == [
        f"{C0}.securityContext.allowPrivilegeEscalation is a string ('no'), expected true or false",
        f"{C0}.securityContext.runAsNonRoot is a string ('yes'), expected true or false",
        "spec.template.spec.securityContext.runAsNonRoot is a string ('yes'), expected true or false",
        "spec.template.spec.securityContext.runAsUser is a string ('1000'), expected a whole number",
    ]


def test_a_privileged_container_says_privileged_for_both_checks():
    obj = with_container(securityContext={"privileged": True, "allowPrivilegeEscalation": False})
    details = {
        r["check"]: r["details"]
        for r in audit([(obj, "t")])
        if r["check"] in ("runAsPrivileged", "privilegeEscalationAllowed")
    }
    # privileged implies escalation whatever allowPrivilegeEscalation says
    assert details == {
        "runAsPrivileged": "privileged: true",
        "privilegeEscalationAllowed": "privileged: true",
    }


def test_several_process_signs_are_listed_apart():
    obj = with_container(command=["sh", "-c", "crond; nohup worker"])
    (result,) = [r for r in audit([(obj, "t")]) if r["check"] == "multipleProcesses"]
    assert result["details"] == "starts crond; uses nohup"


@pytest.mark.parametrize(
    ("check", "remove"),
    [
        ("cpuRequestsMissing", ("resources", "requests", "cpu")),
        ("memoryRequestsMissing", ("resources", "requests", "memory")),
        ("cpuLimitsMissing", ("resources", "limits", "cpu")),
        ("memoryLimitsMissing", ("resources", "limits", "memory")),
        ("livenessProbeMissing", ("livenessProbe",)),
        ("readinessProbeMissing", ("readinessProbe",)),
    ],
)
def test_a_missing_field_has_no_details(check, remove):
    obj = deployment()
    where = obj["spec"]["template"]["spec"]["containers"][0]
    for key in remove[:-1]:
        where = where[key]
    del where[remove[-1]]
    (result,) = [r for r in audit([(obj, "t")]) if r["check"] == check]
    assert (result["success"], result["details"]) == (False, "")


# --- the rest of the container securityContext -----------------------------------------


def container_details(sc: dict) -> dict:
    obj = with_container(securityContext=sc)
    return {r["check"]: (r["success"], r["details"]) for r in audit([(obj, "t")])}


def test_privilege_escalation_details_say_unset_or_true():
    assert container_details({})["privilegeEscalationAllowed"] == (
        False,
        "allowPrivilegeEscalation: unset",
    )
    assert container_details({"allowPrivilegeEscalation": True})["privilegeEscalationAllowed"] == (
        False,
        "allowPrivilegeEscalation: true",
    )
    assert container_details({"allowPrivilegeEscalation": False})["privilegeEscalationAllowed"] == (
        True,
        "",
    )


def test_added_capabilities_beyond_the_baseline_are_listed_by_their_names():
    # Pod Security Standards (baseline) allow adding CHOWN, KILL and the other defaults
    # of container runtimes; NET_ADMIN and SYS_TIME are not among them. Names are matched
    # without a CAP_ prefix and whatever their case.
    checks = container_details(
        {"capabilities": {"add": ["NET_ADMIN", "cap_sys_time", "CAP_CHOWN", "kill"]}}
    )
    assert checks["dangerousCapabilities"] == (False, "adds NET_ADMIN, SYS_TIME")
    assert container_details({"capabilities": {"add": ["CAP_CHOWN"], "drop": ["ALL"]}})[
        "dangerousCapabilities"
    ] == (True, "")


def test_checks_without_details_say_nothing_more():
    checks = container_details({})
    assert checks["notReadOnlyRootFilesystem"] == (False, "")
    assert checks["insecureCapabilities"] == (False, "")
    assert checks["seccompProfileMissing"] == (False, "seccompProfile unset")


def test_malformed_security_context_fields_are_named_by_their_path():
    sc = f"{C0}.securityContext"
    assert invalid_details(
        [with_container(securityContext={"readOnlyRootFilesystem": "yes", "capabilities": "ALL"})]
    ) == [
        f"{sc}.capabilities is a string ('ALL'), expected a mapping",
        f"{sc}.readOnlyRootFilesystem is a string ('yes'), expected true or false",
    ]
    assert invalid_details(
        [with_container(securityContext={"capabilities": {"drop": "ALL", "add": "NET_ADMIN"}})]
    ) == [
        f"{sc}.capabilities.add is a string ('NET_ADMIN'), expected a list",
        f"{sc}.capabilities.drop is a string ('ALL'), expected a list",
    ]
    assert invalid_details(
        [with_container(securityContext={"seccompProfile": "RuntimeDefault"})]
    ) == [f"{sc}.seccompProfile is a string ('RuntimeDefault'), expected a mapping"]


@pytest.mark.parametrize(
    ("profile", "ok", "details"),
    [
        ({"type": "RuntimeDefault"}, True, ""),
        ({"type": "Localhost", "localhostProfile": "profiles/web.json"}, True, ""),
        ({"type": "Unconfined"}, False, "seccompProfile Unconfined"),
    ],
)
def test_seccomp_runtime_default_or_localhost_pass(profile, ok, details):
    checks = container_details({"seccompProfile": profile})
    assert checks["seccompProfileMissing"] == (ok, details)


def test_host_ports_are_listed():
    obj = with_container(
        ports=[
            {"containerPort": 80, "hostPort": 8080},
            {"containerPort": 443, "hostPort": 8443},
            {"containerPort": 9090},
        ]
    )
    (result,) = [r for r in audit([(obj, "t")]) if r["check"] == "hostPortSet"]
    assert (result["success"], result["details"]) == (False, "hostPort 8080, 8443")
    (result,) = [
        r
        for r in audit([(with_container(ports=[{"containerPort": 80}]), "t")])
        if r["check"] == "hostPortSet"
    ]
    assert (result["success"], result["details"]) == (True, "")


# --- process signs: command and args together, shells by their path ---------------------


def signs(**fields) -> str:
    (result,) = [
        r for r in audit([(with_container(**fields), "t")]) if r["check"] == "multipleProcesses"
    ]
    return result["details"]


def test_the_script_may_be_in_args():
    # Kubernetes runs command + args: `sh -c` in command, the script in args.
    assert signs(command=["sh", "-c"], args=["worker & server"]) == "backgrounds a process with '&'"
    assert signs(args=["sshd", "-D"]) == "starts sshd"


@pytest.mark.parametrize("shell", ["/bin/sh", "/usr/local/bin/bash", "ash"])
def test_a_shell_is_known_by_its_base_name(shell):
    assert signs(command=[shell, "-c", "worker & server"]) == "backgrounds a process with '&'"


def test_a_program_that_is_not_a_shell_has_no_shell_script():
    assert signs(command=["app", "-c", "config&debug"]) == ""


def test_a_bare_pod_restart_policy_outside_the_api_values_is_named():
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "shop"},
        "spec": {
            "restartPolicy": "Sometimes",
            "containers": [
                copy.deepcopy(deployment()["spec"]["template"]["spec"]["containers"][0])
            ],
        },
    }
    (result,) = [r for r in audit([(pod, "t")]) if r["check"] == "restartPolicyMismatch"]
    assert (result["success"], result["details"]) == (False, "restartPolicy Sometimes")


# --- bare Pods, CronJobs and Jobs: their own paths and restart policies -----------------


def bare_pod(**changes):
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {"containers": [copy.deepcopy(CONTAINER)]},
    }
    pod.update(changes)
    return pod


@pytest.mark.parametrize("policy", ["Always", "OnFailure", "Never"])
def test_a_bare_pod_may_have_any_restart_policy_of_the_api(policy):
    pod = bare_pod()
    pod["spec"]["restartPolicy"] = policy
    (result,) = [r for r in audit([(pod, "t")]) if r["check"] == "restartPolicyMismatch"]
    assert result["success"] is True


def test_a_job_without_restart_policy_says_unset():
    (result,) = [r for r in audit([(job(None), "t")]) if r["check"] == "restartPolicyMismatch"]
    assert (result["success"], result["details"]) == (False, "Job with restartPolicy unset")


def test_a_bare_pod_is_matched_by_its_own_labels():
    web_only = copy.deepcopy(NETPOL)
    web_only["spec"]["podSelector"] = {"matchLabels": {"app": "web"}}
    assert "missingNetworkPolicy" not in checks_of([bare_pod(), web_only])
    other = copy.deepcopy(web_only)
    other["spec"]["podSelector"] = {"matchLabels": {"app": "db"}}
    assert "missingNetworkPolicy" in checks_of([bare_pod(), other])


def test_a_bare_pod_names_its_fields_from_spec():
    pod = bare_pod()
    pod["spec"]["containers"][0]["image"] = 5
    assert invalid_details([pod]) == ["spec.containers[0].image is a number (5), expected a string"]


def test_a_bare_pod_with_malformed_metadata_is_named_once():
    pod = bare_pod(metadata=["p"])
    assert invalid_details([pod]) == ["metadata is a list (['p']), expected a mapping"]


@pytest.mark.parametrize("missing", ["metadata", "spec"])
def test_a_bare_pod_without_metadata_or_spec_is_reported_not_a_crash(missing):
    pod = bare_pod()
    del pod[missing]
    details = invalid_details([pod])
    if missing == "spec":
        assert details == ["spec.containers lists no container"]
    # without metadata: audited all the same (its checks ran)
    assert any(r["check"] == "barePod" for r in audit([(pod, "t")]))


@pytest.mark.parametrize(
    ("job_template", "details"),
    [
        ("x", "spec.jobTemplate is a string ('x'), expected a mapping"),
        ({"spec": "x"}, "spec.jobTemplate.spec is a string ('x'), expected a mapping"),
    ],
)
def test_a_malformed_cronjob_template_is_named_by_its_path(job_template, details):
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": "shop"},
        "spec": {"schedule": "0 3 * * *", "jobTemplate": job_template},
    }
    assert details in invalid_details([cron])


def test_malformed_template_fields_are_named_by_their_paths():
    obj = deployment()
    template = obj["spec"]["template"]
    template["metadata"]["labels"]["tier"] = 5
    template["spec"]["restartPolicy"] = 5
    template["spec"]["securityContext"] = {"seccompProfile": "RuntimeDefault"}
    assert invalid_details([obj]) == [
        "spec.template.metadata.labels.tier is a number (5), expected a string",
        "spec.template.spec.restartPolicy is a number (5), expected a string",
        "spec.template.spec.securityContext.seccompProfile is a string ('RuntimeDefault'), "
        "expected a mapping",
    ]
    obj["spec"]["template"]["metadata"] = "x"
    assert "spec.template.metadata is a string ('x'), expected a mapping" in invalid_details([obj])


def test_a_cronjob_template_label_is_named_by_its_full_path():
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": "shop"},
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": job()["spec"]}},
    }
    cron["spec"]["jobTemplate"]["spec"]["template"]["metadata"] = {"labels": {"tier": 5}}
    assert invalid_details([cron]) == [
        "spec.jobTemplate.spec.template.metadata.labels.tier is a number (5), expected a string"
    ]


def test_a_bare_pod_label_is_named_once_from_metadata():
    pod = bare_pod()
    pod["metadata"]["labels"]["tier"] = 5
    assert invalid_details([pod]) == ["metadata.labels.tier is a number (5), expected a string"]


def test_a_bare_pod_that_restarts_always_is_long_running_and_needs_probes():
    pod = bare_pod()
    for probe in ("livenessProbe", "readinessProbe"):
        del pod["spec"]["containers"][0][probe]
    pod["spec"]["restartPolicy"] = "Always"
    assert "livenessProbeMissing" in checks_of([pod])
    pod["spec"]["restartPolicy"] = "Never"
    assert "livenessProbeMissing" not in checks_of([pod])


@pytest.mark.parametrize("value", ["runtime/default", "docker/default"])
def test_the_old_seccomp_pod_annotation_counts_as_runtime_default(value):
    obj = deployment()
    del obj["spec"]["template"]["spec"]["containers"][0]["securityContext"]["seccompProfile"]
    obj["spec"]["template"]["metadata"]["annotations"] = {
        "seccomp.security.alpha.kubernetes.io/pod": value
    }
    assert "seccompProfileMissing" not in checks_of([obj, NETPOL, PDB])
    obj["spec"]["template"]["metadata"]["annotations"] = {
        "seccomp.security.alpha.kubernetes.io/pod": "unconfined"
    }
    assert "seccompProfileMissing" in checks_of([obj, NETPOL, PDB])


def pod_level(**spec_changes) -> dict:
    obj = deployment(**spec_changes)
    return {r["check"]: (r["success"], r["details"]) for r in audit([(obj, "t")])}


def test_host_namespaces_name_the_field_set():
    checks = pod_level(hostNetwork=True, hostPID=True, hostIPC=True)
    assert checks["hostNetworkSet"] == (False, "hostNetwork: true")
    assert checks["hostPIDSet"] == (False, "hostPID: true")
    assert checks["hostIPCSet"] == (False, "hostIPC: true")
    assert pod_level(hostNetwork=False)["hostNetworkSet"] == (True, "")


def test_host_path_volumes_are_listed_by_name():
    checks = pod_level(
        volumes=[
            {"name": "data", "hostPath": {"path": "/srv/data"}},
            {"name": "cache", "emptyDir": {}},
            {"name": "logs", "hostPath": {"path": "/var/log", "type": "Directory"}},
        ]
    )
    assert checks["hostPathSet"] == (False, "volumes data, logs")


def test_a_container_without_a_name_is_named_by_its_index():
    obj = deployment()
    del obj["spec"]["template"]["spec"]["containers"][0]["name"]
    containers = {r["container"] for r in audit([(obj, "t")]) if r["check"] == "cpuRequestsMissing"}
    assert containers == {"#0"}


def test_skipped_checks_are_skipped_for_containers_and_host_paths_too():
    obj = deployment(volumes=[{"name": "data", "hostPath": {"path": "/srv/data"}}])
    del obj["spec"]["template"]["spec"]["containers"][0]["resources"]
    skip = ["cpuRequestsMissing", "hostPathSet"]
    checks = {r["check"] for r in audit([(obj, "t")], skip)}
    assert "cpuRequestsMissing" not in checks
    assert "hostPathSet" not in checks
    assert "memoryRequestsMissing" in checks
    # the same by the exemption annotation on the object
    obj["metadata"]["annotations"] = {
        "ackops.runbooks/exempt-checks": "cpuRequestsMissing,hostPathSet"
    }
    checks = {r["check"] for r in audit([(obj, "t")])}
    assert "cpuRequestsMissing" not in checks
    assert "hostPathSet" not in checks


def test_a_bare_pod_is_flagged_with_its_reason_and_can_be_skipped():
    results = {r["check"]: (r["success"], r["details"]) for r in audit([(bare_pod(), "t")])}
    assert results["barePod"] == (False, "no ownerReferences")
    skipped = {r["check"] for r in audit([(bare_pod(), "t")], ["barePod", "restartPolicyMismatch"])}
    assert "barePod" not in skipped
    assert "restartPolicyMismatch" not in skipped


def test_a_deployment_without_replicas_has_one():
    # apps/v1 DeploymentSpec.replicas defaults to 1.
    obj = deployment()
    del obj["spec"]["replicas"]
    assert pod_level_of(obj)["replicasBelowThree"] == (False, "1 replica(s)")


def pod_level_of(obj) -> dict:
    return {r["check"]: (r["success"], r["details"]) for r in audit([(obj, "t")])}


def test_a_malformed_affinity_is_named_by_its_path():
    assert invalid_details([deployment(affinity=[])]) == [
        "spec.template.spec.affinity is a list ([]), expected a mapping"
    ]


# --- API lifecycle (Kubernetes deprecation guide: policy/v1beta1 PodDisruptionBudget is
# deprecated in 1.21 and no longer served from 1.25; policy/v1 replaces it) -------------


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("1.20", None),
        (
            "1.21",
            (
                "deprecatedApiVersion",
                "policy/v1beta1 PodDisruptionBudget is deprecated since 1.21, removed in 1.25 "
                "(target 1.21); use policy/v1",
            ),
        ),
        (
            "v1.25.3",
            (
                "removedApiVersion",
                "policy/v1beta1 PodDisruptionBudget was removed in Kubernetes 1.25 (target 1.25); "
                "use policy/v1",
            ),
        ),
    ],
)
def test_an_old_api_version_by_target(target, expected):
    old = copy.deepcopy(PDB)
    old["apiVersion"] = "policy/v1beta1"
    lifecycle = [
        (r["check"], r["details"])
        for r in audit([(old, "t")], target_version=target)
        if r["check"] in ("deprecatedApiVersion", "removedApiVersion")
    ]
    assert lifecycle == ([] if expected is None else [expected])


def test_a_custom_kind_whose_spec_is_not_a_mapping_is_skipped():
    from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_audit import (
        Auditor,
    )

    auditor = Auditor()
    auditor.add(
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": []}
    )
    assert auditor.finish()["counts"]["skipped_by_reason"] == {
        "custom kind without a pod template (Widget.example.com)": 1
    }


def test_labels_that_are_not_a_mapping_or_have_a_key_that_is_not_a_string_are_named():
    obj = deployment()
    obj["metadata"]["labels"] = ["app"]
    assert invalid_details([obj]) == ["metadata.labels is a list (['app']), expected a mapping"]
    obj["metadata"]["labels"] = {5: "x"}
    assert [d.split(" ", 1)[0] for d in invalid_details([obj])] == ["metadata.labels.5"]


def test_a_seccomp_type_that_is_not_a_string_is_unset():
    checks = container_details({"seccompProfile": {"type": 5}})
    assert checks["seccompProfileMissing"] == (False, "seccompProfile unset")


# --- exemptions ---------------------------------------------------------------------------


def test_an_exemption_rule_without_checks_exempts_everything_but_malformed_fields():
    config = parse_config({"exemptions": [{"namespaces": ["shop"], "reason": "legacy"}]})
    obj = deployment(hostNetwork=True)
    obj["spec"]["template"]["spec"]["containers"][0]["image"] = 5
    results = audit([(obj, "t")], config=config)
    assert {r["check"] for r in results} == {"invalidObject"}


def test_an_exemption_rule_adds_to_skip_checks():
    config = parse_config({"exemptions": [{"names": ["web"], "checks": ["hostNetworkSet"]}]})
    obj = deployment(hostNetwork=True)
    del obj["spec"]["template"]["spec"]["containers"][0]["resources"]
    checks = {r["check"] for r in audit([(obj, "t")], ["cpuRequestsMissing"], config)}
    assert "hostNetworkSet" not in checks
    assert "cpuRequestsMissing" not in checks
    assert "memoryRequestsMissing" in checks


def test_the_exemption_annotation_ignores_empty_items():
    obj = deployment(hostNetwork=True)
    obj["metadata"]["annotations"] = {"ackops.runbooks/exempt-checks": " , hostNetworkSet,"}
    results = audit([(obj, "t")])
    assert "hostNetworkSet" not in {r["check"] for r in results}
    assert "unknownExemption" not in {r["check"] for r in results}


def test_a_namespace_that_is_not_a_string_is_reported_and_the_object_counted_in_default():
    obj = deployment()
    obj["metadata"]["namespace"] = 5
    results = audit([(obj, "t")])
    assert "metadata.namespace is a number (5), expected a string" in invalid_details([obj])
    assert {r["object"]["namespace"] for r in results} == {"default"}


def test_passing_checks_carry_no_details():
    results = audit([(deployment(), "t"), (NETPOL, "t"), (PDB, "t")])
    passed = [r for r in results if r["success"]]
    assert passed
    assert all(r["details"] == "" for r in passed)


def test_objects_added_without_a_source_come_from_the_cluster():
    from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_audit import (
        Auditor,
    )

    auditor = Auditor()
    auditor.add(deployment())
    auditor.add(None)
    done = auditor.finish()
    assert {r["object"]["source"] for r in done["results"]} == {"cluster"}
    assert done["counts"]["skipped_by_reason"] == {
        "not a Kubernetes object (no apiVersion or kind)": 1
    }


def test_skip_reasons_for_documents_that_are_no_object():
    from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_audit import (
        Auditor,
    )

    auditor = Auditor()
    auditor.add("just text")
    auditor.add({"apiVersion": "v1", "kind": 5, "metadata": {"name": "x"}})
    assert auditor.finish()["counts"]["skipped_by_reason"] == {
        "invalid: kind is not a string": 1,
        "not a Kubernetes object": 1,
    }


def test_object_labels_are_checked_on_the_object_itself():
    obj = deployment()
    obj["metadata"]["labels"] = {"tier": 5}
    assert invalid_details([obj]) == ["metadata.labels.tier is a number (5), expected a string"]


def test_an_old_api_version_finding_can_be_skipped():
    old = copy.deepcopy(PDB)
    old["apiVersion"] = "policy/v1beta1"
    checks = {r["check"] for r in audit([(old, "t")], ["removedApiVersion"])}
    assert "removedApiVersion" not in checks


def test_a_knative_service_is_a_workload_not_a_core_service():
    # serving.knative.dev/v1 Service carries a pod template (spec.template.spec.containers).
    knative = {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": "hello", "namespace": "shop"},
        "spec": {"template": {"spec": {"containers": [copy.deepcopy(CONTAINER)]}}},
    }
    from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_audit import (
        Auditor,
    )

    auditor = Auditor()
    auditor.add(knative)
    assert auditor.finish()["counts"]["audited"] == 1


# --- the checks across objects ---------------------------------------------------------


def across(objects, skip=()) -> dict:
    return {
        (r["object"]["kind"], r["check"]): (r["success"], r["details"])
        for r in audit([(obj, "t") for obj in objects], skip)
    }


def test_failing_cross_object_checks_say_what_they_saw():
    obj = deployment()
    del obj["spec"]["template"]["spec"]["topologySpreadConstraints"]
    results = across([obj, service({"app": "gone"})])
    assert results[("Deployment", "missingPodDisruptionBudget")] == (False, "")
    assert results[("Deployment", "missingNetworkPolicy")] == (False, "")
    assert results[("Deployment", "podSpreadMissing")] == (False, "3 replicas")
    assert results[("Service", "serviceTargetsNothing")] == (False, "selector {'app': 'gone'}")
    skipped = across([obj, service({"app": "gone"})], ["podSpreadMissing", "serviceTargetsNothing"])
    assert ("Deployment", "podSpreadMissing") not in skipped
    assert ("Service", "serviceTargetsNothing") not in skipped


def test_the_largest_min_replicas_of_several_hpas_counts():
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    hpas = [
        hpa(scaleTargetRef=target, minReplicas=4, maxReplicas=9),
        hpa(scaleTargetRef=target, minReplicas=2, maxReplicas=9),
    ]
    hpas[1]["metadata"]["name"] = "web-2"
    results = across([deployment(replicas=1), NETPOL, PDB, *hpas])
    assert results[("Deployment", "replicasBelowThree")] == (True, "")
    results = across([deployment(replicas=1), NETPOL, PDB, hpas[1]])
    assert results[("Deployment", "replicasBelowThree")] == (False, "2 replica(s)")


def test_a_deployment_scaled_to_zero_has_zero_replicas():
    results = across([deployment(replicas=0), NETPOL, PDB])
    assert results[("Deployment", "replicasBelowThree")] == (False, "0 replica(s)")


def test_a_check_set_to_ignore_in_the_configuration_is_skipped():
    config = parse_config({"checks": {"hostNetworkSet": "ignore", "hostPIDSet": "warning"}})
    checks = {
        r["check"]
        for r in audit([(deployment(hostNetwork=True, hostPID=True), "t")], config=config)
    }
    assert "hostNetworkSet" not in checks
    assert "hostPIDSet" in checks


def test_a_malformed_object_that_is_no_workload_is_named():
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": 5, "namespace": "shop"}}
    (finding,) = found([cm])
    assert finding["check"] == "invalidObject"
    assert finding["object"]["kind"] == "ConfigMap"


def test_every_audited_workload_is_counted_once():
    from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_audit import (
        Auditor,
    )

    auditor = Auditor()
    for name in ("web", "api", "worker"):
        obj = deployment()
        obj["metadata"]["name"] = name
        auditor.add(obj)
    assert auditor.finish()["counts"]["audited"] == 3
