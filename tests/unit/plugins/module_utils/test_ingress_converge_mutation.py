"""The ingress Converger's report and refusals, expected values worked out by hand (issue 18).

The cluster of test_ingress_converge: nodes w1..w4 in one zone, w4 labelled, the
controller's two pods on w3 and w4; the runbook asks for w1 and w2.
"""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.plan import IngressHAError
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.errors import K8sObjectError
from tests.unit.plugins.module_utils.test_ingress_converge import NAME, NS, Cluster, params

CONTROLLER = f"Deployment {NS}/{NAME}"


def test_the_report_of_a_first_run_by_hand():
    cluster = Cluster()
    report = cluster.converger().run()
    assert report["changes"] == [
        "label node w1",
        "label node w2",
        # 2 replicas on 2 labelled nodes: no spare node, so a rolling update without surge.
        f"update {CONTROLLER}: spec.strategy, spec.template.spec.affinity, "
        "spec.template.spec.nodeSelector, spec.template.spec.topologySpreadConstraints",
        f"create PodDisruptionBudget {NS}/{NAME}: created",
        "unlabel node w4",
        "move pod p-w3 off w3",
        "move pod p-w4 off w4",
    ]
    assert report["plan"] == [
        "evict pod p-w3 on w3 (Eviction API, one at a time)",
        "evict pod p-w4 on w4 (Eviction API, one at a time)",
    ]
    assert report["owner"] == {"type": None}
    assert report["hpa"] is None
    assert report["pdb"] == {"managed": True, "reason": ""}
    assert report["dedication"] == []
    assert report["pods_to_delete"] == []
    assert report["check_mode"] is False
    assert report["service"] == {"name": "nginx-ingress-lb", "namespace": NS, "found": False}
    assert report["warnings"] == [
        "all 2 ingress nodes are in zone cn-hangzhou-h: an outage of that zone takes every "
        "ingress replica down; add ingress nodes in other zones"
    ]
    headers = [d["before_header"] for d in report["diff"]]
    assert headers == ["Node w1", "Node w2", CONTROLLER, f"PodDisruptionBudget {NS}/{NAME}",
                       "Node w4"]  # fmt: skip
    assert report["diff"][3]["before"] == {}  # created
    assert report["diff"][2]["after"]["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1},
    }


def test_a_second_run_changes_nothing():
    cluster = Cluster()
    cluster.converger().run()
    again = cluster.converger().run()
    assert again["changes"] == []
    assert again["diff"] == []


def test_the_load_balancer_addresses_are_reported():
    cluster = Cluster()
    cluster.fake.add(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "nginx-ingress-lb", "namespace": NS},
            "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]},
            "status": {
                "loadBalancer": {
                    "ingress": [{"ip": "47.96.1.2"}, {"hostname": "slb.example.com"}, {}]
                }
            },
        }
    )
    report = cluster.converger(check_mode=True).run()
    assert report["service"] == {
        "name": "nginx-ingress-lb",
        "namespace": NS,
        "found": True,
        "type": "LoadBalancer",
        "addresses": ["47.96.1.2", "slb.example.com"],
    }


def test_pdb_off_says_so_and_creates_none():
    cluster = Cluster()
    report = cluster.converger(pdb=False).run()
    assert report["pdb"] == {"managed": False, "reason": "pdb is off"}
    assert not [r for r in cluster.fake.writes() if "poddisruptionbudgets" in r.path]


def test_a_field_owned_by_helm_is_refused_before_any_write():
    cluster = Cluster()
    cluster.fake.fail(
        "PATCH",
        "/deployments/",
        409,
        'Apply failed with 1 conflict: conflict with "helm" using apps/v1: .spec.replicas',
    )
    with pytest.raises(IngressHAError) as exc:
        cluster.converger().run()
    assert str(exc.value) == (
        f"{CONTROLLER}: fields this runbook sets are owned by other field managers: "
        'field manager "helm" owns .spec.replicas. Not changed: the controller is deployed '
        f"by the Helm release {NS}/unknown: set controller.replicaCount in its chart values "
        "(and controller.kind/controller.autoscaling for the kind and an HPA) and run helm "
        "upgrade; its next upgrade would revert a change made here. To take them over anyway "
        "set ingress_ha_take_ownership=true (module option take_ownership)."
    )
    assert exc.value.details == {
        "conflicts": {"helm": [".spec.replicas"]},
        "owner": {"type": "helm", "release": "unknown", "release_namespace": NS},
    }
    assert [r for r in cluster.fake.writes() if not r.dry_run] == []


