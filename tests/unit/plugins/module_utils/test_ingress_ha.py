"""Unit tests for the ingress-ha logic: ACK version tags, node selection, manifests, placement."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.ack_version import (
    AckVersion,
    VersionError,
    image_tag,
    parse_tag,
    version_gate,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.plan import (
    DEDICATED_TOLERATION,
    INGRESS_LABEL,
    IngressHAError,
    controller_body,
    eviction,
    master_reason,
    pdb_manifest,
    placement,
    plan_node,
    pods_to_move,
    select_nodes,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import strip_noise
from tests.catalogue import record
from tests.unit.manifests import assert_valid_manifest

# ---- versions


@pytest.mark.parametrize(
    ("tag", "numbers", "build"),
    [
        ("0.12.0-5", (0, 12, 0), 5),
        ("v1.2.1-aliyun.1", (1, 2, 1), 1),
        ("0.44.0.5-8e7c6dc-aliyun", (0, 44, 0), 5),
        ("v0.30.0.2-9597b3685-aliyun", (0, 30, 0), 2),
        ("1.8.0", (1, 8, 0), 0),
        ("v1.10.1", (1, 10, 1), 0),
        ("v1.9", (1, 9, 0), 0),
        ("v1.9.0-beta.3", (1, 9, 0), 3),
    ],
)
def test_parse_tag(tag, numbers, build):
    version = parse_tag(tag)
    assert (version.numbers, version.build) == (numbers, build)


@pytest.mark.parametrize("tag", ["latest", "stable", "sha-8e7c6dc", ""])
def test_parse_tag_refuses_tags_without_version(tag):
    with pytest.raises(VersionError, match="carries no version"):
        parse_tag(tag)


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        # Not semver: 0.12.0-5 is build 5 of 0.12.0, newer than the plain release.
        ("0.12.0", "0.12.0-5"),
        ("0.12.0-4", "0.12.0-5"),
        ("0.12.0-9", "0.12.0-10"),  # numeric, not lexical
        ("0.9.0-5", "0.12.0-1"),
        ("0.12.0-5", "0.44.0.5-8e7c6dc-aliyun"),
        ("0.44.0.5-8e7c6dc-aliyun", "v1.2.1-aliyun.1"),
        ("v1.2.1-aliyun.1", "v1.2.1-aliyun.2"),
        ("v1.9.0", "v1.10.0"),
    ],
)
def test_ack_ordering(older, newer):
    assert parse_tag(older) < parse_tag(newer)


def test_ack_ordering_differs_from_semver():
    # Semver ranks the pre-release 0.12.0-5 below 0.12.0; ACK ranks build 5 above it.
    assert parse_tag("0.12.0-5") > parse_tag("0.12.0")
    assert parse_tag("v0.12.0") == AckVersion((0, 12, 0), 0)


@pytest.mark.parametrize(
    ("image", "tag"),
    [
        (
            "registry-cn-hangzhou.ack.aliyuncs.com/acs/aliyun-ingress-controller:v1.2.1-aliyun.1",
            "v1.2.1-aliyun.1",
        ),
        ("registry:5000/acs/nginx-ingress-controller:0.12.0-5", "0.12.0-5"),
        ("registry:5000/acs/nginx-ingress-controller", None),
        ("registry.k8s.io/ingress-nginx/controller:v1.8.0@sha256:" + "a" * 64, "v1.8.0"),
        ("nginx", None),
    ],
)
def test_image_tag(image, tag):
    assert image_tag(image) == tag


@pytest.mark.parametrize(
    ("image", "supported"),
    [
        ("acs/aliyun-ingress-controller:v1.2.1-aliyun.1", True),
        ("acs/nginx-ingress-controller:0.12.0-5", True),
        ("acs/nginx-ingress-controller:0.12.0-4", False),
        ("acs/nginx-ingress-controller:0.12.0", False),
        ("acs/nginx-ingress-controller:latest", None),
        ("acs/nginx-ingress-controller", None),
    ],
)
def test_version_gate(image, supported):
    gate = version_gate(image, "0.12.0-5")
    assert gate["supported"] is supported
    assert "0.12.0-5" in gate["reason"]


# ---- nodes


def node(name, zone="cn-hangzhou-h", master=False, ready=True, ingress=False, taints=None):
    labels = {"kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone}
    if master:
        labels["node-role.kubernetes.io/control-plane"] = ""
    if ingress:
        labels[INGRESS_LABEL] = "true"
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels, "resourceVersion": "7"},
        "spec": {"taints": list(taints or [])},
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


CLUSTER = [
    node("m1", master=True),
    node("w1", "cn-hangzhou-h"),
    node("w2", "cn-hangzhou-h"),
    node("w3", "cn-hangzhou-i"),
    node("w4", "cn-hangzhou-j"),
    node("w5", "cn-hangzhou-j", ready=False),
]


def test_master_reason_by_label_and_by_taint():
    assert master_reason(node("m1", master=True)) == "label node-role.kubernetes.io/control-plane"
    legacy = node("m2", taints=[{"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}])
    assert master_reason(legacy) == "taint node-role.kubernetes.io/master:NoSchedule"
    assert master_reason(node("w1")) is None


def test_automatic_selection_spreads_across_zones_and_skips_masters():
    assert select_nodes(CLUSTER, 3, None, automatic=True) == ["w1", "w3", "w4"]


def test_automatic_selection_keeps_nodes_already_labelled():
    cluster = [*CLUSTER[:1], node("w1"), node("w2", ingress=True), *CLUSTER[3:]]
    assert select_nodes(cluster, 2, [], automatic=True) == ["w2", "w3"]


def test_automatic_selection_refuses_too_few_workers():
    with pytest.raises(
        IngressHAError, match=r"only 4 ready, schedulable worker\(s\).*for 5 replicas"
    ):
        select_nodes(CLUSTER, 5, None, automatic=True)


def test_inventory_selection_maps_hosts_to_node_names():
    requested = [{"host": "worker-3", "node_name": "w3"}, {"host": "w1"}]
    assert select_nodes(CLUSTER, 2, requested) == ["w1", "w3"]


def test_inventory_selection_refuses_too_few_nodes():
    with pytest.raises(
        IngressHAError, match=r"ingress group has 2 node\(s\) \(w1, w3\) for 3 replicas"
    ):
        select_nodes(CLUSTER, 3, [{"host": "w1"}, {"host": "w3"}])


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"host": "master-1", "node_name": "w1", "master": True},
            "host master-1 (node w1) is in the masters group",
        ),
        (
            {"host": "lab-m1", "node_name": "m1"},
            "host lab-m1: node m1 is a master (label node-role",
        ),
        ({"host": "ghost", "node_name": "w9"}, "host ghost: no node named w9 in the cluster"),
    ],
)
def test_inventory_selection_refuses_masters_and_unknown_nodes(entry, message):
    with pytest.raises(IngressHAError, match="refusing") as info:
        select_nodes(CLUSTER, 1, [entry, {"host": "w3"}])
    assert message in str(info.value)
    record("ingress-ha", "inventory", {"ingress group": [entry, {"host": "w3"}]}, str(info.value),
           "select_nodes raised IngressHAError: no node selected")  # fmt: skip


def test_plan_node_labels_and_is_idempotent():
    plan = plan_node(node("w1"), wanted=True, prune=False, dedicate=False)
    assert plan["actions"] == ["label"]
    assert plan["operations"] == [
        {"op": "add", "path": "/metadata/labels/node-role.kubernetes.io~1ingress", "value": "true"}
    ]
    assert_valid_manifest(plan["after"])
    assert plan_node(node("w1", ingress=True), wanted=True, prune=False, dedicate=False) is None


def test_plan_node_prunes_only_when_asked():
    labelled = node("w2", ingress=True)
    assert plan_node(labelled, wanted=False, prune=False, dedicate=False) is None
    plan = plan_node(labelled, wanted=False, prune=True, dedicate=False)
    assert plan["actions"] == ["unlabel"]
    assert INGRESS_LABEL not in plan["after"]["metadata"]["labels"]
    assert_valid_manifest(plan["after"])


def test_plan_node_dedicates_and_undedicates():
    other = {"key": "gpu", "value": "true", "effect": "NoSchedule"}
    plan = plan_node(node("w1", taints=[other]), wanted=True, prune=False, dedicate=True)
    assert plan["actions"] == ["label", "taint"]
    assert plan["after"]["spec"]["taints"] == [
        other,
        {"key": INGRESS_LABEL, "value": "true", "effect": "NoSchedule"},
    ]
    assert_valid_manifest(plan["after"])
    dedicated = copy.deepcopy(plan["after"])
    dedicated["status"] = {}
    assert plan_node(dedicated, wanted=True, prune=False, dedicate=True) is None
    undo = plan_node(dedicated, wanted=True, prune=False, dedicate=False)
    assert undo["actions"] == ["untaint"]
    assert undo["after"]["spec"]["taints"] == [other]
    assert_valid_manifest(undo["after"])


# ---- controller


def deployment(**spec_extra):
    labels = {"app": "ingress-nginx"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "nginx-ingress-controller",
            "namespace": "kube-system",
            "generation": 1,
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "containers": [
                        {
                            "name": "nginx-ingress-controller",
                            "image": "acs/aliyun-ingress-controller:v1.2.1-aliyun.1",
                        }
                    ],
                },
            },
            **spec_extra,
        },
    }


def merged(base: dict, patch: dict) -> dict:
    """What the apply body makes of the object (maps merged, lists replaced), for validation."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def test_controller_body_for_a_deployment():
    current = deployment()
    body = controller_body(current, replicas=3, node_count=3, dedicate=False)
    spec = body["spec"]
    assert spec["replicas"] == 3
    assert spec["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
    pod = spec["template"]["spec"]
    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux", INGRESS_LABEL: "true"}
    assert pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == [
        {
            "labelSelector": {"matchLabels": {"app": "ingress-nginx"}},
            "topologyKey": "kubernetes.io/hostname",
        }
    ]
    assert "tolerations" not in pod
    assert_valid_manifest(merged(current, body))


def test_controller_body_is_stable_and_keeps_other_tolerations():
    other = {"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}
    current = deployment()
    current["spec"]["template"]["spec"]["tolerations"] = [other]
    body = controller_body(current, replicas=2, node_count=4, dedicate=True)
    assert "strategy" not in body["spec"]  # spare nodes: surge pods have somewhere to go
    assert body["spec"]["template"]["spec"]["tolerations"] == [other, DEDICATED_TOLERATION]
    applied = merged(current, body)
    assert_valid_manifest(applied)
    assert controller_body(applied, replicas=2, node_count=4, dedicate=True) == body
    undone = controller_body(applied, replicas=2, node_count=4, dedicate=False)
    assert undone["spec"]["template"]["spec"]["tolerations"] == [other]


def test_controller_body_for_a_daemonset_has_no_replicas():
    current = deployment()
    current["kind"] = "DaemonSet"
    del current["spec"]["replicas"]
    body = controller_body(current, replicas=3, node_count=3, dedicate=False)
    assert "replicas" not in body["spec"]
    assert "strategy" not in body["spec"]
    assert_valid_manifest(merged(current, body))


def test_controller_without_match_labels_is_refused():
    current = deployment()
    current["spec"]["selector"] = {"matchExpressions": [{"key": "app", "operator": "Exists"}]}
    with pytest.raises(
        IngressHAError, match="nginx-ingress-controller selects its pods without matchLabels"
    ):
        controller_body(current, 2, 2, False)


def test_pdb_and_eviction_manifests():
    pdb = pdb_manifest(deployment(), 1)
    assert pdb["spec"] == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": {"app": "ingress-nginx"}},
    }
    assert_valid_manifest(pdb)
    assert_valid_manifest(eviction(pod("p1", "w1")))


# ---- placement


def pod(name, node_name, ready=True, terminating=False):
    meta = {"name": name, "namespace": "kube-system"}
    if terminating:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"nodeName": node_name},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def test_placement_accepts_one_ready_pod_per_labelled_node():
    rows, problems = placement(
        [pod("a", "w1"), pod("b", "w3"), pod("c", "w2", terminating=True)], {"w1", "w3"}, 2
    )
    assert problems == []
    assert [r["node"] for r in rows] == ["w1", "w3"]


