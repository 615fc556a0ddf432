"""The ingress Converger against the in-memory fake API: write order, check mode, evictions, timeout.

A small "cluster" runs on the fake clock: every sleep of the Converger lets a
stand-in Deployment controller settle the status and start pods on free
labelled nodes, as the real controller and scheduler would.
"""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import (
    Changes,
    failure,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.converge import (
    Converger,
    converge,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.plan import (
    INGRESS_LABEL,
    IngressHAError,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import (
    ObjectClient,
)
from tests.unit.k8s_fake import FakeApi

NS, NAME = "kube-system", "nginx-ingress-controller"
LABELS = {"app": "ingress-nginx"}


def node(name, ingress=False):
    labels = {"kubernetes.io/hostname": name, "topology.kubernetes.io/zone": "cn-hangzhou-h"}
    if ingress:
        labels[INGRESS_LABEL] = "true"
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "spec": {},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


def pod(name, node_name):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": dict(LABELS)},
        "spec": {"nodeName": node_name, "containers": [{"name": "c", "image": "x"}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    }


def deployment(replicas=2):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": NS, "generation": 1},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(LABELS)},
            "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {
                    "containers": [
                        {"name": "c", "image": "acs/aliyun-ingress-controller:v1.2.1-aliyun.1"}
                    ]
                },
            },
        },
        "status": {
            "observedGeneration": 1,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "availableReplicas": replicas,
        },
    }


def params(**extra):
    return {
        "namespace": NS,
        "controller_name": NAME,
        "controller_kind": "auto",
        "service_name": "nginx-ingress-lb",
        "replicas": 2,
        "nodes": [{"host": "w1"}, {"host": "w2"}],
        "automatic_selection": False,
        "take_ownership": False,
        "prune": True,
        "dedicate": False,
        "pdb": True,
        "pdb_max_unavailable": 1,
        "wait": True,
        "wait_timeout": 300,
        **extra,
    }


class Cluster:
    """The fake API with nodes w1..w4 (w4 labelled), the controller's pods on w3 and w4."""

    def __init__(self, controller=True):
        self.fake = FakeApi(watch=False)
        self.fake.add(node("w1"), node("w2"), node("w3"), node("w4", ingress=True))
        self.fake.add(deployment(), pod("p-w3", "w3"), pod("p-w4", "w4"))
        if controller:
            self.fake.clock.ticks.append(self.settle)
        self.started = 0
        self.client = ObjectClient(self.fake.api_client(), "ackops-ingress-ha")

    def settle(self):
        """What the Deployment controller and the scheduler do between two looks."""
        key = ("apps/v1", "Deployment", NS, NAME)
        dep = self.fake.objects[key]
        wanted = dep["spec"]["replicas"]
        pods = [
            o
            for k, o in self.fake.objects.items()
            if k[1] == "Pod" and o["metadata"]["labels"] == LABELS
        ]
        labelled = sorted(
            o["metadata"]["name"]
            for k, o in self.fake.objects.items()
            if k[1] == "Node" and o["metadata"]["labels"].get(INGRESS_LABEL) == "true"
        )
        used = {p["spec"]["nodeName"] for p in pods}
        for free in [n for n in labelled if n not in used][: max(0, wanted - len(pods))]:
            self.started += 1
            self.fake.add(pod(f"p-new{self.started}", free))
        status = {
            "observedGeneration": dep["metadata"]["generation"],
            "replicas": wanted,
            "updatedReplicas": wanted,
            "availableReplicas": wanted,
        }
        if dep.get("status") != status:
            dep["status"] = status
            self.fake._store(dep, "MODIFIED")

    def converger(self, check_mode=False, ledger=None, **extra):
        return Converger(
            self.client,
            params(**extra),
            check_mode,
            sleep=self.fake.clock.sleep,
            clock=self.fake.clock,
            ledger=ledger,
        )

    def writes(self):
        """(method, what) of every write, in order."""
        out = []
        for r in self.fake.writes():
            what = (
                r.path.rsplit("/", 2)[-2:]
                if r.path.endswith("eviction")
                else [r.path.rsplit("/", 1)[-1]]
            )
            out.append((r.method, "/".join(what), r.dry_run))
        return out


