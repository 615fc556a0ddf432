"""ingress/plan.py's node decisions, the JSON patches written out by hand (issue 18).

The operations are RFC 6902 JSON patches against the Node as the API server stores
it; keys with "/" are escaped per RFC 6901 ("/" -> "~1", "~" -> "~0").
"""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.ingress import plan

LABEL_PATH = "/metadata/labels/node-role.kubernetes.io~1ingress"
ANNOTATION_PATH = "/metadata/annotations/ingress-ha.ackops.io~1dedicated-taint"
TAINT = {"key": "node-role.kubernetes.io/ingress", "value": "true", "effect": "NoSchedule"}
OTHER_TAINT = {"key": "gpu", "value": "yes", "effect": "NoSchedule"}


def bare(name="w1"):
    """A Node as some API servers return it: no labels, annotations or spec at all."""
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}


def test_rfc6901_escaping_of_label_keys():
    assert plan._pointer("a~b/c") == "a~0b~1c"
    assert plan._pointer("plain") == "plain"


def test_a_bare_node_gets_whole_maps_not_keys_inside_missing_ones():
    got = plan.plan_node(bare(), wanted=True, prune=False, dedicate=True)
    assert got["node"] == "w1"
    assert got["actions"] == ["label", "taint"]
    assert got["operations"] == [
        {
            "op": "add",
            "path": "/metadata/labels",
            "value": {"node-role.kubernetes.io/ingress": "true"},
        },
        {
            "op": "add",
            "path": "/metadata/annotations",
            "value": {"ingress-ha.ackops.io/dedicated-taint": "true"},
        },
        {"op": "add", "path": "/spec/taints", "value": [TAINT]},
    ]
    assert got["before"] == {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "w1", "labels": {}, "annotations": {}},
        "spec": {"taints": []},
    }
    assert got["after"]["metadata"]["labels"] == {"node-role.kubernetes.io/ingress": "true"}
    assert got["after"]["spec"]["taints"] == [TAINT]


def test_a_labelled_node_gets_one_key_added_to_each_map():
    node = bare()
    node["metadata"]["labels"] = {"team": "edge"}
    node["metadata"]["annotations"] = {"owner": "ops"}
    node["spec"] = {"taints": [OTHER_TAINT]}
    got = plan.plan_node(node, wanted=True, prune=False, dedicate=True)
    assert got["operations"] == [
        {"op": "add", "path": LABEL_PATH, "value": "true"},
        {"op": "add", "path": ANNOTATION_PATH, "value": "true"},
        {"op": "add", "path": "/spec/taints", "value": [OTHER_TAINT, TAINT]},
    ]
    # Only the annotation this runbook owns is part of its view of the node.
    assert got["before"]["metadata"]["annotations"] == {}


def test_pruning_removes_label_annotation_and_the_only_taint():
    node = bare()
    node["metadata"]["labels"] = {"node-role.kubernetes.io/ingress": "true", "team": "edge"}
    node["metadata"]["annotations"] = {"ingress-ha.ackops.io/dedicated-taint": "true"}
    node["spec"] = {"taints": [TAINT]}
    got = plan.plan_node(node, wanted=False, prune=True, dedicate=True)
    assert got["actions"] == ["unlabel", "untaint"]
    assert got["operations"] == [
        {"op": "remove", "path": LABEL_PATH},
        {"op": "remove", "path": ANNOTATION_PATH},
        {"op": "remove", "path": "/spec/taints"},
    ]
    assert got["after"]["metadata"]["labels"] == {"team": "edge"}


def test_untainting_keeps_a_taint_someone_else_put_there():
    node = bare()
    node["metadata"]["labels"] = {"node-role.kubernetes.io/ingress": "true"}
    node["metadata"]["annotations"] = {"ingress-ha.ackops.io/dedicated-taint": "true"}
    node["spec"] = {"taints": [OTHER_TAINT, TAINT]}
    got = plan.plan_node(node, wanted=True, prune=False, dedicate=False)
    assert got["actions"] == ["untaint"]
    assert got["operations"] == [
        {"op": "remove", "path": ANNOTATION_PATH},
        {"op": "add", "path": "/spec/taints", "value": [OTHER_TAINT]},
    ]