def test_placement_names_every_problem():
    pods = [pod("a", "w1"), pod("b", "w1"), pod("c", "w9", ready=False), pod("d", None)]
    problems = placement(pods, {"w1", "w3"}, 3)[1]
    assert problems == [
        "pods a and b share node w1",
        "pod c runs on w9, which has no node-role.kubernetes.io/ingress label",
        "pod c on w9 is not ready",
        "pod d is not scheduled",
        "4 controller pod(s) running, 3 expected",
    ]


def test_pods_to_move_are_those_off_the_labelled_nodes():
    pods = [pod("a", "w1"), pod("b", "w3"), pod("c", "w3", terminating=True)]
    assert [p["metadata"]["name"] for p in pods_to_move(pods, {"w1"})] == ["b"]


# ---- object helpers


def test_strip_noise_drops_server_fields_only():
    obj = deployment()
    obj["metadata"].update(
        resourceVersion="9",
        managedFields=[{}],
        uid="u",
        annotations={"deployment.kubernetes.io/revision": "3"},
    )
    obj["status"] = {"replicas": 2}
    clean = strip_noise(obj)
    assert "status" not in clean
    assert set(clean["metadata"]) == {"name", "namespace"}
    assert clean["spec"] == obj["spec"]


# ---- nodes checked before use, ownership, HPA, zones, dedication, DaemonSets

