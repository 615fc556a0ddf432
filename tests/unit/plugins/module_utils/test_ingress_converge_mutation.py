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