def test_a_dedication_taint_without_our_annotation_is_never_removed():
    node = bare()
    node["metadata"]["labels"] = {"node-role.kubernetes.io/ingress": "true"}
    node["spec"] = {"taints": [TAINT]}
    assert plan.plan_node(node, wanted=True, prune=True, dedicate=False) is None


def test_a_node_that_is_right_already_needs_nothing():
    node = bare()
    node["metadata"]["labels"] = {"node-role.kubernetes.io/ingress": "true"}
    assert plan.plan_node(node, wanted=True, prune=True, dedicate=False) is None
    assert plan.plan_node(bare(), wanted=False, prune=True, dedicate=True) is None


def test_without_prune_an_unwanted_ingress_node_keeps_its_label():
    node = bare()
    node["metadata"]["labels"] = {"node-role.kubernetes.io/ingress": "true"}
    assert plan.plan_node(node, wanted=False, prune=False, dedicate=False) is None


def test_the_label_must_say_true():
    node = bare()
    node["metadata"]["labels"] = {"node-role.kubernetes.io/ingress": "false"}
    assert plan.has_ingress_label(node) is False
    got = plan.plan_node(node, wanted=True, prune=False, dedicate=False)
    assert got["operations"] == [{"op": "add", "path": LABEL_PATH, "value": "true"}]
    assert plan.has_ingress_label({}) is False


# --- nodes: why a node cannot take the controller's pods ---------------------------------

READY = {"conditions": [{"type": "Ready", "status": "True"}]}


def test_a_node_with_nothing_but_a_name_and_ready_has_no_problem():
    node = {"metadata": {"name": "w1"}, "status": READY}  # no labels, no spec
    assert plan.node_problems(node, []) == []
    assert plan.master_reason(node) is None
    assert plan.master_reason({"status": READY}) is None