from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.plan import (  # noqa: E402
    DEDICATED_TAINT,
    TAINT_ANNOTATION,
    find_hpa,
    hpa_report,
    node_problems,
    outdated_daemon_pods,
    owner_of,
    ownership_advice,
    pods_to_clear,
    zone_warning,
)


def test_node_problems_name_notready_cordoned_and_untolerated_taints():
    assert node_problems(node("w1"), []) == []
    assert node_problems(node("w5", ready=False), []) == ["NotReady"]
    cordoned = node("w1")
    cordoned["spec"]["unschedulable"] = True
    assert node_problems(cordoned, []) == ["cordoned (spec.unschedulable)"]
    gpu = {"key": "gpu", "value": "a100", "effect": "NoSchedule"}
    tainted = node("w1", taints=[gpu, {"key": "soft", "effect": "PreferNoSchedule"}])
    assert node_problems(tainted, []) == ["taint gpu=a100:NoSchedule not tolerated"]
    assert node_problems(tainted, [{"key": "gpu", "operator": "Exists"}]) == []
    assert node_problems(tainted, [{"operator": "Exists"}]) == []
    assert node_problems(tainted, [{"key": "gpu", "value": "t4", "effect": "NoSchedule"}])
    ours = node("w1", taints=[dict(DEDICATED_TAINT)])
    assert node_problems(ours, []) == []  # the runbook tolerates or removes its own taint