def test_a_conflict_with_an_addon_manager_names_the_addon_settings():
    cluster = Cluster()
    cluster.fake.fail(
        "PATCH",
        "/deployments/",
        409,
        'Apply failed with 2 conflicts: conflict with "ACKAddonManager" using apps/v1:\n'
        "- .spec.replicas\n- .spec.template.spec.nodeSelector",
    )
    with pytest.raises(IngressHAError) as exc:
        cluster.converger().run()
    assert "the controller is a managed add-on: change the node selector, the number of " in (
        str(exc.value)
    )
    assert exc.value.details["conflicts"] == {
        "ACKAddonManager": [".spec.replicas", ".spec.template.spec.nodeSelector"]
    }


def test_an_apply_error_that_is_no_conflict_is_not_dressed_as_one():
    cluster = Cluster()
    cluster.fake.fail("PATCH", "/deployments/", 422, "spec.replicas: Invalid value: -1")
    with pytest.raises(K8sObjectError, match="Invalid value") as exc:
        cluster.converger().run()
    assert not isinstance(exc.value, IngressHAError)
    assert exc.value.status == 422


def test_take_ownership_forces_the_apply():
    cluster = Cluster()
    cluster.converger(take_ownership=True).run()
    applies = [
        r
        for r in cluster.fake.writes()
        if r.content_type == "application/apply-patch+yaml" and "/deployments/" in r.path
    ]
    assert applies
    assert all(str(r.query.get("force")).lower() == "true" for r in applies)
    plain = Cluster()
    plain.converger().run()
    assert all(
        str(r.query.get("force", "false")).lower() == "false"
        for r in plain.fake.writes()
        if r.content_type == "application/apply-patch+yaml"
    )


def test_check_mode_plans_the_moves_and_reports_them_as_changes_would_be():
    cluster = Cluster()
    report = cluster.converger(check_mode=True).run()
    assert report["check_mode"] is True
    assert report["plan"] == [
        "evict pod p-w3 on w3 (Eviction API, one at a time)",
        "evict pod p-w4 on w4 (Eviction API, one at a time)",
    ]
    assert report["changes"][:2] == ["label node w1", "label node w2"]


def test_wait_off_names_the_pods_still_to_move():
    cluster = Cluster()
    report = cluster.converger(wait=False).run()
    assert (
        "wait is off: nothing was evicted (a safe eviction waits for each replacement); "
        "still to move: p-w3 on w3, p-w4 on w4"
    ) in report["warnings"]


def test_params_used_here_are_the_suites():
    assert params()["nodes"] == [{"host": "w1"}, {"host": "w2"}]


# --- a DaemonSet controller, with a stand-in DaemonSet controller on the fake clock ---------