def test_write_order_labels_before_the_controller_and_unlabels_after():
    cluster = Cluster()
    report = cluster.converger().run()
    # First the dry-run applies that catch field-ownership conflicts before any write.
    assert cluster.writes()[:2] == [("PATCH", NAME, True), ("PATCH", NAME, True)]
    writes = [(m, w) for m, w, dry in cluster.writes() if not dry]
    assert writes[:5] == [
        ("PATCH", "w1"),
        ("PATCH", "w2"),
        ("PATCH", NAME),  # the Deployment
        ("PATCH", NAME),  # the PodDisruptionBudget, named like it
        ("PATCH", "w4"),
    ]
    kinds = [r.path.split("/")[-2] for r in cluster.fake.writes() if not r.dry_run][:5]
    assert kinds == ["nodes", "nodes", "deployments", "poddisruptionbudgets", "nodes"]
    assert report["changes"][:2] == ["label node w1", "label node w2"]
    assert "unlabel node w4" in report["changes"]
    assert report["nodes"]["labelled"] == ["w1", "w2"]
    assert sorted(row["node"] for row in report["pods"]) == ["w1", "w2"]


def test_check_mode_is_a_dry_run_and_persists_nothing():
    cluster = Cluster()
    before = {k: dict(v) for k, v in cluster.fake.objects.items()}
    ledger = Changes()
    report = converge(cluster.client, params(), check_mode=True, ledger=ledger)
    assert all(dry for _m, _w, dry in cluster.writes())
    assert not any(w.endswith("eviction") for _m, w, _dry in cluster.writes())
    assert cluster.fake.objects == before
    assert cluster.fake.clock.sleeps == []  # never waits
    assert report["check_mode"] is True
    assert "# Ingress high availability (check mode: nothing changed)" in report["markdown"]
    assert [c["change"] for c in ledger] == report["changes"]
    assert all(c["check_mode"] for c in ledger)


def test_evictions_one_at_a_time_each_after_the_last_is_gone_and_replaced():
    cluster = Cluster()
    cluster.fake.add(deployment())  # unchanged template: only evictions move the pods
    seen = {}

    def at_second_eviction():
        pods = {k[3]: o for k, o in cluster.fake.objects.items() if k[1] == "Pod"}
        seen["pods"] = {name: o["spec"]["nodeName"] for name, o in pods.items()}

    cluster.fake.when("POST", "/pods/p-w4/eviction", at_second_eviction)
    report = cluster.converger().run()
    requests = cluster.fake.requests
    evictions = [r.path.split("/")[-2] for r in requests if r.path.endswith("/eviction")]
    assert evictions == ["p-w3", "p-w4"]
    # p-w3 was gone and its replacement ran on a labelled node before p-w4 was evicted.
    assert "p-w3" not in seen["pods"]
    assert sorted(seen["pods"].values()) == ["w1", "w4"]
    assert [c for c in report["changes"] if c.startswith("move")] == [
        "move pod p-w3 off w3",
        "move pod p-w4 off w4",
    ]


def test_an_eviction_answered_404_counts_as_gone_and_is_not_recorded():
    cluster = Cluster()
    # The pod goes away on its own between the Converger's list and its eviction.
    key = ("v1", "Pod", NS, "p-w3")
    cluster.fake.when("POST", "/pods/p-w3/eviction", lambda: cluster.fake._remove(key))
    report = cluster.converger().run()
    refused = [r for r in cluster.fake.requests if r.path.endswith("/pods/p-w3/eviction")]
    assert len(refused) == 1
    assert "move pod p-w3 off w3" not in report["changes"]
    assert "move pod p-w4 off w4" in report["changes"]
    assert sorted(row["node"] for row in report["pods"]) == ["w1", "w2"]