def test_requested_nodes_that_cannot_run_the_controller_are_refused_by_name():
    cordoned = node("w3")
    cordoned["spec"]["unschedulable"] = True
    cluster = [node("w1"), cordoned, node("w5", ready=False)]
    with pytest.raises(IngressHAError) as caught:
        select_nodes(
            cluster, 2, [{"host": "w1"}, {"host": "h3", "node_name": "w3"}, {"host": "w5"}]
        )
    message = str(caught.value)
    assert "host h3: node w3 is cordoned (spec.unschedulable)" in message
    assert "host w5: node w5 is NotReady" in message


def test_automatic_selection_skips_unusable_nodes():
    cordoned = node("w3", "cn-hangzhou-i")
    cordoned["spec"]["unschedulable"] = True
    cluster = [node("w1"), cordoned, node("w4", "cn-hangzhou-j"), node("w5", ready=False)]
    assert select_nodes(cluster, 2, None, automatic=True) == ["w1", "w4"]
    with pytest.raises(IngressHAError, match=r"skipped: w3 \(cordoned.*w5 \(NotReady\)"):
        select_nodes(cluster, 3, None, automatic=True)


def test_undedicating_removes_only_the_taint_this_runbook_added():
    foreign = node("w1", ingress=True, taints=[dict(DEDICATED_TAINT)])
    assert plan_node(foreign, wanted=True, prune=False, dedicate=False) is None
    assert plan_node(foreign, wanted=True, prune=False, dedicate=True) is None
    added = plan_node(node("w2", ingress=True), wanted=True, prune=False, dedicate=True)
    assert added["after"]["metadata"]["annotations"] == {TAINT_ANNOTATION: "true"}
    ours = copy.deepcopy(added["after"])
    undo = plan_node(ours, wanted=True, prune=False, dedicate=False)
    assert undo["actions"] == ["untaint"]
    assert undo["after"]["spec"]["taints"] == []
    assert undo["after"]["metadata"]["annotations"] == {}
    assert {
        "op": "remove",
        "path": "/metadata/annotations/" + TAINT_ANNOTATION.replace("/", "~1"),
    } in undo["operations"]


