"""plan_flex_migration: CSI twins of flexVolume disk, NAS and OSS PVs, keys moved to Secrets."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.storage.migrate import (
    plan_flex_migration,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.schema import (
    StorageInputError,
)
from tests.catalogue import record
from tests.unit.manifests import assert_valid_manifests

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "storage" / "flex_cluster.json"
INLINE = ("FLEX-INLINE-AKID-5e1", "FLEX-INLINE-AKSECRET-0b7", "X-SECRET-never-shown")
MANAGED = {"app.kubernetes.io/managed-by": "ackops.runbooks.provision_storage"}


def cluster() -> dict:
    return json.loads(FIXTURE.read_text())


# Built for each test (a few milliseconds): mutmut credits what a fixture runs to the
# test that first sets it up, so a module-scoped plan would hide every other test from it.
@pytest.fixture
def plan():
    return plan_flex_migration(cluster(), {})


def step(plan, pv):
    return next(s for s in plan["volumes"] if s["pv"] == pv)


def test_steps_cover_every_alibaba_flexvolume_pv_that_can_move(plan):
    assert [s["pv"] for s in plan["volumes"]] == [
        "d-bp1flexdisk000001",
        "nas-uploads",
        "oss-docs",
    ]
    assert {s["pv"]: s["reason"] for s in plan["skipped"]} == {
        "oss-bucket-domain": "url 'shop-img.oss-cn-hangzhou.aliyuncs.com' is the bucket's own domain, "
        "which the CSI driver refuses; use the endpoint",
        "oss-daemon-keys": "the PV has no AccessKey of its own (the flexVolume plugin used its DaemonSet's); "
        "give options.oss_secret, a Secret with akId/akSecret, to migrate it",
        "other-vendor": "flexVolume driver 'example.com/lvm' is not an Alibaba Cloud one",
        "nas-spare": "not bound to a claim; bind it or delete it before migrating",
    }
    assert any(w.startswith("volume oss-daemon-keys: not migrated") for w in plan["warnings"])


def test_every_object_of_the_plan_validates(plan):
    objects = list(plan["storage_classes"])
    for s in plan["volumes"]:
        objects += s["objects"]
        objects += [o for o in (s["new_pv"], s["new_pvc"], (s["rollback"] or {}).get("pvc")) if o]
    assert_valid_manifests(objects)


def test_disk_step(plan):
    s = step(plan, "d-bp1flexdisk000001")
    assert (s["type"], s["state"], s["source"]) == (
        "disk",
        "pending",
        {"disk_id": "d-bp1flexdisk000001"},
    )
    claim = cluster()["persistent_volume_claims"][0]
    assert s["old_pvc"] == {k: v for k, v in claim.items() if k != "status"}
    assert s["old_pv"] == {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": "d-bp1flexdisk000001",
            "uid": "6a1c0f0e-0000-4000-8000-000000000001",
            "resourceVersion": "1201",
        },
        "spec": {"persistentVolumeReclaimPolicy": "Delete"},
    }
    assert (s["old_reclaim_policy"], s["final_reclaim_policy"]) == ("Delete", "Delete")
    assert s["retain_patch"] == {"spec": {"persistentVolumeReclaimPolicy": "Retain"}}
    assert s["objects"] == []
    assert s["new_pv"] == {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": "d-bp1flexdisk000001-csi",
            "labels": {
                "tier": "db",
                "topology.kubernetes.io/zone": "cn-hangzhou-h",
                "topology.kubernetes.io/region": "cn-hangzhou",
                "alicloud-pvname": "d-bp1flexdisk000001-csi",
                **MANAGED,
            },
            "annotations": {"ackops.runbooks/migrated-from": "d-bp1flexdisk000001"},
        },
        "spec": {
            "capacity": {"storage": "40Gi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "csi": {
                "driver": "diskplugin.csi.alibabacloud.com",
                "volumeHandle": "d-bp1flexdisk000001",
                "fsType": "ext4",
            },
            "nodeAffinity": {
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
            },
            "storageClassName": "alicloud-disk-ssd-csi",
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": "shop",
                "name": "mysql-data",
            },
        },
    }
    assert s["new_pvc"] == {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": "mysql-data",
            "namespace": "shop",
            "labels": {"app": "mysql", **MANAGED},
            "annotations": {"ackops.runbooks/migrated-from": "d-bp1flexdisk000001"},
        },
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "40Gi"}},
            "storageClassName": "alicloud-disk-ssd-csi",
            "volumeMode": "Filesystem",
            "volumeName": "d-bp1flexdisk000001-csi",
        },
    }
    rollback = s["rollback"]
    assert rollback["pvc"]["spec"]["volumeName"] == "d-bp1flexdisk000001"
    assert rollback["pvc"]["spec"]["storageClassName"] == "alicloud-disk-ssd"
    assert rollback["pvc"]["metadata"] == {
        "name": "mysql-data",
        "namespace": "shop",
        "labels": {"app": "mysql"},
    }
    assert rollback["pv_patch"] == {"spec": {"claimRef": {"uid": None, "resourceVersion": None}}}
    assert rollback["delete"] == [
        {"kind": "PersistentVolumeClaim", "namespace": "shop", "name": "mysql-data"},
        {"kind": "PersistentVolume", "name": "d-bp1flexdisk000001-csi"},
    ]
    assert "set PV d-bp1flexdisk000001 back to Delete" in rollback["text"]


def test_nas_step_keeps_server_path_version_mode_and_options(plan):
    s = step(plan, "nas-uploads")
    assert s["source"] == {
        "server": "0a1b2c3d-xyz1.cn-hangzhou.nas.aliyuncs.com",
        "path": "/uploads",
    }
    spec = s["new_pv"]["spec"]
    assert spec["csi"] == {
        "driver": "nasplugin.csi.alibabacloud.com",
        "volumeHandle": "nas-uploads-csi",
        "volumeAttributes": {
            "server": "0a1b2c3d-xyz1.cn-hangzhou.nas.aliyuncs.com",
            "path": "/uploads",
            "vers": "4.0",
            "mode": "755",
        },
    }
    assert spec["mountOptions"] == ["noresvport", "nolock"]
    assert "storageClassName" not in spec
    # The claim selected the old PV by label: the new one names its PV instead.
    assert "selector" not in s["new_pvc"]["spec"]
    assert s["new_pvc"]["spec"]["storageClassName"] == ""
    assert s["rollback"]["pvc"]["spec"]["selector"] == {
        "matchLabels": {"alicloud-pvname": "nas-uploads"}
    }


def test_nas_server_with_the_path_in_it():
    state = cluster()
    spare = next(pv for pv in state["persistent_volumes"] if pv["metadata"]["name"] == "nas-spare")
    spare["spec"]["claimRef"] = {"namespace": "shop", "name": "spare"}
    state["persistent_volume_claims"].append(
        {
            "metadata": {"name": "spare", "namespace": "shop"},
            "spec": {"accessModes": ["ReadWriteMany"], "volumeName": "nas-spare"},
        }
    )
    s = step(plan_flex_migration(state, {"volumes": ["nas-spare"]}), "nas-spare")
    assert s["source"] == {"server": "0a1b2c3d-xyz1.cn-hangzhou.nas.aliyuncs.com", "path": "/spare"}
    assert s["new_pv"]["spec"]["csi"]["volumeAttributes"] == {
        "server": "0a1b2c3d-xyz1.cn-hangzhou.nas.aliyuncs.com",
        "path": "/spare",
        "vers": "3",
    }


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            lambda c: c["persistent_volume_claims"].pop(0),
            "its claim shop/mysql-data no longer exists",
        ),
        (
            lambda c: c["persistent_volume_claims"][0]["spec"].update(volumeName="d-other"),
            "its claim shop/mysql-data is bound to PV d-other",
        ),
    ],
)
def test_a_pv_without_its_claim_is_not_migrated(change, reason):
    state = cluster()
    change(state)
    plan = plan_flex_migration(state, {"volumes": ["d-bp1flexdisk000001"]})
    assert plan["volumes"] == []
    assert plan["skipped"][0]["reason"].startswith(reason)


def test_oss_step_moves_inline_keys_into_a_secret(plan):
    s = step(plan, "oss-docs")
    assert s["source"] == {
        "bucket": "shop-docs",
        "url": "oss-cn-hangzhou-internal.aliyuncs.com",
        "path": "/",
    }
    [secret] = s["objects"]
    assert (secret["kind"], secret["type"]) == ("Secret", "Opaque")
    assert secret["metadata"]["name"] == "oss-docs-oss-credentials"
    assert secret["metadata"]["namespace"] == "media"
    assert base64.b64decode(secret["data"]["akId"]).decode() == "FLEX-INLINE-AKID-5e1"
    assert base64.b64decode(secret["data"]["akSecret"]).decode() == "FLEX-INLINE-AKSECRET-0b7"
    assert s["new_pv"]["spec"]["csi"] == {
        "driver": "ossplugin.csi.alibabacloud.com",
        "volumeHandle": "oss-docs-csi",
        "volumeAttributes": {
            "bucket": "shop-docs",
            "url": "oss-cn-hangzhou-internal.aliyuncs.com",
            "path": "/",
            "otherOpts": "-o max_stat_cache_size=0 -o allow_other",
        },
        "nodePublishSecretRef": {"name": "oss-docs-oss-credentials", "namespace": "media"},
    }
    # storageClassName "oss" is no flexVolume class: it is kept on both sides.
    assert s["new_pv"]["spec"]["storageClassName"] == "oss"
    assert s["new_pvc"]["spec"]["storageClassName"] == "oss"


def test_inline_keys_appear_only_in_the_secret_data(plan):
    without_secret_data = copy.deepcopy(plan)
    for s in without_secret_data["volumes"]:
        for obj in s["objects"]:
            obj["data"] = {}
    text = json.dumps(without_secret_data) + repr(without_secret_data)
    for value in INLINE:
        assert value not in text
        assert base64.b64encode(value.encode()).decode() not in text


def test_flexvolume_classes_become_csi_classes(plan):
    disk, nas = plan["storage_classes"]
    assert disk["metadata"]["name"] == "alicloud-disk-ssd-csi"
    assert disk["provisioner"] == "diskplugin.csi.alibabacloud.com"
    assert disk["parameters"] == {
        "csi.storage.k8s.io/fstype": "ext4",
        "regionId": "cn-hangzhou",
        "type": "cloud_ssd",
        "zoneId": "cn-hangzhou-h,cn-hangzhou-i",
    }
    # Two zones: the CSI class waits for the pod's node.
    assert disk["volumeBindingMode"] == "WaitForFirstConsumer"
    assert disk["reclaimPolicy"] == "Delete"
    assert nas["metadata"]["name"] == "alicloud-nas-csi"
    assert nas["provisioner"] == "nasplugin.csi.alibabacloud.com"
    assert nas["parameters"] == {
        "archiveOnDelete": "false",
        "server": "0a1b2c3d-xyz1.cn-hangzhou.nas.aliyuncs.com:/dynamic",
        "volumeAs": "subpath",
    }
    assert nas["mountOptions"] == ["vers=3", "nolock"]
    assert (
        "storage class alicloud-disk-ssd: parameter unknownflag has no CSI equivalent and is dropped"
        in plan["warnings"]
    )


def test_oss_secret_option_migrates_pvs_that_used_the_plugin_key():
    plan = plan_flex_migration(
        cluster(),
        {
            "volumes": ["oss-daemon-keys"],
            "oss_secret": {"name": "oss-keys", "namespace": "kube-system"},
        },
    )
    [s] = plan["volumes"]
    assert s["new_pv"]["spec"]["csi"]["nodePublishSecretRef"] == {
        "name": "oss-keys",
        "namespace": "kube-system",
    }
    assert s["objects"] == []


def test_options_select_and_rename():
    plan = plan_flex_migration(
        cluster(),
        {
            "volumes": ["d-bp1flexdisk000001", "nope"],
            "pv_suffix": "-v2",
            "class_names": {"alicloud-disk-ssd": "alicloud-disk-ssd-v2"},
        },
    )
    [s] = plan["volumes"]
    assert s["new_pv"]["metadata"]["name"] == "d-bp1flexdisk000001-v2"
    assert s["new_pvc"]["spec"]["storageClassName"] == "alicloud-disk-ssd-v2"
    assert {"pv": "nope", "reason": "no flexVolume PV of that name in the cluster"} in plan[
        "skipped"
    ]


def test_a_claim_already_swapped_is_reported_as_migrated():
    state = cluster()
    pvc = state["persistent_volume_claims"][0]
    pvc["spec"]["volumeName"] = "d-bp1flexdisk000001-csi"
    pvc["spec"]["storageClassName"] = "alicloud-disk-ssd-csi"
    first = plan_flex_migration(cluster(), {})
    again = plan_flex_migration(state, {})
    before, after = step(first, "d-bp1flexdisk000001"), step(again, "d-bp1flexdisk000001")
    assert after["state"] == "migrated"
    # The objects to apply are the same: applying them again changes nothing.
    assert after["new_pv"] == before["new_pv"]
    assert after["new_pvc"]["spec"] == before["new_pvc"]["spec"]


def test_same_cluster_same_plan():
    assert json.dumps(plan_flex_migration(cluster(), {})) == json.dumps(
        plan_flex_migration(cluster(), {})
    )


@pytest.mark.parametrize(
    ("cluster_value", "options", "field"),
    [
        ({"persistent_volumes": {"a": 1}}, {}, "cluster.persistent_volumes"),
        ({}, {"pv_suffix": "_CSI"}, "options.pv_suffix"),
        ({}, {"unknown": 1}, "options.unknown"),
        ({}, {"oss_secret": {"name": "Bad Name"}}, "options.oss_secret.name"),
        ([], {}, "cluster"),
    ],
)
def test_bad_inputs_are_refused(cluster_value, options, field):
    with pytest.raises(StorageInputError) as info:
        plan_flex_migration(cluster_value, options)
    assert info.value.field == field
    assert "allowed" in str(info.value)
    record("provision-storage", "variable", {"cluster": cluster_value, "migration options": options},
           str(info.value), "plan_flex_migration raised StorageInputError: no plan returned")  # fmt: skip


def test_a_node_affinity_on_beta_labels_moves_to_the_current_keys():
    state = cluster()
    disk = state["persistent_volumes"][0]
    beta = "failure-domain.beta.kubernetes.io/zone"
    disk["spec"]["nodeAffinity"] = {
        "required": {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": beta, "operator": "In", "values": ["cn-hangzhou-h"]}]}
            ]
        }
    }
    s = step(
        plan_flex_migration(state, {"volumes": ["d-bp1flexdisk000001"]}), "d-bp1flexdisk000001"
    )
    [term] = s["new_pv"]["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert term["matchExpressions"] == [
        {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["cn-hangzhou-h"]}
    ]
    # The input is left as it was read.
    assert (
        disk["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0][
            "key"
        ]
        == beta
    )