def test_an_eviction_refused_429_is_retried_then_stops_with_the_state_reported():
    cluster = Cluster()
    cluster.fake.evictions_blocked.add("p-w3")
    ledger = Changes()
    start = cluster.fake.clock.now
    with pytest.raises(IngressHAError) as caught:
        cluster.converger(ledger=ledger).run()
    error = caught.value
    retries = [r for r in cluster.fake.requests if r.path.endswith("/pods/p-w3/eviction")]
    assert len(retries) > 3  # retried with backoff, not given up at once
    assert cluster.fake.clock.now - start >= 300
    assert error.obj == f"Pod {NS}/p-w3"
    assert "refused for 300s" in str(error)
    assert "still to move: p-w3 on w3, p-w4 on w4" in str(error)
    assert error.details["on_unlabelled_nodes"] == ["p-w3 on w3", "p-w4 on w4"]
    # Nothing else was evicted after the refusal.
    assert not [r for r in cluster.fake.requests if r.path.endswith("/pods/p-w4/eviction")]
    result = failure(error, ledger)
    assert result["changed"] is True
    assert [c["change"] for c in result["partial_changes"]][:2] == [
        "label node w1",
        "label node w2",
    ]
    assert not any(c["action"] == "evict" for c in result["partial_changes"])


def test_an_empty_group_without_automatic_selection_is_refused_before_any_write():
    cluster = Cluster()
    with pytest.raises(IngressHAError, match="automatic selection was not asked for"):
        cluster.converger(nodes=[]).run()
    assert cluster.fake.writes() == []
    report = cluster.converger(nodes=[], automatic_selection=True).run()
    assert report["nodes"]["selection"] == "automatic"


def test_wait_off_evicts_nothing_and_reports_what_is_left():
    cluster = Cluster()
    cluster.fake.add(deployment())
    report = cluster.converger(wait=False).run()
    assert not [r for r in cluster.fake.requests if r.path.endswith("/eviction")]
    assert cluster.fake.clock.sleeps == []
    assert any("wait is off: nothing was evicted" in w for w in report["warnings"])
    assert any("runs on w3, which has no" in p for p in report["placement_problems"])


def test_check_mode_reports_placement_problems_from_the_cluster():
    cluster = Cluster()
    report = cluster.converger(check_mode=True).run()
    assert any("p-w3 runs on w3" in p for p in report["placement_problems"])
    assert any("p-w4 runs on w4" in p for p in report["placement_problems"])


def test_timeout_through_the_injected_clock():
    cluster = Cluster(controller=False)  # nothing ever settles
    start = cluster.fake.clock.now
    with pytest.raises(IngressHAError, match=rf"Deployment {NS}/{NAME} did not settle within 300s"):
        cluster.converger().run()
    assert set(cluster.fake.clock.sleeps) == {2}
    assert cluster.fake.clock.now - start >= 300


def test_the_markdown_carries_warnings_plan_and_hpa():
    cluster = Cluster()
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "ing", "namespace": NS},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": NAME},
            "minReplicas": 2,
            "maxReplicas": 4,
        },
    }
    cluster.fake.add(hpa)
    report = converge(cluster.client, params(), check_mode=True)
    assert report["hpa"]["max_replicas"] == 4
    assert not any("spec.replicas" in c for c in report["changes"])
    assert "HorizontalPodAutoscaler:\n- ing: minReplicas 2, maxReplicas 4" in report["markdown"]
    assert "maxReplicas 4, more than the 2 labelled" in report["markdown"]
    assert "Plan for the pods off the ingress nodes:\n- evict pod p-w3 on w3" in report["markdown"]


def test_a_node_changed_between_read_and_patch_is_re_read_and_patched():
    cluster = Cluster()
    changed = node("w1")
    changed["metadata"]["labels"]["team"] = "edge"  # someone labels w1 meanwhile
    cluster.fake.when("PATCH", "/nodes/w1", lambda: cluster.fake.add(changed))
    report = cluster.converger().run()
    patches = [r for r in cluster.fake.writes() if r.path.endswith("/nodes/w1")]
    assert len(patches) == 2  # refused on the stale resourceVersion, then re-planned
    stored = cluster.fake.stored("v1", "Node", "w1")
    assert stored["metadata"]["labels"]["team"] == "edge"
    assert stored["metadata"]["labels"][INGRESS_LABEL] == "true"
    assert report["changes"].count("label node w1") == 1


