"""storage_provision's own logic: refusing changes the API server would reject half-way,
batches in one dependency order, StatefulSet claims by ordinal, claim states and the wait.

The plan itself (validation, rendering) is tested with module_utils/storage; here the
objects are hand-written and the API server is tests/unit/k8s_fake.py.
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import ObjectClient
from ansible_collections.ackops.runbooks.plugins.modules import storage_provision as sp
from tests.unit.k8s_fake import FakeApi


@pytest.fixture
def fake():
    return FakeApi()


@pytest.fixture
def client(fake):
    return ObjectClient(fake.api_client(), "ackops-test", clock=fake.clock, sleep=fake.clock.sleep)


def sc(name="essd", params=None, binding="WaitForFirstConsumer"):
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name},
        "provisioner": "diskplugin.csi.alibabacloud.com",
        "parameters": params or {"type": "cloud_essd", "performanceLevel": "PL1"},
        "reclaimPolicy": "Delete",
        "volumeBindingMode": binding,
    }


def pv(name="d-bp1abc", handle="d-bp1abc"):
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "labels": {"alicloud-pvname": name}},
        "spec": {
            "capacity": {"storage": "20Gi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "csi": {"driver": "diskplugin.csi.alibabacloud.com", "volumeHandle": handle},
        },
    }


def pvc(name="data", ns="shop", size="20Gi", sc_name=""):
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": size}},
            "storageClassName": sc_name,
        },
    }


def sts(replicas=2, tpl_size="20Gi", tpl_class="essd"):
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "shop"},
        "spec": {
            "replicas": replicas,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "db", "image": "nginx"}]},
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": tpl_class,
                        "resources": {"requests": {"storage": tpl_size}},
                    },
                }
            ],
        },
    }


# ---- conflicts


def test_an_unchanged_object_has_no_conflict():
    for obj in (sc(), pv(), pvc(), sts()):
        assert sp.conflicts(obj, copy.deepcopy(obj)) == []


@pytest.mark.parametrize(
    ("desired", "live", "field"),
    [
        (sc(params={"type": "cloud_ssd"}), sc(), "parameters"),
        (sc(binding="Immediate"), sc(), "volumeBindingMode"),
        (pv(handle="d-bp1other"), pv(), "spec.csi"),
        (pvc(size="10Gi"), pvc(), "spec.resources.requests.storage"),
        (pvc(sc_name="essd"), pvc(sc_name="ssd"), "spec.storageClassName"),
        (sts(tpl_size="40Gi"), sts(), "spec.volumeClaimTemplates"),
        (sts(tpl_class="ssd"), sts(), "spec.volumeClaimTemplates"),
    ],
)
def test_changes_the_server_would_reject_are_named(desired, live, field):
    assert [f for f, _ in sp.conflicts(desired, live)] == [field]


def test_what_the_server_may_change_is_no_conflict():
    # a bigger claim, more replicas, server defaults in the live PV's source
    assert sp.conflicts(pvc(size="40Gi"), pvc()) == []
    assert sp.conflicts(sts(replicas=3), sts()) == []
    live = pv()
    live["spec"]["csi"]["fsType"] = "ext4"
    assert sp.conflicts(pv(), live) == []


def test_a_conflict_is_refused_before_anything_is_written(fake, client):
    fake.add(sc())
    live = sp.existing_objects(client, [sc(params={"type": "cloud_ssd"}), pvc()])
    with pytest.raises(sp.StorageConflict) as caught:
        sp.refuse_conflicts([sc(params={"type": "cloud_ssd"}), pvc()], live)
    assert caught.value.obj == "StorageClass essd"
    assert caught.value.field == "parameters"
    assert "nothing was changed" in caught.value.cause
    assert fake.writes() == []


# ---- applying in batches


def test_batches_keep_one_dependency_order_and_record_each_change(fake, client):
    from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import Changes

    fake.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    objects = [pvc(f"c{i}") for i in range(5)] + [pv(f"d-{i}", f"d-{i}") for i in range(5)] + [sc()]
    changes = Changes()
    results = sp.apply_batches(client, objects, 3, False, changes)
    kinds = [r["object"].split()[0] for r in results]
    assert kinds == ["StorageClass"] + ["PersistentVolume"] * 5 + ["PersistentVolumeClaim"] * 5
    assert len(changes) == 11
    again = sp.apply_batches(client, objects, 3, False, Changes())
    assert not any(r["changed"] for r in again)


def test_a_dry_run_batch_writes_nothing(fake, client):
    from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import Changes

    results = sp.apply_batches(client, [sc(), pv()], 1, True, Changes())
    assert all(r["changed"] for r in results)
    assert fake.stored("storage.k8s.io/v1", "StorageClass", "essd") is None


# ---- StatefulSet claims


def test_statefulset_claims_by_ordinal():
    assert sp.statefulset_claims(sts(3)) == [
        ("shop", "data-db-0"),
        ("shop", "data-db-1"),
        ("shop", "data-db-2"),
    ]
    shifted = sts(2)
    shifted["spec"]["ordinals"] = {"start": 5}
    assert sp.statefulset_claims(shifted) == [("shop", "data-db-5"), ("shop", "data-db-6")]


def test_planned_claims_include_statefulset_ordinals():
    assert sp.planned_claims([pvc("logs"), sts(1)]) == [("shop", "logs"), ("shop", "data-db-0")]


# ---- claim states and the wait


def bound(claim: dict, volume: dict) -> None:
    claim["spec"]["volumeName"] = volume["metadata"]["name"]
    claim["status"] = {"phase": "Bound"}


def test_claim_state_reads_the_volume_and_its_zone(fake, client):
    volume = pv()
    volume["spec"]["nodeAffinity"] = {
        "required": {
            "nodeSelectorTerms": [
                {
                    "matchExpressions": [
                        {
                            "key": "topology.kubernetes.io/zone",
                            "operator": "In",
                            "values": ["cn-hangzhou-h"],
                        }
                    ]
                }
            ]
        }
    }
    claim = pvc()
    bound(claim, volume)
    fake.add(volume, claim)
    row = sp.claim_state(client, "shop", "data", {})
    assert row["phase"] == "Bound"
    assert (row["volume"], row["handle"], row["zone"]) == ("d-bp1abc", "d-bp1abc", "cn-hangzhou-h")


def test_a_wffc_claim_without_consumer_is_not_waited_for(fake, client):
    fake.add(pvc(sc_name="essd"))
    rows = sp.wait_claims(client, [("shop", "data")], {"essd": sc()}, 30)
    assert rows[0]["waiting_for_consumer"] is True


def test_a_claim_that_never_binds_fails_with_the_provisioner_event(fake, client):
    fake.add(
        pvc(sc_name="fast"),
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "data.1", "namespace": "shop"},
            "involvedObject": {
                "kind": "PersistentVolumeClaim",
                "name": "data",
                "namespace": "shop",
            },
            "reason": "ProvisioningFailed",
            "type": "Warning",
            "message": "cloud_ssd disks are at least 20Gi, 5Gi requested",
        },
    )
    with pytest.raises(sp.ClaimNotBound) as caught:
        sp.wait_claims(client, [("shop", "data")], {"fast": sc("fast", binding="Immediate")}, 10)
    assert caught.value.obj == "PersistentVolumeClaim shop/data"
    assert "at least 20Gi" in caught.value.cause