def test_owner_of_detects_helm_and_addons_and_advises():
    helm = deployment()
    helm["metadata"]["annotations"] = {
        "meta.helm.sh/release-name": "ingress",
        "meta.helm.sh/release-namespace": "ingress-system",
    }
    owner = owner_of(helm)
    assert owner == {"type": "helm", "release": "ingress", "release_namespace": "ingress-system"}
    advice = ownership_advice(owner, [".spec.replicas", ".spec.template.spec.nodeSelector"])
    assert "Helm release ingress-system/ingress" in advice
    assert "controller.nodeSelector, controller.replicaCount" in advice
    labelled = deployment()
    labelled["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "Helm"}
    assert owner_of(labelled)["type"] == "helm"
    addon = deployment()
    addon["metadata"]["labels"] = {"addonmanager.kubernetes.io/mode": "Reconcile"}
    assert owner_of(addon)["type"] == "addon"
    assert owner_of(deployment(), ["ack-addon-manager"])["type"] == "addon"
    assert "the number of replicas" in ownership_advice(owner_of(addon), [".spec.replicas"])
    assert owner_of(deployment(), ["kubectl-edit"]) == {"type": None}
    assert owner_of(deployment(), ["helm"])["type"] == "helm"  # Helm's own field manager


def test_hpa_found_by_its_target_and_checked_against_the_labelled_nodes():
    hpa = {
        "metadata": {"name": "ing"},
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "nginx-ingress-controller"},
            "minReplicas": 2,
            "maxReplicas": 5,
        },
    }
    other = copy.deepcopy(hpa)
    other["spec"]["scaleTargetRef"]["name"] = "web"
    assert find_hpa([other, hpa], deployment()) is hpa
    assert find_hpa([other], deployment()) is None
    report = hpa_report(hpa, 3)
    assert report["max_replicas"] == 5
    assert "maxReplicas 5, more than the 3 labelled" in report["problems"][0]
    assert hpa_report(hpa, 5)["problems"] == []


def test_zone_warning_only_when_every_ingress_node_shares_a_zone():
    cluster = [node("w1"), node("w2"), node("w3", "cn-hangzhou-i")]
    assert "all 2 ingress nodes are in zone cn-hangzhou-h" in zone_warning(cluster, {"w1", "w2"})
    assert zone_warning(cluster, {"w1", "w3"}) is None
    assert zone_warning(cluster, {"w1"}) is None


def running(name, node_name, labels=None, owner=None, tolerations=None):
    meta = {"name": name, "namespace": "apps", "labels": labels or {}}
    if owner:
        meta["ownerReferences"] = [{"kind": owner, "name": "x"}]
    return {
        "metadata": meta,
        "spec": {"nodeName": node_name, "tolerations": tolerations or []},
        "status": {"phase": "Running"},
    }