class DaemonCluster:
    """Nodes w1, w2, w3, w4 (w4 labelled); the DaemonSet's pod p-w4 on w4 (template gen 1).

    Between two looks the stand-in does what the DaemonSet controller does: a Ready pod
    on every node with the ingress label (the DaemonSet's nodeSelector), no pod on
    any other node, and the status counts.
    """

    def __init__(self, on_delete=False, ready=True):
        from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import (
            ObjectClient,
        )
        from tests.unit.k8s_fake import FakeApi
        from tests.unit.plugins.module_utils.test_ingress_converge import daemonset, node, pod

        self.pod, self.ready = pod, ready
        self.fake = FakeApi(watch=False)
        ds = daemonset()
        if on_delete:
            ds["spec"]["updateStrategy"] = {"type": "OnDelete"}
        old = pod("p-w4", "w4")
        old["metadata"]["labels"]["pod-template-generation"] = "1"
        self.fake.add(node("w1"), node("w2"), node("w3"), node("w4", ingress=True), ds, old)
        self.fake.clock.ticks.append(self.settle)
        self.client = ObjectClient(self.fake.api_client(), "ackops-ingress-ha")

    def objects(self, kind):
        return [o for k, o in self.fake.objects.items() if k[1] == kind]

    def settle(self):
        from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.plan import (
            INGRESS_LABEL,
        )

        ds = self.fake.objects[("apps/v1", "DaemonSet", NS, NAME)]
        labelled = sorted(
            n["metadata"]["name"]
            for n in self.objects("Node")
            if n["metadata"]["labels"].get(INGRESS_LABEL) == "true"
        )
        pods = {p["spec"]["nodeName"]: p for p in self.objects("Pod")}
        for name, p in pods.items():
            if name not in labelled:
                self.fake._remove(("v1", "Pod", NS, p["metadata"]["name"]))
        for name in labelled:
            if name not in pods:
                new = self.pod(f"p-{name}-new", name)
                new["metadata"]["labels"]["pod-template-generation"] = str(
                    ds["metadata"]["generation"]
                )
                if not self.ready:
                    new["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
                self.fake.add(new)
        ready = len(
            [p for p in self.objects("Pod") if p["status"]["conditions"][0]["status"] == "True"]
        )
        status = {
            "observedGeneration": ds["metadata"]["generation"],
            "desiredNumberScheduled": len(labelled),
            "currentNumberScheduled": len(labelled),
            "updatedNumberScheduled": len(labelled),
            "numberAvailable": ready,
            "numberReady": ready,
        }
        if ds.get("status") != status:
            ds["status"] = status
            self.fake._store(ds, "MODIFIED")

    def converger(self, **extra):
        from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.converge import (
            Converger,
        )

        return Converger(
            self.client,
            params(replicas=None, **extra),
            False,
            sleep=self.fake.clock.sleep,
            clock=self.fake.clock,
        )


def test_a_daemonset_moves_to_the_new_nodes_before_the_old_one_loses_its_label():
    cluster = DaemonCluster()
    report = cluster.converger().run()
    assert report["changes"] == [
        "label node w1",
        "label node w2",
        f"update DaemonSet {NS}/{NAME}: spec.template.spec.affinity, "
        "spec.template.spec.topologySpreadConstraints",
        "unlabel node w4",
    ]
    # The old pod was still there when w4 lost its label: the DaemonSet controller deletes it.
    assert report["plan"] == [
        "the DaemonSet controller deletes pod p-w4 on w4 (a deletion, not an eviction: no "
        "PodDisruptionBudget applies)"
    ]
    assert report["pdb"] == {
        "managed": False,
        "reason": "no PodDisruptionBudget for a DaemonSet: the disruption controller computes "
        "maxUnavailable only for pods of a scalable owner (Deployment, ReplicaSet, "
        "StatefulSet), and the DaemonSet controller deletes its pods without evicting",
    }
    assert report["pods"] == [
        {"pod": "p-w1-new", "node": "w1", "ready": True},
        {"pod": "p-w2-new", "node": "w2", "ready": True},
    ]
    assert report["placement_problems"] == []
    assert report["pods_to_delete"] == []
    assert not [r for r in cluster.fake.requests if r.path.endswith("/eviction")]
    # w4 was unlabelled only after w1 and w2 had Ready pods.
    writes = [r.path.rsplit("/", 1)[-1] for r in cluster.fake.writes() if not r.dry_run]
    assert writes.index("w4") > writes.index(NAME)


def test_an_on_delete_daemonset_lists_the_pods_still_on_the_old_template():
    cluster = DaemonCluster(on_delete=True)
    report = cluster.converger(nodes=[{"host": "w1"}, {"host": "w4"}]).run()
    assert report["pods_to_delete"] == ["p-w4"]
    assert (
        f"DaemonSet {NS}/{NAME} updates OnDelete: its pods keep the old template until "
        "deleted; delete these one at a time, each after its replacement is Ready: p-w4"
    ) in report["warnings"]
    assert report["nodes"]["labelled"] == ["w1", "w4"]


def test_a_daemonset_whose_new_pods_never_get_ready_keeps_the_old_label():
    cluster = DaemonCluster(ready=False)
    with pytest.raises(IngressHAError) as exc:
        cluster.converger(wait_timeout=20).run()
    assert str(exc.value) == (
        f"DaemonSet {NS}/{NAME}: stopped before unlabelling any node: within 20s DaemonSet "
        f"{NS}/{NAME} has no Ready pod on w1, w2; the old ingress nodes keep their label and "
        "their pods, so traffic is still served. Fix the new nodes and rerun."
    )
    assert exc.value.details == {"not_ready_on": ["w1", "w2"]}
    w4 = cluster.fake.stored("v1", "Node", "w4")
    assert w4["metadata"]["labels"]["node-role.kubernetes.io/ingress"] == "true"


# --- an evicted pod that lingers (graceful termination) or returns under its name -----------


def test_the_next_eviction_waits_until_an_evicted_pod_is_really_gone():
    cluster = Cluster()
    fake = cluster.fake
    remove, lingering = fake._remove, {}

    def terminating(key):
        """p-w3 is evicted: it terminates for three ticks (deletionTimestamp set) first."""
        if key[3] == "p-w3" and key not in lingering:
            obj = fake.objects[key]
            obj["metadata"]["deletionTimestamp"] = "2026-12-04T00:00:00Z"
            # The ReplicaSet controller ignores terminating pods and starts a replacement
            # at once; the stand-in counts pods by labels, so this one stops matching.
            obj["metadata"]["labels"] = {"app": "terminating"}
            lingering[key] = 3
            return obj
        return remove(key)

    def tick():
        for key in list(lingering):
            lingering[key] -= 1
            if lingering[key] == 0 and key in fake.objects:
                remove(key)

    fake._remove = terminating
    fake.clock.ticks.insert(0, tick)
    seen = {}
    fake.when(
        "POST", "p-w4/eviction", lambda: seen.update(p_w3=("v1", "Pod", NS, "p-w3") in fake.objects)
    )
    report = cluster.converger().run()
    assert seen == {"p_w3": False}, "p-w4 was evicted while p-w3 was still terminating"
    assert [c for c in report["changes"] if c.startswith("move")] == [
        "move pod p-w3 off w3",
        "move pod p-w4 off w4",
    ]


def test_a_pod_back_under_its_name_with_a_new_uid_counts_as_gone():
    cluster = Cluster()
    fake = cluster.fake
    from tests.unit.plugins.module_utils.test_ingress_converge import pod

    def recreate():
        if ("v1", "Pod", NS, "p-w3") not in fake.objects and not recreate.done:
            again = pod("p-w3", "w1")  # a StatefulSet-like replacement, same name
            again["metadata"]["labels"] = {"app": "other"}
            again["metadata"]["uid"] = "a-new-uid"
            fake.add(again)
            recreate.done = True

    recreate.done = False
    fake.clock.ticks.insert(0, recreate)
    report = cluster.converger().run()
    assert recreate.done
    assert "move pod p-w4 off w4" in report["changes"]


# --- more of the converger, each expectation by hand ------------------------------------------


def web_pods(cluster, *names):
    from tests.unit.plugins.module_utils.test_ingress_converge import pod

    for name in names:
        web = pod(name, "w1")
        web["metadata"]["labels"] = {"app": "web"}
        web["metadata"]["ownerReferences"] = [{"kind": "ReplicaSet", "name": "web", "uid": "u"}]
        cluster.fake.add(web)


def test_dedication_in_check_mode_lists_every_pod_it_would_evict():
    from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import Changes

    cluster = Cluster()
    web_pods(cluster, "web-1", "web-2")
    ledger = Changes()
    report = cluster.converger(check_mode=True, dedicate=True, ledger=ledger).run()
    assert report["dedication"] == [
        f"would evict Pod {NS}/web-1 from ingress node w1",
        f"would evict Pod {NS}/web-2 from ingress node w1",
    ]
    evictions = [(e["action"], e["target"], e["change"]) for e in ledger if e["action"] == "evict"]
    assert (
        "evict",
        f"Pod {NS}/web-1",
        "dedicate: evict pod web-1 off w1",
    ) in evictions
    assert ("evict", f"Pod {NS}/web-2", "dedicate: evict pod web-2 off w1") in evictions


def test_dedication_with_wait_off_evicts_nothing_and_says_so():
    cluster = Cluster()
    web_pods(cluster, "web-1", "web-2")
    report = cluster.converger(dedicate=True, wait=False).run()
    assert report["dedication"] == [
        f"not evicted (wait is off): Pod {NS}/web-1 from ingress node w1",
        f"not evicted (wait is off): Pod {NS}/web-2 from ingress node w1",
    ]
    assert not [r for r in cluster.fake.requests if r.path.endswith("/eviction")]


def test_the_ledger_names_action_and_target_of_every_change():
    from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import Changes

    cluster = Cluster()
    ledger = Changes()
    ledger.record("earlier", "something else", change="from an earlier task")
    report = cluster.converger(ledger=ledger).run()
    entries = [(e["action"], e["target"]) for e in ledger][1:]
    assert entries[:5] == [
        ("label", "Node w1"),
        ("label", "Node w2"),
        ("update", CONTROLLER),
        ("create", f"PodDisruptionBudget {NS}/{NAME}"),
        ("unlabel", "Node w4"),
    ]
    # The earlier task's entry is in the ledger, not in this run's diff or changes.
    assert all("earlier" not in str(d) for d in report["diff"])
    node_w1 = report["diff"][0]
    assert INGRESS not in node_w1["before"]["metadata"]["labels"]
    assert node_w1["after"]["metadata"]["labels"][INGRESS] == "true"


INGRESS = "node-role.kubernetes.io/ingress"


def test_an_explicit_controller_kind_is_the_only_one_looked_for():
    cluster = Cluster()
    with pytest.raises(IngressHAError) as exc:
        cluster.converger(controller_kind="DaemonSet").run()
    assert str(exc.value) == (
        f"no ingress controller: neither DaemonSet {NS}/{NAME} exists (set controller_name "
        "or namespace)"
    )
    auto = Cluster()
    auto.fake.objects.pop(("apps/v1", "Deployment", NS, NAME))
    with pytest.raises(IngressHAError) as exc:
        auto.converger().run()
    assert str(exc.value).startswith(
        f"no ingress controller: neither Deployment nor DaemonSet {NS}/{NAME} exists"
    )


def test_an_hpa_of_another_namespace_does_not_count():
    cluster = Cluster()
    cluster.fake.add(
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "elsewhere", "namespace": "other"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": NAME},
                "minReplicas": 5,
                "maxReplicas": 9,
            },
        }
    )
    report = cluster.converger().run()
    assert report["hpa"] is None
    assert report["changes"][2].startswith(f"update {CONTROLLER}: spec.strategy")