def test_dedication_evicts_other_pods_safely_and_leaves_daemonset_pods():
    cluster = Cluster()
    web = pod("web-1", "w1")
    web["metadata"]["labels"] = {"app": "web"}
    web["metadata"]["ownerReferences"] = [{"kind": "ReplicaSet", "name": "web", "uid": "u"}]
    agent = pod("agent-1", "w1")
    agent["metadata"]["labels"] = {"app": "agent"}
    agent["metadata"]["ownerReferences"] = [{"kind": "DaemonSet", "name": "agent", "uid": "u"}]
    cluster.fake.add(web, agent)
    report = cluster.converger(dedicate=True).run()
    evicted = [r.path.split("/")[-2] for r in cluster.fake.requests if r.path.endswith("eviction")]
    assert "web-1" in evicted
    assert "agent-1" not in evicted
    assert "dedicate: evict pod web-1 off w1" in report["changes"]
    assert report["dedication"] == [f"Pod {NS}/agent-1 on w1 left: DaemonSet pod"]
    stored = cluster.fake.stored("v1", "Node", "w1")
    assert {"key": INGRESS_LABEL, "value": "true", "effect": "NoSchedule"} in stored["spec"][
        "taints"
    ]


def test_no_second_budget_over_pods_another_budget_covers():
    cluster = Cluster()
    theirs = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "chart-controller", "namespace": NS},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": dict(LABELS)}},
    }
    cluster.fake.add(theirs)
    report = cluster.converger().run()
    assert cluster.fake.stored("policy/v1", "PodDisruptionBudget", NAME, NS) is None
    assert report["pdb"]["managed"] is False
    assert "chart-controller already covers" in report["pdb"]["reason"]
    assert any("chart-controller" in w for w in report["warnings"])


def test_check_mode_counts_dedication_evictions_as_changes():
    cluster = Cluster()
    web = pod("web-1", "w1")
    web["metadata"]["labels"] = {"app": "web"}
    web["metadata"]["ownerReferences"] = [{"kind": "ReplicaSet", "name": "web", "uid": "u"}]
    cluster.fake.add(web)
    report = cluster.converger(check_mode=True, dedicate=True).run()
    assert "dedicate: evict pod web-1 off w1" in report["changes"]
    assert not any(r.path.endswith("eviction") for r in cluster.fake.requests)


def daemonset():
    ds = deployment()
    ds["kind"] = "DaemonSet"
    del ds["spec"]["replicas"]
    ds["spec"]["template"]["spec"]["nodeSelector"] = {INGRESS_LABEL: "true"}
    ds["status"] = {
        "observedGeneration": 1,
        "desiredNumberScheduled": 1,
        "currentNumberScheduled": 1,
        "updatedNumberScheduled": 1,
        "numberAvailable": 1,
        "numberReady": 1,
    }
    return ds


def test_a_daemonset_keeps_its_old_nodes_until_the_new_ones_have_ready_pods():
    # Unlabelling makes the DaemonSet controller delete the old pods at once:
    # with no Ready pod on the new nodes, nothing may be unlabelled.
    fake = FakeApi(watch=False)
    fake.add(node("w1"), node("w2"), node("w4", ingress=True), daemonset(), pod("p-w4", "w4"))
    client = ObjectClient(fake.api_client(), "ackops-ingress-ha")
    converger = Converger(
        client, params(replicas=None, pdb=False, wait_timeout=30), False,
        sleep=fake.clock.sleep, clock=fake.clock,
    )  # fmt: skip
    with pytest.raises(IngressHAError, match=r"stopped before unlabelling any node: .* w1, w2"):
        converger.run()
    assert fake.stored("v1", "Node", "w4")["metadata"]["labels"][INGRESS_LABEL] == "true"
    assert fake.stored("v1", "Node", "w1")["metadata"]["labels"][INGRESS_LABEL] == "true"