def test_pods_to_clear_spare_the_controller_daemonsets_and_tolerating_pods():
    pods = [
        running("ctl", "w1", {"app": "ingress-nginx"}),
        running("web", "w1", owner="ReplicaSet"),
        running("agent", "w1", owner="DaemonSet"),
        running("tolerant", "w1", tolerations=[dict(DEDICATED_TOLERATION)]),
        running("elsewhere", "w9"),
    ]
    evict, left = pods_to_clear(pods, {"w1"}, {"app": "ingress-nginx"})
    assert [p["metadata"]["name"] for p in evict] == ["web"]
    assert [(p["metadata"]["name"], why) for p, why in left] == [("agent", "DaemonSet pod")]


def test_outdated_daemon_pods_follow_the_template_generation_not_metadata_generation():
    # revisionHistoryLimit changed: metadata.generation 4, the template still generation 2.
    ds = deployment()
    ds["kind"] = "DaemonSet"
    ds["metadata"]["generation"] = 4
    ds["metadata"]["annotations"] = {"deprecated.daemonset.template.generation": "2"}
    current = running("current", "w1", {"pod-template-generation": "2"})
    old = running("old", "w2", {"pod-template-generation": "1"})
    assert [p["metadata"]["name"] for p in outdated_daemon_pods(ds, [current, old])] == ["old"]


def test_dedication_leaves_pods_an_eviction_would_lose():
    bare = running("debug-shell", "w1")
    scratch = running("cache", "w1", owner="ReplicaSet")
    scratch["spec"]["volumes"] = [{"name": "tmp", "emptyDir": {}}]
    web = running("web", "w1", owner="ReplicaSet")
    web["spec"]["volumes"] = [{"name": "cfg", "configMap": {"name": "web"}}]
    evict, left = pods_to_clear([bare, scratch, web], {"w1"}, {"app": "ingress-nginx"})
    assert [p["metadata"]["name"] for p in evict] == ["web"]
    assert [(p["metadata"]["name"], why.split(";")[0].split(" (")[0]) for p, why in left] == [
        ("debug-shell", "no controller would recreate it"),
        ("cache", "its emptyDir data would be deleted by an eviction"),
    ]


def test_outdated_daemon_pods_are_those_of_an_older_template_generation():
    ds = deployment()
    ds["kind"] = "DaemonSet"
    ds["metadata"]["generation"] = 3
    old = running("old", "w1", {"pod-template-generation": "2"})
    new = running("new", "w2", {"pod-template-generation": "3"})
    assert [p["metadata"]["name"] for p in outdated_daemon_pods(ds, [old, new])] == ["old"]


def test_nodes_outside_the_controllers_other_node_selector_are_refused():
    windows = node("w3")
    windows["metadata"]["labels"]["kubernetes.io/os"] = "windows"
    linux = node("w1")
    linux["metadata"]["labels"]["kubernetes.io/os"] = "linux"
    with pytest.raises(IngressHAError, match="w3 is not matching the controller's nodeSelector"):
        select_nodes(
            [linux, windows],
            1,
            [{"host": "w1"}, {"host": "w3"}],
            node_selector={"kubernetes.io/os": "linux"},
        )


def test_other_budgets_over_the_controllers_pods_are_found():
    from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.plan import other_budgets

    def budget(name, selector):
        return {"metadata": {"name": name}, "spec": {"selector": selector}}

    budgets = [
        budget("nginx-ingress-controller", {"matchLabels": {"app": "ingress-nginx"}}),  # ours
        budget("chart-controller", {"matchLabels": {"app": "ingress-nginx"}}),
        budget(
            "by-expression",
            {"matchExpressions": [{"key": "app", "operator": "In", "values": ["ingress-nginx"]}]},
        ),
        budget("web", {"matchLabels": {"app": "web"}}),
        budget("not-app", {"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}),
        # policy/v1 PodDisruptionBudgetSpec: "a null selector selects no pods ... an
        # empty selector will select all pods in the namespace".
        budget("empty", {}),
        {"metadata": {"name": "null"}, "spec": {}},
    ]
    assert other_budgets(budgets, deployment()) == ["by-expression", "chart-controller", "empty"]