def test_a_conflict_on_a_helm_released_controller_names_its_release():
    cluster = Cluster()
    ctl = cluster.fake.objects[("apps/v1", "Deployment", NS, NAME)]
    ctl["metadata"]["annotations"] = {
        "meta.helm.sh/release-name": "edge",
        "meta.helm.sh/release-namespace": "ingress",
    }
    cluster.fake.fail(
        "PATCH",
        "/deployments/",
        409,
        'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: '
        ".spec.template.spec.nodeSelector",
    )
    with pytest.raises(IngressHAError) as exc:
        cluster.converger().run()
    assert exc.value.details["owner"] == {
        "type": "helm",
        "release": "edge",
        "release_namespace": "ingress",
    }
    assert "the Helm release ingress/edge: set controller.nodeSelector in its" in str(exc.value)
    assert 'field manager "kubectl-edit" owns .spec.template.spec.nodeSelector' in str(exc.value)


def test_several_conflicting_managers_are_listed_in_name_order():
    cluster = Cluster()
    cluster.fake.fail(
        "PATCH",
        "/deployments/",
        409,
        'Apply failed with 3 conflicts: conflict with "zeta" using apps/v1:\n'
        "- .spec.replicas\n- .spec.strategy\n"
        'conflict with "alpha" using apps/v1: .spec.template.spec.tolerations',
    )
    with pytest.raises(IngressHAError) as exc:
        cluster.converger().run()
    assert (
        'other field managers: field manager "alpha" owns .spec.template.spec.tolerations; '
        'field manager "zeta" owns .spec.replicas, .spec.strategy. Not changed:'
    ) in str(exc.value)