def test_node_problems_in_order_with_the_taints_written_as_kubectl_does():
    node = {
        "metadata": {"name": "w1", "labels": {"disk": "hdd"}},
        "spec": {
            "unschedulable": True,
            "taints": [
                {"key": "soft", "effect": "PreferNoSchedule"},  # never blocks scheduling
                {"key": "dedicated", "value": "db", "effect": "NoSchedule"},
                {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"},
                {"key": "node-role.kubernetes.io/ingress", "value": "true", "effect": "NoSchedule"},
            ],
        },
        "status": {"conditions": [{"type": "Ready", "status": "False"}]},
    }
    assert plan.node_problems(node, [], {"disk": "ssd", "arch": "amd64"}) == [
        "not matching the controller's nodeSelector arch=amd64",
        "not matching the controller's nodeSelector disk=ssd",
        "NotReady",
        "cordoned (spec.unschedulable)",
        "taint dedicated=db:NoSchedule not tolerated",
        "taint node.kubernetes.io/unreachable:NoExecute not tolerated",
    ]
    tolerated = [{"key": "dedicated", "operator": "Equal", "value": "db"}]
    assert "taint dedicated=db:NoSchedule not tolerated" not in plan.node_problems(node, tolerated)


def test_a_master_by_taint_names_key_and_effect_even_without_an_effect():
    node = {"metadata": {"name": "m1"}, "spec": {"taints": [
        {"key": "node-role.kubernetes.io/control-plane"}]}}  # fmt: skip
    assert plan.master_reason(node) == "taint node-role.kubernetes.io/control-plane:"


# --- pods ---------------------------------------------------------------------------------


def test_live_pods_leave_out_finished_and_terminating_ones():
    def pod(name, phase=None, deleting=False):
        meta = {"name": name}
        if deleting:
            meta["deletionTimestamp"] = "2026-12-04T00:00:00Z"
        return {"metadata": meta, **({"status": {"phase": phase}} if phase else {})}

    pods = [pod("a"), pod("b", "Running"), pod("c", "Succeeded"), pod("d", "Failed"),
            pod("e", "Pending"), pod("f", "Running", deleting=True), pod("g", "Unknown")]  # fmt: skip
    assert [p["metadata"]["name"] for p in plan.live_pods(pods)] == ["a", "b", "e", "g"]


def test_placement_rows_and_problems_by_hand():
    ready = {"conditions": [{"type": "Ready", "status": "True"}]}
    pods = [
        {"metadata": {"name": "p2"}, "spec": {"nodeName": "w1"}, "status": ready},
        {"metadata": {"name": "p1"}, "spec": {"nodeName": "w1"}, "status": ready},
        {"metadata": {"name": "p3"}, "status": {"phase": "Pending"}},  # no spec: unscheduled
        {"metadata": {"name": "p4"}, "spec": {"nodeName": "w9"}, "status": {"phase": "Running"}},
    ]
    rows, problems = plan.placement(pods, {"w1", "w2"}, 2)
    assert rows == [
        {"pod": "p1", "node": "w1", "ready": True},
        {"pod": "p2", "node": "w1", "ready": True},
        {"pod": "p3", "node": None, "ready": False},
        {"pod": "p4", "node": "w9", "ready": False},
    ]
    assert problems == [
        "pods p1 and p2 share node w1",
        "pod p3 is not scheduled",
        "pod p4 runs on w9, which has no node-role.kubernetes.io/ingress label",
        "pod p4 on w9 is not ready",
        "4 controller pod(s) running, 2 expected",
    ]


# --- the controller's apply body ----------------------------------------------------------


def controller(kind="Deployment", **spec):
    return {
        "kind": kind,
        "metadata": {"name": "ing", "namespace": "kube-system"},
        "spec": {
            "selector": {"matchLabels": {"app": "ing"}},
            "template": {"metadata": {"labels": {"app": "ing"}}, "spec": {"containers": [{}]}},
            **spec,
        },
    }


ANTI = {"labelSelector": {"matchLabels": {"app": "ing"}}, "topologyKey": "kubernetes.io/hostname"}


def test_controller_body_keeps_other_anti_affinity_terms_and_defaults_apps_v1():
    other = {"labelSelector": {"matchLabels": {"tier": "x"}}, "topologyKey": "zone"}
    ctl = controller(replicas=2)
    ctl["spec"]["template"]["spec"]["affinity"] = {
        "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [other, ANTI]}
    }
    body = plan.controller_body(ctl, None, 3, dedicate=False)
    assert body["apiVersion"] == "apps/v1"  # none in the input: apps/v1
    terms = body["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert terms == [other, ANTI]
    assert "replicas" not in body["spec"]  # an HPA owns them
    assert "strategy" not in body["spec"]  # 3 nodes for 2 replicas: a spare for a surge pod


def test_no_spare_node_stops_one_pod_before_starting_its_replacement():
    # replicas None: the Deployment's own count (2) against 2 labelled nodes.
    body = plan.controller_body(controller(replicas=2), None, 2, dedicate=False)
    assert body["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1},
    }
    # No replicas in the spec: Kubernetes' default of 1, against 2 nodes: a spare.
    assert "strategy" not in plan.controller_body(controller(), None, 2, dedicate=False)["spec"]
    assert "strategy" in plan.controller_body(controller(), None, 1, dedicate=False)["spec"]
    recreate = controller(replicas=2, strategy={"type": "Recreate"})
    assert "strategy" not in plan.controller_body(recreate, None, 2, dedicate=False)["spec"]
    given = plan.controller_body(controller(replicas=5), 2, 2, dedicate=False)
    assert given["spec"]["replicas"] == 2
    assert "strategy" in given["spec"]


def test_the_budget_is_labelled_as_ours():
    pdb = plan.pdb_manifest(controller(), 1)
    assert pdb["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "ackops.runbooks.ingress_ha"
    }


# --- who owns the controller, and what to tell the operator --------------------------------


def test_owner_of_by_helm_annotation_label_or_manager():
    ctl = controller()
    ctl["metadata"]["annotations"] = {
        "meta.helm.sh/release-name": "edge",
        "meta.helm.sh/release-namespace": "ingress",
    }
    assert plan.owner_of(ctl) == {"type": "helm", "release": "edge", "release_namespace": "ingress"}
    by_label = controller()
    by_label["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "Helm"}
    assert plan.owner_of(by_label) == {
        "type": "helm",
        "release": "unknown",
        "release_namespace": "kube-system",
    }
    assert plan.owner_of(controller(), ["kubectl", "HELM"])["type"] == "helm"
    assert plan.owner_of(controller(), ["kubectl"]) == {"type": None}
    assert plan.owner_of(controller()) == {"type": None}


def test_owner_of_an_addon_by_label_or_manager():
    ctl = controller()
    ctl["metadata"]["labels"] = {"addonmanager.kubernetes.io/mode": "Reconcile"}
    assert plan.owner_of(ctl, ["kubectl"]) == {"type": "addon", "mode": "Reconcile", "managers": []}
    assert plan.owner_of(controller(), ["ACK-AddonManager", "kubectl"]) == {
        "type": "addon",
        "mode": "",
        "managers": ["ACK-AddonManager"],
    }


def test_ownership_advice_word_for_word():
    helm = {"type": "helm", "release": "edge", "release_namespace": "ingress"}
    assert plan.ownership_advice(
        helm, [".spec.replicas", ".spec.template.spec.tolerations[0]"]
    ) == (
        "the controller is deployed by the Helm release ingress/edge: set "
        "controller.replicaCount, controller.tolerations in its chart values (and "
        "controller.kind/controller.autoscaling for the kind and an HPA) and run helm "
        "upgrade; its next upgrade would revert a change made here"
    )
    assert "set the matching values in its chart values" in plan.ownership_advice(
        helm, [".metadata.labels"]
    )
    addon = {"type": "addon", "mode": "", "managers": []}
    assert plan.ownership_advice(addon, [".spec.template.spec.nodeSelector", ".spec.replicas"]) == (
        "the controller is a managed add-on: change the node selector, the number of "
        "replicas in the add-on's configuration (ACK console, Add-ons, the ingress "
        "controller, Configuration) so the add-on manager does not revert them"
    )
    assert "change these fields in the add-on's" in plan.ownership_advice(addon, [".x"])
    assert plan.ownership_advice({"type": None}, []) == (
        "change them where that manager's configuration lives"
    )


# --- HorizontalPodAutoscaler bounds ---------------------------------------------------------


def test_hpa_report_against_the_labelled_nodes():
    hpa = {"metadata": {"name": "ing"}, "spec": {"minReplicas": 3, "maxReplicas": 5}}
    assert plan.hpa_report(hpa, 2) == {
        "name": "ing",
        "min_replicas": 3,
        "max_replicas": 5,
        "labelled_nodes": 2,
        "problems": [
            "HorizontalPodAutoscaler ing may scale to maxReplicas 5, more than the 2 labelled "
            "ingress node(s): the pods beyond 2 would stay Pending under the required "
            "anti-affinity; lower maxReplicas or label more ingress nodes",
            "HorizontalPodAutoscaler ing keeps at least minReplicas 3 pods, more than the 2 "
            "labelled ingress node(s)",
        ],
    }
    # Exactly as many nodes as replicas: fine.
    assert plan.hpa_report({"metadata": {"name": "h"}, "spec": {"minReplicas": 2,
                                                               "maxReplicas": 2}}, 2)["problems"] == []  # fmt: skip


def test_hpa_defaults_are_the_apis():
    # minReplicas defaults to 1 in autoscaling/v2; maxReplicas is required (0 if absent).
    got = plan.hpa_report({"metadata": {"name": "h"}}, 1)
    assert (got["min_replicas"], got["max_replicas"], got["problems"]) == (1, 0, [])
    got = plan.hpa_report({"metadata": {"name": "h"}, "spec": {"maxReplicas": 1}}, 0)
    assert got["min_replicas"] == 1
    assert len(got["problems"]) == 2


# --- changed_fields: the report's list of what an apply changes -----------------------------


def test_changed_fields_by_hand():
    assert plan.changed_fields(None, {"a": 1}) == ["created"]
    assert plan.changed_fields(
        {"a": 1, "b": {"c": 1, "k": 0}}, {"a": 1, "b": {"c": 2, "k": 0}}
    ) == ["b.c"]
    assert plan.changed_fields({"z": 1, "a": 1}, {"b": 1, "z": 1}) == ["a", "b"]
    assert plan.changed_fields({"a": {"x": 1}}, {"a": [1]}) == ["a"]
    # Nested maps are followed three levels down, then named as a whole.
    deep_old = {"a": {"b": {"c": {"d": {"e": 1}}}}}
    deep_new = {"a": {"b": {"c": {"d": {"e": 2}}}}}
    assert plan.changed_fields(deep_old, deep_new) == ["a.b.c.d"]
    assert plan.changed_fields([1], [2], "spec.x") == ["spec.x"]
    assert plan.changed_fields([1], [1], "spec.x") == []
    assert plan.changed_fields({"a": 1}, {"a": 1}) == []


# --- the scheduler's rules, written out: tolerations, nodeSelector, Ready ---------------------


@pytest.mark.parametrize(
    ("toleration", "taint", "tolerated"),
    [
        # Kubernetes' toleration matching: empty key + Exists tolerates everything;
        # an effect, when given, must equal the taint's; Equal compares values ("" when absent).
        ({"operator": "Exists"}, {"key": "a", "value": "1", "effect": "NoSchedule"}, True),
        ({"operator": "Exists", "effect": "NoExecute"}, {"key": "a", "effect": "NoSchedule"},
         False),
        ({"key": "a", "operator": "Exists"}, {"key": "a", "value": "x", "effect": "NoExecute"},
         True),
        ({"key": "a", "operator": "Equal", "value": "1"}, {"key": "a", "value": "1",
                                                           "effect": "NoSchedule"}, True),
        ({"key": "a", "operator": "Equal", "value": "1"}, {"key": "a", "value": "2",
                                                           "effect": "NoSchedule"}, False),
        ({"key": "a"}, {"key": "a", "effect": "NoSchedule"}, True),  # "" == ""
        ({"key": "a", "value": "1"}, {"key": "a", "effect": "NoSchedule"}, False),
        ({"key": "b", "operator": "Exists"}, {"key": "a", "effect": "NoSchedule"}, False),
        ({"key": "", "operator": "Equal"}, {"key": "a", "effect": "NoSchedule"}, False),
    ],
)  # fmt: skip
def test_tolerations_follow_the_scheduler(toleration, taint, tolerated):
    assert plan.tolerates([toleration], taint) is tolerated
    # Later tolerations are still tried after one that does not match.
    other = {"key": "zzz", "operator": "Exists", "effect": "NoExecute"}
    assert plan.tolerates([other, toleration], taint) is tolerated


def test_a_node_matches_a_selector_only_with_every_label():
    node = {"metadata": {"labels": {"disk": "ssd", "zone": "h"}}}
    assert plan.matches(node, {"disk": "ssd"}) is True
    assert plan.matches(node, {"disk": "ssd", "zone": "h"}) is True
    assert plan.matches(node, {"disk": "hdd"}) is False
    assert plan.matches(node, {"gpu": "yes"}) is False
    assert plan.matches({}, {}) is True
    assert plan.matches({"metadata": {}}, {"disk": "ssd"}) is False
    assert plan.zone_of(node) == ""
    assert plan.zone_of({}) == ""
    assert plan.zone_of({"metadata": {"labels": {"topology.kubernetes.io/zone": "z"}}}) == "z"


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ({}, "no Ready condition"),
        ({"conditions": [{"type": "MemoryPressure", "status": "False"}]}, "no Ready condition"),
        ({"conditions": [{"type": "Ready", "status": "True"}]}, "Ready"),
        ({"conditions": [{"type": "Ready", "status": "False"}]}, "NotReady"),
        ({"conditions": [{"type": "Ready", "status": "Unknown"}]}, "Unknown"),
        ({"conditions": [{"type": "Ready"}]}, "Unknown"),
    ],
)
def test_ready_state_as_kubectl_shows_it(status, state):
    assert plan.ready_state({"status": status}) == state
    assert plan.ready_state({}) == "no Ready condition"


def test_the_controller_container_is_the_ingress_one_else_the_first():
    def ctl(*images):
        containers = [{"name": f"c{i}", **({"image": im} if im else {})} for i, im in
                      enumerate(images)]  # fmt: skip
        return {"kind": "Deployment", "metadata": {"name": "x", "namespace": "n"},
                "spec": {"template": {"spec": {"containers": containers}}}}  # fmt: skip

    assert plan.controller_container(ctl("sidecar:1", "acs/ingress-nginx:1"))["name"] == "c1"
    assert plan.controller_container(ctl("sidecar:1", "log:2"))["name"] == "c0"
    assert plan.controller_container(ctl(None, "nginx-ingress:1"))["name"] == "c1"


def test_who_put_the_dedication_taint_there():
    ours = {"metadata": {"annotations": {"ingress-ha.ackops.io/dedicated-taint": "true"}},
            "spec": {"taints": [TAINT]}}  # fmt: skip
    theirs = {"metadata": {}, "spec": {"taints": [TAINT]}}
    none = {"metadata": {"annotations": {"ingress-ha.ackops.io/dedicated-taint": "true"}}}
    assert (plan.tainted_by_us(ours), plan.foreign_dedication_taint(ours)) == (True, False)
    assert (plan.tainted_by_us(theirs), plan.foreign_dedication_taint(theirs)) == (False, True)
    assert (plan.tainted_by_us(none), plan.foreign_dedication_taint(none)) == (False, False)
    assert plan.tainted_by_us({"spec": {"taints": [TAINT]}}) is False


def test_the_zone_spread_never_blocks_scheduling():
    assert plan.spread_constraint({"app": "ing"}) == {
        "maxSkew": 1,
        "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": {"matchLabels": {"app": "ing"}},
    }


def test_one_zone_without_a_zone_label_is_named_so():
    nodes = [{"metadata": {"name": n}} for n in ("a", "b")]
    assert plan.zone_warning(nodes, {"a", "b"}) == (
        "all 2 ingress nodes are in zone (no zone label): an outage of that zone takes every "
        "ingress replica down; add ingress nodes in other zones"
    )
    assert plan.zone_warning(nodes, {"a"}) is None


def test_pods_left_on_dedicated_nodes_say_why_as_kubectl_drain_would():
    def pod(name, owner="ReplicaSet", **meta):
        refs = [{"kind": owner, "name": "x", "uid": "u"}] if owner else []
        return {"metadata": {"name": name, "labels": {"app": name}, "ownerReferences": refs,
                             **meta},
                "spec": {"nodeName": "w1"}}  # fmt: skip

    mirror = pod("etcd", owner=None, annotations={"kubernetes.io/config.mirror": "abc"})
    bare = pod("debug", owner=None)
    other = pod("web")
    elsewhere = pod("api")
    elsewhere["spec"]["nodeName"] = "w9"
    evict, left = plan.pods_to_clear([mirror, bare, other, elsewhere], {"w1"}, {"app": "ing"})
    assert [p["metadata"]["name"] for p in evict] == ["web"]
    assert [(p["metadata"]["name"], why) for p, why in left] == [
        ("etcd", "static (mirror) pod"),
        ("debug", "no controller would recreate it (evicting deletes it for good); move or "
                  "delete it yourself"),
    ]  # fmt: skip


# --- session 5: survivors of the 2026-12-05 run ------------------------------------------


def worker(name, zone=None, labels=None, taints=None, ready=True):
    meta = {"name": name, "labels": {**({"topology.kubernetes.io/zone": zone} if zone else {}),
                                     **(labels or {})}}  # fmt: skip
    status = READY if ready else {"conditions": [{"type": "Ready", "status": "False"}]}
    return {"metadata": meta, "spec": {"taints": taints or []}, "status": status}


def test_automatic_selection_fills_the_least_used_zone_each_time():
    # Zone a has three workers, zone b two; four replicas: two per zone, not three in a.
    nodes = [worker(n, zone=n[0]) for n in ("a1", "a2", "a3", "b1", "b2")]
    assert plan.select_nodes(nodes, 4, None, automatic=True) == ["a1", "a2", "b1", "b2"]


def test_too_few_workers_names_the_usable_ones_and_why_the_others_are_not():
    nodes = [
        worker("w1"),
        worker("w2"),
        worker("w3", ready=False, taints=[{"key": "gpu", "effect": "NoSchedule"}]),
    ]
    with pytest.raises(plan.IngressHAError) as info:
        plan.select_nodes(nodes, 3, [], automatic=True)
    assert str(info.value) == (
        "only 2 ready, schedulable worker(s) (w1, w2) for 3 replicas: every replica needs a "
        "node of its own and masters are never chosen; skipped: w3 (NotReady, taint "
        "gpu:NoSchedule not tolerated)"
    )
    with pytest.raises(plan.IngressHAError) as info:
        plan.select_nodes([nodes[2]], 1, [], automatic=True)
    assert str(info.value).startswith("only 0 ready, schedulable worker(s) (none) for 1 ")


def test_a_requested_node_with_two_problems_lists_both():
    node = worker("w3", ready=False, taints=[{"key": "gpu", "effect": "NoSchedule"}])
    with pytest.raises(plan.IngressHAError) as info:
        plan.select_nodes([node], 1, [{"host": "h3", "node_name": "w3"}])
    assert "host h3: node w3 is NotReady, taint gpu:NoSchedule not tolerated." in str(info.value)


def test_an_empty_group_is_refused_unless_automatic_selection_is_asked_for():
    with pytest.raises(plan.IngressHAError, match="automatic selection was not asked for"):
        plan.select_nodes([worker("w1")], 1, None)


def test_selection_honours_the_controllers_tolerations_and_none_means_none():
    gpu = worker("w1", taints=[{"key": "gpu", "value": "yes", "effect": "NoSchedule"}])
    tolerating = [{"key": "gpu", "operator": "Exists"}]
    assert plan.select_nodes([gpu], 1, None, automatic=True, tolerations=tolerating) == ["w1"]
    with pytest.raises(plan.IngressHAError, match="taint gpu=yes:NoSchedule not tolerated"):
        plan.select_nodes([gpu], 1, None, automatic=True, tolerations=None)


def test_a_node_with_the_selected_labels_has_no_selector_problem():
    node = worker("w1", labels={"disk": "ssd", "arch": "amd64"})
    assert plan.node_problems(node, [], {"disk": "ssd", "arch": "amd64"}) == []
    assert plan.node_problems(worker("w2"), [], {"disk": "ssd"}) == [
        "not matching the controller's nodeSelector disk=ssd"
    ]


def test_every_untolerated_taint_is_listed_whatever_comes_before_it():
    node = worker(
        "w1",
        taints=[
            {"key": "gpu", "value": "yes", "effect": "NoSchedule"},
            {"key": "soft", "effect": "PreferNoSchedule"},
            {"key": "db", "effect": "NoExecute"},
        ],
    )
    assert plan.node_problems(node, [{"key": "gpu", "operator": "Exists"}]) == [
        "taint db:NoExecute not tolerated"
    ]


def test_a_later_toleration_can_match_after_one_for_another_key():
    taint = {"key": "gpu", "value": "yes", "effect": "NoSchedule"}
    match = {"key": "gpu", "operator": "Exists"}
    for first in (
        {"key": "db", "operator": "Exists"},  # another key
        {"key": "gpu", "operator": "Exists", "effect": "NoExecute"},  # another effect
        {"operator": "Equal"},  # no key and not Exists: tolerates nothing
    ):
        assert plan.tolerates([first, match], taint), first
        assert not plan.tolerates([first], taint), first


def test_other_selector_keeps_every_key_but_the_ingress_label():
    ctl = controller()
    ctl["spec"]["template"]["spec"]["nodeSelector"] = {
        "disk": "ssd",
        "node-role.kubernetes.io/ingress": "true",
    }
    assert plan.other_selector(ctl) == {"disk": "ssd"}


def test_controller_body_keeps_the_api_version_it_was_read_with():
    ctl = controller(replicas=2)
    ctl["apiVersion"] = "apps/v1beta2"
    assert plan.controller_body(ctl, None, 3, dedicate=False)["apiVersion"] == "apps/v1beta2"


def test_helm_advice_with_a_field_no_chart_value_sets():
    helm = {"type": "helm", "release": "edge", "release_namespace": "ingress"}
    assert plan.ownership_advice(helm, [".spec.replicas", ".metadata.labels.x"]) == (
        plan.ownership_advice(helm, [".spec.replicas"])
    )


def test_a_value_that_changes_type_is_reported_at_its_path():
    assert plan.changed_fields({"a": 1}, [1], "spec") == ["spec"]


def test_pods_to_clear_looks_at_every_pod_after_one_it_leaves_alone():
    def pod(name, **spec):
        return {
            "metadata": {"name": name, "labels": {"app": name},
                         "ownerReferences": [{"kind": "ReplicaSet", "name": "x", "uid": "u"}]},
            "spec": {"nodeName": "w1", **spec},
        }  # fmt: skip

    tolerant = pod("t", tolerations=[{"key": "node-role.kubernetes.io/ingress", "operator": "Exists"}])  # fmt: skip
    ours = pod("ing")
    ours["metadata"]["labels"] = {"app": "ing"}
    evict, left = plan.pods_to_clear([tolerant, ours, pod("web")], {"w1"}, {"app": "ing"})
    assert ([p["metadata"]["name"] for p in evict], left) == (["web"], [])
