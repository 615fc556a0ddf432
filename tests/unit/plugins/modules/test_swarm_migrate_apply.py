"""swarm_migrate_apply's logic against the in-memory API server: refusal before any write, idempotence, canary."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import (
    Changes,
    RunbookError,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import ObjectClient
from ansible_collections.ackops.runbooks.plugins.modules import swarm_migrate_apply as mod
from tests.unit.k8s_fake import FakeApi

STACK = {
    "name": "shop",
    "services": {
        "web": {
            "image": "nginx:1.27",
            "ports": [{"target": 80, "published": "8080"}],
            "configs": [{"source": "index", "target": "/usr/share/nginx/html/index.html"}],
            "deploy": {"replicas": 2, "placement": {"constraints": ["node.role == manager"]}},
        }
    },
    "configs": {"index": {"content": "<h1>hi</h1>"}},
}


def module(**params):
    defaults = {key: spec.get("default") for key, spec in mod.OPTIONS.items()}
    defaults.update(documents=[STACK], namespace="shop", wait=False, **params)
    return SimpleNamespace(params=defaults, check_mode=False, _diff=True, no_log_values=set())


@pytest.fixture
def fake():
    return FakeApi()


def run(fake, **params):
    client = ObjectClient(
        fake.api_client(), mod.FIELD_MANAGER, clock=fake.clock, sleep=fake.clock.sleep
    )
    return mod.apply_step(module(**params), lambda: client, Changes())


def test_an_unaccepted_behaviour_change_stops_before_any_write(fake):
    with pytest.raises(RunbookError) as caught:
        run(fake)
    assert "web:deploy.placement.constraints[0]" in caught.value.cause
    assert caught.value.details["behaviour_changes"][0]["service"] == "web"
    assert fake.writes() == []


def test_accepted_changes_apply_once_then_nothing_changes(fake):
    accept = ["web:deploy.placement.*", "web:healthcheck", "web:ports*"]
    first = run(fake, accepted_changes=accept)
    assert first["changed"] is True
    assert sorted(f["key"] for f in first["accepted"]) == [
        "deploy.placement.constraints[0]",
        "healthcheck",
        "ports[0]",
    ]
    assert "create ConfigMap shop/index" in first["changes"]
    assert fake.stored("v1", "ConfigMap", "index", "shop")["data"] == {"index": "<h1>hi</h1>"}
    assert fake.stored("apps/v1", "Deployment", "web", "shop")["spec"]["replicas"] == 2
    second = run(fake, accepted_changes=["*"])
    assert second["changed"] is False
    assert second["changes"] == []


def test_canary_applies_only_the_nodeport_services(fake):
    result = run(fake, what="canary", canary_node_ports={"web:8080": 30080})
    kinds = {w.path.rsplit("/", 2)[-2] for w in fake.writes()}
    assert kinds == {"services"}
    svc = fake.stored("v1", "Service", "web-canary", "shop")
    assert svc["spec"]["type"] == "NodePort"
    assert svc["spec"]["ports"][0]["nodePort"] == 30080
    assert [i["weight"] for i in result["canary"]["checklist"]] == [0, 5, 25, 50, 100, 0]


def test_bad_canary_weights_are_refused_before_any_write(fake):
    with pytest.raises(RunbookError, match="increasing whole percentages"):
        run(fake, what="canary", canary_weights=[50, 10])
    assert fake.writes() == []


def test_rolled_out():
    dep = {
        "kind": "Deployment",
        "metadata": {"generation": 2},
        "spec": {"replicas": 2},
        "status": {"observedGeneration": 2, "readyReplicas": 2, "updatedReplicas": 2},
    }
    assert mod.rolled_out(dep)
    assert not mod.rolled_out({**dep, "status": {**dep["status"], "observedGeneration": 1}})
    assert not mod.rolled_out({**dep, "status": {**dep["status"], "readyReplicas": 1}})
    ds = {
        "kind": "DaemonSet",
        "metadata": {},
        "spec": {},
        "status": {"desiredNumberScheduled": 3, "numberReady": 3, "updatedNumberScheduled": 3},
    }
    assert mod.rolled_out(ds)
    assert not mod.rolled_out({**ds, "status": {**ds["status"], "numberReady": 2}})
    assert not mod.rolled_out(None)


def test_variables_a_secret_names_as_source_are_masked(fake):
    token = "tok-81f2-in-variables"
    stack = {
        "name": "shop",
        "services": {"app": {"image": "app:${TAG}", "secrets": ["token"]}},
        "secrets": {"token": {"environment": "TOKEN"}},
    }
    mod_ = module(variables={"TOKEN": token, "TAG": "7"}, secret_values={"token": "v"})
    mod_.params["documents"] = [stack]
    client = ObjectClient(
        fake.api_client(), mod.FIELD_MANAGER, clock=fake.clock, sleep=fake.clock.sleep
    )
    # whether it applies or refuses, the masking happens first
    with contextlib.suppress(RunbookError):
        mod.apply_step(mod_, lambda: client, Changes())
    assert token in mod_.no_log_values
    assert "7" not in mod_.no_log_values  # only the secret's source, not every variable


def test_a_daemonset_with_no_desired_pod_is_a_failure_naming_service_and_affinity():
    ds = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {
            "name": "agent",
            "namespace": "shop",
            "annotations": {"ackops.io/compose-service": "agent"},
        },
        "spec": {
            "template": {
                "spec": {
                    "affinity": {
                        "nodeAffinity": {
                            "requiredDuringSchedulingIgnoredDuringExecution": {
                                "nodeSelectorTerms": [
                                    {
                                        "matchExpressions": [
                                            {"key": "zone", "operator": "In", "values": ["west"]}
                                        ]
                                    }
                                ]
                            }
                        }
                    }
                }
            }
        },
    }
    live = {
        **ds,
        "metadata": {**ds["metadata"], "generation": 1},
        "status": {
            "observedGeneration": 1,
            "desiredNumberScheduled": 0,
            "numberReady": 0,
            "updatedNumberScheduled": 0,
        },
    }
    assert not mod.rolled_out(live)
    client = SimpleNamespace(get=lambda *a: live, clock=lambda: 0.0, sleep=lambda s: None)
    with pytest.raises(RunbookError) as caught:
        mod.wait_workloads(client, [ds], 60)
    assert "service agent" in caught.value.cause
    assert "schedules 0 pods" in caught.value.cause
    assert "(zone In ['west'])" in caught.value.cause
    # not yet observed by the controller: not judged (still waiting)
    assert mod.empty_daemonset(ds, {**live, "status": {"desiredNumberScheduled": 0}}) is None