HELM_ADVICE = (
    "the controller is deployed by the Helm release ingress/edge: set controller.affinity, "
    "controller.nodeSelector, controller.replicaCount, controller.tolerations, "
    "controller.topologySpreadConstraints, controller.updateStrategy in its chart values (and "
    "controller.kind/controller.autoscaling for the kind and an HPA) and run helm upgrade; its "
    "next upgrade would revert a change made here"
)


def test_a_helm_or_addon_managed_controller_is_warned_about_unless_taken_over():
    cluster = Cluster()
    ctl = cluster.fake.objects[("apps/v1", "Deployment", NS, NAME)]
    ctl["metadata"]["annotations"] = {
        "meta.helm.sh/release-name": "edge",
        "meta.helm.sh/release-namespace": "ingress",
    }
    report = cluster.converger(check_mode=True).run()
    assert f"{CONTROLLER} is managed by Helm: {HELM_ADVICE}" in report["warnings"]
    assert report["owner"] == {"type": "helm", "release": "edge", "release_namespace": "ingress"}
    taken = cluster.converger(check_mode=True, take_ownership=True).run()
    assert not [w for w in taken["warnings"] if "is managed by" in w]
    addon = Cluster()
    ctl = addon.fake.objects[("apps/v1", "Deployment", NS, NAME)]
    ctl["metadata"]["labels"] = {"addonmanager.kubernetes.io/mode": "Reconcile"}
    report = addon.converger(check_mode=True).run()
    assert (
        f"{CONTROLLER} is managed by an add-on manager: the controller is a managed add-on: "
        "change the affinity, the node selector, the number of replicas, the tolerations in the "
        "add-on's configuration (ACK console, Add-ons, the ingress controller, Configuration) "
        "so the add-on manager does not revert them"
    ) in report["warnings"]


def test_a_dedication_taint_someone_else_put_there_is_kept_and_named():
    cluster = Cluster()
    w3 = cluster.fake.objects[("v1", "Node", None, "w3")]
    w3["spec"]["taints"] = [
        {"key": "node-role.kubernetes.io/ingress", "value": "true", "effect": "NoSchedule"}
    ]
    report = cluster.converger(check_mode=True).run()
    assert (
        "node w3 keeps the taint node-role.kubernetes.io/ingress=true:NoSchedule: this runbook "
        "did not add it, so it does not remove it"
    ) in report["warnings"]
    dedicating = cluster.converger(check_mode=True, dedicate=True).run()
    assert not [w for w in dedicating["warnings"] if w.startswith("node w3 keeps")]


def test_check_mode_counts_moves_only_when_the_controller_is_already_right():
    from tests.unit.plugins.module_utils.test_ingress_converge import pod

    cluster = Cluster()
    first = cluster.converger(check_mode=True).run()
    # The controller itself changes: its pods move by the rollout, not by evictions.
    assert not [c for c in first["changes"] if c.startswith("move")]
    cluster.converger().run()
    cluster.fake.add(pod("p-stale", "w3"))  # a pod left on a node without the label
    second = cluster.converger(check_mode=True).run()
    assert second["changes"] == ["move pod p-stale off w3"]
    assert second["plan"] == ["evict pod p-stale on w3 (Eviction API, one at a time)"]
